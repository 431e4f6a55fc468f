package storetest

import (
	"context"
	"testing"

	"github.com/authdash/authdash"
)

// fiveChanges opens a store holding a log of five changes: create t1, t2,
// t3 (changes 0-2), update t1 (3), delete t2 (4). Stores number changes as
// they like, rising per owner, so tests name changes by index and read
// their Seqs from the writes' events.
func fiveChanges(t *testing.T, open Opener) (authdash.Store, authdash.UserID, [3]*authdash.Task, [5]int64) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	var ts [3]*authdash.Task
	var seqs [5]int64
	for i := range ts {
		task, ev, err := s.CreateTask(ctx, u.ID, draft("task "+string(rune('1'+i))))
		mustOK(t, err)
		ts[i], seqs[i] = task, ev.Seq
	}
	_, ev, err := s.UpdateTask(ctx, u.ID, ts[0].ID, authdash.TaskPatch{Title: ptr("task 1'")}, 0)
	mustOK(t, err)
	seqs[3] = ev.Seq
	ev, err = s.DeleteTask(ctx, u.ID, ts[1].ID, 0)
	mustOK(t, err)
	seqs[4] = ev.Seq
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("change %d has Seq %d after %d", i, seqs[i], seqs[i-1])
		}
	}
	return s, u.ID, ts, seqs
}

// testChangesSince reads the five-change log from every kind of starting
// point and limit.
func testChangesSince(t *testing.T, open Opener) {
	ctx := context.Background()

	// since names where a case reads from: the Seq of change after, or
	// the values below.
	const (
		fromZero   = -1 // since 0
		aheadHead  = -2 // since head+1
		belowZero  = -3 // since -1
		headChange = 4
	)
	type change struct {
		kind   authdash.EventKind
		task   int // index into the setup's tasks
		change int // index into the setup's changes
	}
	tests := []struct {
		name  string
		after int
		limit int
		want  []change // nil with ok=false
		ok    bool
	}{
		{"FromStart", fromZero, 100, []change{{authdash.EventTaskCreated, 2, 2}, {authdash.EventTaskUpdated, 0, 3}, {authdash.EventTaskDeleted, 1, 4}}, true},
		{"FromMiddle", 2, 100, []change{{authdash.EventTaskUpdated, 0, 3}, {authdash.EventTaskDeleted, 1, 4}}, true},
		{"OnlyDelete", 3, 100, []change{{authdash.EventTaskDeleted, 1, 4}}, true},
		{"UpToDate", headChange, 100, []change{}, true},
		{"ExactlyLimit", 2, 2, []change{{authdash.EventTaskUpdated, 0, 3}, {authdash.EventTaskDeleted, 1, 4}}, true},
		{"OverLimit", fromZero, 2, nil, false},
		{"OverLimitByDelete", 1, 2, nil, false},
		{"SinceAheadOfHead", aheadHead, 100, nil, false},
		{"SinceNegative", belowZero, 100, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, owner, ts, seqs := fiveChanges(t, open)
			var since int64
			switch tt.after {
			case fromZero:
				since = 0
			case aheadHead:
				since = seqs[headChange] + 1
			case belowZero:
				since = -1
			default:
				since = seqs[tt.after]
			}
			evs, head, ok, err := s.ChangesSince(ctx, owner, since, tt.limit)
			mustOK(t, err)
			if head != seqs[headChange] {
				t.Errorf("head = %d, want %d", head, seqs[headChange])
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
				if ev.Kind != w.kind || ev.Seq != seqs[w.change] || ev.TaskID != ts[w.task].ID || ev.Owner != owner {
					t.Errorf("event %d = %s seq %d task %s, want %s seq %d task %s", i, ev.Kind, ev.Seq, ev.TaskID, w.kind, seqs[w.change], ts[w.task].ID)
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
}

func testChangesEmptyLog(t *testing.T, open Opener) {
	s := open(t)
	u := mustUser(t, s, "ann")
	evs, head, ok, err := s.ChangesSince(context.Background(), u.ID, 0, 10)
	mustOK(t, err)
	if len(evs) != 0 || head != 0 || !ok {
		t.Errorf("ChangesSince on a new user = %v, %d, %v", evs, head, ok)
	}
	if h := headOf(t, s, u.ID); h != 0 {
		t.Errorf("ChangeHead on a new user = %d", h)
	}
}

func testChangesLatestChangeOnly(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	task := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "v1"})
	var last authdash.Event
	for i := range 3 {
		var err error
		_, last, err = s.UpdateTask(ctx, u.ID, task.ID, authdash.TaskPatch{Title: ptr("v" + string(rune('2'+i)))}, 0)
		mustOK(t, err)
	}
	evs, head, ok, err := s.ChangesSince(ctx, u.ID, 0, 1)
	mustOK(t, err)
	if !ok || head != last.Seq || len(evs) != 1 || evs[0].Seq != last.Seq || evs[0].Task == nil || evs[0].Task.Title != "v4" {
		t.Errorf("ChangesSince = %+v, %d, %v; want the task once, as it is now", evs, head, ok)
	}
}

// testChangeHead: the head alone is the last change's Seq, a delete
// included, and an unknown owner has none.
func testChangeHead(t *testing.T, open Opener) {
	s, owner, _, seqs := fiveChanges(t, open)
	if head := headOf(t, s, owner); head != seqs[4] {
		t.Errorf("ChangeHead = %d, want the delete's Seq %d", head, seqs[4])
	}
	_, err := s.ChangeHead(context.Background(), missingUserID(t, s))
	wantCode(t, err, authdash.CodeNotFound)
}
