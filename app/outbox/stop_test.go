//go:build !js

package outbox_test

import (
	"fmt"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
)

// TestReplayCut cuts the network in the middle of a replay: the replay
// stops with an offline error, what was answered is gone from the outbox,
// the rest is kept, across a reload (the outbox opened again from
// storage), and the next replay sends it: every change on the server
// exactly once.
func TestReplayCut(t *testing.T) {
	for _, after := range []int32{0, 1, 3, 4} {
		t.Run(fmt.Sprint("after ", after, " requests"), func(t *testing.T) {
			f := start(t)
			ctx := t.Context()
			a, b := f.create(t, "a", ""), f.create(t, "b", "")
			q := f.open(t)
			for i := range 3 {
				if _, err := q.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: fmt.Sprint("new ", i)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := q.Update(ctx, a, authdash.TaskPatch{Title: ptr("a, edited")}); err != nil {
				t.Fatal(err)
			}
			if _, err := q.Delete(ctx, b); err != nil {
				t.Fatal(err)
			}
			f.net.cutAfter.Store(after)
			f.net.cut.Store(true)
			rep, err := q.Replay(ctx)
			if !api.IsOffline(err) {
				t.Fatalf("replay through a cut: %v, want offline", err)
			}
			if done := len(rep.Saved) + len(rep.Deleted); done != int(after) || q.Len() != 5-int(after) {
				t.Errorf("%d answered, %d kept; want %d and %d", done, q.Len(), after, 5-after)
			}
			q = f.open(t) // a reload
			if q.Len() != 5-int(after) {
				t.Fatalf("reopened outbox holds %d, want %d", q.Len(), 5-after)
			}
			f.net.cut.Store(false)
			f.net.mode.Store(up)
			if rep, err := q.Replay(ctx); err != nil || q.Len() != 0 || len(rep.Conflicts)+len(rep.Refused) != 0 {
				t.Fatalf("replay = %+v, %v, %d left", rep, err, q.Len())
			}
			server := f.serverTasks(t)
			for _, title := range []string{"new 0", "new 1", "new 2", "a, edited"} {
				if _, ok := server[title]; !ok {
					t.Errorf("no %q on the server", title)
				}
			}
			if len(server) != 4 {
				t.Errorf("server holds %d tasks, want 4", len(server))
			}
		})
	}
}

// TestReplayInvalid: a change the server refuses as invalid (here an edit
// emptying a title, which the outbox keeps as made) is dropped and said,
// and the changes after it are still sent.
func TestReplayInvalid(t *testing.T) {
	f := start(t)
	ctx := t.Context()
	task := f.create(t, "title", "")
	q := f.open(t)
	if err := q.Update(ctx, task, authdash.TaskPatch{Title: ptr("")}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: "after"}); err != nil {
		t.Fatal(err)
	}
	rep, err := q.Replay(ctx)
	if err != nil || q.Len() != 0 || len(rep.Refused) != 1 || len(rep.Saved) != 1 {
		t.Fatalf("replay = %+v, %v, %d left; want the edit refused, the create saved", rep, err, q.Len())
	}
	server := f.serverTasks(t)
	if _, ok := server["title"]; !ok || len(server) != 2 {
		t.Errorf("server holds %v, want title (unchanged) and after", server)
	}
}
