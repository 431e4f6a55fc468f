package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/store/sqlite"
	"github.com/authdash/authdash/store/storetest"
)

// mustOpen opens a database file in a fresh temp dir, closed at cleanup.
func mustOpen(tb testing.TB) (*sqlite.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "authdash.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, path
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) authdash.Store {
		db, _ := mustOpen(t)
		return db
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authdash.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, authdash.NewUser{Email: "ann@example.com", Name: "Ann", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	task, _, err := db.CreateTask(ctx, u.ID, authdash.TaskDraft{Title: "kept", Status: "todo", Priority: "low", Tags: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening runs the migrations again; they must be no-ops.
	for range 2 {
		db, err = sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.FindTask(ctx, u.ID, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "kept" || got.Version != 1 || len(got.Tags) != 1 {
			t.Errorf("after reopen: %+v", got)
		}
		_, ev, err := db.CreateTask(ctx, u.ID, authdash.TaskDraft{Title: "more", Status: "todo", Priority: "low"})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Seq < 2 {
			t.Errorf("Seq restarted: %d", ev.Seq)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTwoHandlesOneFile stands in for two processes sharing one file: each
// handle has its own connections, so only SQLite's locking serialises them.
func TestTwoHandlesOneFile(t *testing.T) {
	ctx := context.Background()
	a, path := mustOpen(t)
	b, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	u, err := a.CreateUser(ctx, authdash.NewUser{Email: "ann@example.com", Name: "Ann", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	errs := make(chan error, 2*n)
	for _, db := range []*sqlite.DB{a, b} {
		go func() {
			for range n {
				_, _, err := db.CreateTask(ctx, u.ID, authdash.TaskDraft{Title: "t", Status: "todo", Priority: "low"})
				errs <- err
			}
		}()
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	evs, head, ok, err := b.ChangesSince(ctx, u.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !ok || head != 2*n || len(evs) != 2*n {
		t.Fatalf("head %d, %d events, ok %v; want %d without gaps", head, len(evs), ok, 2*n)
	}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has Seq %d", i, ev.Seq)
		}
	}
}

func TestPurgeTombstones(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpen(t)
	u, err := db.CreateUser(ctx, authdash.NewUser{Email: "ann@example.com", Name: "Ann", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	var tasks []*authdash.Task
	for range 3 {
		task, _, err := db.CreateTask(ctx, u.ID, authdash.TaskDraft{Title: "t", Status: "todo", Priority: "low"})
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, task)
	}
	ev, err := db.DeleteTask(ctx, u.ID, tasks[0].ID, 0) // seq 4
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.PurgeTombstones(ctx, ev.At) // nothing older than the delete itself
	if err != nil || n != 0 {
		t.Fatalf("PurgeTombstones before = %d, %v", n, err)
	}
	n, err = db.PurgeTombstones(ctx, ev.At.Add(time.Millisecond))
	if err != nil || n != 1 {
		t.Fatalf("PurgeTombstones = %d, %v; want 1", n, err)
	}
	for _, c := range []struct {
		since int64
		ok    bool
	}{{0, false}, {3, false}, {4, true}} {
		_, _, ok, err := db.ChangesSince(ctx, u.ID, c.since, 100)
		if err != nil {
			t.Fatal(err)
		}
		if ok != c.ok {
			t.Errorf("ChangesSince(%d) ok = %v after purging seq 4, want %v", c.since, ok, c.ok)
		}
	}
}

// TestGroupCommitIsolatesWrites runs many writes at once so they share
// transactions, some failing and some cancelled: each must succeed or fail
// on its own.
func TestGroupCommitIsolatesWrites(t *testing.T) {
	ctx := context.Background()
	db, _ := mustOpen(t)
	const n = 60
	type result struct {
		i   int
		err error
	}
	results := make(chan result, n)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for i := range n {
		go func() {
			c := ctx
			if i%10 == 9 {
				c = cancelled
			}
			// Pairs share an email: one of each pair must conflict.
			_, err := db.CreateUser(c, authdash.NewUser{Email: fmt.Sprintf("u%d@example.com", i/2), Name: "U", PasswordHash: "h"})
			results <- result{i, err}
		}()
	}
	created := map[int]int{}
	for range n {
		r := <-results
		switch {
		case r.i%10 == 9:
			if r.err == nil {
				t.Errorf("write %d with a cancelled context succeeded", r.i)
			}
		case r.err == nil:
			created[r.i/2]++
		case authdash.ErrorCodeOf(r.err) != authdash.CodeConflict:
			t.Errorf("write %d: %v", r.i, r.err)
		}
	}
	for pair := range n / 2 {
		if created[pair] > 1 {
			t.Errorf("email u%d created %d times", pair, created[pair])
		}
		_, _, err := db.FindLogin(ctx, fmt.Sprintf("u%d@example.com", pair))
		if (created[pair] == 1) != (err == nil) {
			t.Errorf("u%d: created %d times, FindLogin err %v", pair, created[pair], err)
		}
	}
}

func TestCloseFailsLaterWrites(t *testing.T) {
	db, _ := mustOpen(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err := db.CreateUser(context.Background(), authdash.NewUser{Email: "a@example.com", Name: "A", PasswordHash: "h"})
	if err == nil {
		t.Fatal("write after Close succeeded")
	}
}

// TestChangesSinceBurstOnColdStore is a burst of resumes right after start,
// before any statement is cached: more callers than readers must not wait on
// each other (each once held a reader while asking the pool for another).
func TestChangesSinceBurstOnColdStore(t *testing.T) {
	db, _ := mustOpen(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	u, err := db.CreateUser(ctx, authdash.NewUser{Email: "burst@example.com", Name: "B", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateTask(ctx, u.ID, authdash.TaskDraft{Title: "t", Status: authdash.StatusTodo, Priority: authdash.PriorityLow, Tags: []string{}}); err != nil {
		t.Fatal(err)
	}
	const callers = 32
	errs := make(chan error, callers)
	start := make(chan struct{})
	for range callers {
		go func() {
			<-start
			evs, head, ok, err := db.ChangesSince(ctx, u.ID, 0, 100)
			if err == nil && (!ok || head != 1 || len(evs) != 1) {
				err = fmt.Errorf("ChangesSince = %d events, head %d, ok %v", len(evs), head, ok)
			}
			errs <- err
		}()
	}
	close(start)
	for range callers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestConcurrentOpenFreshFile opens one new file from several handles at
// once, as replicas sharing a volume do on first start. Switching a fresh
// file to WAL takes an exclusive lock, and SQLite answers a lock upgrade
// that could deadlock with SQLITE_BUSY at once rather than waiting out the
// busy timeout; every Open must still succeed.
func TestConcurrentOpenFreshFile(t *testing.T) {
	ctx := context.Background()
	for round := range 20 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("fresh%d.db", round))
		const n = 6
		dbs := make(chan *sqlite.DB, n)
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				db, err := sqlite.Open(ctx, path)
				if err != nil {
					errs <- err
					return
				}
				dbs <- db
			}()
		}
		close(start)
		for range n {
			select {
			case err := <-errs:
				t.Fatalf("round %d: %v", round, err)
			case db := <-dbs:
				t.Cleanup(func() { db.Close() })
			}
		}
	}
}
