package storetest

import (
	"context"
	"testing"

	"github.com/authdash/authdash"
)

func testChanges(t *testing.T, open func(t *testing.T) authdash.Store) {
	ctx := context.Background()

	// A log of five changes: create t1, t2, t3 (seq 1-3), update t1 (4),
	// delete t2 (5).
	setup := func(t *testing.T) (authdash.Store, authdash.UserID, [3]*authdash.Task) {
		s := open(t)
		u := mustUser(t, s, "ann")
		var ts [3]*authdash.Task
		for i := range ts {
			ts[i] = mustTask(t, s, u.ID, authdash.TaskDraft{Title: "task " + string(rune('1'+i))})
		}
		_, _, err := s.UpdateTask(ctx, u.ID, ts[0].ID, authdash.TaskPatch{Title: ptr("task 1'")}, 0)
		mustOK(t, err)
		_, err = s.DeleteTask(ctx, u.ID, ts[1].ID, 0)
		mustOK(t, err)
		return s, u.ID, ts
	}

	type change struct {
		kind authdash.EventKind
		task int // index into the setup's tasks
		seq  int64
	}
	tests := []struct {
		name  string
		since int64
		limit int
		want  []change // nil with ok=false
		ok    bool
	}{
		{"FromStart", 0, 100, []change{{authdash.EventTaskCreated, 2, 3}, {authdash.EventTaskUpdated, 0, 4}, {authdash.EventTaskDeleted, 1, 5}}, true},
		{"FromMiddle", 3, 100, []change{{authdash.EventTaskUpdated, 0, 4}, {authdash.EventTaskDeleted, 1, 5}}, true},
		{"OnlyDelete", 4, 100, []change{{authdash.EventTaskDeleted, 1, 5}}, true},
		{"UpToDate", 5, 100, []change{}, true},
		{"ExactlyLimit", 3, 2, []change{{authdash.EventTaskUpdated, 0, 4}, {authdash.EventTaskDeleted, 1, 5}}, true},
		{"OverLimit", 0, 2, nil, false},
		{"OverLimitByDelete", 2, 2, nil, false},
		{"SinceAheadOfHead", 6, 100, nil, false},
		{"SinceNegative", -1, 100, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, owner, ts := setup(t)
			evs, head, ok, err := s.ChangesSince(ctx, owner, tt.since, tt.limit)
			mustOK(t, err)
			if head != 5 {
				t.Errorf("head = %d, want 5", head)
			}
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (events %+v)", ok, tt.ok, evs)
			}
			if !ok {
				return
			}
			if len(evs) != len(tt.want) {
				t.Fatalf("got %d events %+v, want %d", len(evs), evs, len(tt.want))
			}
			for i, w := range tt.want {
				ev := evs[i]
				if ev.Kind != w.kind || ev.Seq != w.seq || ev.TaskID != ts[w.task].ID || ev.Owner != owner {
					t.Errorf("event %d = %s seq %d task %s, want %s seq %d task %s", i, ev.Kind, ev.Seq, ev.TaskID, w.kind, w.seq, ts[w.task].ID)
					continue
				}
				if ev.Kind == authdash.EventTaskDeleted {
					if ev.Task != nil || ev.Version <= 1 {
						t.Errorf("delete event %+v: want no task and a version past the last", ev)
					}
					continue
				}
				cur, err := s.FindTask(ctx, owner, ev.TaskID)
				mustOK(t, err)
				if ev.Task == nil {
					t.Fatalf("event %d has no task", i)
				}
				if diff := taskDiff(ev.Task, cur); diff != "" {
					t.Errorf("event %d task differs from the stored one: %s", i, diff)
				}
				if ev.Version != cur.Version || !ev.At.Equal(cur.UpdatedAt) {
					t.Errorf("event %d version %d at %v, want %d at %v", i, ev.Version, ev.At, cur.Version, cur.UpdatedAt)
				}
			}
		})
	}

	t.Run("EmptyLog", func(t *testing.T) {
		s := open(t)
		u := mustUser(t, s, "ann")
		evs, head, ok, err := s.ChangesSince(ctx, u.ID, 0, 10)
		mustOK(t, err)
		if len(evs) != 0 || head != 0 || !ok {
			t.Errorf("ChangesSince on a new user = %v, %d, %v", evs, head, ok)
		}
	})

	t.Run("LatestChangeOnly", func(t *testing.T) {
		s := open(t)
		u := mustUser(t, s, "ann")
		task := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "v1"})
		for i := range 3 {
			_, _, err := s.UpdateTask(ctx, u.ID, task.ID, authdash.TaskPatch{Title: ptr("v" + string(rune('2'+i)))}, 0)
			mustOK(t, err)
		}
		evs, head, ok, err := s.ChangesSince(ctx, u.ID, 0, 1)
		mustOK(t, err)
		if !ok || head != 4 || len(evs) != 1 || evs[0].Seq != 4 || evs[0].Task == nil || evs[0].Task.Title != "v4" {
			t.Errorf("ChangesSince = %+v, %d, %v; want the task once, as it is now", evs, head, ok)
		}
	})
}
