package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/authdash/authdash"
)

type ctxKey int

// failureKey carries why Identify left a request anonymous, so RequireWith
// can tell an expired token (refresh and retry) from a bad one.
const failureKey ctxKey = 0

const msgNoToken = "Sign in to continue."

// Identify is the lenient half of authentication: a valid
// "Authorization: Bearer <token>" puts its user and session on the request
// context (authdash.WithUser); an absent or invalid one leaves the request
// anonymous, for RequireWith or the handler to judge.
func (v *Verifier) Identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		id, err := v.Verify(token)
		if err != nil {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), failureKey, err)))
			return
		}
		next.ServeHTTP(w, r.WithContext(authdash.WithUser(r.Context(), id.User, id.Session)))
	})
}

// bearer extracts the token of an RFC 6750 Authorization header. The scheme
// is case-insensitive (RFC 9110 §11.1).
func bearer(h string) (string, bool) {
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	t := strings.TrimSpace(h[len(prefix):])
	return t, t != ""
}

// RequireWith is the strict half: it lets a request through only if Identify
// found a user, and otherwise calls onFail with a CodeUnauthorized
// *authdash.Error ("Access token expired." for an expired token) for the HTTP
// layer to write. It sets WWW-Authenticate as RFC 6750 §3 asks.
func RequireWith(onFail func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if authdash.UserFrom(r.Context()) != "" {
				next.ServeHTTP(w, r)
				return
			}
			err, _ := r.Context().Value(failureKey).(error)
			if err == nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="authdash"`)
				onFail(w, r, &authdash.Error{Code: authdash.CodeUnauthorized, Message: msgNoToken})
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="authdash", error="invalid_token", error_description="`+
				authdash.ErrorMessageOf(err)+`"`)
			onFail(w, r, err)
		})
	}
}
