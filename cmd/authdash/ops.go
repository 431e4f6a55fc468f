package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authdash/authdash/internal/logging"
	"github.com/authdash/authdash/internal/ratelimit"
	redislimit "github.com/authdash/authdash/internal/ratelimit/redis"
	"github.com/authdash/authdash/metrics"
	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/server"
)

// newLogging returns the logger every part of the server shares: records
// are written by one background goroutine, so no request waits on log I/O
// (README "Operations"). The level can be changed at run time through the
// returned LevelVar; close flushes what is queued.
func newLogging(w io.Writer, cfg config) (log *slog.Logger, level *slog.LevelVar, h *logging.Handler, closeLog func(), err error) {
	level = new(slog.LevelVar)
	level.Set(cfg.LogLevel)
	h, err = logging.New(w, logging.Options{Format: cfg.LogFormat, Level: level})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	closeLog = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Close(ctx)
	}
	return slog.New(h), level, h, closeLog, nil
}

// realtimeStats adapts the hub's counters to the metrics package, which
// does not import realtime.
func realtimeStats(hub *realtime.Hub) func() metrics.RealtimeStats {
	return func() metrics.RealtimeStats {
		s := hub.Stats()
		return metrics.RealtimeStats{
			Open:            s.Connections,
			Published:       uint64(s.Published),
			Delivered:       uint64(s.Delivered),
			Dropped:         uint64(s.Dropped),
			SlowDisconnects: uint64(s.SlowConsumers),
		}
	}
}

// withMetricsRoute serves /metrics on the public listener too, behind a
// bearer token, when METRICS_TOKEN is set (for platforms that scrape only
// the service port).
func withMetricsRoute(api http.Handler, cfg config, m *metrics.Metrics) http.Handler {
	if cfg.MetricsToken == "" {
		return api
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.RequireToken(cfg.MetricsToken, m.Handler()))
	mux.Handle("/", api)
	return mux
}

// serveAdmin starts the operator's listener on METRICS_ADDR: /metrics,
// /debug/loglevel and /debug/pprof/. It is not public: bind it to loopback
// or a private network. If the address is taken, the API still runs and
// the error is logged, since losing metrics is better than not serving.
// The returned func stops it.
func serveAdmin(cfg config, m *metrics.Metrics, level *slog.LevelVar, log *slog.Logger) (stop func()) {
	if cfg.MetricsAddr == "" {
		return func() {}
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		log.Error("metrics listener not started; the API serves without it", "addr", cfg.MetricsAddr, "err", err)
		return func() {}
	}
	srv := &http.Server{
		Handler:           m.Admin(logging.LevelHandler(level, log)),
		ReadHeaderTimeout: 5 * time.Second,
		// pprof's CPU profile and trace stream for as long as asked (30s by
		// default), so the write timeout leaves room for them.
		WriteTimeout: 2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("metrics listening", "addr", ln.Addr().String())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
		<-done
	}
}

// Rate limits on the auth endpoints. Sign-in per IP is generous enough for
// an office behind one NAT; per account it is tight, since no person types
// a password more than a few times a minute; refreshes come once per access
// token lifetime per tab, so a flood of them is a bug or an attack.
//
// With REDIS_URL the limits live in Redis and hold across every instance;
// otherwise each instance keeps its own. Either way the rejections are
// counted in the metrics.
func addRateLimits(d *server.Deps, cfg config, m *metrics.Metrics, log *slog.Logger) (closeFn func(), err error) {
	type limit struct {
		name  string
		rate  float64
		burst int
		dst   *server.Limiter
	}
	limits := []limit{
		{"signin-ip", 30.0 / 60, 30, &d.Limiter},            // 30 a minute
		{"signin-account", 5.0 / 60, 10, &d.AccountLimiter}, // 10 at once, then 5 a minute
		{"refresh-ip", 2, 60, &d.RefreshLimiter},            // 60 at once, then 2 a second
	}
	closeFn = func() {}
	var rdb *goredis.Client
	if cfg.RedisURL != "" {
		opt, err := goredis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		rdb = goredis.NewClient(opt)
		closeFn = func() { rdb.Close() }
		log.Info("rate limits", "kind", "redis", "addr", opt.Addr)
	}
	for _, l := range limits {
		var lim metrics.Limiter
		if rdb != nil {
			rl, err := redislimit.New(rdb, l.rate, l.burst, redislimit.Options{
				Prefix: "authdash:ratelimit:" + l.name + ":", Log: log,
			})
			if err != nil {
				closeFn()
				return nil, err
			}
			m.LimiterFailures(l.name, rl.Failures)
			lim = rl
		} else {
			ml, err := ratelimit.NewMemory(l.rate, l.burst)
			if err != nil {
				closeFn()
				return nil, err
			}
			lim = ml
		}
		*l.dst = m.Limiter(l.name, lim)
	}
	return closeFn, nil
}

// healthcheck is `authdash healthcheck`: it asks this machine's server for
// /healthz and fails unless it answers 200. It serves the container
// HEALTHCHECK of an image that has no shell or curl.
func healthcheck(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	addr := getenv("ADDR")
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("ADDR %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("healthcheck: nothing listens on %s", net.JoinHostPort(host, port))
		}
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
