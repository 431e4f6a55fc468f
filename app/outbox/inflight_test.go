//go:build !js

package outbox_test

import (
	"context"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/outbox"
)

// hooked is the client with a hook run when an answer has come back and
// before the outbox has taken it: the person changing the row the replay
// is sending (the page keeps taking changes into the outbox while it
// replays).
type hooked struct {
	outbox.Client
	calls int
	hook  func(call int)
}

func (h *hooked) answered() {
	h.calls++
	if h.hook != nil {
		h.hook(h.calls)
	}
}

func (h *hooked) CreateTaskIdempotent(ctx context.Context, key string, d authdash.TaskDraft) (*authdash.Task, error) {
	t, err := h.Client.CreateTaskIdempotent(ctx, key, d)
	h.answered()
	return t, err
}

func (h *hooked) UpdateTask(ctx context.Context, id authdash.TaskID, p authdash.TaskPatch, v int64) (*authdash.Task, error) {
	t, err := h.Client.UpdateTask(ctx, id, p, v)
	h.answered()
	return t, err
}

// TestChangeWhileSending: a change the person makes to a task while the
// replay is sending that task's change (on the row as the page still shows
// it) is neither lost with the change's answer nor turned into a conflict
// with the person's own edit. Before the outbox kept such changes apart
// from the one being sent, the edit of a task made offline was folded into
// the create being sent and removed with its answer (the server kept
// "made offline"), the deletion dropped the create already sent (the task
// stayed), and the second edit was lost with the first's answer.
func TestChangeWhileSending(t *testing.T) {
	type step func(ctx context.Context, q *outbox.Queue, shown authdash.Task) error
	edit := func(p authdash.TaskPatch) step {
		return func(ctx context.Context, q *outbox.Queue, shown authdash.Task) error { return q.Update(ctx, shown, p) }
	}
	del := func(ctx context.Context, q *outbox.Queue, shown authdash.Task) error {
		_, err := q.Delete(ctx, shown)
		return err
	}
	tests := []struct {
		name    string
		offline bool // the task is made offline (else on the server, then edited offline)
		at      int  // during which answer the person changes it (1: its own)
		change  step
		want    *authdash.Task // on the server; nil: gone
	}{
		{"edit of a create being sent", true, 1, edit(authdash.TaskPatch{Title: ptr("edited while sent")}),
			&authdash.Task{Title: "edited while sent", Description: "d", Status: authdash.StatusTodo}},
		{"deletion of a create being sent", true, 1, del, nil},
		{"edit of a create sent, next change being sent", true, 2, edit(authdash.TaskPatch{Status: ptr(authdash.StatusDone)}),
			&authdash.Task{Title: "made offline", Description: "d", Status: authdash.StatusDone}},
		{"second edit while the first is sent", false, 1, edit(authdash.TaskPatch{Description: ptr("second")}),
			&authdash.Task{Title: "first", Description: "second", Status: authdash.StatusTodo}},
		{"same field again while the first is sent", false, 1, edit(authdash.TaskPatch{Title: ptr("again")}),
			&authdash.Task{Title: "again", Description: "d", Status: authdash.StatusTodo}},
		{"deletion while the edit is sent", false, 1, del, nil},
		{"edit after the edit was sent", false, 2, edit(authdash.TaskPatch{Description: ptr("later")}),
			&authdash.Task{Title: "first", Description: "later", Status: authdash.StatusTodo}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t)
			ctx := t.Context()
			h := &hooked{Client: f.client}
			q := f.openWith(t, h, nil)
			list := f.keepFirst(t, q, tt.offline)
			// Something after it, so that there is a second answer.
			if _, err := q.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: "after"}); err != nil {
				t.Fatal(err)
			}
			view, _ := q.View(list)
			shown := view[len(view)-1] // the row the page shows, not refreshed during the replay
			h.hook = func(call int) {
				if call == tt.at {
					if err := tt.change(ctx, q, shown); err != nil {
						t.Errorf("change while sending: %v", err)
					}
				}
			}
			var conflicts, refused int
			for range 2 { // a change kept after the last answer goes in the next replay
				rep, err := q.Replay(ctx)
				if err != nil {
					t.Fatal(err)
				}
				conflicts += len(rep.Conflicts)
				refused += len(rep.Refused)
			}
			if q.Len() != 0 || conflicts != 0 || refused != 0 {
				t.Errorf("%d left, %d conflicts, %d refused; want none", q.Len(), conflicts, refused)
			}
			server := f.serverTasks(t)
			delete(server, "after")
			wantServer(t, server, tt.want)
		})
	}
}
