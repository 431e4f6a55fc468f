package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// janitor is what cmd/authdash's janitor asks of a store besides the
// authdash.Store interface, for the parts of it the contract covers.
// Decorators (store/instrumented) forward only the interface, so the tests
// that need it run against the stores themselves.
type janitor interface {
	PurgeIdempotencyKeys(ctx context.Context, olderThan time.Time) (int, error)
	PurgeDeletedContent(ctx context.Context, olderThan time.Time) (int, error)
}

func mustJanitor(t *testing.T, s authdash.Store) janitor {
	t.Helper()
	j, ok := s.(janitor)
	if !ok {
		t.Skipf("%T forwards only authdash.Store; the store it wraps runs this test", s)
	}
	return j
}

// once is the idempotency of a draft under key, with every recorded key
// still valid.
func once(key string, d authdash.TaskDraft) authdash.Idempotency {
	return authdash.Idempotency{Key: key, Fingerprint: d.Fingerprint(), Since: time.Now().Add(-authdash.IdempotencyKeyTTL)}
}

// countTasks is how many live tasks the owner has.
func countTasks(tb testing.TB, s authdash.Store, owner authdash.UserID) int {
	tb.Helper()
	st, err := s.TaskStats(context.Background(), owner)
	if err != nil {
		tb.Fatal(err)
	}
	return st.Total
}

// reportDraft is the draft the CreateTaskOnce tests send, normalised.
func reportDraft() authdash.TaskDraft {
	report := draft("Write report")
	report.Tags = []string{"Work"}
	report.Description = "Q3"
	return report
}

func testCreateOnceOK(t *testing.T, open Opener) {
	ctx := context.Background()
	report := reportDraft()
	s := open(t)
	u := mustUser(t, s, "ann")
	first, ev, replayed, err := s.CreateTaskOnce(ctx, u.ID, once("k-1", report), report)
	mustOK(t, err)
	if replayed || ev.Kind != authdash.EventTaskCreated || ev.TaskID != first.ID || ev.Seq <= 0 || ev.Task == nil {
		t.Fatalf("first create: replayed %v, event %+v", replayed, ev)
	}
	if first.Title != "Write report" || first.Version != 1 || len(first.Tags) != 1 {
		t.Errorf("first create = %+v", first)
	}
	head := headOf(t, s, u.ID)

	again, ev, replayed, err := s.CreateTaskOnce(ctx, u.ID, once("k-1", report), report)
	mustOK(t, err)
	if !replayed || ev != (authdash.Event{}) {
		t.Errorf("repeat: replayed %v, event %+v; want the first answer and no event", replayed, ev)
	}
	if diff := taskDiff(again, first); diff != "" {
		t.Errorf("repeat answered another task: %s", diff)
	}
	if n := countTasks(t, s, u.ID); n != 1 {
		t.Errorf("%d tasks after a repeated create, want 1", n)
	}
	if h := headOf(t, s, u.ID); h != head {
		t.Errorf("a repeat moved the change log head from %d to %d", head, h)
	}

	other, _, replayed, err := s.CreateTaskOnce(ctx, u.ID, once("k-2", report), report)
	mustOK(t, err)
	if replayed || other.ID == first.ID {
		t.Errorf("another key replayed %v, task %s (first %s)", replayed, other.ID, first.ID)
	}
}

func testCreateOnceReplayIsTheFirstAnswer(t *testing.T, open Opener) {
	ctx := context.Background()
	report := reportDraft()
	s := open(t)
	u := mustUser(t, s, "ann")
	first, _, _, err := s.CreateTaskOnce(ctx, u.ID, once("k", report), report)
	mustOK(t, err)
	_, _, err = s.UpdateTask(ctx, u.ID, first.ID, authdash.TaskPatch{Title: ptr("renamed")}, 0)
	mustOK(t, err)
	again, _, replayed, err := s.CreateTaskOnce(ctx, u.ID, once("k", report), report)
	mustOK(t, err)
	if !replayed {
		t.Fatal("not replayed after an update")
	}
	if diff := taskDiff(again, first); diff != "" {
		t.Errorf("after an update the repeat answered: %s", diff)
	}
	_, err = s.DeleteTask(ctx, u.ID, first.ID, 0)
	mustOK(t, err)
	again, _, replayed, err = s.CreateTaskOnce(ctx, u.ID, once("k", report), report)
	mustOK(t, err)
	if !replayed || again.ID != first.ID || countTasks(t, s, u.ID) != 0 {
		t.Errorf("after a delete: replayed %v, task %s, %d tasks; want the first answer and nothing created",
			replayed, again.ID, countTasks(t, s, u.ID))
	}
}

func testCreateOnceErrKeyReusedForAnotherDraft(t *testing.T, open Opener) {
	ctx := context.Background()
	report := reportDraft()
	s := open(t)
	u := mustUser(t, s, "ann")
	_, _, _, err := s.CreateTaskOnce(ctx, u.ID, once("k", report), report)
	mustOK(t, err)
	other := draft("Something else")
	_, ev, _, err := s.CreateTaskOnce(ctx, u.ID, once("k", other), other)
	wantCode(t, err, authdash.CodeIdempotencyKeyReused)
	if ev != (authdash.Event{}) || countTasks(t, s, u.ID) != 1 {
		t.Errorf("a reused key created something: event %+v, %d tasks", ev, countTasks(t, s, u.ID))
	}
}

func testCreateOnceKeysArePerOwner(t *testing.T, open Opener) {
	ctx := context.Background()
	report := reportDraft()
	s := open(t)
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	a, _, _, err := s.CreateTaskOnce(ctx, ann.ID, once("shared", report), report)
	mustOK(t, err)
	b, _, replayed, err := s.CreateTaskOnce(ctx, bob.ID, once("shared", report), report)
	mustOK(t, err)
	if replayed || b.ID == a.ID {
		t.Errorf("bob's create with ann's key: replayed %v, task %s (ann's %s)", replayed, b.ID, a.ID)
	}
	other := draft("bob's own")
	if _, _, _, err := s.CreateTaskOnce(ctx, bob.ID, once("only-ann", other), other); err != nil {
		t.Errorf("bob cannot use a key only ann used: %v", err)
	}
	if _, err := s.FindTask(ctx, bob.ID, a.ID); authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
		t.Errorf("bob finds ann's task: %v", err)
	}
}

func testCreateOnceExpiredKeyStartsAfresh(t *testing.T, open Opener) {
	ctx := context.Background()
	report := reportDraft()
	s := open(t)
	u := mustUser(t, s, "ann")
	first, _, _, err := s.CreateTaskOnce(ctx, u.ID, once("k", report), report)
	mustOK(t, err)
	later := once("k", report)
	later.Since = time.Now().Add(time.Second) // the first record has expired
	second, ev, replayed, err := s.CreateTaskOnce(ctx, u.ID, later, report)
	mustOK(t, err)
	if replayed || second.ID == first.ID || ev.Kind != authdash.EventTaskCreated {
		t.Fatalf("after expiry: replayed %v, task %s (first %s)", replayed, second.ID, first.ID)
	}
	// The key now answers with the second task.
	again, _, replayed, err := s.CreateTaskOnce(ctx, u.ID, once("k", report), report)
	mustOK(t, err)
	if !replayed || again.ID != second.ID {
		t.Errorf("repeat after the fresh start: replayed %v, task %s, want %s", replayed, again.ID, second.ID)
	}
	if n := countTasks(t, s, u.ID); n != 2 {
		t.Errorf("%d tasks, want 2", n)
	}
}

func testCreateOnceConcurrentCreatesOne(t *testing.T, open Opener) {
	ctx := context.Background()
	report := reportDraft()
	s := open(t)
	u := mustUser(t, s, "ann")
	const writers = 8
	var wg sync.WaitGroup
	tasks := make([]*authdash.Task, writers)
	fresh := make([]bool, writers)
	errs := make([]error, writers)
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			var replayed bool
			tasks[i], _, replayed, errs[i] = s.CreateTaskOnce(ctx, u.ID, once("double-click", report), report)
			fresh[i] = errs[i] == nil && !replayed
		})
	}
	close(start)
	wg.Wait()
	var id authdash.TaskID
	created := 0
	for i, err := range errs {
		switch authdash.ErrorCodeOf(err) {
		case "":
			if id != "" && tasks[i].ID != id {
				t.Errorf("writer %d got task %s, another got %s", i, tasks[i].ID, id)
			}
			id = tasks[i].ID
		case authdash.CodeConflict: // still in flight: the client retries
		default:
			t.Errorf("writer %d: %v", i, err)
		}
		if fresh[i] {
			created++
		}
	}
	if created != 1 || countTasks(t, s, u.ID) != 1 {
		t.Errorf("%d writers created, %d tasks stored; want exactly one", created, countTasks(t, s, u.ID))
	}
	// Every writer, retried after the first committed, gets its answer.
	again, _, replayed, err := s.CreateTaskOnce(ctx, u.ID, once("double-click", report), report)
	mustOK(t, err)
	if !replayed || (id != "" && again.ID != id) {
		t.Errorf("retry: replayed %v, task %s, want %s", replayed, again.ID, id)
	}
}

func testCreateOnceErrNotFound(t *testing.T, open Opener) {
	ctx := context.Background()
	report := reportDraft()
	s := open(t)
	for _, id := range malformedIDs {
		_, _, _, err := s.CreateTaskOnce(ctx, authdash.UserID(id), once("k", report), report)
		wantCode(t, err, authdash.CodeNotFound)
	}
}

func testCreateOnceErrCancelledContext(t *testing.T, open Opener) {
	ctx := context.Background()
	report := reportDraft()
	s := open(t)
	u := mustUser(t, s, "ann")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, _, err := s.CreateTaskOnce(cctx, u.ID, once("k", report), report); err == nil || !isCanceled(err) {
		t.Errorf("CreateTaskOnce with a cancelled context: err = %v, want cancellation", err)
	}
	if _, _, replayed, err := s.CreateTaskOnce(ctx, u.ID, once("k", report), report); err != nil || replayed {
		t.Errorf("after a cancelled create the key answers replayed %v, %v; want a fresh create", replayed, err)
	}
}

func testCreateOncePurgedKeyStartsAfresh(t *testing.T, open Opener) {
	ctx := context.Background()
	report := reportDraft()
	s := open(t)
	j := mustJanitor(t, s)
	u := mustUser(t, s, "ann")
	first, _, _, err := s.CreateTaskOnce(ctx, u.ID, once("k", report), report)
	mustOK(t, err)
	n, err := j.PurgeIdempotencyKeys(ctx, time.Now().Add(-time.Minute))
	mustOK(t, err)
	if n != 0 {
		t.Errorf("purging keys older than a minute removed %d", n)
	}
	if _, _, replayed, err := s.CreateTaskOnce(ctx, u.ID, once("k", report), report); err != nil || !replayed {
		t.Fatalf("a key the purge kept: replayed %v, %v", replayed, err)
	}
	n, err = j.PurgeIdempotencyKeys(ctx, time.Now().Add(time.Second))
	mustOK(t, err)
	if n != 1 {
		t.Errorf("purge removed %d keys, want 1", n)
	}
	second, _, replayed, err := s.CreateTaskOnce(ctx, u.ID, once("k", report), report)
	mustOK(t, err)
	if replayed || second.ID == first.ID {
		t.Errorf("after the purge: replayed %v, task %s (first %s)", replayed, second.ID, first.ID)
	}
}
