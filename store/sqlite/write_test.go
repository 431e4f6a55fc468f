package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

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
