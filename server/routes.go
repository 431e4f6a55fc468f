package server

import (
	"net/http"
	"runtime"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/authdash/authdash/auth"
)

// addRoutes binds the whole HTTP surface. Middleware runs in this order:
// trace (request id + request log) → recoverer → security headers → CORS →
// [compression → body limit → X-Client-ID → Identify (lenient) → rate
// limit → RequireWith (strict)], the bracketed part only where it applies.
func addRoutes(r chi.Router, d Deps) {
	cookie := newRefreshCookie(d.SecureCookies)
	binding := newOIDCBinding(d.SecureCookies)
	signIn := rateLimits{lim: d.Limiter, log: d.Log, trusted: d.TrustedProxies}
	account := rateLimits{lim: d.AccountLimiter, log: d.Log}
	refresh := rateLimits{lim: d.RefreshLimiter, log: d.Log, trusted: d.TrustedProxies}
	mail := rateLimits{lim: d.MailLimiter, log: d.Log}
	identify := func(next http.Handler) http.Handler { return d.Tokens.Identify(noteUser(next)) }
	require := auth.RequireWith(writeProblem)
	svc := d.Auth
	// Reads are CPU-bound: run a few at a time, the rest queued in order,
	// rather than share the cores among every request in flight, which
	// stretched each one and made the tail (server-side p99 of the list
	// under 64 connections: 25-50 ms before, under 25 ms after).
	reads := newGate(2 * runtime.GOMAXPROCS(0))

	r.Use(
		trace(newRequestIDs(), d.Log, d.Observe),
		recoverer(d.Log),
		securityHeaders(d.SecureCookies, d.ConnectSrc),
		cors(d.AllowedOrigins),
	)
	r.NotFound(problemHandler(errNotFound))
	r.MethodNotAllowed(methodNotAllowed)

	get(r, "/healthz", handleHealthz())
	get(r, "/readyz", handleReadyz(d.Ready, d.Log))
	// The WebSocket hijacks its connection: no compression, no body limit.
	// clientAddr: sockets waiting to authenticate are capped per client.
	r.With(clientAddr(d.TrustedProxies)).Method(http.MethodGet, "/api/ws", orNotFound(d.Realtime))

	r.Group(func(r chi.Router) {
		r.Use(newCompressor().handler, limitBody(maxBodyBytes))

		r.Route("/api", func(r chi.Router) {
			r.Use(noStore, clientID, clientAddr(d.TrustedProxies), identify)
			r.NotFound(problemHandler(errNotFound))
			r.MethodNotAllowed(methodNotAllowed)

			r.Route("/auth", func(r chi.Router) {
				r.With(signIn.perIP("register")).Method(http.MethodPost, "/register", handleRegister(svc, account, cookie))
				r.With(signIn.perIP("login")).Method(http.MethodPost, "/login", handleLogin(svc, account, cookie))
				r.With(refresh.perIP("refresh")).Method(http.MethodPost, "/refresh", handleRefresh(svc, cookie))
				r.Method(http.MethodPost, "/logout", handleLogout(svc, cookie))
				// The mailed links: their tokens are 256 random bits, so the limit
				// per IP only keeps a client from hammering the store.
				r.With(signIn.perIP("link")).Method(http.MethodPost, "/verify-email", handleVerifyEmail(svc))
				r.With(signIn.perIP("link")).Method(http.MethodPost, "/email/confirm", handleConfirmEmail(svc))
				r.With(signIn.perIP("link")).Method(http.MethodPost, "/email/revert", handleRevertEmail(svc))
				r.With(signIn.perIP("forgot")).Method(http.MethodPost, "/password/forgot", handleForgotPassword(svc, mail))
				r.With(signIn.perIP("reset")).Method(http.MethodPost, "/password/reset", handleResetPassword(svc))
				// Its own budget: the reset page asks as it opens, and that must not
				// use up the tries of the reset itself.
				r.With(signIn.perIP("reset-check")).Method(http.MethodPost, "/password/reset/check", handleCheckReset(svc))
				r.With(signIn.perIP("mfa")).Method(http.MethodPost, "/mfa", handleMFA(svc, account, cookie))
				r.With(signIn.perIP("passkey")).Method(http.MethodPost, "/mfa/passkey/begin", handleBeginMFAPasskey(svc))
				r.With(signIn.perIP("passkey")).Method(http.MethodPost, "/passkey/begin", handleBeginPasskeyLogin(svc))
				r.With(signIn.perIP("passkey")).Method(http.MethodPost, "/passkey/finish", handleFinishPasskeyLogin(svc, cookie))
				get(r, "/oidc/providers", handleOIDCProviders(svc))
				// GET only: each starts or ends a sign-in, which a HEAD (a link
				// scanner's, say) must not do.
				r.With(signIn.perIP("oidc")).Method(http.MethodGet, "/oidc/{name}/start", handleOIDCStart(svc, binding, d.AppURL))
				r.With(signIn.perIP("oidc")).Method(http.MethodGet, "/oidc/{name}/callback", handleOIDCCallback(svc, binding, cookie, d.AppURL))
				r.With(signIn.perIP("link")).Method(http.MethodPost, "/oidc/link", handleOIDCLink(svc, cookie))
				r.Group(func(r chi.Router) {
					r.Use(require)
					r.Method(http.MethodPost, "/verify-email/resend", handleResendVerification(svc, mail))
					r.Method(http.MethodPost, "/logout-all", handleLogoutAll(svc, cookie))
					get(r, "/sessions", handleSessions(svc))
					r.Method(http.MethodDelete, "/sessions/{id}", handleRevokeSession(svc, cookie))
				})
			})

			r.Group(func(r chi.Router) {
				r.Use(require)
				get(r.With(reads.handler), "/me", handleProfile(svc))
				r.Method(http.MethodPatch, "/me", handleUpdateProfile(svc))
				r.Method(http.MethodDelete, "/me", handleDeleteAccount(svc, account, cookie))
				r.Method(http.MethodPost, "/me/password", handleChangePassword(svc, account))
				r.Method(http.MethodPost, "/me/email", handleChangeEmail(svc, account, mail))
				get(r, "/me/mfa", handleMFAStatus(svc))
				r.Method(http.MethodPost, "/me/mfa/totp", handleBeginTOTP(svc, account))
				r.Method(http.MethodPost, "/me/mfa/totp/confirm", handleConfirmTOTP(svc, account))
				r.Method(http.MethodDelete, "/me/mfa/totp", handleDisableTOTP(svc, account))
				get(r, "/me/activity", handleActivity(svc))
				get(r, "/me/passkeys", handleListPasskeys(svc))
				r.Method(http.MethodPost, "/me/passkeys/begin", handleBeginPasskey(svc, account))
				r.Method(http.MethodPost, "/me/passkeys/finish", handleFinishPasskey(svc, account))
				r.Method(http.MethodPatch, "/me/passkeys/{id}", handleRenamePasskey(svc))
				r.Method(http.MethodDelete, "/me/passkeys/{id}", handleDeletePasskey(svc))
				get(r, "/me/identities", handleIdentities(svc))
				r.Method(http.MethodPost, "/me/identities/{name}/link", handleLinkIdentity(svc, binding))
				r.Method(http.MethodDelete, "/me/identities/{id}", handleUnlinkIdentity(svc))

				get(r.With(reads.handler), "/tasks", handleListTasks(d.Tasks))
				r.Method(http.MethodPost, "/tasks", handleCreateTask(d.Tasks))
				get(r.With(reads.handler), "/tasks/stats", handleTaskStats(d.Tasks))
				get(r.With(reads.handler), "/tasks/{id}", handleGetTask(d.Tasks))
				r.Method(http.MethodPatch, "/tasks/{id}", handleUpdateTask(d.Tasks))
				r.Method(http.MethodDelete, "/tasks/{id}", handleDeleteTask(d.Tasks))
				r.Method(http.MethodPost, "/tasks/{id}/restore", handleRestoreTask(d.Tasks))
			})
		})

		r.Handle("/*", orNotFound(d.Frontend))
	})
}

// get binds h to GET and HEAD: RFC 9110 asks for HEAD wherever GET is
// answered (load balancers' and uptime probes use it), and net/http leaves
// out a HEAD response's body by itself.
func get(r chi.Router, pattern string, h http.Handler) {
	r.Method(http.MethodGet, pattern, h)
	r.Method(http.MethodHead, pattern, h)
}

// routeMethods are the methods a route may answer, in the order Allow
// lists them.
var routeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// methodNotAllowed answers 405 with the methods the path does answer in
// Allow, which RFC 9110 requires of a 405.
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.Routes != nil {
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		var allow []string
		for _, m := range routeMethods {
			if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
		}
	}
	writeProblem(w, r, errMethodNotAllowed)
}

// problemHandler answers every request with err.
func problemHandler(err error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { writeProblem(w, r, err) }
}

// orNotFound stands in for an optional handler that was not provided.
func orNotFound(h http.Handler) http.Handler {
	if h == nil {
		return problemHandler(errNotFound)
	}
	return h
}
