package server

import (
	"context"
	"net/http"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
)

// The account flows' routes (README "Accounts"). Their answers never depend on whether
// an address is registered, and every mailed link's token is checked by the service.

// handleVerifyEmail spends a verification link's token (204).
func handleVerifyEmail(svc *auth.Service) http.Handler {
	return handleToken(svc.VerifyEmail)
}

// handleConfirmEmail spends an email change's confirmation token (204).
func handleConfirmEmail(svc *auth.Service) http.Handler {
	return handleToken(svc.ConfirmEmailChange)
}

// handleRevertEmail spends the undo token of an email change (204).
func handleRevertEmail(svc *auth.Service) http.Handler {
	return handleToken(svc.RevertEmailChange)
}

// handleToken answers a route whose body is a mailed link's token: 204 once use (which
// spends or checks it) accepts it.
func handleToken(use func(ctx context.Context, token string) error) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var t authdash.TokenSubmission
		if err := decode(r, &t); err != nil {
			return err
		}
		if err := t.Validate(); err != nil {
			return err
		}
		if err := use(r.Context(), t.Token); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleResendVerification mails the signed-in user a new verification link (202).
func handleResendVerification(svc *auth.Service, mail rateLimits) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		if err := mail.perUser(ctx, "verify", authdash.UserFrom(ctx)); err != nil {
			return err
		}
		if err := svc.ResendVerification(ctx, authdash.UserFrom(ctx)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	})
}

// handleForgotPassword starts a reset (202 whether or not the address is registered).
// Limited per client IP (the route) and per address (here), neither of which depends on
// the account existing.
func handleForgotPassword(svc *auth.Service, mail rateLimits) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var p authdash.PasswordForgotten
		if err := decode(r, &p); err != nil {
			return err
		}
		if err := p.Validate(); err != nil {
			return err
		}
		if err := mail.perAccount(r.Context(), "forgot", p.Email); err != nil {
			return err
		}
		if err := svc.ForgotPassword(r.Context(), p.Email); err != nil {
			return err
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	})
}

// handleResetPassword sets a new password with a reset link's token (204); every session
// of the account ends.
func handleResetPassword(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var p authdash.PasswordReset
		if err := decode(r, &p); err != nil {
			return err
		}
		if err := svc.ResetPassword(r.Context(), p); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleCheckReset tells whether a reset link still works (204) or not (the problem the
// reset would give for its token), without spending it.
func handleCheckReset(svc *auth.Service) http.Handler {
	return handleToken(svc.CheckResetToken)
}

// handleChangeEmail mails a confirmation link to a new address (202), after the
// password: an access token alone cannot move the account.
func handleChangeEmail(svc *auth.Service, account, mail rateLimits) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var c authdash.EmailChange
		if err := decode(r, &c); err != nil {
			return err
		}
		c.Normalize()
		if err := c.Validate(); err != nil {
			return err
		}
		ctx := r.Context()
		user := authdash.UserFrom(ctx)
		if err := account.perUser(ctx, "confirm", user); err != nil {
			return err
		}
		if err := mail.perUser(ctx, "email", user); err != nil {
			return err
		}
		if err := svc.RequestEmailChange(ctx, user, c); err != nil {
			return err
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	})
}
