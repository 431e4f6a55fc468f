package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// TestCommitBatch drives the group commit directly with batches whose
// writes fail in each way a write can.
func TestCommitBatch(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	insert := func(email string) func(*wtx) error {
		return func(tx *wtx) error {
			_, err := tx.exec(`INSERT INTO users (id, email, name, password_hash, created_ms, updated_ms, version)
				VALUES (?, ?, 'n', 'h', 0, 0, 1)`, newID(), email)
			return err
		}
	}
	type write struct {
		ctx     context.Context
		fn      func(*wtx) error
		wantErr bool
		email   string // must exist afterwards iff !wantErr
	}
	tests := []struct {
		name   string
		writes []write
	}{
		{"OK", []write{
			{ctx, insert("a@x.io"), false, "a@x.io"},
			{ctx, insert("b@x.io"), false, "b@x.io"},
		}},
		{"CleanFailureKeepsOthers", []write{
			{ctx, insert("a@x.io"), false, "a@x.io"},
			{ctx, func(*wtx) error { return authdash.Errorf(authdash.CodeNotFound, "no") }, true, ""},
			{ctx, insert("a@x.io"), true, ""}, // a UNIQUE violation is undone by SQLite itself
			{ctx, insert("c@x.io"), false, "c@x.io"},
		}},
		{"PartialFailureReruns", []write{
			{ctx, insert("a@x.io"), false, "a@x.io"},
			{ctx, func(tx *wtx) error {
				if err := insert("partial@x.io")(tx); err != nil {
					return err
				}
				return boom
			}, true, "partial@x.io"},
			{ctx, insert("c@x.io"), false, "c@x.io"},
		}},
		{"DomainErrorAfterWriteReruns", []write{
			{ctx, insert("a@x.io"), false, "a@x.io"},
			{ctx, func(tx *wtx) error {
				if err := insert("half@x.io")(tx); err != nil {
					return err
				}
				return authdash.Errorf(authdash.CodeConflict, "late")
			}, true, "half@x.io"},
			{ctx, insert("c@x.io"), false, "c@x.io"},
		}},
		{"CancelledBeforeStart", []write{
			{cancelled, insert("gone@x.io"), true, "gone@x.io"},
			{ctx, insert("b@x.io"), false, "b@x.io"},
		}},
		{"AloneFailing", []write{
			{ctx, func(tx *wtx) error {
				if err := insert("alone@x.io")(tx); err != nil {
					return err
				}
				return boom
			}, true, "alone@x.io"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(ctx, filepath.Join(t.TempDir(), "batch.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			batch := make([]*writeReq, len(tt.writes))
			for i, w := range tt.writes {
				batch[i] = &writeReq{ctx: w.ctx, fn: w.fn, done: make(chan error, 1)}
			}
			// The writer goroutine is idle, so the connection is free.
			db.commit(batch)
			for i, w := range tt.writes {
				err := <-batch[i].done
				if (err != nil) != w.wantErr {
					t.Errorf("write %d: err = %v, want error %v", i, err, w.wantErr)
				}
				if w.email == "" {
					continue
				}
				var n int
				if err := db.r.QueryRow(`SELECT count(*) FROM users WHERE email = ?`, w.email).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{false: 1, true: 0}[w.wantErr]; n != want {
					t.Errorf("write %d: %d rows with %s, want %d", i, n, w.email, want)
				}
			}
			var n int
			if err := db.r.QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, w := range tt.writes {
				if !w.wantErr {
					want++
				}
			}
			if n != want {
				t.Errorf("%d users, want %d", n, want)
			}
		})
	}
}

// TestSyncFull checks that WithSyncFull reaches every connection that can
// commit or checkpoint (PRAGMA synchronous: 1 NORMAL, 2 FULL).
func TestSyncFull(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		opts []Option
		want int
	}{
		{"Default", nil, 1},
		{"Full", []Option{WithSyncFull()}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for name, pool := range map[string]interface {
				QueryRowContext(context.Context, string, ...any) *sql.Row
			}{"writer": db.w, "readers": db.r, "checkpointer": db.ckpt} {
				var got int
				if err := pool.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Errorf("%s: synchronous = %d, want %d", name, got, tt.want)
				}
			}
		})
	}
}

// TestWALBounded checks that a run of writes as fast as one caller can,
// each a commit of its own (some 50 pages each), keeps the WAL file within
// walAutoCheckpoint+walSlack pages: the checkpointer (or, when it falls
// behind, the writer's own checkpoint) copies the pages back and the WAL
// starts again from its beginning. Without checkpoints it grows by every
// commit, past the bound after about 600 writes.
func TestWALBounded(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	owner := mustUser(t, db, "owner@example.com")
	var path string
	if err := db.r.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		t.Fatal(err)
	}
	var pageSize int64
	if err := db.r.QueryRow(`PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	// The WAL's header, then each page behind a header of its own.
	bound := 32 + (walAutoCheckpoint+walSlack)*(24+pageSize)
	var longest int64
	const writes = 2000
	for i := range writes {
		_, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: fmt.Sprintf("task %d of a long run", i),
			Description: "with a description", Status: authdash.StatusTodo, Priority: authdash.PriorityLow, Tags: []string{"a", "b"}})
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		longest = max(longest, fi.Size())
		if fi.Size() > bound {
			t.Fatalf("after %d writes the WAL is %d bytes, past the bound of %d", i+1, fi.Size(), bound)
		}
	}
	t.Logf("%d writes: the WAL file reached %.1f MiB (bound %.1f MiB)", writes, float64(longest)/(1<<20), float64(bound)/(1<<20))
}

// TestCheckpointStartsWALAgain checks that a checkpointer's tick lets the
// next commit start the WAL from its beginning even when a write was under
// way while it copied the WAL back: SQLite restarts the WAL only in a
// transaction that began with every frame copied back, which under a
// steady stream of writes a checkpoint off the write path never arranged,
// so the WAL grew until the writer's own checkpoint (walAutoCheckpoint)
// ran inside a commit.
func TestCheckpointStartsWALAgain(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	owner := mustUser(t, db, "owner@example.com")
	create := func(title string) func(*wtx) error {
		return func(tx *wtx) error {
			at := db.now()
			task := &authdash.Task{ID: authdash.TaskID(newID()), Title: title, Status: authdash.StatusTodo,
				Priority: authdash.PriorityLow, Tags: []string{}, CreatedAt: at, UpdatedAt: at, Version: 1}
			seq, err := nextSeq(tx, owner)
			if err != nil {
				return err
			}
			return insertTaskRow(tx, owner, task, seq)
		}
	}
	for i := range 20 {
		if err := db.write(ctx, create(fmt.Sprintf("before %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	frames := func() int {
		var busy, log, done int
		if err := db.ckpt.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
			t.Fatal(err)
		}
		return log
	}
	// A write under way (its transaction begun) while the tick copies the
	// WAL back.
	held, release := make(chan struct{}), make(chan struct{})
	wrote := make(chan error, 1)
	go func() {
		wrote <- db.write(ctx, func(tx *wtx) error {
			if err := create("under way")(tx); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	before := frames()
	ticked := make(chan struct{})
	go func() { db.checkpointTick(ctx); close(ticked) }()
	close(release)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	<-ticked
	if err := db.write(ctx, create("after")); err != nil {
		t.Fatal(err)
	}
	if after := frames(); after >= before {
		t.Errorf("the WAL holds %d frames after a tick and a write, %d before: it did not start again", after, before)
	}
}

// TestCheckpointLeavesWriterLittle checks that the checkpointer's pass in
// the writer goroutine, which every write waits behind, copies only a few
// frames: the frames committed during its passes off the write path are
// copied by another such pass first. With one pass off the write path the
// writer's pass copied the frames of the whole of it, 15-30 ms twice a
// second under sustained creates.
func TestCheckpointLeavesWriterLittle(t *testing.T) {
	ctx := context.Background()
	var db *DB
	var owner authdash.UserID
	writing := false
	// After the first pass off the write path, commits that write some
	// thousand frames, as sustained writes do while a pass runs.
	afterPass := func(pass int) {
		if !writing || pass != 0 {
			return
		}
		for i := range 40 {
			if _, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: fmt.Sprintf("during %d", i),
				Description: strings.Repeat(fmt.Sprintf("words of task %d ", i), 20),
				Status:      authdash.StatusTodo, Priority: authdash.PriorityLow}); err != nil {
				t.Error(err)
			}
		}
	}
	db = openTemp(t, func(db *DB) {
		db.checkpointEvery = time.Hour // the test's ticks only
		db.afterPass = afterPass
	})
	owner = mustUser(t, db, "owner@example.com")
	for i := range 20 {
		if _, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: fmt.Sprintf("before %d", i), Status: authdash.StatusTodo, Priority: authdash.PriorityLow}); err != nil {
			t.Fatal(err)
		}
	}
	writing = true
	db.checkpointTick(ctx)
	writing = false
	var busy, log, done int
	if err := db.ckpt.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
		t.Fatal(err)
	}
	if got := db.writerPassFrames.Load(); got >= ckptFew {
		t.Errorf("the pass in the writer goroutine copied %d frames, want fewer than %d", got, ckptFew)
	}
	if done != log {
		t.Errorf("after the tick %d of the WAL's %d frames are copied back, want all", done, log)
	}
}
