package metrics

import (
	"crypto/subtle"
	"net/http"
	"net/http/pprof"
)

// Admin returns the handler of the operator's listener (METRICS_ADDR, on
// loopback or a private network, never public): the metrics at /metrics,
// logLevel (if not nil) at /debug/loglevel, and the Go profiler under
// /debug/pprof/, mounted explicitly rather than on http.DefaultServeMux.
func (m *Metrics) Admin(logLevel http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if logLevel != nil {
		mux.Handle("/debug/loglevel", logLevel)
	}
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// RequireToken lets through only requests bearing token in Authorization:
// the whole admin listener when it has a token, and /metrics on the public
// listener. The comparison takes the same time whatever the presented token.
func RequireToken(token string, h http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if token == "" || subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("this needs the METRICS_TOKEN bearer token\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
