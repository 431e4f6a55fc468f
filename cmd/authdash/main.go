// Command authdash serves the Scalable Auth Dashboard: the JSON API, the
// realtime endpoint and the go-app frontend, from one binary configured by
// environment variables (README.md "Configuration").
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/authdash/authdash/app"
	"github.com/authdash/authdash/app/frontend"
	"github.com/authdash/authdash/instance"
	"github.com/authdash/authdash/metrics"
)

// version is the build's commit, set by the Makefile through -ldflags.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr, processWide); err != nil {
		fmt.Fprintln(os.Stderr, "authdash:", err)
		os.Exit(1)
	}
}

// processWide routes what libraries log through process-wide hooks (slog's
// default logger, go-redis's logger) into log. Only main sets them: tests
// run several servers in one process.
func processWide(log *slog.Logger) {
	slog.SetDefault(log)
	goredis.SetLogger(redisLog{log: log})
}

// run is the whole program: configuration, then the instance, then serving
// until ctx ends, then a graceful shutdown. It returns when that is done or
// when the server cannot start. Logs go to stdout; stderr gets only what
// main prints for a fatal error. adopt, if set, is handed the log before
// anything else runs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, adopt func(*slog.Logger)) error {
	if len(args) == 2 && args[1] == "healthcheck" {
		return healthcheck(ctx, getenv, stdout)
	}
	if len(args) > 1 {
		fmt.Fprintln(stderr, "usage: authdash [healthcheck] (configured by environment variables; see README.md)")
		return fmt.Errorf("unexpected arguments %q", args[1:])
	}
	cfg, err := instance.LoadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log, logLevel, logs, closeLog, err := newLogging(stdout, cfg)
	if err != nil {
		return err
	}
	defer closeLog()
	if adopt != nil {
		adopt(log)
	}
	mx := metrics.New(prometheus.NewRegistry(), version)
	mx.LogDrops(logs.Dropped)

	site, err := newFrontend(log)
	if err != nil {
		return err
	}
	in, err := instance.Build(ctx, cfg, instance.Env{Log: log, Metrics: mx, Frontend: site, Version: version})
	if err != nil {
		return err
	}
	// Runs last: after the HTTP server has drained, nothing uses the store.
	defer in.Close()

	srv := &http.Server{
		Handler: in.Handler,
		// Slow-loris bound: headers must arrive promptly.
		ReadHeaderTimeout: 5 * time.Second,
		// Request bodies are at most 1 MiB.
		ReadTimeout: 30 * time.Second,
		// Long enough to send app.wasm to a slow client. A WebSocket is not
		// cut by it: net/http clears a connection's deadlines on Hijack, and
		// the realtime handler sets its own per-message deadlines.
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("ADDR: %w", err)
	}
	// Tests bind ADDR=127.0.0.1:0 and read the real address from this line.
	log.Info("listening", "addr", ln.Addr().String(), "env", cfg.Env, "version", version)
	stopAdmin := serveAdmin(cfg, mx, logLevel, log)
	defer stopAdmin()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	// Sockets first (they are told to reconnect, to another instance),
	// then in-flight requests; the deferred Close then stops the rest.
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := in.Shutdown(sctx); err != nil {
		log.Warn("realtime shutdown", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil {
		// A request still running at the deadline (a body that never
		// completes, a client that stopped reading) is cut: stopping on
		// time is what SHUTDOWN_TIMEOUT promises, and it is not a failure
		// of this process, so the exit status stays 0.
		log.Warn("requests still in flight at the shutdown deadline were cut", "timeout", cfg.ShutdownTimeout.String(), "err", err)
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// newFrontend returns the handler serving the dashboard: the go-app shell
// and the web assets (app.wasm from build/web, or embedded with -tags
// embedweb). Without a built app.wasm the API still runs and the frontend
// answers 404, so API-only tests need no wasm build.
func newFrontend(log *slog.Logger) (http.Handler, error) {
	app.Register()
	site, err := frontend.New(frontend.Options{Version: version})
	if errors.Is(err, fs.ErrNotExist) {
		log.Warn("frontend not built: run `make wasm`; serving the API only", "err", err)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return site, nil
}
