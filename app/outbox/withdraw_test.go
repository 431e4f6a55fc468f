//go:build !js

package outbox_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/devicelink"
	"github.com/authdash/authdash/app/outbox"
)

// TestWithdraw: a deletion kept offline is taken back (the Undo of its
// toast) with what it had replaced: the outbox holds again exactly what it
// held before, the deletion is never sent, and the task comes back as the
// person last saw it, their edit not sent yet (or the task they made
// offline) included. A deletion already sent, by this tab or another, is
// not withdrawn, and says so: only the server can bring it back.
func TestWithdraw(t *testing.T) {
	for _, c := range []struct {
		name string
		// kept keeps the changes made before the deletion and returns the
		// task as the list shows it.
		kept func(t *testing.T, q *outbox.Queue, task authdash.Task) authdash.Task
		// sentBy replays before the withdrawal: "" nobody, "this tab",
		// or "another tab".
		sentBy string
		// want is the task's title on the server in the end, "" for none.
		want     string
		wantDone bool
	}{
		{name: "Alone", want: "as it was"},
		{name: "AfterAnEdit", want: "edited offline", wantDone: true,
			kept: func(t *testing.T, q *outbox.Queue, task authdash.Task) authdash.Task {
				p := authdash.TaskPatch{Title: ptr("edited offline"), Status: ptr(authdash.StatusDone)}
				if err := q.Update(t.Context(), task, p); err != nil {
					t.Fatal(err)
				}
				return p.Apply(task)
			}},
		{name: "MadeOffline", want: "made offline", wantDone: true,
			kept: func(t *testing.T, q *outbox.Queue, _ authdash.Task) authdash.Task {
				made, err := q.Create(t.Context(), api.NewIdempotencyKey(), authdash.TaskDraft{Title: "made offline"})
				if err != nil {
					t.Fatal(err)
				}
				p := authdash.TaskPatch{Status: ptr(authdash.StatusDone)}
				if err := q.Update(t.Context(), made, p); err != nil {
					t.Fatal(err)
				}
				return p.Apply(made)
			}},
		{name: "SentByThisTab", sentBy: "this tab"},
		{name: "SentByAnotherTab", sentBy: "another tab"},
		{name: "EditSentByAnotherTab", sentBy: "another tab",
			kept: func(t *testing.T, q *outbox.Queue, task authdash.Task) authdash.Task {
				p := authdash.TaskPatch{Title: ptr("edited offline")}
				if err := q.Update(t.Context(), task, p); err != nil {
					t.Fatal(err)
				}
				return p.Apply(task)
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := start(t)
			ctx := t.Context()
			task := f.create(t, "as it was", "")
			lock := &devicelink.MemoryLock{}
			open := func() *outbox.Queue { return f.openWith(t, f.client, lock) }
			q, other := open(), open()
			f.net.mode.Store(down)
			shown := task
			if c.kept != nil {
				shown = c.kept(t, q, task)
			}
			before := q.Changes()
			d, err := q.Delete(ctx, shown)
			if err != nil {
				t.Fatal(err)
			}
			// A change kept after the deletion keeps its place.
			if _, err := q.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: "after"}); err != nil {
				t.Fatal(err)
			}
			after := q.Changes()[q.Len()-1]
			if view, _ := q.View([]authdash.Task{task}); slices.ContainsFunc(view, func(v authdash.Task) bool { return v.ID == shown.ID }) {
				t.Fatalf("deleted offline, the list shows %+v", view)
			}
			switch c.sentBy {
			case "this tab":
				f.net.mode.Store(up)
				if _, err := q.Replay(ctx); err != nil {
					t.Fatal(err)
				}
			case "another tab":
				f.net.mode.Store(up)
				if _, err := other.Replay(ctx); err != nil {
					t.Fatal(err)
				}
			}
			f.net.writes.Store(0)
			ok, err := q.Withdraw(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (c.sentBy == "") {
				t.Fatalf("withdrawn %v, sent by %q", ok, c.sentBy)
			}
			if ok {
				if got, want := q.Changes(), append(before, after); !reflect.DeepEqual(got, want) {
					t.Errorf("after the withdrawal the outbox keeps\n%+v\nwant what it kept before the deletion\n%+v", got, want)
				}
				view, _ := q.View([]authdash.Task{task})
				if !slices.ContainsFunc(view, func(v authdash.Task) bool { return reflect.DeepEqual(v, shown) }) {
					t.Errorf("after the withdrawal the list shows %+v, want %+v in it", view, shown)
				}
				if reopened := open(); !reflect.DeepEqual(reopened.Changes(), q.Changes()) {
					t.Errorf("the bucket keeps %+v, the queue %+v", reopened.Changes(), q.Changes())
				}
				f.net.mode.Store(up)
				if _, err := q.Replay(ctx); err != nil {
					t.Fatal(err)
				}
			} else if q.Len() != 0 {
				t.Errorf("a withdrawal of a deletion sent left %+v", q.Changes())
			}
			server := f.serverTasks(t)
			if _, ok := server["after"]; !ok {
				t.Error("the change kept after the deletion was not sent")
			}
			delete(server, "after")
			if shown.ID != task.ID {
				delete(server, task.Title) // not the one deleted
			}
			switch got, has := server[c.want]; {
			case c.want == "" && len(server) != 0:
				t.Errorf("the server holds %+v, want the task deleted", server)
			case c.want != "" && (!has || len(server) != 1):
				t.Errorf("the server holds %+v, want only %q", server, c.want)
			case c.want != "" && (got.Status == authdash.StatusDone) != c.wantDone:
				t.Errorf("on the server %+v, want done %v", got, c.wantDone)
			}
			if q.Len() != 0 {
				t.Errorf("%d changes left", q.Len())
			}
		})
	}
}

// TestWithdrawWaitsForAReplay: while a replay holds the device's lock (in
// this tab or another) the deletion may be on its way to the server, so a
// withdrawal waits for it rather than taking back what is being sent; given
// up, it leaves the deletion kept.
func TestWithdrawWaitsForAReplay(t *testing.T) {
	f := start(t)
	ctx := t.Context()
	task := f.create(t, "as it was", "")
	lock := &devicelink.MemoryLock{}
	q := f.openWith(t, f.client, lock)
	f.net.mode.Store(down)
	d, err := q.Delete(ctx, task)
	if err != nil {
		t.Fatal(err)
	}
	release, err := lock.Acquire(ctx) // another tab's replay
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	ok, err := q.Withdraw(wctx, d)
	cancel()
	if ok || err == nil || q.Len() != 1 {
		t.Fatalf("withdrawn while a replay held the lock: %v, %v, %d kept", ok, err, q.Len())
	}
	release()
	if ok, err := q.Withdraw(ctx, d); !ok || err != nil || q.Len() != 0 {
		t.Fatalf("withdrawn once the replay was over: %v, %v, %d kept", ok, err, q.Len())
	}
}
