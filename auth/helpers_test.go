package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/store/sqlite"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

// recorder is a Publisher that keeps what it was given. check, if set, runs
// inside Publish so a test can look at the store at that moment (proving
// the write had committed); err, if set, is returned.
type recorder struct {
	mu     sync.Mutex
	events []authdash.Event
	check  func(authdash.Event)
	err    error
}

func (r *recorder) Publish(_ context.Context, ev authdash.Event) error {
	if r.check != nil {
		r.check(ev)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return r.err
}

// take returns and forgets the events published so far.
func (r *recorder) take() []authdash.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.events
	r.events = nil
	return evs
}

type env struct {
	svc    *auth.Service
	tokens *auth.Verifier
	// clock is the store's, the verifier's and the service's (unless the
	// test set auth.Config.Now); it moves only when the test moves it.
	clock  *testkit.Clock
	store  *sqlite.DB
	events *recorder
	logs   *testkit.Logs
}

func mustStore(tb testing.TB, opts ...sqlite.Option) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "t.db"), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// mustEnv returns a service on a fresh SQLite store, hashing cheaply, whose
// verifier checks list (nil: no revocations).
func mustEnv(tb testing.TB, cfg auth.Config, list auth.Revocations) *env {
	tb.Helper()
	clk := testkit.NewClock(time.Now())
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	db := mustStore(tb, sqlite.WithClock(clk.Now))
	tokens, err := auth.NewVerifier(auth.VerifierConfig{Secret: testSecret, Revocations: list, Now: cfg.Now})
	if err != nil {
		tb.Fatal(err)
	}
	rec := &recorder{}
	logs := &testkit.Logs{}
	svc, err := auth.New(db, tokens, rec, cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	auth.UseCheapHashing(svc)
	return &env{svc: svc, tokens: tokens, clock: clk, store: db, events: rec, logs: logs}
}

const testPassword = "correct horse battery"

func (e *env) mustRegister(tb testing.TB, email string) *auth.Grant {
	tb.Helper()
	g, err := e.svc.Register(context.Background(), authdash.Registration{Email: email, Password: testPassword, Name: "Ann"}, "test")
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func (e *env) mustLogin(tb testing.TB, email string) *auth.Grant {
	tb.Helper()
	g, err := e.svc.Login(context.Background(), authdash.Credentials{Email: email, Password: testPassword}, "test")
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// wantCode fails unless err is a domain error of code.
func wantCode(tb testing.TB, err error, code authdash.ErrorCode) {
	tb.Helper()
	if code == "" {
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var de *authdash.Error
	if !errors.As(err, &de) || de.Code != code {
		tb.Fatalf("error = %v, want code %s", err, code)
	}
}

// kinds lists the kinds of evs, for compact comparisons.
func kinds(evs []authdash.Event) []authdash.EventKind {
	out := make([]authdash.EventKind, len(evs))
	for i, ev := range evs {
		out[i] = ev.Kind
	}
	return out
}

func wantEvents(tb testing.TB, got []authdash.Event, want ...authdash.EventKind) {
	tb.Helper()
	if !slices.Equal(kinds(got), want) {
		tb.Fatalf("events %v, want %v", kinds(got), want)
	}
}
