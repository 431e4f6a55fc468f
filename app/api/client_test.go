//go:build !js

// The server side (SQLite, chi) does not build for js/wasm; the client is
// tested natively against it.

package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/e2e/apitest"
	"github.com/authdash/authdash/internal/testkit"
)

// mustServer runs the real API in httptest, so the client is tested
// against what it talks to in production.
func mustServer(t *testing.T) string {
	t.Helper()
	return apitest.Start(t, apitest.Options{}).URL
}

// newClient is one browser: its own cookie jar and tab ID.
func newClient(t *testing.T, base, tab string, now func() time.Time) *api.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return api.New(api.Config{BaseURL: base, ClientID: tab, HTTP: &http.Client{Jar: jar, Timeout: 10 * time.Second}, Now: now})
}

func mustRegister(t *testing.T, c *api.Client, email string) *authdash.User {
	t.Helper()
	u, err := c.Register(t.Context(), authdash.Registration{Email: email, Password: "long enough pw", Name: "Grace"})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return u
}

func wantCode(t *testing.T, err error, code authdash.ErrorCode) {
	t.Helper()
	if got := authdash.ErrorCodeOf(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func TestSessionLifecycle(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	clk := testkit.NewClock(time.Now())
	c := newClient(t, base, "tabA", clk.Now)
	u := mustRegister(t, c, "grace@example.com")

	// A second registration with the same email is a conflict.
	_, err := newClient(t, base, "tabX", nil).Register(ctx, authdash.Registration{Email: "GRACE@example.com", Password: "long enough pw", Name: "G"})
	wantCode(t, err, authdash.CodeConflict)

	// A bad sign-in names no field but says why, as the server words it.
	_, err = newClient(t, base, "tabY", nil).Login(ctx, authdash.Credentials{Email: "grace@example.com", Password: "wrong password"})
	wantCode(t, err, authdash.CodeUnauthorized)

	me, err := c.Me(ctx)
	if err != nil || me.ID != u.ID {
		t.Fatalf("me = %+v, %v", me, err)
	}

	// Time passes beyond the access token's life: the next call refreshes
	// it silently through the cookie.
	clk.Advance(time.Hour)
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("after expiry: %v", err)
	}

	// A reloaded page has no token, only the cookie.
	c.Forget()
	if ru, err := c.Refresh(ctx); err != nil || ru.ID != u.ID {
		t.Fatalf("refresh = %+v, %v", ru, err)
	}

	// Field errors come back per field.
	name := ""
	_, err = c.UpdateMe(ctx, authdash.UserPatch{Name: &name})
	wantCode(t, err, authdash.CodeInvalid)
	if authdash.ErrorFieldsOf(err)["name"] == "" {
		t.Errorf("no field error for name: %v", err)
	}
	err = c.ChangePassword(ctx, authdash.PasswordChange{CurrentPassword: "not it at all", NewPassword: "another long pw"})
	wantCode(t, err, authdash.CodeForbidden)

	other := newClient(t, base, "tabB", nil)
	if _, err := other.Login(ctx, authdash.Credentials{Email: "grace@example.com", Password: "long enough pw"}); err != nil {
		t.Fatal(err)
	}
	sessions, err := c.Sessions(ctx)
	if err != nil || len(sessions) != 2 {
		t.Fatalf("sessions = %+v, %v", sessions, err)
	}
	for _, s := range sessions {
		if !s.Current {
			if err := c.RevokeSession(ctx, s.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	other.Forget()
	_, err = other.Refresh(ctx)
	wantCode(t, err, authdash.CodeUnauthorized)

	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.Refresh(ctx)
	wantCode(t, err, authdash.CodeUnauthorized)
	_, err = c.Me(ctx)
	wantCode(t, err, authdash.CodeUnauthorized)
}

func TestTasks(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	c := newClient(t, base, "tab", nil)
	mustRegister(t, c, "tasks@example.com")

	_, err := c.CreateTask(ctx, authdash.TaskDraft{Title: " "})
	wantCode(t, err, authdash.CodeInvalid)
	if authdash.ErrorFieldsOf(err)["title"] == "" {
		t.Errorf("no field error for title: %v", err)
	}

	due := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
	a, err := c.CreateTask(ctx, authdash.TaskDraft{Title: "Alpha (a+b)*", Tags: []string{"Work"}, DueDate: &due})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTask(ctx, authdash.TaskDraft{Title: "Beta", Status: authdash.StatusDone}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		q    authdash.TaskQuery
		want []string
	}{
		{"All", authdash.TaskQuery{Sort: authdash.SortTitle, Order: authdash.Asc}, []string{"Alpha (a+b)*", "Beta"}},
		{"SearchIsLiteral", authdash.TaskQuery{Search: "(A+B)*"}, []string{"Alpha (a+b)*"}},
		{"Status", authdash.TaskQuery{Status: authdash.StatusDone}, []string{"Beta"}},
		{"Tag", authdash.TaskQuery{Tag: "work"}, []string{"Alpha (a+b)*"}},
		{"DueBefore", authdash.TaskQuery{DueBefore: ptr(due.Add(time.Hour))}, []string{"Alpha (a+b)*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := c.ListTasks(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range p.Items {
				got = append(got, x.Title)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("titles = %q, want %q", got, tt.want)
			}
		})
	}

	// Paging with the cursor.
	p1, err := c.ListTasks(ctx, authdash.TaskQuery{Limit: 1})
	if err != nil || len(p1.Items) != 1 || p1.NextCursor == "" {
		t.Fatalf("page 1 = %+v, %v", p1, err)
	}
	p2, err := c.ListTasks(ctx, authdash.TaskQuery{Limit: 1, Cursor: p1.NextCursor})
	if err != nil || len(p2.Items) != 1 || p2.Items[0].ID == p1.Items[0].ID {
		t.Fatalf("page 2 = %+v, %v", p2, err)
	}

	// If-Match: a stale version is refused, the current one wins.
	title := "Alpha 2"
	up, err := c.UpdateTask(ctx, a.ID, authdash.TaskPatch{Title: &title}, a.Version)
	if err != nil || up.Version != a.Version+1 {
		t.Fatalf("update = %+v, %v", up, err)
	}
	_, err = c.UpdateTask(ctx, a.ID, authdash.TaskPatch{Title: &title}, a.Version)
	wantCode(t, err, authdash.CodePreconditionFailed)
	err = c.DeleteTask(ctx, a.ID, a.Version)
	wantCode(t, err, authdash.CodePreconditionFailed)
	if err := c.DeleteTask(ctx, a.ID, up.Version); err != nil {
		t.Fatal(err)
	}
	_, err = c.Task(ctx, a.ID)
	wantCode(t, err, authdash.CodeNotFound)

	st, err := c.Stats(ctx)
	if err != nil || st != (authdash.TaskStats{Done: 1, Total: 1}) {
		t.Errorf("stats = %+v, %v", st, err)
	}
	if err := c.DeleteAccount(ctx, "wrong password!"); err == nil {
		t.Error("account deleted with a wrong password")
	}
	if err := c.DeleteAccount(ctx, "long enough pw"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Refresh(ctx)
	wantCode(t, err, authdash.CodeUnauthorized)
}

func ptr[T any](v T) *T { return &v }

// recorder is a StreamHandler that hands what it gets to the test.
type recorder struct {
	events  chan authdash.Event
	reloads chan struct{}
	status  chan api.LiveStatus
}

func newRecorder() *recorder {
	return &recorder{events: make(chan authdash.Event, 64), reloads: make(chan struct{}, 8), status: make(chan api.LiveStatus, 64)}
}

func (r *recorder) Reload(context.Context) error     { r.reloads <- struct{}{}; return nil }
func (r *recorder) Event(ev authdash.Event)          { r.events <- ev }
func (r *recorder) Status(s api.LiveStatus, _ error) { r.status <- s }

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
		panic("unreachable")
	}
}

// A change made by another device arrives on the socket; the tab's own
// change arrives too, marked with its client ID so it can tell its echo.
func TestStream(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	a := newClient(t, base, "tabA", nil)
	mustRegister(t, a, "live@example.com")
	b := newClient(t, base, "tabB", nil)
	if _, err := b.Login(ctx, authdash.Credentials{Email: "live@example.com", Password: "long enough pw"}); err != nil {
		t.Fatal(err)
	}

	rec := newRecorder()
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	stream := a.NewStream(strings.Replace(base, "http", "ws", 1)+"/api/ws", rec)
	go func() { done <- stream.Run(sctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	for s := recv(t, rec.status, "status"); s != api.LiveOn; s = recv(t, rec.status, "status") {
	}
	recv(t, rec.reloads, "first load")

	created, err := b.CreateTask(ctx, authdash.TaskDraft{Title: "from B"})
	if err != nil {
		t.Fatal(err)
	}
	ev := recv(t, rec.events, "event")
	if ev.Kind != authdash.EventTaskCreated || ev.TaskID != created.ID || ev.Task == nil || ev.Task.Title != "from B" || ev.Origin != "tabB" {
		t.Errorf("event = %+v", ev)
	}
	title := "by A"
	if _, err := a.UpdateTask(ctx, created.ID, authdash.TaskPatch{Title: &title}, created.Version); err != nil {
		t.Fatal(err)
	}
	ev2 := recv(t, rec.events, "own echo")
	if ev2.Origin != "tabA" || ev2.Seq <= ev.Seq || ev2.Version != created.Version+1 {
		t.Errorf("echo = %+v after %+v", ev2, ev)
	}
	if err := b.DeleteTask(ctx, created.ID, 0); err != nil {
		t.Fatal(err)
	}
	ev3 := recv(t, rec.events, "delete")
	if ev3.Kind != authdash.EventTaskDeleted || ev3.TaskID != created.ID || ev3.Seq <= ev2.Seq {
		t.Errorf("delete event = %+v after %+v", ev3, ev2)
	}
	// No log read has confirmed the live changes (the first heartbeat is
	// 25 s away): the stream would resume from the load's point.
	if got, loaded := stream.Synced(), ev.Seq-1; got != loaded {
		t.Errorf("Synced = %d, want the load's %d", got, loaded)
	}
}

// syncedRecorder is a recorder that is also told the stream's points to
// resume from (api.SyncedHandler).
type syncedRecorder struct {
	*recorder
	synced chan int64
}

func (r syncedRecorder) Synced(seq int64) { r.synced <- seq }

// A reconnecting stream resumes from the last point the server confirmed,
// not from the highest change it delivered: the changes delivered live
// since come again (a change numbered below them may be missing, docs/
// REALTIME.md), and the answer's synced frame moves the point on, which a
// handler that wants it is told.
func TestStreamResumesFromSynced(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	a := newClient(t, base, "tabA", nil)
	mustRegister(t, a, "synced@example.com")
	if _, err := a.CreateTask(ctx, authdash.TaskDraft{Title: "before"}); err != nil {
		t.Fatal(err)
	}
	rec := syncedRecorder{newRecorder(), make(chan int64, 8)}
	st := a.NewStream(strings.Replace(base, "http", "ws", 1)+"/api/ws", rec)
	stop := runThis(t, st, rec.recorder)
	loaded := recv(t, rec.synced, "the load's point")
	var live []authdash.Event
	for _, title := range []string{"live one", "live two"} {
		if _, err := a.CreateTask(ctx, authdash.TaskDraft{Title: title}); err != nil {
			t.Fatal(err)
		}
		live = append(live, recv(t, rec.events, "live change"))
	}
	stop()
	// (Within the first heartbeat, 25 s, nothing else confirms them.)
	if got := st.Synced(); got != loaded || loaded == 0 || loaded >= live[0].Seq {
		t.Fatalf("Synced = %d (told %d), want the load's point, below the live changes %d", got, loaded, live[0].Seq)
	}

	stop = runThis(t, st, rec.recorder)
	defer stop()
	for _, want := range live {
		if ev := recv(t, rec.events, "the change again"); ev.TaskID != want.TaskID || ev.Seq != want.Seq {
			t.Errorf("resumed with %+v, want %s at %d again", ev, want.TaskID, want.Seq)
		}
	}
	if got := recv(t, rec.synced, "the resume's point"); got != live[1].Seq {
		t.Errorf("synced %d after the resume, want %d", got, live[1].Seq)
	}
	if len(rec.reloads) != 0 {
		t.Errorf("the resume reloaded (%d) instead of reading the change log", len(rec.reloads))
	}
}

// Signing out everywhere ends the stream for good: reconnecting is
// pointless.
func TestStreamEndsWhenSessionRevoked(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	a := newClient(t, base, "tabA", nil)
	mustRegister(t, a, "revoke@example.com")
	rec := newRecorder()
	done := make(chan error, 1)
	go func() { done <- a.NewStream(strings.Replace(base, "http", "ws", 1)+"/api/ws", rec).Run(ctx) }()
	for s := recv(t, rec.status, "status"); s != api.LiveOn; s = recv(t, rec.status, "status") {
	}
	b := newClient(t, base, "tabB", nil)
	if _, err := b.Login(ctx, authdash.Credentials{Email: "revoke@example.com", Password: "long enough pw"}); err != nil {
		t.Fatal(err)
	}
	if err := b.LogoutAll(ctx); err != nil {
		t.Fatal(err)
	}
	err := recv(t, done, "end of stream")
	var e *authdash.Error
	if !errors.As(err, &e) || e.Code != authdash.CodeUnauthorized {
		t.Errorf("Run = %v, want unauthorized", err)
	}
}

// countingTransport counts requests by path.
type countingTransport struct {
	mu    sync.Mutex
	paths map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.paths[r.Method+" "+r.URL.Path]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *countingTransport) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.paths
	c.paths = map[string]int{}
	return p
}

// TestWrongPasswordConfirmation: a wrong password on a signed-in change is
// the form's field error, sent once, and neither refreshes the token nor
// ends the session.
func TestWrongPasswordConfirmation(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &countingTransport{paths: map[string]int{}}
	c := api.New(api.Config{BaseURL: base, ClientID: "tabP", HTTP: &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second}})
	mustRegister(t, c, "pat@example.com")
	tr.take()

	tests := []struct {
		name      string
		call      func() error
		wantPath  string
		wantField string
	}{
		{"ChangePassword", func() error {
			return c.ChangePassword(ctx, authdash.PasswordChange{CurrentPassword: "not my password", NewPassword: "a brand new passphrase"})
		}, "POST /api/me/password", "currentPassword"},
		{"DeleteAccount", func() error { return c.DeleteAccount(ctx, "not my password") }, "DELETE /api/me", "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			wantCode(t, err, authdash.CodeForbidden)
			if _, ok := authdash.ErrorFieldsOf(err)[tt.wantField]; !ok {
				t.Errorf("no message for %s in %v", tt.wantField, err)
			}
			if got := tr.take(); len(got) != 1 || got[tt.wantPath] != 1 {
				t.Errorf("requests %v, want one %s", got, tt.wantPath)
			}
		})
	}
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("signed out after a wrong password: %v", err)
	}
}

// TestTokenRefreshedAtFourFifths: with 30-second access tokens a tab that
// calls the API every second for two minutes refreshes about every 24
// seconds, not before every call (which a fixed 30-second margin did: 173
// refreshes in two minutes from two tabs).
func TestTokenRefreshedAtFourFifths(t *testing.T) {
	srv := apitest.Start(t, apitest.Options{AccessTTL: 30 * time.Second})
	clk := testkit.NewClock(time.Now())
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	ct := &countingTransport{paths: map[string]int{}}
	c := api.New(api.Config{BaseURL: srv.URL, ClientID: "tab", HTTP: &http.Client{Jar: jar, Transport: ct, Timeout: 10 * time.Second}, Now: clk.Now})
	mustRegister(t, c, "ttl@example.com")
	if exp := c.TokenExpiry().Sub(clk.Now()); exp != 30*time.Second {
		t.Fatalf("token lives %v, want 30s", exp)
	}
	ct.take()
	for range 120 {
		clk.Advance(time.Second)
		if _, err := c.Stats(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	got := ct.take()
	if n := got["POST /api/auth/refresh"]; n < 4 || n > 6 {
		t.Errorf("%d refreshes in two minutes of 30 s tokens, want 5 (every 24 s)", n)
	}
	if n := got["GET /api/tasks/stats"]; n != 120 {
		t.Errorf("%d calls, want 120 (none refused)", n)
	}
}

// TestTabsRestoredAtOnce: the tabs of one browser (one cookie jar) reload
// together and each restores the session from the shared cookie: the one
// whose refresh wins rotates it, the others lose the race, retry with the
// winner's cookie and get in too. Before the fix the losers were signed
// out, and their answers cleared the cookie for every tab.
func TestTabsRestoredAtOnce(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	tab := func(id string) *api.Client { return api.New(api.Config{BaseURL: base, ClientID: id, HTTP: browser}) }
	u := mustRegister(t, tab("signup"), "tabs@example.com")

	const n = 5
	tabs := make([]*api.Client, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		tabs[i] = tab(string(rune('a' + i)))
		wg.Go(func() {
			var ru *authdash.User
			ru, errs[i] = tabs[i].Refresh(ctx)
			if errs[i] == nil && ru.ID != u.ID {
				errs[i] = errors.New("restored another user: " + string(ru.ID))
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("tab %d: %v", i, err)
		}
	}
	for i, c := range tabs {
		if _, err := c.Me(ctx); err != nil {
			t.Errorf("tab %d after the restore: %v", i, err)
		}
	}
	// The cookie the browser ends with still works.
	tabs[0].Forget()
	if _, err := tabs[0].Refresh(ctx); err != nil {
		t.Errorf("a later reload: %v", err)
	}
}

// A stream started with ResumeFrom catches up from the change log (what a
// tab taking the socket over from another does): the changes made while
// no socket was open arrive as events, with no reload.
func TestStreamResumeFrom(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	a := newClient(t, base, "tabA", nil)
	mustRegister(t, a, "resume@example.com")
	wsURL := strings.Replace(base, "http", "ws", 1) + "/api/ws"
	seen, err := a.CreateTask(ctx, authdash.TaskDraft{Title: "seen by the old leader"})
	if err != nil {
		t.Fatal(err)
	}
	var since int64
	{
		rec := newRecorder()
		sctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		st := a.NewStream(wsURL, rec)
		go func() { done <- st.Run(sctx) }()
		recv(t, rec.reloads, "first load")
		title := "edited"
		if _, err := a.UpdateTask(ctx, seen.ID, authdash.TaskPatch{Title: &title}, seen.Version); err != nil {
			t.Fatal(err)
		}
		since = recv(t, rec.events, "edit").Seq
		stop()
		<-done
	}
	var missed []authdash.TaskID
	for _, title := range []string{"made while", "no socket was open"} {
		tk, err := a.CreateTask(ctx, authdash.TaskDraft{Title: title})
		if err != nil {
			t.Fatal(err)
		}
		missed = append(missed, tk.ID)
	}
	rec := newRecorder()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	st := a.NewStream(wsURL, rec)
	st.ResumeFrom(since)
	go st.Run(sctx)
	for i, id := range missed {
		ev := recv(t, rec.events, "missed change")
		if ev.TaskID != id || ev.Seq <= since {
			t.Errorf("event %d = %+v, want task %s after seq %d", i, ev, id, since)
		}
	}
	select {
	case <-rec.reloads:
		t.Error("the resumed stream reloaded")
	default:
	}
}
