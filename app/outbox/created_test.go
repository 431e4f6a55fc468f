//go:build !js

package outbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/devicelink"
	"github.com/authdash/authdash/app/outbox"
)

// createdEntries counts the records of creates sent in f's outbox bucket.
func createdEntries(t *testing.T, f *fixture) int {
	t.Helper()
	return len(entries(t, f.db)) - len(kept(t, f.db))
}

// TestCreateSentByAnotherTab: tab A creates a task offline and shows it
// as its local row; tab B's replay sends the create. A, its list not read
// again, then edits or deletes the local row, or shows its list, or the
// page is reloaded and edits the row it had: the change goes to the task
// the server made, nothing refused, and A's list shows the server's task;
// once the task is deleted, the device forgets it.
// Before, B alone knew the task's ID: A's edit was sent to the local ID
// and refused ("was deleted elsewhere"), its deletion left the task on the
// server, and its list lost the row.
func TestCreateSentByAnotherTab(t *testing.T) {
	type step func(ctx context.Context, a, reloaded *outbox.Queue, local authdash.Task) error
	edit := func(ctx context.Context, a, _ *outbox.Queue, local authdash.Task) error {
		return a.Update(ctx, local, authdash.TaskPatch{Title: ptr("edited"), Status: ptr(authdash.StatusDone)})
	}
	edited := &authdash.Task{Title: "edited", Description: "d", Status: authdash.StatusDone}
	tests := []struct {
		name     string
		change   step
		replayer string         // "A", "B" or "reloaded": the tab whose replay sends the change
		want     *authdash.Task // on the server; nil: gone
		// view: A's list, once A has read the bucket again, shows the
		// server's task in place of the local row.
		view bool
	}{
		{"edit of the local row, sent by A", edit, "A", edited, false},
		{"edit of the local row, sent by B", edit, "B", edited, false},
		{"deletion of the local row", func(ctx context.Context, a, _ *outbox.Queue, local authdash.Task) error {
			_, err := a.Delete(ctx, local)
			return err
		}, "A", nil, false},
		{"list shown once read again", func(ctx context.Context, a, _ *outbox.Queue, _ authdash.Task) error {
			// Any change of A's reads the bucket again.
			_, err := a.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: "another"})
			return err
		}, "A", nil, true},
		{"edit after a reload", func(ctx context.Context, _, reloaded *outbox.Queue, local authdash.Task) error {
			return reloaded.Update(ctx, local, authdash.TaskPatch{Title: ptr("edited"), Status: ptr(authdash.StatusDone)})
		}, "reloaded", edited, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t)
			ctx := t.Context()
			lock := &devicelink.MemoryLock{}
			open := func() *outbox.Queue { return f.openWith(t, f.client, lock) }
			a, b := open(), open()
			f.keepFirst(t, a, true)
			view, _ := a.View(nil)
			local := view[0] // A's row, its list not read again
			if !outbox.IsLocal(local.ID) {
				t.Fatalf("A shows %+v, want the local row", local)
			}
			rep, err := b.Replay(ctx)
			if err != nil || len(rep.Saved) != 1 {
				t.Fatalf("B's replay = %+v, %v; want the create saved", rep, err)
			}
			x := rep.Saved[0]
			reloaded := open()

			if err := tt.change(ctx, a, reloaded, local); err != nil {
				t.Fatalf("change in A: %v", err)
			}
			if tt.view {
				view, _ := a.View(nil)
				var found bool
				for _, task := range view {
					if task.ID == local.ID {
						t.Errorf("A's list still shows the local row %+v", task)
					}
					if task.ID == x.ID {
						found = true
						if task.Version != x.Version || task.Title != x.Title {
							t.Errorf("A's list shows %+v, want the server's %+v", task, x)
						}
					}
				}
				if !found {
					t.Errorf("A's list %+v does not show the server's task %s", view, x.ID)
				}
				return
			}
			replayer := map[string]*outbox.Queue{"A": a, "B": b, "reloaded": reloaded}[tt.replayer]
			rep, err = replayer.Replay(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Conflicts) != 0 || len(rep.Refused) != 0 {
				t.Errorf("%s's replay: conflicts %+v, refused %q; want none", tt.replayer, rep.Conflicts, rep.Refused)
			}
			if n := len(kept(t, f.db)); n != 0 {
				t.Errorf("after the replay the bucket holds %d changes, want none", n)
			}
			server := f.serverTasks(t)
			wantServer(t, server, tt.want)
			if tt.want != nil && server[tt.want.Title].ID != x.ID {
				t.Errorf("server holds %+v, want the edit on %s", server, x.ID)
			}
			if n := createdEntries(t, f); tt.want == nil && n != 0 {
				t.Errorf("the bucket still records %d creates sent, want the deleted task's forgotten", n)
			}
		})
	}
}

// TestCreatedBound: the device keeps what the server made of the creates
// it sent, but the newest outbox.MaxCreated only; the newest still maps.
func TestCreatedBound(t *testing.T) {
	f := start(t)
	ctx := t.Context()
	lock := &devicelink.MemoryLock{}
	a := f.openWith(t, f.client, lock)
	b := f.openWith(t, f.client, lock)
	var last authdash.Task
	for i := range outbox.MaxCreated + 3 {
		var err error
		if last, err = a.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: "task " + string(rune('a'+i%26)) + strings.Repeat("!", i/26)}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := b.Replay(ctx)
	if err != nil || len(rep.Saved) != outbox.MaxCreated+3 {
		t.Fatalf("B's replay: %d saved, %v", len(rep.Saved), err)
	}
	if n := createdEntries(t, f); n != outbox.MaxCreated {
		t.Errorf("the bucket records %d creates sent, want the newest %d", n, outbox.MaxCreated)
	}
	if err := a.Update(ctx, last, authdash.TaskPatch{Status: ptr(authdash.StatusDone)}); err != nil {
		t.Fatal(err)
	}
	rep, err = a.Replay(ctx)
	if err != nil || len(rep.Refused) != 0 || len(rep.Saved) != 1 {
		t.Fatalf("A's replay of an edit of the newest create = %+v, %v", rep, err)
	}
	if got := f.serverTasks(t)[last.Title]; got.Status != authdash.StatusDone {
		t.Errorf("server holds %+v, want it done", got)
	}
}
