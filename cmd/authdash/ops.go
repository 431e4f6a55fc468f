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

	"github.com/authdash/authdash/instance"
	"github.com/authdash/authdash/internal/logging"
	"github.com/authdash/authdash/metrics"
)

// newLogging returns the logger every part of the server shares: records
// are written by one background goroutine, so no request waits on log I/O
// (README "Operations"). The level can be changed at run time through the
// returned LevelVar; close flushes what is queued.
func newLogging(w io.Writer, cfg instance.Config) (log *slog.Logger, level *slog.LevelVar, h *logging.Handler, closeLog func(), err error) {
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

// serveAdmin starts the operator's listener on METRICS_ADDR: /metrics,
// /debug/loglevel and /debug/pprof/. It is not public: bind it to loopback
// or a private network; with METRICS_TOKEN (required off loopback: see
// LoadConfig) every request to it must bear the token. If the address is
// taken, the API still runs and the error is logged, since losing metrics
// is better than not serving. The returned func stops it.
func serveAdmin(cfg instance.Config, m *metrics.Metrics, level *slog.LevelVar, log *slog.Logger) (stop func()) {
	if cfg.MetricsAddr == "" {
		return func() {}
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		log.Error("metrics listener not started; the API serves without it", "addr", cfg.MetricsAddr, "err", err)
		return func() {}
	}
	srv := &http.Server{
		Handler:           adminHandler(cfg, m, level, log),
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

func adminHandler(cfg instance.Config, m *metrics.Metrics, level *slog.LevelVar, log *slog.Logger) http.Handler {
	h := m.Admin(logging.LevelHandler(level, log))
	if cfg.MetricsToken != "" {
		h = metrics.RequireToken(cfg.MetricsToken, h)
	}
	return h
}

// healthcheck is `authdash healthcheck`: it asks this machine's server for
// /healthz and fails unless it answers 200. It serves the container
// HEALTHCHECK of an image that has no shell or curl.
func healthcheck(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	addr := instance.ListenAddr(getenv)
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

// redisLog routes go-redis's own messages (a dial that failed, a pub/sub
// connection dropped: dozens a second during an outage) into our log at
// debug level. Our Redis users report an outage and its end once each at
// warn; without this go-redis would print every retry to stderr in a
// format of its own, between the JSON lines. go-redis has one process-wide
// logger, so main sets it once (processWide).
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	if !l.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	l.log.LogAttrs(ctx, slog.LevelDebug, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}
