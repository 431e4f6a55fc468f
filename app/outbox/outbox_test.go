//go:build !js

package outbox_test

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/idb"
	"github.com/authdash/authdash/app/merge"
	"github.com/authdash/authdash/app/outbox"
	"github.com/authdash/authdash/e2e/apitest"
)

// network sits between the outbox's client and the real server, as the
// phone's network does: up, down (no connection gets an answer), or
// losing answers (the request reaches the server, its answer never comes
// back).
type network struct {
	proxy *httputil.ReverseProxy
	mode  atomic.Int32
	// cut, when set, lets that many more requests through, then the
	// network goes down (a cut in the middle of a replay).
	cut      atomic.Bool
	cutAfter atomic.Int32
	// writes counts the changes sent (every request but a GET).
	writes atomic.Int32
}

const (
	up = iota
	down
	loseAnswers
)

func (n *network) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		n.writes.Add(1)
	}
	if n.cut.Load() && n.cutAfter.Add(-1) < 0 {
		n.mode.Store(down)
	}
	m := n.mode.Load()
	if m == loseAnswers {
		rec := httptest.NewRecorder()
		n.proxy.ServeHTTP(rec, r)
	}
	if m != up {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	n.proxy.ServeHTTP(w, r)
}

type fixture struct {
	net    *network
	client *api.Client // through the network
	direct *api.Client // another device, always online
	db     *idb.DB
}

func start(t *testing.T) *fixture { return startB(t) }

// startB starts the server, the network in front of it and two clients of
// one account.
func startB(t testing.TB) *fixture {
	t.Helper()
	srv := apitest.Start(t, apitest.Options{})
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	n := &network{proxy: httputil.NewSingleHostReverseProxy(target)}
	front := httptest.NewServer(n)
	t.Cleanup(front.Close)
	newClient := func(base string) *api.Client {
		jar, _ := cookiejar.New(nil)
		// The tests cut connections, so each request has its own; a
		// benchmark keeps them, as a browser does.
		_, bench := t.(*testing.B)
		return api.New(api.Config{BaseURL: base, ClientID: "tab", HTTP: &http.Client{Jar: jar, Timeout: 10 * time.Second,
			Transport: &http.Transport{DisableKeepAlives: !bench, DialContext: (&net.Dialer{}).DialContext}}})
	}
	f := &fixture{net: n, client: newClient(front.URL), direct: newClient(srv.URL), db: idb.NewMemory("outbox")}
	ctx := context.Background()
	if _, err := f.direct.Register(ctx, authdash.Registration{Email: "off@example.com", Password: "long enough pw", Name: "Off"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Login(ctx, authdash.Credentials{Email: "off@example.com", Password: "long enough pw"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) open(t *testing.T) *outbox.Queue { return f.openWith(t, f.client, nil) }

// openWith opens the fixture's outbox as a tab does, sending through c and
// taking turns with the device's other tabs by lock (none if nil).
func (f *fixture) openWith(t testing.TB, c outbox.Client, lock outbox.Lock) *outbox.Queue {
	t.Helper()
	q, err := outbox.Open(t.Context(), f.db, "outbox", c, lock)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func (f *fixture) create(t *testing.T, title, desc string) authdash.Task {
	t.Helper()
	task, err := f.direct.CreateTask(t.Context(), authdash.TaskDraft{Title: title, Description: desc})
	if err != nil {
		t.Fatal(err)
	}
	return *task
}

// keepFirst has q keep a first change of a task, to be sent: the create
// of one made offline, or an edit (its title "first") of one the server
// has. It returns the list as the page had it: the server's task, or none.
func (f *fixture) keepFirst(t *testing.T, q *outbox.Queue, offline bool) []authdash.Task {
	t.Helper()
	if offline {
		if _, err := q.Create(t.Context(), api.NewIdempotencyKey(), authdash.TaskDraft{Title: "made offline", Description: "d"}); err != nil {
			t.Fatal(err)
		}
		return nil
	}
	task := f.create(t, "server's", "d")
	if err := q.Update(t.Context(), task, authdash.TaskPatch{Title: ptr("first")}); err != nil {
		t.Fatal(err)
	}
	return []authdash.Task{task}
}

// wantServer checks that server (the server's tasks by title) holds want
// alone, as to title, description and status; or nothing when want is nil.
func wantServer(t *testing.T, server map[string]authdash.Task, want *authdash.Task) {
	t.Helper()
	switch {
	case want == nil && len(server) != 0:
		t.Errorf("server holds %v, want the task gone", server)
	case want != nil:
		got, ok := server[want.Title]
		if !ok || len(server) != 1 || got.Description != want.Description || got.Status != want.Status {
			t.Errorf("server holds %+v, want one task %+v", server, *want)
		}
	}
}

func (f *fixture) serverTasks(t *testing.T) map[string]authdash.Task {
	t.Helper()
	page, err := f.direct.ListTasks(t.Context(), authdash.TaskQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]authdash.Task{}
	for _, task := range page.Items {
		if _, dup := out[task.Title]; dup {
			t.Errorf("two tasks titled %q on the server", task.Title)
		}
		out[task.Title] = task
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// TestReplay makes ten changes offline (creates, edits, completes and
// deletes, of tasks made offline and of the server's, two of them
// conflicting with changes another device makes meanwhile), reopens the
// outbox from storage as a reload does, and replays: the server ends with
// every change, merged, nothing duplicated, the two conflicts reported.
func TestReplay(t *testing.T) {
	f := start(t)
	ctx := t.Context()
	keep := f.create(t, "keep", "as is")
	rename := f.create(t, "rename me", "old text")
	merged := f.create(t, "merged", "theirs will change this")
	clash := f.create(t, "clash", "both edit the title")
	gone := f.create(t, "delete me", "")
	clashDel := f.create(t, "delete clash", "")

	f.net.mode.Store(down)
	q := f.open(t)
	changes := []func() error{
		func() error {
			_, err := q.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: "new one"})
			return err
		},
		func() error {
			tk, err := q.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: "new two"})
			if err == nil {
				err = q.Update(ctx, tk, authdash.TaskPatch{Title: ptr("new two, edited"), Status: ptr(authdash.StatusDone)})
			}
			return err
		},
		func() error {
			tk, err := q.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: "never sent"})
			if err == nil {
				_, err = q.Delete(ctx, tk)
			}
			return err
		},
		func() error { return q.Update(ctx, rename, authdash.TaskPatch{Title: ptr("renamed")}) },
		func() error {
			return q.Update(ctx, merged, authdash.TaskPatch{Status: ptr(authdash.StatusDone)})
		},
		func() error { return q.Update(ctx, clash, authdash.TaskPatch{Title: ptr("clash: mine")}) },
		func() error { _, err := q.Delete(ctx, gone); return err },
		func() error { _, err := q.Delete(ctx, clashDel); return err },
	}
	for i, c := range changes {
		if err := c(); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	// Meanwhile, on another device.
	if _, err := f.direct.UpdateTask(ctx, merged.ID, authdash.TaskPatch{Description: ptr("theirs changed it")}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.direct.UpdateTask(ctx, clash.ID, authdash.TaskPatch{Title: ptr("clash: theirs"), Priority: ptr(authdash.PriorityHigh)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.direct.UpdateTask(ctx, clashDel.ID, authdash.TaskPatch{Title: ptr("delete clash, edited")}, 0); err != nil {
		t.Fatal(err)
	}

	// What the list shows offline.
	view, touched := q.View([]authdash.Task{keep, rename, merged, clash, gone, clashDel})
	var titles []string
	for _, tk := range view {
		titles = append(titles, tk.Title)
	}
	want := []string{"new two, edited", "new one", "keep", "renamed", "merged", "clash: mine"}
	if !slices.Equal(titles, want) || len(touched) != 7 {
		t.Errorf("offline view %q (%d touched), want %q (7)", titles, len(touched), want)
	}

	// A replay while still offline keeps everything.
	if rep, err := q.Replay(ctx); !api.IsOffline(err) || len(rep.Saved) != 0 {
		t.Fatalf("offline replay = %+v, %v; want offline, nothing saved", rep, err)
	}
	// A reload: the outbox opened again from storage.
	q = f.open(t)
	if q.Len() != 7 {
		t.Fatalf("reopened outbox holds %d changes, want 7", q.Len())
	}

	f.net.mode.Store(up)
	rep, err := q.Replay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q.Len() != 0 {
		t.Errorf("%d changes left after the replay", q.Len())
	}
	server := f.serverTasks(t)
	var names []string
	for name := range server {
		names = append(names, name)
	}
	slices.Sort(names)
	wantNames := []string{"clash: theirs", "delete clash, edited", "keep", "merged", "new one", "new two, edited", "renamed"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("server holds %q, want %q", names, wantNames)
	}
	if m := server["merged"]; m.Status != authdash.StatusDone || m.Description != "theirs changed it" {
		t.Errorf("merged task = %+v: want both sides' changes", m)
	}
	if c := server["clash: theirs"]; c.Priority != authdash.PriorityHigh {
		t.Errorf("clash = %+v: theirs kept", c)
	}
	if n := server["new two, edited"]; n.Status != authdash.StatusDone {
		t.Errorf("new two = %+v: the edit folded into the create", n)
	}
	if len(rep.Conflicts) != 2 {
		t.Fatalf("conflicts %+v, want 2", rep.Conflicts)
	}
	for _, c := range rep.Conflicts {
		switch c.Merge.Base.ID {
		case clash.ID:
			if c.Delete || !slices.Equal(c.Merge.Conflicts, []merge.Field{merge.Title}) || c.Merge.Mine.Title != "clash: mine" {
				t.Errorf("title conflict = %+v", c)
			}
		case clashDel.ID:
			if !c.Delete || c.Merge.Theirs.Title != "delete clash, edited" {
				t.Errorf("delete conflict = %+v", c)
			}
		default:
			t.Errorf("unexpected conflict %+v", c)
		}
	}
	if len(rep.Deleted) != 1 || rep.Deleted[0] != gone.ID {
		t.Errorf("deleted %v, want %s", rep.Deleted, gone.ID)
	}
}

// TestReplayLostAnswers loses the answers of a replay (the server did the
// work), then replays again: each create is made once, each edit applied
// once, nothing refused.
func TestReplayLostAnswers(t *testing.T) {
	f := start(t)
	ctx := t.Context()
	task := f.create(t, "edit me", "")
	q := f.open(t)
	for _, title := range []string{"one", "two"} {
		if _, err := q.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: title}); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Update(ctx, task, authdash.TaskPatch{Title: ptr("edited")}); err != nil {
		t.Fatal(err)
	}
	f.net.mode.Store(loseAnswers)
	if _, err := q.Replay(ctx); !api.IsOffline(err) {
		t.Fatalf("replay with lost answers: %v, want offline", err)
	}
	f.net.mode.Store(loseAnswers)
	if _, err := q.Replay(ctx); !api.IsOffline(err) { // the first create, once more, lost again
		t.Fatalf("second replay: %v", err)
	}
	f.net.mode.Store(up)
	rep, err := q.Replay(ctx)
	if err != nil || q.Len() != 0 || len(rep.Refused) != 0 {
		t.Fatalf("replay = %+v, %v, %d left", rep, err, q.Len())
	}
	server := f.serverTasks(t)
	if len(server) != 3 {
		t.Errorf("server holds %d tasks, want 3 (one, two, edited)", len(server))
	}
	for _, title := range []string{"one", "two", "edited"} {
		if _, ok := server[title]; !ok {
			t.Errorf("no %q on the server", title)
		}
	}
}

// TestReplayRefused: an edit of a task deleted meanwhile is refused in
// words and dropped; the changes after it still go.
func TestReplayRefused(t *testing.T) {
	f := start(t)
	ctx := t.Context()
	doomed := f.create(t, "doomed", "")
	q := f.open(t)
	if err := q.Update(ctx, doomed, authdash.TaskPatch{Title: ptr("doomed, edited")}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: "after"}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: ""}); authdash.ErrorCodeOf(err) != authdash.CodeInvalid {
		t.Errorf("an invalid draft was kept: %v", err)
	}
	if err := f.direct.DeleteTask(ctx, doomed.ID, 0); err != nil {
		t.Fatal(err)
	}
	rep, err := q.Replay(ctx)
	if err != nil || len(rep.Refused) != 1 || len(rep.Saved) != 1 || q.Len() != 0 {
		t.Fatalf("replay = %+v, %v, %d left", rep, err, q.Len())
	}
	if _, ok := f.serverTasks(t)["after"]; !ok {
		t.Error("the create after the refused edit was not sent")
	}
}
