// Package apitest runs the real API in-process for the tests of its
// clients: the chi router, the auth service, a realtime hub on an
// in-process broker and SQLite in a temporary directory, wired as
// cmd/authdash wires them, behind an httptest listener. A field renamed on
// either side of the wire then fails the client's tests.
package apitest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/auth/revocation"
	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/server"
	"github.com/authdash/authdash/store/sqlite"
)

// Options adjust the server; the zero value is the plain API.
type Options struct {
	// Secret signs access tokens; nil uses a fixed test key.
	Secret []byte
	// Deps, if set, may change the dependencies before the handler is built
	// (limiters, readiness checks).
	Deps func(d *server.Deps, db *sqlite.DB)
	// Wrap, if set, wraps the finished handler (e.g. to add the API docs).
	Wrap func(http.Handler) http.Handler
}

// Server is a running API.
type Server struct {
	URL   string
	Store *sqlite.DB
	Auth  *auth.Service
	Hub   *realtime.Hub
}

// Start runs the API until the test ends.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "authdash.db"))
	if err != nil {
		tb.Fatal(err)
	}
	secret := o.Secret
	if secret == nil {
		secret = []byte("Zr8p-apitest-signing-key-Wq4mN7xK2vB9")
	}
	log := slog.New(slog.DiscardHandler)
	broker := realtime.NewLocalBroker()
	authSvc, err := auth.New(db, broker, auth.Config{
		Secret: secret,
		// A loaded test machine must not turn a slow hash into a 503.
		HashWait:    time.Minute,
		Revocations: revocation.New(nil),
	}, log)
	if err != nil {
		tb.Fatal(err)
	}
	hub, err := realtime.NewHub(realtime.Config{
		Broker: broker, Tokens: authSvc, Changes: db, Log: log, StoreTimeout: time.Minute,
	})
	if err != nil {
		tb.Fatal(err)
	}
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(ctx) }()
	d := server.Deps{
		Tasks:    &authdash.TaskService{Store: db, Events: hub, Log: log},
		Auth:     authSvc,
		Log:      log,
		Realtime: hub.Handler(),
	}
	if o.Deps != nil {
		o.Deps(&d, db)
	}
	h := server.NewHandler(d)
	if o.Wrap != nil {
		h = o.Wrap(h)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		hub.Shutdown(sctx)
		srv.Close()
		cancel()
		<-hubDone
		db.Close()
	})
	return &Server{URL: srv.URL, Store: db, Auth: authSvc, Hub: hub}
}
