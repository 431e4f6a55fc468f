package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/auth/revocation"
	"github.com/authdash/authdash/auth/strength"
	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/server"
	"github.com/authdash/authdash/store/sqlite"
	"github.com/authdash/authdash/wire"
)

var testSecret = []byte("k3Vq9-test-signing-key-Zt7pW2xL8mN4bR6yH0")

// recorder is the Publisher of both TaskService and auth.Service: it keeps
// every event so scenarios can assert what a request published.
type recorder struct {
	mu     sync.Mutex
	events []authdash.Event
}

func (r *recorder) Publish(_ context.Context, ev authdash.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

// take returns and forgets the events published so far.
func (r *recorder) take() []authdash.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.events
	r.events = nil
	return evs
}

// env is one API over a fresh SQLite file, with the real auth service.
type env struct {
	h      http.Handler
	clock  *testkit.Clock
	store  *sqlite.DB
	auth   *auth.Service
	tasks  *authdash.TaskService
	events *recorder
	logs   *testkit.Logs
	users  map[string]*user
	mail   *mailbox
}

// mailbox is the auth service's Mailer: it keeps every message, so a test reads the
// links a person would get (the real composer, outbox and SMTP are tested in package
// mail and instance).
type mailbox struct {
	mu   sync.Mutex
	msgs []auth.AccountMail
}

func (m *mailbox) SendAccountMail(_ context.Context, am auth.AccountMail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, am)
	return nil
}

// take returns and forgets the messages so far.
func (m *mailbox) take() []auth.AccountMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	msgs := m.msgs
	m.msgs = nil
	return msgs
}

// user is a signed-up account and one of its sessions.
type user struct {
	ID       authdash.UserID
	Email    string
	Password string
	Token    string // access token
	Refresh  string // refresh token of the session
}

// envOption adjusts the auth configuration or the server's dependencies.
type envOption struct {
	auth func(*auth.Config)
	deps func(*server.Deps)
}

func withDeps(f func(*server.Deps)) envOption { return envOption{deps: f} }
func withAuth(f func(*auth.Config)) envOption { return envOption{auth: f} }

func mustEnv(tb testing.TB, opts ...envOption) *env {
	tb.Helper()
	// One clock for the store, the tokens and the service: times are kept
	// to the millisecond, so what must come after something else steps it
	// rather than sleeping. It runs with the real clock, which the handlers
	// read for cookie and token lifetimes.
	clk := testkit.NewRunningClock()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "test.db"), sqlite.WithClock(clk.Now))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	e := &env{clock: clk, store: db, events: &recorder{}, logs: &testkit.Logs{}, users: map[string]*user{}, mail: &mailbox{}}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// As main wires it: ended sessions lose their access tokens at once.
	tokens, err := auth.NewVerifier(auth.VerifierConfig{Secret: testSecret, Revocations: revocation.New(nil), Now: clk.Now})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := auth.Config{Now: clk.Now, Mail: e.mail, Strength: strength.Judge{}}
	for _, o := range opts {
		if o.auth != nil {
			o.auth(&cfg)
		}
	}
	e.auth, err = auth.New(db, tokens, e.events, cfg, log)
	if err != nil {
		tb.Fatal(err)
	}
	e.tasks = &authdash.TaskService{Store: db, Events: e.events, Log: log}
	d := server.Deps{Tasks: e.tasks, Auth: e.auth, Tokens: tokens, Log: log, Ready: []server.Check{{Name: "store", Check: db.Ping}}}
	for _, o := range opts {
		if o.deps != nil {
			o.deps(&d)
		}
	}
	e.h = server.NewHandler(d)
	return e
}

// mustUser signs up name (as name@example.com) through the API, in token
// mode, and remembers it for scenarios' "as".
func (e *env) mustUser(tb testing.TB, name string) *user {
	tb.Helper()
	u := &user{Email: name + "@example.com", Password: "pw-" + name + "-long-enough"}
	body := `{"email":"` + u.Email + `","password":"` + u.Password + `","name":"` + name + `"}`
	res := e.do(http.MethodPost, "/api/auth/register", body, map[string]string{wire.HeaderAuthMode: wire.AuthModeToken}, "")
	if res.Code != http.StatusCreated {
		tb.Fatalf("register %s: %d %s", name, res.Code, res.Body)
	}
	var g wire.Grant
	mustDecode(tb, res.Body.Bytes(), &g)
	u.ID, u.Token, u.Refresh = g.User.ID, g.AccessToken, g.RefreshToken
	e.users[name] = u
	e.events.take()
	e.mail.take()
	return u
}

// mustTask creates a task for the named user straight through the service.
func (e *env) mustTask(tb testing.TB, as, title string) *authdash.Task {
	tb.Helper()
	t, err := e.tasks.Create(context.Background(), e.users[as].ID, authdash.TaskDraft{Title: title})
	if err != nil {
		tb.Fatal(err)
	}
	e.events.take()
	return t
}

// do sends one request through the handler. as names a user whose access
// token goes in Authorization ("" for none). A JSON Content-Type is set
// for a non-empty body unless headers say otherwise.
func (e *env) do(method, path, body string, headers map[string]string, as string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = "192.0.2.1:1234"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if as != "" {
		req.Header.Set("Authorization", "Bearer "+e.users[as].Token)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	res := httptest.NewRecorder()
	e.h.ServeHTTP(res, req)
	return res
}

// scenario is one request and what must come of it (PocketBase's
// ApiScenario, cut to what this API needs).
type scenario struct {
	name    string
	method  string
	path    string // "{task}" / "{bobTask}": a fresh task of alice / bob
	body    string
	headers map[string]string // "" deletes a header
	as      string            // user name, or "" for anonymous
	// setup runs before the request and may change the scenario.
	setup func(t *testing.T, e *env, s *scenario)

	wantStatus      int
	wantBody        []string // substrings
	wantProblemCode authdash.ErrorCode
	wantEvents      []authdash.EventKind // nil: none may be published
	check           func(t *testing.T, e *env, res *httptest.ResponseRecorder, evs []authdash.Event)
}

func (e *env) runScenarios(t *testing.T, scenarios []scenario) {
	t.Helper()
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			if strings.Contains(s.path, "{task}") {
				s.path = strings.ReplaceAll(s.path, "{task}", string(e.mustTask(t, "alice", "alice's task").ID))
			}
			if strings.Contains(s.path, "{bobTask}") {
				s.path = strings.ReplaceAll(s.path, "{bobTask}", string(e.mustTask(t, "bob", "bob's task").ID))
			}
			if s.setup != nil {
				s.setup(t, e, &s)
			}
			e.events.take()
			res := e.do(s.method, s.path, s.body, s.headers, s.as)
			evs := e.events.take()
			if res.Code != s.wantStatus {
				t.Fatalf("status %d, want %d; body: %s", res.Code, s.wantStatus, res.Body)
			}
			for _, want := range s.wantBody {
				if !strings.Contains(res.Body.String(), want) {
					t.Errorf("body lacks %q: %s", want, res.Body)
				}
			}
			if s.wantProblemCode != "" {
				wantProblem(t, res, s.wantProblemCode)
			} else if res.Code >= 400 {
				t.Errorf("error status %d but no wantProblemCode", res.Code)
			}
			if got := kinds(evs); !slices.Equal(got, s.wantEvents) {
				t.Errorf("events %v, want %v", got, s.wantEvents)
			}
			if s.check != nil {
				s.check(t, e, res, evs)
			}
		})
	}
}

func kinds(evs []authdash.Event) []authdash.EventKind {
	var out []authdash.EventKind
	for _, ev := range evs {
		out = append(out, ev.Kind)
	}
	return out
}

// wantProblem checks res is an RFC 9457 document of the given code whose
// status matches the response's.
func wantProblem(tb testing.TB, res *httptest.ResponseRecorder, code authdash.ErrorCode) wire.Problem {
	tb.Helper()
	if ct := res.Header().Get("Content-Type"); ct != "application/problem+json" {
		tb.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p wire.Problem
	mustDecode(tb, res.Body.Bytes(), &p)
	if p.Code != string(code) || p.Status != res.Code || p.Title == "" || p.Detail == "" || p.Type == "" ||
		p.Instance == "" || p.RequestID == "" || p.RequestID != res.Header().Get("X-Request-ID") {
		tb.Errorf("problem %+v (status %d), want code %q", p, res.Code, code)
	}
	return p
}

func mustDecode(tb testing.TB, b []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("decode %s: %v", b, err)
	}
}

// wantField checks a problem names field in its "errors".
func wantField(field string) func(*testing.T, *env, *httptest.ResponseRecorder, []authdash.Event) {
	return func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
		t.Helper()
		var p wire.Problem
		mustDecode(t, res.Body.Bytes(), &p)
		if p.Errors[field] == "" {
			t.Errorf("problem errors %v lack %q", p.Errors, field)
		}
	}
}
