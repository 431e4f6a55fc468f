//go:build !js

package outbox_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/devicelink"
	"github.com/authdash/authdash/app/idb"
	"github.com/authdash/authdash/app/merge"
	"github.com/authdash/authdash/app/outbox"
)

// gate is the client of a tab whose first write, once the server has
// answered it, waits until the test opens the gate: the tab's replay is
// then in the middle of sending that change. It records each write.
type gate struct {
	outbox.Client
	held, open chan struct{}

	mu     sync.Mutex
	writes []write
}

// write is one change sent: its If-Match (-1 for a create) and the version
// the server answered with (-1 for none).
type write struct{ ifMatch, answer int64 }

func newGate(c outbox.Client) *gate {
	return &gate{Client: c, held: make(chan struct{}), open: make(chan struct{})}
}

func (g *gate) wrote(ifMatch int64, t *authdash.Task) {
	w := write{ifMatch: ifMatch, answer: -1}
	if t != nil {
		w.answer = t.Version
	}
	g.mu.Lock()
	g.writes = append(g.writes, w)
	first := len(g.writes) == 1
	g.mu.Unlock()
	if first {
		close(g.held)
		<-g.open
	}
}

func (g *gate) CreateTaskIdempotent(ctx context.Context, key string, d authdash.TaskDraft) (*authdash.Task, error) {
	t, err := g.Client.CreateTaskIdempotent(ctx, key, d)
	g.wrote(-1, t)
	return t, err
}

func (g *gate) UpdateTask(ctx context.Context, id authdash.TaskID, p authdash.TaskPatch, v int64) (*authdash.Task, error) {
	t, err := g.Client.UpdateTask(ctx, id, p, v)
	g.wrote(v, t)
	return t, err
}

func (g *gate) DeleteTask(ctx context.Context, id authdash.TaskID, v int64) error {
	err := g.Client.DeleteTask(ctx, id, v)
	g.wrote(v, nil)
	return err
}

// replayHeld starts q's replay and returns once g holds its first write,
// and a function that opens the gate and returns what the replay did.
func replayHeld(t *testing.T, q *outbox.Queue, g *gate) func() (outbox.Report, error) {
	t.Helper()
	type result struct {
		rep outbox.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := q.Replay(t.Context())
		done <- result{rep, err}
	}()
	select {
	case <-g.held:
	case r := <-done:
		t.Fatalf("the replay ended before sending: %+v, %v", r.rep, r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("the replay sent nothing")
	}
	return func() (outbox.Report, error) {
		close(g.open)
		r := <-done
		return r.rep, r.err
	}
}

// entries returns what db's outbox bucket holds, the replay's marker too.
func entries(t *testing.T, db *idb.DB) []idb.Entry {
	t.Helper()
	es, err := db.All(t.Context(), "outbox")
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// kept returns what db's outbox bucket holds but the records of creates
// sent (key "created:…", kept for the device's other tabs): the changes
// and the replay's marker.
func kept(t *testing.T, db *idb.DB) []idb.Entry {
	t.Helper()
	var es []idb.Entry
	for _, e := range entries(t, db) {
		if !strings.HasPrefix(e.Key, "created:") {
			es = append(es, e)
		}
	}
	return es
}

// TestChangeWhileAnotherTabSends: while one tab's replay is sending a
// task's change, another tab of the device edits or deletes the task (on
// the row as it shows it). That change is neither folded into the one
// being sent nor drops it, but kept after it, moved onto the server's
// answer and sent in the same replay, on the answer's version: nothing is
// lost, nothing left, no conflict. So too when a tab that read the bucket
// before the replay marked the change folds into it ("late"). Before, the other tab folded its edit
// into the change being sent and the answer removed it (lost), dropped a
// create being sent (the task stayed on the server), or kept its deletion
// on the version before the answer, which the replay did not see.
func TestChangeWhileAnotherTabSends(t *testing.T) {
	type step func(ctx context.Context, db *idb.DB, q *outbox.Queue, shown authdash.Task) error
	edit := func(p authdash.TaskPatch) step {
		return func(ctx context.Context, _ *idb.DB, q *outbox.Queue, shown authdash.Task) error {
			return q.Update(ctx, shown, p)
		}
	}
	del := func(ctx context.Context, _ *idb.DB, q *outbox.Queue, shown authdash.Task) error {
		_, err := q.Delete(ctx, shown)
		return err
	}
	// late folds p into the change being sent as a tab does that read the
	// bucket before the replay marked it and writes only now.
	late := func(p authdash.TaskPatch) step {
		return func(ctx context.Context, db *idb.DB, _ *outbox.Queue, _ authdash.Task) error {
			v, _, err := db.Get(ctx, "outbox", "0000000000000001")
			var c outbox.Change
			if err == nil {
				err = json.Unmarshal(v, &c)
			}
			if err != nil {
				return err
			}
			if c.Kind == outbox.Create {
				c.Task = p.Apply(c.Task)
			} else {
				c.Patch = merge.Diff(c.Task, p.Apply(c.Patch.Apply(c.Task)))
			}
			v, _ = json.Marshal(c)
			return db.Write(ctx, idb.Put("outbox", "0000000000000001", v))
		}
	}
	tests := []struct {
		name    string
		offline bool // the task is made offline (else on the server, then edited offline)
		change  step
		want    *authdash.Task // on the server; nil: gone
	}{
		{"edit of an edit being sent", false, edit(authdash.TaskPatch{Description: ptr("second")}),
			&authdash.Task{Title: "first", Description: "second", Status: authdash.StatusTodo}},
		{"same field of an edit being sent", false, edit(authdash.TaskPatch{Title: ptr("again")}),
			&authdash.Task{Title: "again", Description: "d", Status: authdash.StatusTodo}},
		{"edit of a create being sent", true, edit(authdash.TaskPatch{Title: ptr("edited while sent")}),
			&authdash.Task{Title: "edited while sent", Description: "d", Status: authdash.StatusTodo}},
		{"edit folded late into an edit being sent", false, late(authdash.TaskPatch{Description: ptr("second")}),
			&authdash.Task{Title: "first", Description: "second", Status: authdash.StatusTodo}},
		{"edit folded late into a create being sent", true, late(authdash.TaskPatch{Status: ptr(authdash.StatusDone)}),
			&authdash.Task{Title: "made offline", Description: "d", Status: authdash.StatusDone}},
		{"deletion of an edit being sent", false, del, nil},
		{"deletion of a create being sent", true, del, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t)
			ctx := t.Context()
			lock := &devicelink.MemoryLock{}
			g := newGate(f.client)
			open := func(c outbox.Client) *outbox.Queue { return f.openWith(t, c, lock) }
			a, b := open(f.client), open(g)
			list := f.keepFirst(t, a, tt.offline)
			view, _ := a.View(list)
			shown := view[0] // A's row, not refreshed while B sends
			finish := replayHeld(t, b, g)
			if err := tt.change(ctx, f.db, a, shown); err != nil {
				t.Errorf("change in A while B sends: %v", err)
			}
			rep, err := finish()
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Conflicts) != 0 || len(rep.Refused) != 0 {
				t.Errorf("B's replay: %d conflicts, %d refused; want none", len(rep.Conflicts), len(rep.Refused))
			}
			if es := kept(t, f.db); len(es) != 0 {
				t.Errorf("after B's replay the bucket holds %d entries, want none (first key %q)", len(es), es[0].Key)
			}
			// The change being sent, then A's on the answer's version.
			if w := g.writes; len(w) != 2 || w[1].ifMatch != w[0].answer {
				t.Errorf("B sent %+v, want two changes, the second on the version the first's answer gave", w)
			}
			server := f.serverTasks(t)
			wantServer(t, server, tt.want)
		})
	}
}

// TestReplayDiedMidSend: a tab closed in the middle of a replay leaves the
// bucket as it was then, the change it was sending marked so. The marker
// only keeps an edit apart from that change (which may have reached the
// server); the next replay sends everything, with no conflict, and
// removes the marker, after which an edit folds into an earlier one again,
// even one kept under the number the marker named.
func TestReplayDiedMidSend(t *testing.T) {
	f := start(t)
	ctx := t.Context()
	task := f.create(t, "server's", "d")
	g := newGate(f.client)
	died := f.openWith(t, g, nil)
	if err := died.Update(ctx, task, authdash.TaskPatch{Title: ptr("first")}); err != nil {
		t.Fatal(err)
	}
	finish := replayHeld(t, died, g)
	// The device's storage as the tab left it.
	db := idb.NewMemory("outbox")
	for _, e := range entries(t, f.db) {
		if err := db.Write(ctx, idb.Put("outbox", e.Key, e.Value)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := finish(); err != nil {
		t.Fatal(err)
	}

	lock := &devicelink.MemoryLock{}
	open := func() *outbox.Queue {
		q, err := outbox.Open(ctx, db, "outbox", f.client, lock)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	q := open()
	shown := authdash.TaskPatch{Title: ptr("first")}.Apply(task)
	if err := q.Update(ctx, shown, authdash.TaskPatch{Description: ptr("meanwhile")}); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 2 {
		t.Errorf("an edit of the change a dead replay was sending: %d kept, want it kept apart (2)", q.Len())
	}
	rep, err := q.Replay(ctx)
	if err != nil || len(rep.Conflicts) != 0 || len(rep.Refused) != 0 {
		t.Fatalf("the next replay: %+v, %v; want everything sent", rep, err)
	}
	if es := kept(t, db); len(es) != 0 {
		t.Errorf("after the next replay the bucket holds %d entries, want none (first key %q)", len(es), es[0].Key)
	}
	if got := f.serverTasks(t)["first"]; got.Description != "meanwhile" {
		t.Errorf("server holds %+v, want first/meanwhile", got)
	}

	q = open() // a reload: numbers start again at the marker's
	current := f.serverTasks(t)["first"]
	for _, p := range []authdash.TaskPatch{{Title: ptr("later")}, {Status: ptr(authdash.StatusDone)}} {
		if err := q.Update(ctx, current, p); err != nil {
			t.Fatal(err)
		}
	}
	if q.Len() != 1 {
		t.Errorf("two edits of a task kept %d changes, want them folded into one", q.Len())
	}
	if _, err := q.Replay(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.serverTasks(t)["later"]; got.Status != authdash.StatusDone {
		t.Errorf("server holds %+v, want later/done", got)
	}
}
