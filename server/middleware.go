package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// reqState is what the outermost middleware knows about one request. It
// wraps the ResponseWriter to see the status and size, and travels in the
// context so inner layers can report to the request log: the user once
// identified, and the cause of a 5xx.
type reqState struct {
	http.ResponseWriter
	id          string
	status      int
	bytes       int64
	wroteHeader bool
	user        authdash.UserID
	err         error
}

type stateKey struct{}

// stateOf returns the request's state, or nil outside the trace middleware.
func stateOf(r *http.Request) *reqState {
	rs, _ := r.Context().Value(stateKey{}).(*reqState)
	return rs
}

func (s *reqState) WriteHeader(code int) {
	// 1xx other than 101 are informational: the real status follows.
	if !s.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *reqState) Write(b []byte) (int, error) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = http.StatusOK, true
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Flush, Hijack and Unwrap keep streaming responses and WebSocket upgrades
// working through the wrapper.
func (s *reqState) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		if !s.wroteHeader {
			s.status, s.wroteHeader = http.StatusOK, true
		}
		f.Flush()
	}
}

func (s *reqState) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("server: connection cannot be hijacked")
	}
	if !s.wroteHeader {
		s.status, s.wroteHeader = http.StatusSwitchingProtocols, true
	}
	return h.Hijack()
}

func (s *reqState) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// requestIDs makes request ids: a random per-process prefix and a counter.
// Unique across instances without a syscall per request; ids need not be
// secret, only distinct.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [5]byte
	rand.Read(b[:])
	return &requestIDs{prefix: base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]) + "-"}
}

func (g *requestIDs) next() string {
	return g.prefix + strconv.FormatUint(g.n.Add(1), 36)
}

const maxRequestIDLen = 64

// validRequestID accepts an incoming id only if it is short and made of
// characters that cannot forge a log line or a header.
func validRequestID(s string) bool {
	if s == "" || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// trace gives every request an id (an incoming X-Request-ID if sane, echoed
// back) and writes one log line per request when it ends: method, route
// pattern, path, status, bytes, duration, request id and user. It never
// logs headers, cookies, bodies or the query string, where secrets travel.
// A 5xx line carries the error the problem writer recorded.
func trace(ids *requestIDs, log *slog.Logger, observe func(*http.Request, string, int, time.Duration)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get("X-Request-ID")
			if !validRequestID(id) {
				id = ids.next()
			}
			w.Header().Set("X-Request-ID", id)
			rs := &reqState{ResponseWriter: w, id: id}
			r = r.WithContext(context.WithValue(r.Context(), stateKey{}, rs))
			defer func() {
				// Runs even if a panic escapes recoverer (http.ErrAbortHandler).
				status := rs.status
				if !rs.wroteHeader {
					status = http.StatusOK
				}
				d := time.Since(start)
				route := ""
				if rc := chi.RouteContext(r.Context()); rc != nil {
					route = rc.RoutePattern()
				}
				if observe != nil {
					observe(r, route, status, d)
				}
				ctx := r.Context()
				level := slog.LevelInfo
				switch {
				case status >= 500 && ctx.Err() != nil:
					// The client went away and the handler gave up: worth
					// seeing, but not a server fault.
					level = slog.LevelWarn
				case status >= 500:
					level = slog.LevelError
				case route == "/healthz" || route == "/readyz":
					level = slog.LevelDebug
				}
				if !log.Enabled(ctx, level) {
					return
				}
				attrs := make([]slog.Attr, 0, 10)
				attrs = append(attrs,
					slog.String("method", r.Method),
					slog.String("route", route),
					slog.String("path", r.URL.Path),
					slog.Int("status", status),
					slog.Int64("bytes", rs.bytes),
					slog.Duration("duration", d),
					slog.String("requestId", id),
				)
				if rs.user != "" {
					attrs = append(attrs, slog.String("user", string(rs.user)))
				}
				if rs.err != nil {
					attrs = append(attrs, slog.String("err", rs.err.Error()))
				}
				log.LogAttrs(ctx, level, "request", attrs...)
			}()
			next.ServeHTTP(rs, r)
		})
	}
}

// recoverer turns a panic into a 500 problem and logs the stack. If the
// response had already begun, the connection is aborted instead, so the
// client sees a broken response rather than a complete-looking wrong one.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				rs := stateOf(r)
				id := ""
				if rs != nil {
					id = rs.id
				}
				log.LogAttrs(r.Context(), slog.LevelError, "panic",
					slog.String("requestId", id), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				if rs != nil && rs.wroteHeader {
					panic(http.ErrAbortHandler)
				}
				writeProblem(w, r, fmt.Errorf("panic: %v", v))
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// securityHeaders sets the headers every response carries. The CSP is the
// one a go-app page runs under: its wasm needs 'wasm-unsafe-eval', and
// nothing is inline.
func securityHeaders(hsts bool, connectSrc []string) func(http.Handler) http.Handler {
	csp := "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
		"connect-src " + strings.Join(append([]string{"'self'"}, connectSrc...), " ") + "; " +
		"manifest-src 'self'; worker-src 'self'; font-src 'self'; base-uri 'self'; form-action 'self'; " +
		"frame-ancestors 'none'; object-src 'none'"
	// Built once and shared by every response (see jsonContentType).
	cspValue := []string{csp}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			if hsts {
				h["Strict-Transport-Security"] = hstsValue
			}
			h["X-Content-Type-Options"] = nosniffValue
			h["Referrer-Policy"] = noReferrerValue
			h["X-Frame-Options"] = denyValue
			h["Cross-Origin-Opener-Policy"] = sameOriginValue
			h["Content-Security-Policy"] = cspValue
			next.ServeHTTP(w, r)
		})
	}
}

var (
	hstsValue       = []string{"max-age=63072000; includeSubDomains"}
	nosniffValue    = []string{"nosniff"}
	noReferrerValue = []string{"no-referrer"}
	denyValue       = []string{"DENY"}
	sameOriginValue = []string{"same-origin"}
)

// CORS policy: credentials are allowed, so origins must match exactly and
// "*" is never used.
const (
	corsMethods       = "GET, POST, PATCH, DELETE, OPTIONS"
	corsAllowHeaders  = "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Client-ID, X-Request-ID, X-Auth-Mode"
	corsExposeHeaders = "ETag, Idempotent-Replayed, Location, Retry-After, X-Request-ID"
	corsMaxAge        = "600"
)

var errOriginRefused = authdash.Errorf(authdash.CodeForbidden, "Origin not allowed.")

// cors answers cross-origin requests from the allow-list. A request from any
// other origin gets no CORS headers (the browser then withholds the
// response), and its preflight is refused outright.
func cors(origins []string) func(http.Handler) http.Handler {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return func(next http.Handler) http.Handler {
		if len(allowed) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Add("Vary", "Origin")
			origin := r.Header.Get("Origin")
			if origin == "" {
				next.ServeHTTP(w, r)
				return
			}
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			if !allowed[origin] {
				if preflight {
					writeProblem(w, r, errOriginRefused)
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			if preflight {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				h.Set("Access-Control-Allow-Methods", corsMethods)
				h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
				h.Set("Access-Control-Max-Age", corsMaxAge)
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			next.ServeHTTP(w, r)
		})
	}
}

// maxBodyBytes bounds every request body; JSON bodies of this API are tiny.
const maxBodyBytes = 1 << 20

var errBodyTooLarge = authdash.Errorf(authdash.CodeTooLarge, "Request body must be at most 1 MiB.")

// limitBody refuses a declared oversized body at once and caps the rest as
// they are read (chunked bodies declare no length).
func limitBody(limit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				writeProblem(w, r, errBodyTooLarge)
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// noStore keeps per-user API answers out of shared and browser caches.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Cache-Control"] = noStoreValue
		next.ServeHTTP(w, r)
	})
}

const maxClientIDLen = 64

var errClientID = &authdash.Error{
	Code: authdash.CodeInvalid, Message: "X-Client-ID must be at most 64 letters, digits, '-' or '_'.",
	Fields: map[string]string{wire.HeaderClientID: "At most 64 letters, digits, '-' or '_'."},
}

// clientID puts the tab's X-Client-ID on the context, so the events its
// writes cause carry it and the tab can recognise its own echo.
func clientID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(wire.HeaderClientID)
		if id == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !validClientID(id) {
			writeProblem(w, r, errClientID)
			return
		}
		next.ServeHTTP(w, r.WithContext(authdash.WithOrigin(r.Context(), id)))
	})
}

func validClientID(s string) bool {
	if len(s) > maxClientIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// noteUser tells the request log who the identified user is; it runs just
// inside auth's Identify.
func noteUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rs := stateOf(r); rs != nil {
			rs.user = authdash.UserFrom(r.Context())
		}
		next.ServeHTTP(w, r)
	})
}
