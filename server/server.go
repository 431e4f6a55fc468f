// Package server is the HTTP API of the dashboard: the chi router, its
// handlers and middleware, and the one mapping from domain errors to HTTP
// problem details (RFC 9457).
//
// NewHandler builds the whole surface from its dependencies; routes.go lists
// every endpoint in one place.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
)

// Limiter decides whether one more request under key may proceed now, and if
// not, how long until it may. An error means the limiter itself failed; the
// server then lets the request through (fails open) and logs it, because
// refusing every sign-in while a limiter backend is down is the worse outage.
type Limiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// Check is one readiness probe run by /readyz, e.g. a store ping.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
	// Optional marks a dependency the instance can serve without (Redis:
	// the profile cache is bypassed, events reach local sockets, limits fail
	// open). Its failure reads "degraded" but keeps the instance ready:
	// taking every instance out of the load balancer because a cache blinked
	// would turn a degradation into an outage.
	Optional bool
}

// Deps is everything the API needs. Tasks, Auth and Tokens are required.
type Deps struct {
	Tasks *authdash.TaskService
	Auth  *auth.Service
	// Tokens identifies the caller of every request from its access token.
	Tokens *auth.Verifier
	// Limiter bounds sign-in and sign-up attempts per client IP, and
	// AccountLimiter per account (normalised email), so a credential-stuffing
	// run spread over many addresses still meets one wall per account. Nil
	// disables either.
	Limiter        Limiter
	AccountLimiter Limiter
	// RefreshLimiter bounds token refreshes per client IP. It is separate
	// because a healthy client refreshes far more often than it signs in.
	// Nil disables it.
	RefreshLimiter Limiter
	// MailLimiter bounds the mail one address or account can be sent (a
	// password reset per address, a verification or email change per
	// account), so nobody floods a mailbox through us. Nil disables it.
	MailLimiter Limiter
	Log         *slog.Logger
	// AllowedOrigins may call the API from a browser with credentials
	// (exact match, e.g. "https://app.example.com"). Empty: same origin only.
	AllowedOrigins []string
	// SecureCookies marks the refresh cookie Secure with the __Secure- name
	// prefix and turns on HSTS; set it whenever clients reach us over HTTPS.
	SecureCookies bool
	// TrustedProxies are the addresses whose X-Forwarded-For is believed
	// when working out a client's IP for rate limits.
	TrustedProxies []netip.Prefix
	// ConnectSrc are extra CSP connect-src sources, for a frontend that
	// talks to an API or WebSocket on another origin.
	ConnectSrc []string
	// AppURL is the frontend's address (APP_URL) that the identity
	// providers' sign-ins end on; empty: this origin.
	AppURL string
	// Ready are the checks /readyz runs.
	Ready []Check
	// Realtime serves GET /api/ws. It hijacks the connection, so it sits
	// outside compression and the body limit. Nil: 404.
	Realtime http.Handler
	// Frontend serves every path outside /api, /healthz and /readyz. Nil: 404.
	Frontend http.Handler
	// Observe, if set, is called once per request when it ends, with the
	// matched route pattern (for metrics).
	Observe func(r *http.Request, route string, status int, d time.Duration)
}

// NewHandler returns the HTTP handler of the whole API. It panics if a
// required dependency is missing, which is a wiring mistake.
func NewHandler(d Deps) http.Handler {
	if d.Tasks == nil || d.Auth == nil || d.Tokens == nil {
		panic("server: NewHandler needs Tasks, Auth and Tokens")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	r := chi.NewRouter()
	addRoutes(r, d)
	return r
}
