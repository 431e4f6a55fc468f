// Package instance builds one authdash instance from its Config: the store,
// the broker, the revocation list, the token verifier, the realtime hub,
// the auth and task services and the HTTP handler that serves them, in
// that order, in one function. cmd/authdash serves what Build returns; the
// tests that need the real server in-process (e2e/apitest) build the same
// thing, so what they test is what ships.
package instance

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/auth/idp"
	"github.com/authdash/authdash/auth/revocation"
	redisrevocation "github.com/authdash/authdash/auth/revocation/redis"
	storedrevocation "github.com/authdash/authdash/auth/revocation/stored"
	"github.com/authdash/authdash/auth/strength"
	"github.com/authdash/authdash/mail"
	"github.com/authdash/authdash/mail/outbox"
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

// productName is what mail signs with.
const productName = "Authdash"

// Env is what the process hands an instance besides its Config.
type Env struct {
	Log *slog.Logger // nil discards
	// Metrics receives every measurement; nil: a registry of the
	// instance's own.
	Metrics *metrics.Metrics
	// Frontend serves every path outside /api, /healthz and /readyz (the
	// web app, whose routes main registers with go-app). Nil: 404.
	Frontend http.Handler
	Version  string
	// Now is the clock of the stores, tokens and rate limits; nil is
	// time.Now. Tests move one by hand instead of sleeping.
	Now func() time.Time
	// MailRootCAs, if set, replaces the system's roots for the SMTP server's
	// certificate (tests trust their own server; a process uses SSL_CERT_FILE).
	MailRootCAs *x509.CertPool
	// Ready are readiness checks /readyz runs after the instance's own
	// (tests add one they can fail).
	Ready []server.Check
}

// Instance is one built server. Serve Handler; on the way out call
// Shutdown while the HTTP server drains, then Close.
type Instance struct {
	// Handler is the whole HTTP surface: the API, the socket, the API
	// documents, /metrics behind METRICS_TOKEN and the frontend.
	Handler http.Handler
	Store   Store
	Tokens  *auth.Verifier
	Hub     *realtime.Hub
	Auth    *auth.Service
	Tasks   *authdash.TaskService
	Metrics *metrics.Metrics
	// Mail is the outbox the account flows enqueue into; its worker runs until Close.
	// Composer renders the messages, with links on APP_URL.
	Mail     *outbox.Outbox
	Composer *mail.Composer

	// closers run in reverse order of construction.
	closers []func()
}

// Store is what an instance needs of a database.
type Store interface {
	authdash.Store
	Ping(ctx context.Context) error
	Close() error
}

// Build opens the store and starts everything an instance runs in the
// background (the hub, the revocation list's receiver, the janitor),
// which runs until Close. A failure closes what was already built.
func Build(ctx context.Context, cfg Config, env Env) (_ *Instance, err error) {
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	mx := env.Metrics
	if mx == nil {
		mx = metrics.New(prometheus.NewRegistry(), env.Version)
	}
	in := &Instance{Metrics: mx}
	defer func() {
		if err != nil {
			in.Close()
		}
	}()

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("DATA_DIR: %w", err)
	}
	secret := cfg.JWTSecret
	if secret == nil {
		// Only in dev: LoadConfig requires JWT_SECRET in production.
		if secret, err = loadDevSecret(cfg.DataDir); err != nil {
			return nil, err
		}
	}

	store, err := openStore(ctx, cfg, now, log)
	if err != nil {
		return nil, err
	}
	in.Store = store
	in.onClose(func() {
		if err := store.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	})
	if p, ok := store.(purger); ok {
		in.background(ctx, func(ctx context.Context) { runJanitor(ctx, p, log) })
	}
	// Mail: every instance runs an outbox worker; claims keep them from sending a
	// message twice. It stops before the store closes (closers run in reverse).
	if cfg.MailFrom == "" {
		cfg.MailFrom = defaultMailFrom
	}
	if cfg.AppURL == nil {
		cfg.AppURL = &url.URL{Scheme: "http", Host: "localhost:8080"}
	}
	sender, err := mail.New(mail.Config{URL: cfg.SMTP, From: cfg.MailFrom, Dir: filepath.Join(cfg.DataDir, "mail"), Log: log, RootCAs: env.MailRootCAs})
	if err != nil {
		return nil, err
	}
	if in.Composer, err = mail.NewComposer(productName, cfg.AppURL); err != nil {
		return nil, err
	}
	if cfg.SMTP != nil {
		log.Info("mail", "smtp", cfg.SMTP.Redacted(), "from", cfg.MailFrom, "links", cfg.AppURL.String())
	} else {
		log.Info("mail", "smtp", "none: messages go to the log and "+filepath.Join(cfg.DataDir, "mail"), "links", cfg.AppURL.String())
	}
	var rdb *redisClients
	if cfg.Redis != nil {
		rdb = newRedis(cfg.Redis)
		in.onClose(rdb.Close)
		log.Info("redis", "addr", cfg.Redis.Addr, "uses", "realtime broker, session revocations, rate limits, profile cache")
	}
	ready := []server.Check{{Name: "store", Check: store.Ping}}
	var cached authdash.Store = store
	if rdb != nil {
		// GET /api/me reads the profile on every page: serve it from Redis.
		profiles := profilecache.New(store, rdb.cache, profilecache.Options{Prefix: "authdash:", Log: log})
		mx.Cache("profile", func() (uint64, uint64) {
			st := profiles.Stats()
			return st.Hits, st.Misses + st.Bypassed
		})
		ready = append(ready, server.Check{Name: "redis", Check: profiles.Ping, Optional: true})
		cached = profiles
	}
	// Every store call is timed for the metrics; Ping and Close use the
	// store itself.
	timed := instrumented.New(cached, mx.ObserveStore)

	var broker realtime.Broker = realtime.NewLocalBroker()
	// Revocations live in memory (checked on every request), in the store
	// (so they outlive a restart) and, with Redis, in Redis (so they reach
	// the other instances at once); without Redis the instances sharing a
	// store poll it.
	var mem storedrevocation.Memory = revocation.New(now)
	poll := cfg.RevocationPoll
	if poll == 0 {
		poll = defaultRevocationPoll
	}
	if rdb != nil {
		broker = redisbroker.New(rdb.shared, redisbroker.Options{Log: log})
		shared, err := redisrevocation.New(rdb.shared, redisrevocation.Options{Log: log, Now: now})
		if err != nil {
			return nil, err
		}
		in.background(ctx, func(ctx context.Context) { shared.Run(ctx) })
		mem, poll = shared, 0
	}
	revocations, err := storedrevocation.New(ctx, timed, mem, storedrevocation.Options{Poll: poll, Log: log, Now: now})
	if err != nil {
		return nil, err
	}
	in.background(ctx, revocations.Run)

	// The verifier answers both the API and the hub; the auth service
	// signs with its key and publishes through the hub, so its events are
	// counted and, with Redis down, still reach this instance's sockets.
	in.Tokens, err = auth.NewVerifier(auth.VerifierConfig{Secret: secret, Revocations: revocations, Now: now})
	if err != nil {
		return nil, err
	}
	in.Hub, err = realtime.NewHub(realtime.Config{
		Broker:         broker,
		Tokens:         in.Tokens,
		Changes:        timed,
		AllowedOrigins: cfg.AllowedOrigins,
		Log:            log,
		StoreTimeout:   cfg.StoreTimeout,
		Refuse:         server.WriteProblem,

		MaxUnauthenticated:      cfg.WSMaxUnauthenticated,
		MaxUnauthenticatedPerIP: cfg.WSMaxUnauthenticatedPerIP,
	})
	if err != nil {
		return nil, err
	}
	// The hub outlives the request that builds the instance and the
	// context that ends serving: it must keep delivering while the server
	// drains, so only Close stops it.
	in.background(ctx, func(ctx context.Context) { in.Hub.Run(ctx) })
	mx.Realtime(realtimeStats(in.Hub))
	in.Mail = outbox.New(outbox.Config{Store: timed, Sender: sender, Log: log, Now: now,
		Observe: func(kind string, r outbox.Result) { mx.Mail(kind, string(r)) }})
	in.background(ctx, in.Mail.Run)
	in.Auth, err = auth.New(timed, in.Tokens, in.Hub, auth.Config{
		Mail:       accountMailer{in.Composer, in.Mail},
		AccessTTL:  cfg.AccessTTL,
		RefreshTTL: cfg.RefreshTTL,
		HashWait:   cfg.HashWait,
		Now:        now,
		MFAKey:     cfg.MFAKey,
		Passkeys:   cfg.Passkeys,
		Strength:   strength.Judge{},
		Providers:  providers(cfg, now),
	}, log)
	if err != nil {
		return nil, err
	}
	// Before the store closes: the forgot-password lookups still running.
	in.onClose(in.Auth.Close)
	// Task events go through the hub, which counts them on the way.
	in.Tasks = &authdash.TaskService{Store: timed, Events: in.Hub, Log: log, OnPublishError: mx.PublishError, Now: now}

	deps := server.Deps{
		Tasks:          in.Tasks,
		Auth:           in.Auth,
		Tokens:         in.Tokens,
		Log:            log,
		AllowedOrigins: cfg.AllowedOrigins,
		SecureCookies:  cfg.production(),
		TrustedProxies: cfg.TrustedProxies,
		Ready:          append(ready, env.Ready...),
		AppURL:         appOrigin(cfg.AppURL),
		Frontend:       env.Frontend,
		Realtime:       in.Hub.Handler(),
		Observe:        mx.Observe,
	}
	if len(cfg.Limits) > 0 {
		var shared *goredis.Client
		if rdb != nil {
			shared = rdb.shared
		}
		if err := addRateLimits(&deps, cfg.Limits, shared, now, mx, log); err != nil {
			return nil, err
		}
	}
	in.Handler = withMetricsRoute(openapi.WithDocs(server.NewHandler(deps)), cfg.MetricsToken, mx)
	return in, nil
}

// Shutdown closes every socket with "going away", so clients reconnect to
// another instance. The HTTP server's own Shutdown does not track the
// hijacked connections sockets run on.
func (in *Instance) Shutdown(ctx context.Context) error {
	return in.Hub.Shutdown(ctx)
}

// Close stops what Build started and closes the store, in reverse order of
// construction: the hub before the broker's connection, the store last. It
// waits for each background loop to return.
func (in *Instance) Close() {
	for i := len(in.closers) - 1; i >= 0; i-- {
		in.closers[i]()
	}
	in.closers = nil
}

func (in *Instance) onClose(f func()) { in.closers = append(in.closers, f) }

// background runs f in a goroutine until Close. Its context keeps ctx's
// values but not its end: background work outlives the caller's context.
func (in *Instance) background(ctx context.Context, f func(ctx context.Context)) {
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(bctx)
	}()
	in.onClose(func() { cancel(); <-done })
}

// openStore opens the database: MongoDB when MONGO_URI is set (waiting for
// it to come up, README "Scaling out"), else SQLite in DATA_DIR.
func openStore(ctx context.Context, cfg Config, now func() time.Time, log *slog.Logger) (Store, error) {
	if cfg.MongoURI != "" {
		o := cfg.Mongo
		o.Log = log
		o.Now = now
		db, err := mongostore.OpenWait(ctx, cfg.MongoURI, o)
		if err != nil {
			return nil, fmt.Errorf("MONGO_URI: %w", err)
		}
		log.Info("store opened", "kind", "mongodb", "database", db.Name())
		return mongoStore{db}, nil
	}
	path := filepath.Join(cfg.DataDir, "authdash.db")
	opts := []sqlite.Option{sqlite.WithClock(now)}
	sync := "normal"
	if cfg.SQLiteSyncFull {
		opts, sync = append(opts, sqlite.WithSyncFull()), "full"
	}
	db, err := sqlite.Open(ctx, path, opts...)
	if err != nil {
		return nil, err
	}
	log.Info("store opened", "kind", "sqlite", "path", path, "sync", sync)
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
			RefusedPerIP:    uint64(s.RefusedPerIP),
			RefusedInstance: uint64(s.RefusedTotal),
			ResumesLimited:  uint64(s.ResumesLimited),
		}
	}
}

// withMetricsRoute serves /metrics on the public listener too, behind a
// bearer token, when METRICS_TOKEN is set (for platforms that scrape only
// the service port).
func withMetricsRoute(api http.Handler, token string, m *metrics.Metrics) http.Handler {
	if token == "" {
		return api
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.RequireToken(token, m.Handler()))
	mux.Handle("/", api)
	return mux
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

// appOrigin is APP_URL without its final slash; "" (this origin) when unset.
func appOrigin(u *url.URL) string {
	if u == nil {
		return ""
	}
	return strings.TrimSuffix(u.String(), "/")
}

// providers makes the configured identity providers; each is discovered
// on its first sign-in, so one that is down does not stop the start.
func providers(cfg Config, now func() time.Time) []*idp.Provider {
	var out []*idp.Provider
	for _, c := range cfg.OIDCProviders {
		out = append(out, idp.New(c, cfg.OIDCRedirectBase+"/api/auth/oidc/"+c.Name+"/callback", idp.Options{Now: now}))
	}
	return out
}

// accountMailer composes the account flows' messages and puts them in the outbox.
type accountMailer struct {
	composer *mail.Composer
	outbox   *outbox.Outbox
}

func (a accountMailer) SendAccountMail(ctx context.Context, m auth.AccountMail) error {
	msg, err := a.composer.Compose(mail.Kind(m.Kind), m.To, mail.Data{
		Name: m.Name, Token: m.Token, Valid: m.Valid, OldEmail: m.OldEmail, NewEmail: m.NewEmail,
		Device: m.Device, IP: m.IP, At: m.At, Provider: m.Provider,
	})
	if err != nil {
		return err
	}
	return a.outbox.Enqueue(ctx, msg, m.Expires)
}
