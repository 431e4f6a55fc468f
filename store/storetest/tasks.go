package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func testTaskCreateOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	due := time.Date(2030, 5, 17, 9, 30, 0, 0, time.UTC)
	d := authdash.TaskDraft{Title: " Write report ", Description: "Q3 numbers", Priority: authdash.PriorityHigh, DueDate: &due, Tags: []string{"Work", "q3"}}
	d.Normalize()
	before := time.Now()
	task, ev, err := s.CreateTask(ctx, u.ID, d)
	after := time.Now()
	mustOK(t, err)
	want := &authdash.Task{ID: task.ID, Title: "Write report", Description: "Q3 numbers", Status: authdash.StatusTodo,
		Priority: authdash.PriorityHigh, DueDate: &due, Tags: []string{"Work", "q3"},
		CreatedAt: task.CreatedAt, UpdatedAt: task.CreatedAt, Version: 1}
	if task.ID == "" {
		t.Fatal("no ID")
	}
	if diff := taskDiff(task, want); diff != "" {
		t.Errorf("created: %s", diff)
	}
	wantStamp(t, "CreatedAt", task.CreatedAt, before, after)
	if ev.Kind != authdash.EventTaskCreated || ev.Owner != u.ID || ev.Seq <= 0 || ev.TaskID != task.ID ||
		ev.Version != 1 || ev.Task == nil || !ev.At.Equal(task.CreatedAt) {
		t.Fatalf("event %+v", ev)
	}
	if diff := taskDiff(ev.Task, want); diff != "" {
		t.Errorf("event task: %s", diff)
	}
	got, err := s.FindTask(ctx, u.ID, task.ID)
	mustOK(t, err)
	if diff := taskDiff(got, want); diff != "" {
		t.Errorf("found: %s", diff)
	}

	plain := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "plain"})
	got, err = s.FindTask(ctx, u.ID, plain.ID)
	mustOK(t, err)
	if got.DueDate != nil || got.Tags == nil || len(got.Tags) != 0 || got.Description != "" {
		t.Errorf("plain task read back as %+v", got)
	}
	if plain.ID == task.ID {
		t.Error("two tasks share an ID")
	}
}

func testTaskCreateErrUserNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	for _, id := range malformedIDs {
		_, _, err := s.CreateTask(ctx, authdash.UserID(id), draft("orphan"))
		wantCode(t, err, authdash.CodeNotFound)
	}
	createForMissingOwner(t, s, missingUserID(t, s), mustUser(t, s, "bob").ID)
}

func testTaskFindErrNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	mustTask(t, s, u.ID, authdash.TaskDraft{Title: "exists"})
	for _, id := range append(malformedIDs, string(missingTaskID(t, s, u.ID))) {
		_, err := s.FindTask(ctx, u.ID, authdash.TaskID(id))
		wantCode(t, err, authdash.CodeNotFound)
		_, _, err = s.UpdateTask(ctx, u.ID, authdash.TaskID(id), authdash.TaskPatch{Title: ptr("x")}, 0)
		wantCode(t, err, authdash.CodeNotFound)
		_, err = s.DeleteTask(ctx, u.ID, authdash.TaskID(id), 0)
		wantCode(t, err, authdash.CodeNotFound)
	}
}

func testTaskOwnerIsolation(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann := mustUser(t, s, "ann")
	bob := mustUser(t, s, "bob")
	task := mustTask(t, s, ann.ID, authdash.TaskDraft{Title: "secret plan", Tags: []string{"private"}})

	_, err := s.FindTask(ctx, bob.ID, task.ID)
	wantCode(t, err, authdash.CodeNotFound)
	_, _, err = s.UpdateTask(ctx, bob.ID, task.ID, authdash.TaskPatch{Title: ptr("mine now")}, 0)
	wantCode(t, err, authdash.CodeNotFound)
	_, _, err = s.UpdateTask(ctx, bob.ID, task.ID, authdash.TaskPatch{Title: ptr("mine now")}, 99)
	wantCode(t, err, authdash.CodeNotFound)
	_, err = s.DeleteTask(ctx, bob.ID, task.ID, 0)
	wantCode(t, err, authdash.CodeNotFound)

	for _, q := range []authdash.TaskQuery{{}, {Search: "secret"}, {Tag: "private"}} {
		page, err := s.FindTasks(ctx, bob.ID, query(q))
		mustOK(t, err)
		if len(page.Items) != 0 {
			t.Errorf("bob's FindTasks(%+v) = %v", q, ids(page.Items))
		}
	}
	st, err := s.TaskStats(ctx, bob.ID)
	mustOK(t, err)
	if st != (authdash.TaskStats{}) {
		t.Errorf("bob's stats = %+v", st)
	}
	evs, head, ok, err := s.ChangesSince(ctx, bob.ID, 0, 100)
	mustOK(t, err)
	if len(evs) != 0 || head != 0 || !ok {
		t.Errorf("bob's ChangesSince = %v, %d, %v", evs, head, ok)
	}

	got, err := s.FindTask(ctx, ann.ID, task.ID)
	mustOK(t, err)
	if got.Title != "secret plan" || got.Version != 1 {
		t.Errorf("ann's task changed: %+v", got)
	}
}

func testTaskUpdateOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	due := time.Date(2031, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	task := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "draft", Description: "d", DueDate: &due, Tags: []string{"a"}})

	p := authdash.TaskPatch{Title: ptr("final"), Status: ptr(authdash.StatusDone), Tags: &[]string{"B", "c"}}
	p.Normalize()
	created := headOf(t, s, u.ID)
	before := time.Now()
	got, ev, err := s.UpdateTask(ctx, u.ID, task.ID, p, task.Version)
	after := time.Now()
	mustOK(t, err)
	want := *task
	want.Title, want.Status, want.Tags, want.Version, want.UpdatedAt = "final", authdash.StatusDone, []string{"B", "c"}, 2, got.UpdatedAt
	if diff := taskDiff(got, &want); diff != "" {
		t.Errorf("updated: %s", diff)
	}
	wantStamp(t, "UpdatedAt", got.UpdatedAt, before, after)
	if ev.Kind != authdash.EventTaskUpdated || ev.Owner != u.ID || ev.Seq <= created || ev.TaskID != task.ID || ev.Version != 2 ||
		ev.Task == nil || !ev.At.Equal(got.UpdatedAt) {
		t.Fatalf("event %+v", ev)
	}
	if diff := taskDiff(ev.Task, &want); diff != "" {
		t.Errorf("event task: %s", diff)
	}
	found, err := s.FindTask(ctx, u.ID, task.ID)
	mustOK(t, err)
	if diff := taskDiff(found, &want); diff != "" {
		t.Errorf("found: %s", diff)
	}
	page, err := s.FindTasks(ctx, u.ID, query(authdash.TaskQuery{Tag: "a"}))
	mustOK(t, err)
	if len(page.Items) != 0 {
		t.Errorf("old tag still matches")
	}
	page, err = s.FindTasks(ctx, u.ID, query(authdash.TaskQuery{Tag: "b"}))
	mustOK(t, err)
	if len(page.Items) != 1 {
		t.Errorf("new tag does not match")
	}

	for range 3 { // so that a store may look the term up in an index
		mustTask(t, s, u.ID, authdash.TaskDraft{Title: "filler"})
	}
	for _, c := range []struct {
		search string
		want   int
	}{{"final", 1}, {"draft", 0}, {"FINAL", 1}} {
		page, err = s.FindTasks(ctx, u.ID, query(authdash.TaskQuery{Search: c.search}))
		mustOK(t, err)
		if len(page.Items) != c.want {
			t.Errorf("search %q after the title changed finds %d, want %d", c.search, len(page.Items), c.want)
		}
	}

	// Clearing the due date, unconditionally.
	got, _, err = s.UpdateTask(ctx, u.ID, task.ID, authdash.TaskPatch{ClearDueDate: true}, 0)
	mustOK(t, err)
	if got.DueDate != nil || got.Version != 3 || got.Title != "final" {
		t.Errorf("after clearing due: %+v", got)
	}
	found, err = s.FindTask(ctx, u.ID, task.ID)
	mustOK(t, err)
	if found.DueDate != nil {
		t.Errorf("due date still stored: %v", found.DueDate)
	}
}

func testTaskUpdateErrStale(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	task := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "v1"})
	for _, v := range []int64{2, 7, -1} {
		_, _, err := s.UpdateTask(ctx, u.ID, task.ID, authdash.TaskPatch{Title: ptr("x")}, v)
		wantCode(t, err, authdash.CodePreconditionFailed)
		_, err = s.DeleteTask(ctx, u.ID, task.ID, v)
		wantCode(t, err, authdash.CodePreconditionFailed)
	}
	_, _, err := s.UpdateTask(ctx, u.ID, task.ID, authdash.TaskPatch{Title: ptr("v2")}, 1)
	mustOK(t, err)
	_, _, err = s.UpdateTask(ctx, u.ID, task.ID, authdash.TaskPatch{Title: ptr("v2 again")}, 1)
	wantCode(t, err, authdash.CodePreconditionFailed)
	got, err := s.FindTask(ctx, u.ID, task.ID)
	mustOK(t, err)
	if got.Title != "v2" || got.Version != 2 {
		t.Errorf("after stale writes: %+v", got)
	}
	// Failed writes leave the log alone.
	head := headOf(t, s, u.ID)
	for _, v := range []int64{1, 3} {
		_, _, err := s.UpdateTask(ctx, u.ID, task.ID, authdash.TaskPatch{Title: ptr("x")}, v)
		wantCode(t, err, authdash.CodePreconditionFailed)
	}
	if after := headOf(t, s, u.ID); after != head {
		t.Errorf("head moved from %d to %d on stale writes", head, after)
	}
	_, ev, err := s.UpdateTask(ctx, u.ID, task.ID, authdash.TaskPatch{Title: ptr("v3")}, 2)
	mustOK(t, err)
	if ev.Seq <= head || headOf(t, s, u.ID) != ev.Seq {
		t.Errorf("Seq = %d after head %d, want above it and the new head", ev.Seq, head)
	}
}

func testTaskConcurrentUpdateOneWins(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	task := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "contested"})
	const rounds, writers = 5, 6
	version := task.Version
	for round := range rounds {
		var wg sync.WaitGroup
		errs := make([]error, writers)
		start := make(chan struct{})
		for i := range writers {
			wg.Go(func() {
				<-start
				title := "writer " + string(rune('A'+i))
				_, _, errs[i] = s.UpdateTask(ctx, u.ID, task.ID, authdash.TaskPatch{Title: &title}, version)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch authdash.ErrorCodeOf(err) {
			case "":
				won++
			case authdash.CodePreconditionFailed:
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d writers won, want exactly 1", round, won)
		}
		version++
	}
	got, err := s.FindTask(ctx, u.ID, task.ID)
	mustOK(t, err)
	if got.Version != version {
		t.Errorf("version = %d, want %d", got.Version, version)
	}
}

func testTaskDeleteOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	task := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "bye", Tags: []string{"t"}})
	keep := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "stay", Tags: []string{"t"}})
	created := headOf(t, s, u.ID)
	before := time.Now()
	ev, err := s.DeleteTask(ctx, u.ID, task.ID, 1)
	after := time.Now()
	mustOK(t, err)
	if ev.Kind != authdash.EventTaskDeleted || ev.Owner != u.ID || ev.Seq <= created || ev.TaskID != task.ID || ev.Task != nil || ev.Version <= task.Version {
		t.Errorf("event %+v", ev)
	}
	wantStamp(t, "At", ev.At, before, after)
	_, err = s.FindTask(ctx, u.ID, task.ID)
	wantCode(t, err, authdash.CodeNotFound)
	_, err = s.DeleteTask(ctx, u.ID, task.ID, 0)
	wantCode(t, err, authdash.CodeNotFound)
	page, err := s.FindTasks(ctx, u.ID, query(authdash.TaskQuery{Tag: "t"}))
	mustOK(t, err)
	if len(page.Items) != 1 || page.Items[0].ID != keep.ID {
		t.Errorf("after delete, tag t lists %v", ids(page.Items))
	}
	evs, head, ok, err := s.ChangesSince(ctx, u.ID, created, 10)
	mustOK(t, err)
	if !ok || head != ev.Seq || len(evs) != 1 || evs[0].Kind != authdash.EventTaskDeleted || evs[0].TaskID != task.ID ||
		evs[0].Seq != ev.Seq || evs[0].Version != ev.Version || !evs[0].At.Equal(ev.At) {
		t.Errorf("tombstone: ChangesSince(%d) = %+v, %d, %v", created, evs, head, ok)
	}
}

func testTaskSeqPerOwner(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann := mustUser(t, s, "ann")
	bob := mustUser(t, s, "bob")
	var annSeq, bobSeq int64
	check := func(who string, ev authdash.Event, last *int64) {
		t.Helper()
		if ev.Seq <= *last {
			t.Fatalf("%s: Seq = %d after %d, want it to rise", who, ev.Seq, *last)
		}
		*last = ev.Seq
	}
	a1, ev, err := s.CreateTask(ctx, ann.ID, draft("a1"))
	mustOK(t, err)
	check("ann create", ev, &annSeq)
	b1, ev, err := s.CreateTask(ctx, bob.ID, draft("b1"))
	mustOK(t, err)
	check("bob create", ev, &bobSeq)
	a2, ev, err := s.CreateTask(ctx, ann.ID, draft("a2"))
	mustOK(t, err)
	check("ann create", ev, &annSeq)
	_, ev, err = s.UpdateTask(ctx, ann.ID, a1.ID, authdash.TaskPatch{Status: ptr(authdash.StatusDone)}, 0)
	mustOK(t, err)
	check("ann update", ev, &annSeq)
	ev, err = s.DeleteTask(ctx, ann.ID, a2.ID, 0)
	mustOK(t, err)
	check("ann delete", ev, &annSeq)
	_, ev, err = s.UpdateTask(ctx, bob.ID, b1.ID, authdash.TaskPatch{Title: ptr("b1'")}, 1)
	mustOK(t, err)
	check("bob update", ev, &bobSeq)
	_, ev, err = s.CreateTask(ctx, ann.ID, draft("a3"))
	mustOK(t, err)
	check("ann create", ev, &annSeq)

	for _, c := range []struct {
		user authdash.UserID
		want int64
	}{{ann.ID, annSeq}, {bob.ID, bobSeq}} {
		_, head, ok, err := s.ChangesSince(ctx, c.user, 0, 100)
		mustOK(t, err)
		if !ok || head != c.want {
			t.Errorf("head = %d, %v, want %d", head, ok, c.want)
		}
	}
}

func testTaskStats(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	other := mustUser(t, s, "bob")
	st, err := s.TaskStats(ctx, u.ID)
	mustOK(t, err)
	if st != (authdash.TaskStats{}) {
		t.Errorf("empty stats = %+v", st)
	}
	for i, status := range []authdash.TaskStatus{"todo", "todo", "todo", "in_progress", "in_progress", "done"} {
		mustTask(t, s, u.ID, authdash.TaskDraft{Title: "t" + string(rune('a'+i)), Status: status})
	}
	mustTask(t, s, other.ID, authdash.TaskDraft{Title: "other", Status: authdash.StatusDone})
	gone := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "gone", Status: authdash.StatusDone})
	_, err = s.DeleteTask(ctx, u.ID, gone.ID, 0)
	mustOK(t, err)
	st, err = s.TaskStats(ctx, u.ID)
	mustOK(t, err)
	if want := (authdash.TaskStats{Todo: 3, InProgress: 2, Done: 1, Total: 6}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
}

func testTaskErrCancelledContext(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	task := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "x"})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	calls := map[string]func() error{
		"CreateTask": func() error { _, _, err := s.CreateTask(cctx, u.ID, draft("y")); return err },
		"FindTask":   func() error { _, err := s.FindTask(cctx, u.ID, task.ID); return err },
		"FindTasks":  func() error { _, err := s.FindTasks(cctx, u.ID, query(authdash.TaskQuery{})); return err },
		"UpdateTask": func() error {
			_, _, err := s.UpdateTask(cctx, u.ID, task.ID, authdash.TaskPatch{Title: ptr("z")}, 0)
			return err
		},
		"FindUser": func() error { _, err := s.FindUser(cctx, u.ID); return err },
	}
	for name, call := range calls {
		if err := call(); err == nil || !isCanceled(err) {
			t.Errorf("%s with a cancelled context: err = %v, want cancellation", name, err)
		}
	}
	got, err := s.FindTask(ctx, u.ID, task.ID)
	mustOK(t, err)
	if got.Version != 1 {
		t.Errorf("a cancelled update was applied: %+v", got)
	}
}

func testTaskTimesRoundTrip(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	for _, due := range []time.Time{
		time.Date(2030, 3, 4, 5, 6, 7, 891_234_567, zone),
		time.Date(1970, 1, 1, 0, 0, 0, 1_000_000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC), // the latest a task may be due

	} {
		task := mustTask(t, s, u.ID, authdash.TaskDraft{Title: "due", DueDate: &due})
		got, err := s.FindTask(ctx, u.ID, task.ID)
		mustOK(t, err)
		want := authdash.Millis(due)
		if got.DueDate == nil || !got.DueDate.Equal(want) || got.DueDate.Location() != time.UTC {
			t.Errorf("due %v read back as %v, want %v", due, got.DueDate, want)
		}
		if !got.CreatedAt.Equal(task.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt %v read back as %v", task.CreatedAt, got.CreatedAt)
		}
	}
}
