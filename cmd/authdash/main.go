// Command authdash serves the Scalable Auth Dashboard: the JSON API, the
// realtime endpoint and the go-app frontend, from one binary configured by
// environment variables (README.md "Configuration").
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app"
	"github.com/authdash/authdash/app/frontend"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/metrics"
	"github.com/authdash/authdash/openapi"
	"github.com/authdash/authdash/realtime"
	redisbroker "github.com/authdash/authdash/realtime/redis"
	"github.com/authdash/authdash/server"
	"github.com/authdash/authdash/store/instrumented"
	mongostore "github.com/authdash/authdash/store/mongo"
	"github.com/authdash/authdash/store/profilecache"
	"github.com/authdash/authdash/store/sqlite"
)

// version is the build's commit, set by the Makefile through -ldflags.
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	goredis.SetLogger(redisLog{log: slog.Default})
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "authdash:", err)
		os.Exit(1)
	}
}

// run is the whole program: it returns when ctx ends (after a graceful
// shutdown) or when the server cannot start. Logs go to stdout; stderr gets
// only what main prints for a fatal error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 2 && args[1] == "healthcheck" {
		return healthcheck(ctx, getenv, stdout)
	}
	if len(args) > 1 {
		fmt.Fprintln(stderr, "usage: authdash [healthcheck] (configured by environment variables; see README.md)")
		return fmt.Errorf("unexpected arguments %q", args[1:])
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log, logLevel, logs, closeLog, err := newLogging(stdout, cfg)
	if err != nil {
		return err
	}
	defer closeLog()
	mx := metrics.New(prometheus.NewRegistry(), version)
	mx.LogDrops(logs.Dropped)
	// Libraries that log through slog's default (and go-redis, see
	// redisLog) write into this log.
	slog.SetDefault(log)

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("DATA_DIR: %w", err)
	}
	if cfg.JWTSecret == nil {
		// Only in dev: loadConfig requires JWT_SECRET in production.
		if cfg.JWTSecret, err = loadDevSecret(cfg.DataDir); err != nil {
			return err
		}
	}

	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	if p, ok := store.(purger); ok {
		janitorCtx, stopJanitor := context.WithCancel(ctx)
		janitorDone := make(chan struct{})
		go func() {
			defer close(janitorDone)
			runJanitor(janitorCtx, p, log)
		}()
		// Runs before the store closes (defers run in reverse).
		defer func() { stopJanitor(); <-janitorDone }()
	}

	broker, closeBroker, err := newBroker(cfg, log)
	if err != nil {
		return err
	}
	defer closeBroker()
	// Every store call is timed for the metrics; Ping and Close use the
	// store itself.
	ready := []server.Check{{Name: "store", Check: store.Ping}}
	var cached authdash.Store = store
	if cfg.RedisURL != "" {
		// GET /api/me reads the profile on every page: serve it from Redis.
		opt, err := goredis.ParseURL(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		profiles := profilecache.New(store, opt, profilecache.Options{Prefix: "authdash:", Log: log})
		defer profiles.Close()
		mx.Cache("profile", func() (uint64, uint64) {
			st := profiles.Stats()
			return st.Hits, st.Misses + st.Bypassed
		})
		ready = append(ready, server.Check{Name: "redis", Check: profiles.Ping, Optional: true})
		cached = profiles
	}
	timed := instrumented.New(cached, mx.ObserveStore)
	// The hub verifies tokens with the auth service, which publishes its
	// events (revocations, deletions, profile changes) through the hub, so
	// they are counted and, with Redis down, still reach this instance's
	// sockets. authSvc is set below, before anything is served.
	var authSvc *auth.Service
	hub, err := realtime.NewHub(realtime.Config{
		Broker: broker,
		Tokens: realtime.TokenVerifierFunc(func(token string) (authdash.UserID, authdash.SessionID, time.Time, error) {
			return authSvc.VerifyAccess(token)
		}),
		Changes:        timed,
		AllowedOrigins: cfg.AllowedOrigins,
		Log:            log,
	})
	if err != nil {
		return err
	}
	revocations, stopRevocations, err := startRevocations(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopRevocations()
	authSvc, err = auth.New(timed, hub, auth.Config{
		Secret:      cfg.JWTSecret,
		AccessTTL:   cfg.AccessTTL,
		RefreshTTL:  cfg.RefreshTTL,
		Revocations: revocations,
	}, log)
	if err != nil {
		return err
	}
	// Task events go through the hub, which counts them on the way.
	tasks := &authdash.TaskService{Store: timed, Events: hub, Log: log, OnPublishError: mx.PublishError}
	mx.Realtime(realtimeStats(hub))

	frontend, err := newFrontend(cfg, log)
	if err != nil {
		return err
	}
	deps := server.Deps{
		Tasks:          tasks,
		Auth:           authSvc,
		Log:            log,
		AllowedOrigins: cfg.AllowedOrigins,
		SecureCookies:  cfg.production(),
		TrustedProxies: cfg.TrustedProxies,
		Ready:          ready,
		Frontend:       frontend,
		Realtime:       hub.Handler(),
		Observe:        mx.Observe,
	}
	if cfg.RateLimit {
		closeLimits, err := addRateLimits(&deps, cfg, mx, log)
		if err != nil {
			return err
		}
		defer closeLimits()
	}

	srv := &http.Server{
		Handler: withMetricsRoute(openapi.WithDocs(server.NewHandler(deps)), cfg, mx),
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

	// The hub outlives ctx: it must keep delivering while the server drains.
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHub()
	hubDone := make(chan error, 1)
	go func() { hubDone <- hub.Run(hubCtx) }()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	// Stop accepting, let in-flight requests finish, then close the store
	// (deferred above) once nothing can use it any more.
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Sockets first: srv.Shutdown does not track hijacked connections. They
	// are told to reconnect, to another instance.
	if err := hub.Shutdown(sctx); err != nil {
		log.Warn("realtime shutdown", "err", err)
	}
	defer func() {
		stopHub()
		<-hubDone
	}()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// store is what the server needs of a database.
type store interface {
	authdash.Store
	Ping(ctx context.Context) error
	Close() error
}

// openStore opens the database: MongoDB when MONGO_URI is set (waiting for
// it to come up, README "Scaling out"), else SQLite in DATA_DIR.
func openStore(ctx context.Context, cfg config, log *slog.Logger) (store, error) {
	if cfg.MongoURI != "" {
		o := cfg.Mongo
		o.Log = log
		db, err := mongostore.OpenWait(ctx, cfg.MongoURI, o)
		if err != nil {
			return nil, fmt.Errorf("MONGO_URI: %w", err)
		}
		log.Info("store opened", "kind", "mongodb", "database", db.Name())
		return mongoStore{db}, nil
	}
	path := filepath.Join(cfg.DataDir, "authdash.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	log.Info("store opened", "kind", "sqlite", "path", path)
	return db, nil
}

// mongoStore gives the MongoDB store the Close the server calls: it closes
// after the HTTP server has drained, so a short bound is enough.
type mongoStore struct{ *mongostore.DB }

func (m mongoStore) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.DB.Close(ctx)
}

// newBroker returns the realtime fan-out between instances: Redis pub/sub
// with REDIS_URL, else in-process (one instance). The returned func releases
// it after the hub has stopped.
func newBroker(cfg config, log *slog.Logger) (realtime.Broker, func(), error) {
	if cfg.RedisURL == "" {
		return realtime.NewLocalBroker(), func() {}, nil
	}
	opt, err := goredis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := goredis.NewClient(opt)
	log.Info("realtime broker", "kind", "redis", "addr", opt.Addr)
	return redisbroker.New(rdb, redisbroker.Options{Log: log}), func() { rdb.Close() }, nil
}

// newFrontend returns the handler serving the dashboard: the go-app shell
// and the web assets (app.wasm from build/web, or embedded with -tags
// embedweb). Without a built app.wasm the API still runs and the frontend
// answers 404, so API-only tests need no wasm build.
func newFrontend(cfg config, log *slog.Logger) (http.Handler, error) {
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

// loadDevSecret returns the development signing key kept in DATA_DIR,
// creating it on first start, so tokens survive a restart without anyone
// having to invent a secret.
func loadDevSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, "jwt-secret")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 48)
		rand.Read(key)
		b = []byte(base64.RawURLEncoding.EncodeToString(key))
		// Written whole to a temporary file and then linked into place, so
		// a second process starting at the same moment sees either no file
		// or a complete one, and exactly one key wins.
		tmp, err := os.CreateTemp(dir, ".jwt-secret-*")
		if err != nil {
			return nil, fmt.Errorf("create dev JWT secret: %w", err)
		}
		defer os.Remove(tmp.Name())
		if _, err := tmp.Write(b); err != nil {
			tmp.Close()
			return nil, fmt.Errorf("write dev JWT secret: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return nil, fmt.Errorf("write dev JWT secret: %w", err)
		}
		switch err := os.Link(tmp.Name(), path); {
		case errors.Is(err, fs.ErrExist):
			return loadDevSecret(dir)
		case err != nil:
			return nil, fmt.Errorf("create dev JWT secret: %w", err)
		}
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read dev JWT secret: %w", err)
	}
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) < minSecretLen {
		return nil, fmt.Errorf("%s holds a key shorter than %d bytes; delete it to generate a new one", path, minSecretLen)
	}
	return b, nil
}
