package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// anyTime restores whatever the store still has.
var anyTime = time.Time{}

// fullDraft is a task with every field set, for restores to bring back.
func fullDraft() authdash.TaskDraft {
	due := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	return authdash.TaskDraft{Title: "Undo me", Description: "with content", Status: authdash.StatusInProgress,
		Priority: authdash.PriorityHigh, DueDate: &due, Tags: []string{"Work", "undo"}}
}

// deleted makes a task, changes it once and deletes it, returning the task
// as it was just before the delete and the deletion's event.
func deleted(t *testing.T, s authdash.Store, owner authdash.UserID) (*authdash.Task, authdash.Event) {
	t.Helper()
	ctx := context.Background()
	task := mustTask(t, s, owner, fullDraft())
	task, _, err := s.UpdateTask(ctx, owner, task.ID, authdash.TaskPatch{Title: ptr("Undo me, please")}, 0)
	mustOK(t, err)
	ev, err := s.DeleteTask(ctx, owner, task.ID, 0)
	mustOK(t, err)
	return task, ev
}

func testRestoreOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	keep := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "bystander"})
	was, del := deleted(t, s, u.ID)
	before := time.Now()
	got, ev, err := s.RestoreTask(ctx, u.ID, was.ID, time.Now().Add(-time.Hour))
	after := time.Now()
	mustOK(t, err)

	want := *was
	want.Version, want.UpdatedAt = got.Version, got.UpdatedAt
	if diff := taskDiff(got, &want); diff != "" {
		t.Errorf("restored task differs from the deleted one: %s", diff)
	}
	if got.Version <= del.Version {
		t.Errorf("restored at version %d, not above the deletion's %d", got.Version, del.Version)
	}
	wantStamp(t, "UpdatedAt", got.UpdatedAt, before, after)
	if ev.Kind != authdash.EventTaskCreated || ev.Owner != u.ID || ev.TaskID != was.ID || ev.Seq <= del.Seq ||
		ev.Version != got.Version || ev.Task == nil || !ev.At.Equal(got.UpdatedAt) {
		t.Errorf("event %+v, want task.created above the deletion (seq %d)", ev, del.Seq)
	}
	if ev.Task != nil {
		if diff := taskDiff(ev.Task, got); diff != "" {
			t.Errorf("event task: %s", diff)
		}
	}

	// Back everywhere a live task is: found, listed by tag and by
	// search, counted.
	found, err := s.FindTask(ctx, u.ID, was.ID)
	mustOK(t, err)
	if diff := taskDiff(found, got); diff != "" {
		t.Errorf("found: %s", diff)
	}
	for _, q := range []authdash.TaskQuery{{Tag: "undo"}, {Search: "me, PLEASE"}, {Status: authdash.StatusInProgress}} {
		page, err := s.FindTasks(ctx, u.ID, query(q))
		mustOK(t, err)
		if len(page.Items) != 1 || page.Items[0].ID != was.ID {
			t.Errorf("query %+v lists %v, want the restored task", q, ids(page.Items))
		}
	}
	if st, err := s.TaskStats(ctx, u.ID); err != nil || st.Total != 2 || st.InProgress != 1 {
		t.Errorf("stats = %+v, %v", st, err)
	}

	// The change log has it once, live, after the deletion: a client
	// that saw the delete and resumes gets it back; one from before
	// sees only its latest state.
	for _, since := range []int64{del.Seq, 0} {
		evs, head, ok, err := s.ChangesSince(ctx, u.ID, since, 100)
		mustOK(t, err)
		if !ok || head != ev.Seq {
			t.Fatalf("ChangesSince(%d): ok %v, head %d, want head %d", since, ok, head, ev.Seq)
		}
		var mine []authdash.Event
		for _, e := range evs {
			if e.TaskID == was.ID {
				mine = append(mine, e)
			}
		}
		if len(mine) != 1 || mine[0].Seq != ev.Seq || mine[0].Task == nil || mine[0].Version != got.Version ||
			mine[0].Kind == authdash.EventTaskDeleted {
			t.Errorf("ChangesSince(%d) has %+v for the restored task, want it once, live, at seq %d", since, mine, ev.Seq)
		} else if diff := taskDiff(mine[0].Task, got); diff != "" {
			t.Errorf("ChangesSince(%d) task: %s", since, diff)
		}
		if since == 0 && len(evs) != 2 {
			t.Errorf("ChangesSince(0) = %d events, want 2 (bystander %s, restored)", len(evs), keep.ID)
		}
	}
}

func testRestoreDeleteAndRestoreAgain(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	was, _ := deleted(t, s, u.ID)
	first, _, err := s.RestoreTask(ctx, u.ID, was.ID, anyTime)
	mustOK(t, err)
	_, _, err = s.RestoreTask(ctx, u.ID, was.ID, anyTime)
	wantCode(t, err, authdash.CodeConflict)
	del, err := s.DeleteTask(ctx, u.ID, was.ID, first.Version)
	mustOK(t, err)
	second, ev, err := s.RestoreTask(ctx, u.ID, was.ID, anyTime)
	mustOK(t, err)
	if second.Version <= del.Version || ev.Seq <= del.Seq || second.Title != was.Title {
		t.Errorf("second restore = %+v (event seq %d) after deletion %+v", second, ev.Seq, del)
	}
}

func testRestoreErrNotDeleted(t *testing.T, open Opener) {
	ctx := context.Background()
	full := fullDraft()
	s := open(t)
	u := mustUser(t, s, "ann")
	task := mustTask(t, s, u.ID, full)
	head := headOf(t, s, u.ID)
	_, ev, err := s.RestoreTask(ctx, u.ID, task.ID, anyTime)
	wantCode(t, err, authdash.CodeConflict)
	if ev != (authdash.Event{}) || headOf(t, s, u.ID) != head {
		t.Errorf("a refused restore changed something: event %+v", ev)
	}
}

func testRestoreErrNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	full := fullDraft()
	s := open(t)
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	for _, id := range malformedIDs {
		_, _, err := s.RestoreTask(ctx, ann.ID, authdash.TaskID(id), anyTime)
		wantCode(t, err, authdash.CodeNotFound)
	}
	// Another owner's deleted task is not ann's to restore, but bob's.
	bobs, _ := deleted(t, s, bob.ID)
	_, _, err := s.RestoreTask(ctx, ann.ID, bobs.ID, anyTime)
	wantCode(t, err, authdash.CodeNotFound)
	// Another owner's live task reads as missing, not as a conflict.
	live := mustTask(t, s, bob.ID, full)
	_, _, err = s.RestoreTask(ctx, ann.ID, live.ID, anyTime)
	wantCode(t, err, authdash.CodeNotFound)
	if _, _, err := s.RestoreTask(ctx, bob.ID, bobs.ID, anyTime); err != nil {
		t.Errorf("bob restoring his own task: %v", err)
	}
}

func testRestoreErrPastTheWindow(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	was, _ := deleted(t, s, u.ID)
	_, _, err := s.RestoreTask(ctx, u.ID, was.ID, time.Now().Add(time.Hour))
	wantCode(t, err, authdash.CodeNotFound)
	// Refusing changed nothing: within the window it still works.
	if _, _, err := s.RestoreTask(ctx, u.ID, was.ID, time.Now().Add(-time.Hour)); err != nil {
		t.Errorf("restore within the window after one past it: %v", err)
	}
}

func testRestoreErrContentPurged(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	j := mustJanitor(t, s)
	u := mustUser(t, s, "ann")
	was, del := deleted(t, s, u.ID)
	// A purge bounded before the deletion leaves it restorable.
	if n, err := j.PurgeDeletedContent(ctx, del.At.Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("purging content deleted over an hour before = %d, %v; want 0", n, err)
	}
	n, err := j.PurgeDeletedContent(ctx, del.At.Add(time.Millisecond))
	mustOK(t, err)
	if n != 1 {
		t.Errorf("PurgeDeletedContent cleared %d tombstones, want 1", n)
	}
	_, _, err = s.RestoreTask(ctx, u.ID, was.ID, anyTime)
	wantCode(t, err, authdash.CodeNotFound)
	// The tombstone stays in the log: a client that was away still
	// learns of the deletion.
	evs, _, ok, err := s.ChangesSince(ctx, u.ID, 0, 100)
	mustOK(t, err)
	if !ok || len(evs) != 1 || evs[0].TaskID != was.ID || evs[0].Kind != authdash.EventTaskDeleted || evs[0].Seq != del.Seq {
		t.Errorf("after clearing the content ChangesSince(0) = %+v, %v; want the deletion of %s", evs, ok, was.ID)
	}
	if n, err := j.PurgeDeletedContent(ctx, del.At.Add(time.Millisecond)); err != nil || n != 0 {
		t.Errorf("a second purge cleared %d, %v; want 0", n, err)
	}
}

func testRestoreConcurrentRestoreOneWins(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	was, _ := deleted(t, s, u.ID)
	const writers = 6
	var wg sync.WaitGroup
	errs := make([]error, writers)
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			_, _, errs[i] = s.RestoreTask(ctx, u.ID, was.ID, anyTime)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch authdash.ErrorCodeOf(err) {
		case "":
			won++
		case authdash.CodeConflict:
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if won != 1 || countTasks(t, s, u.ID) != 1 {
		t.Errorf("%d restores won, %d tasks; want exactly one", won, countTasks(t, s, u.ID))
	}
}

func testRestoreErrCancelledContext(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	was, _ := deleted(t, s, u.ID)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.RestoreTask(cctx, u.ID, was.ID, anyTime); err == nil || !isCanceled(err) {
		t.Errorf("RestoreTask with a cancelled context: err = %v, want cancellation", err)
	}
	if _, err := s.FindTask(ctx, u.ID, was.ID); authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
		t.Errorf("a cancelled restore was applied: %v", err)
	}
}
