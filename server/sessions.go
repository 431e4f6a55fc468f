package server

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/wire"
)

// How the refresh token travels (README "Refresh tokens"):
//
//   - Browsers get it in an HttpOnly, SameSite=Strict cookie limited to
//     /api/auth, so page script (and any XSS) can never read it, and it is
//     sent only to the endpoints that redeem or end it.
//   - API clients without a cookie jar send "X-Auth-Mode: token"
//     (wire.HeaderAuthMode); they get the token as "refreshToken" in the
//     JSON answer and send it back in the body of /refresh and /logout. No
//     cookie is set for them.
//
// A cookie-borne refresh or logout must also be a non-simple request
// (Content-Type: application/json), which a cross-site form cannot send and
// which makes a cross-origin fetch preflight against the CORS allow-list:
// defence in depth on top of SameSite=Strict.

// refreshCookie names and writes the refresh cookie.
type refreshCookie struct {
	name   string
	secure bool
}

// newRefreshCookie uses the __Secure- prefix whenever the cookie can be
// Secure; over plain HTTP in development (curl does not send Secure cookies
// to http:// URLs) it drops both.
func newRefreshCookie(secure bool) refreshCookie {
	if secure {
		return refreshCookie{name: "__Secure-authdash_refresh", secure: true}
	}
	return refreshCookie{name: "authdash_refresh"}
}

const refreshCookiePath = "/api/auth"

// set writes the refresh cookie and its hint (wire.SessionHintCookie).
func (c refreshCookie) set(w http.ResponseWriter, token string, expires time.Time) {
	maxAge := max(1, int(time.Until(expires).Seconds()))
	http.SetCookie(w, &http.Cookie{
		Name:     c.name,
		Value:    token,
		Path:     refreshCookiePath,
		MaxAge:   maxAge,
		Secure:   c.secure,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	c.hint(w, "1", maxAge)
}

// clear deletes the refresh cookie and its hint.
func (c refreshCookie) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     c.name,
		Value:    "",
		Path:     refreshCookiePath,
		MaxAge:   -1,
		Secure:   c.secure,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	c.hint(w, "", -1)
}

// hint writes wire.SessionHintCookie. Lax, unlike the refresh cookie: a
// link followed from another site must still find the visitor signed in.
func (c refreshCookie) hint(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     wire.SessionHintCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   c.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func (c refreshCookie) read(r *http.Request) string {
	ck, err := r.Cookie(c.name)
	if err != nil {
		return ""
	}
	return ck.Value
}

var (
	errAuthMode = &authdash.Error{Code: authdash.CodeInvalid,
		Message: "X-Auth-Mode must be \"token\" or absent.",
		Fields:  map[string]string{wire.HeaderAuthMode: "Must be \"token\" or absent."}}
	errNoRefreshToken = authdash.Errorf(authdash.CodeUnauthorized, "No refresh token. Sign in again.")
	errRefreshField   = &authdash.Error{Code: authdash.CodeInvalid,
		Message: "refreshToken is required with X-Auth-Mode: token.",
		Fields:  map[string]string{"refreshToken": "Required."}}
)

// tokenMode reports whether the client asked for the refresh token in JSON.
func tokenMode(r *http.Request) (bool, error) {
	switch r.Header.Get(wire.HeaderAuthMode) {
	case "":
		return false, nil
	case wire.AuthModeToken:
		return true, nil
	default:
		return false, errAuthMode
	}
}

// writeGrant answers a successful sign-in or refresh, placing the refresh
// token where the client's mode says.
func writeGrant(w http.ResponseWriter, status int, g *auth.Grant, inBody bool, ck refreshCookie) {
	resp := wire.Grant{
		User:        g.User,
		AccessToken: g.AccessToken,
		// Rounded up: the lifetime is whole seconds, of which a moment has
		// passed since the token was signed.
		ExpiresIn: int64((time.Until(g.AccessExpiresAt) + time.Second - 1) / time.Second),
	}
	switch {
	case inBody:
		resp.RefreshToken = g.RefreshToken
	case !g.RefreshKept:
		// A kept token's cookie is not written again: this answer may be
		// read after one that set a newer token.
		ck.set(w, g.RefreshToken, g.RefreshExpiresAt)
	}
	encode(w, status, resp)
}

// presentedToken reads the refresh token from the body (token mode) or the
// cookie. The cookie path demands a JSON Content-Type (see above); decoding
// checks it whether or not a body came.
func presentedToken(r *http.Request, inBody bool, ck refreshCookie) (string, wire.RefreshRequest, error) {
	var req wire.RefreshRequest
	if _, err := decodeOptional(r, &req); err != nil {
		return "", req, err
	}
	if inBody {
		if req.RefreshToken == "" {
			return "", req, errRefreshField
		}
		return req.RefreshToken, req, nil
	}
	if req.RefreshToken != "" {
		return "", req, &authdash.Error{Code: authdash.CodeInvalid,
			Message: "Send X-Auth-Mode: token to pass the refresh token in the body.",
			Fields:  map[string]string{"refreshToken": "Only with X-Auth-Mode: token."}}
	}
	return ck.read(r), req, nil
}

// handleRefresh rotates the refresh token and issues a new access token.
// Reusing a rotated token ends its whole session. A refresh that lost a race
// with another (several tabs restored at once) is 409 and leaves the cookie
// alone: clearing it would sign out the tab that won, and every other, if
// the browser read this answer last. The client retries with the cookie
// the winner set, saying so ("raced"), and is let in with it.
func handleRefresh(svc *auth.Service, ck refreshCookie) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		inBody, err := tokenMode(r)
		if err != nil {
			return err
		}
		token, req, err := presentedToken(r, inBody, ck)
		if err != nil {
			return err
		}
		if token == "" {
			return errNoRefreshToken
		}
		redeem := svc.Refresh
		if req.Raced {
			redeem = svc.RetryRefresh
		}
		g, err := redeem(r.Context(), token)
		if err != nil {
			if !inBody && authdash.ErrorCodeOf(err) == authdash.CodeUnauthorized {
				ck.clear(w) // a dead cookie would only fail again
			}
			return err
		}
		writeGrant(w, http.StatusOK, g, inBody, ck)
		return nil
	})
}

// handleLogout ends the session of the presented refresh token. It needs no
// access token (that may have expired) and is idempotent.
func handleLogout(svc *auth.Service, ck refreshCookie) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		inBody, err := tokenMode(r)
		if err != nil {
			return err
		}
		token, _, err := presentedToken(r, inBody, ck)
		if err != nil {
			return err
		}
		if token != "" {
			if err := svc.LogoutToken(r.Context(), token); err != nil {
				return err
			}
		}
		if !inBody {
			ck.clear(w)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// handleLogoutAll ends every session of the signed-in user, this one too.
func handleLogoutAll(svc *auth.Service, ck refreshCookie) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		n, err := svc.LogoutAll(r.Context(), authdash.UserFrom(r.Context()))
		if err != nil {
			return err
		}
		ck.clear(w)
		encode(w, http.StatusOK, wire.LogoutAllResult{Ended: n})
		return nil
	})
}

// handleSessions lists the user's signed-in devices, marking this one.
func handleSessions(svc *auth.Service) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		list, err := svc.Sessions(ctx, authdash.UserFrom(ctx), authdash.SessionFrom(ctx))
		if err != nil {
			return err
		}
		if list == nil {
			list = []authdash.Session{}
		}
		encode(w, http.StatusOK, wire.SessionList{Items: list})
		return nil
	})
}

// handleRevokeSession signs one device out. Revoking the current session
// also clears this client's cookie.
func handleRevokeSession(svc *auth.Service, ck refreshCookie) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		id := authdash.SessionID(chi.URLParam(r, "id"))
		if err := svc.RevokeSession(ctx, authdash.UserFrom(ctx), id); err != nil {
			return err
		}
		if id == authdash.SessionFrom(ctx) {
			ck.clear(w)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
