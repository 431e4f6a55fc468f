package server

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/internal/qrsvg"
	"github.com/authdash/authdash/wire"
)

// The second factor's routes and the sign-in activity (README "Two-factor
// authentication").

// clientAddr puts the client's address (behind trusted proxies, from
// X-Forwarded-For) in the context, where the sign-in activity reads it.
func clientAddr(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := ""
			if a := clientIP(r, trusted); a.IsValid() {
				ip = a.String()
			}
			next.ServeHTTP(w, r.WithContext(authdash.WithClientIP(r.Context(), ip)))
		})
	}
}

// writeChallenge answers a right password on an account with a second
// factor: no tokens, no cookie.
func writeChallenge(w http.ResponseWriter, ch *auth.Challenge) {
	encode(w, http.StatusOK, wire.MFAChallenge{
		MFARequired: true,
		MFAToken:    ch.Token,
		Methods:     ch.Methods,
		ExpiresIn:   int64(time.Until(ch.ExpiresAt) / time.Second),
	})
}

// writeSignIn answers a sign-in whose first factor held: the grant, or the
// challenge of the account's second factor (no token, no cookie).
func writeSignIn(w http.ResponseWriter, g *auth.Grant, inBody bool, ck refreshCookie) {
	if g.Challenge != nil {
		writeChallenge(w, g.Challenge)
		return
	}
	writeGrant(w, http.StatusOK, g, inBody, ck)
}

// handleMFA finishes a sign-in with its second factor (200, the grant a
// login gives). Guesses are limited per account: whoever holds the password
// can start a new challenge at will, so a limit per challenge would not do.
func handleMFA(svc *auth.Service, account rateLimits, ck refreshCookie) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		inBody, err := tokenMode(r)
		if err != nil {
			return err
		}
		var a authdash.MFAAnswer
		if err := decode(r, &a); err != nil {
			return err
		}
		if err := a.Validate(); err != nil {
			return err
		}
		ctx := r.Context()
		user, err := svc.ChallengeUser(ctx, a.MFAToken)
		if err != nil {
			return err
		}
		if err := account.perUser(ctx, "mfa", user); err != nil {
			return err
		}
		g, err := svc.CompleteMFA(ctx, a, r.UserAgent())
		if err != nil {
			return err
		}
		writeGrant(w, http.StatusOK, g, inBody, ck)
		return nil
	})
}

// handleBeginMFAPasskey answers with the options for the passkey that
// answers a sign-in's second factor: only that account's passkeys. Asking
// is no guess (the per-IP limit holds); the answer goes to POST
// /api/auth/mfa, where the account's limit counts it.
func handleBeginMFAPasskey(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var req wire.PasskeyLoginBegin
		if err := decode(r, &req); err != nil {
			return err
		}
		if req.MFAToken == "" {
			return required("mfaToken", "The sign-in's token is required.")
		}
		assertion, err := svc.BeginPasskeyLogin(r.Context(), req.MFAToken)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, assertion)
		return nil
	})
}

// handleMFAStatus says which second factors the signed-in user has.
func handleMFAStatus(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		st, err := svc.MFA(r.Context(), authdash.UserFrom(r.Context()))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, wire.MFAStatus{TOTP: st.TOTP, RecoveryCodes: st.RecoveryCodes})
		return nil
	})
}

// handleBeginTOTP makes a new secret, after the password, and shows it with
// its QR code (drawn here: the secret goes to no other service).
func handleBeginTOTP(svc *auth.Service, account rateLimits) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var req wire.PasswordConfirmation
		if err := decode(r, &req); err != nil {
			return err
		}
		if req.Password == "" {
			return required("password", "Confirm with your password.")
		}
		ctx := r.Context()
		if err := account.perUser(ctx, "confirm", authdash.UserFrom(ctx)); err != nil {
			return err
		}
		setup, err := svc.BeginTOTP(ctx, authdash.UserFrom(ctx), req.Password)
		if err != nil {
			return err
		}
		svg, err := qrsvg.SVG(setup.URI, "QR code of the two-factor secret, for an authenticator app")
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, wire.TOTPSetup{Secret: setup.Secret, OtpauthURI: setup.URI, QRSVG: svg})
		return nil
	})
}

// handleConfirmTOTP turns the second factor on with a code from the app and
// answers with the recovery codes, the only time they are shown.
func handleConfirmTOTP(svc *auth.Service, account rateLimits) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var req wire.TOTPCode
		if err := decode(r, &req); err != nil {
			return err
		}
		if req.Code == "" {
			return required("code", "Enter the code your authenticator app shows.")
		}
		ctx := r.Context()
		if err := account.perUser(ctx, "mfa", authdash.UserFrom(ctx)); err != nil {
			return err
		}
		codes, err := svc.ConfirmTOTP(ctx, authdash.UserFrom(ctx), req.Code)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, wire.RecoveryCodes{RecoveryCodes: codes})
		return nil
	})
}

// handleDisableTOTP turns the second factor off (204) with the password and
// a code.
func handleDisableTOTP(svc *auth.Service, account rateLimits) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var req wire.TOTPDisable
		if err := decode(r, &req); err != nil {
			return err
		}
		f := map[string]string{}
		if req.Password == "" {
			f["password"] = "Password is required."
		}
		if req.Code == "" {
			f["code"] = "Enter a code from your authenticator app, or a recovery code."
		}
		if len(f) > 0 {
			return &authdash.Error{Code: authdash.CodeInvalid, Message: "Confirm with your password and a code.", Fields: f}
		}
		ctx := r.Context()
		if err := account.perUser(ctx, "confirm", authdash.UserFrom(ctx)); err != nil {
			return err
		}
		if err := svc.DisableTOTP(ctx, authdash.UserFrom(ctx), req.Password, req.Code); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleActivity lists the account's last sign-in attempts, newest first.
func handleActivity(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		list, err := svc.SignIns(r.Context(), authdash.UserFrom(r.Context()))
		if err != nil {
			return err
		}
		if list == nil {
			list = []authdash.SignInEvent{}
		}
		encode(w, http.StatusOK, wire.SignInList{Items: list})
		return nil
	})
}

// required is the 400 of one missing field.
func required(field, msg string) error {
	return &authdash.Error{Code: authdash.CodeInvalid, Message: msg, Fields: map[string]string{field: msg}}
}
