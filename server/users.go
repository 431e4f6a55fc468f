package server

import (
	"net/http"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/wire"
)

// handleRegister creates an account and signs it in (201).
func handleRegister(svc *auth.Service, limits rateLimits, ck refreshCookie) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		inBody, err := tokenMode(r)
		if err != nil {
			return err
		}
		var reg authdash.Registration
		if err := decode(r, &reg); err != nil {
			return err
		}
		if err := limits.perAccount(r.Context(), "register", reg.Email); err != nil {
			return err
		}
		g, err := svc.Register(r.Context(), reg, r.UserAgent())
		if err != nil {
			return err
		}
		writeGrant(w, http.StatusCreated, g, inBody, ck)
		return nil
	})
}

// handleLogin signs a user in (200).
func handleLogin(svc *auth.Service, limits rateLimits, ck refreshCookie) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		inBody, err := tokenMode(r)
		if err != nil {
			return err
		}
		var c authdash.Credentials
		if err := decode(r, &c); err != nil {
			return err
		}
		if err := limits.perAccount(r.Context(), "login", c.Email); err != nil {
			return err
		}
		g, err := svc.Login(r.Context(), c, r.UserAgent())
		if err != nil {
			return err
		}
		writeSignIn(w, g, inBody, ck)
		return nil
	})
}

// handleProfile returns the signed-in user.
func handleProfile(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		u, err := svc.Profile(r.Context(), authdash.UserFrom(r.Context()))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, u)
		return nil
	})
}

// handleUpdateProfile changes name and/or email.
func handleUpdateProfile(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var p authdash.UserPatch
		if err := decode(r, &p); err != nil {
			return err
		}
		u, err := svc.UpdateProfile(r.Context(), authdash.UserFrom(r.Context()), p)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, u)
		return nil
	})
}

// handleDeleteAccount removes the account, its tasks and sessions. It asks
// for the password in the body: an access token alone, stolen or left in an
// unlocked browser, must not be able to destroy the account.
func handleDeleteAccount(svc *auth.Service, account rateLimits, ck refreshCookie) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var req wire.PasswordConfirmation
		if err := decode(r, &req); err != nil {
			return err
		}
		if req.Password == "" {
			return &authdash.Error{Code: authdash.CodeInvalid, Message: "Confirm with your password.",
				Fields: map[string]string{"password": "Password is required."}}
		}
		ctx := r.Context()
		if err := account.perUser(ctx, "confirm", authdash.UserFrom(ctx)); err != nil {
			return err
		}
		if err := svc.DeleteAccount(ctx, authdash.UserFrom(ctx), req.Password); err != nil {
			return err
		}
		ck.clear(w)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleChangePassword replaces the password and signs out every other
// device; this session stays signed in.
func handleChangePassword(svc *auth.Service, account rateLimits) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		var pc authdash.PasswordChange
		if err := decode(r, &pc); err != nil {
			return err
		}
		if err := pc.Validate(); err != nil {
			return err
		}
		ctx := r.Context()
		if err := account.perUser(ctx, "confirm", authdash.UserFrom(ctx)); err != nil {
			return err
		}
		if err := svc.ChangePassword(ctx, authdash.UserFrom(ctx), authdash.SessionFrom(ctx), pc); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
