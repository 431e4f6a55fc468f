package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// TestCannotWrite fills the database (SQLite's max_page_count gives the
// same SQLITE_FULL a full disk does) and checks that writes answer
// unavailable with a retry hint, reads go on, Ping fails while no write can
// succeed and passes again once one can.
func TestCannotWrite(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.CreateUser(ctx, authdash.NewUser{Email: "full@x.io", Name: "F", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := db.CreateTask(ctx, u.ID, authdash.TaskDraft{Title: "before", Status: authdash.StatusTodo, Priority: authdash.PriorityLow, Tags: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	setMaxPages := func(n int64) {
		t.Helper()
		if _, err := db.w.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.FormatInt(n, 10)); err != nil {
			t.Fatal(err)
		}
	}
	var pages int64
	if err := db.w.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	setMaxPages(pages)

	big := authdash.TaskDraft{Title: "fill", Description: strings.Repeat("x", 9000), Status: authdash.StatusTodo, Priority: authdash.PriorityLow, Tags: []string{}}
	var werr error
	for range 1000 {
		if _, _, werr = db.CreateTask(ctx, u.ID, big); werr != nil {
			break
		}
	}
	if werr == nil {
		t.Fatal("1000 creates fitted in a full database")
	}
	if code := authdash.ErrorCodeOf(werr); code != authdash.CodeUnavailable {
		t.Fatalf("write to a full database: code %q (%v), want unavailable", code, werr)
	}
	var hint interface{ RetryAfter() time.Duration }
	if !errors.As(werr, &hint) || hint.RetryAfter() < time.Second {
		t.Errorf("write to a full database carries no retry hint: %v", werr)
	}
	if err := db.Ping(ctx); authdash.ErrorCodeOf(err) != authdash.CodeUnavailable {
		t.Errorf("Ping while full: %v, want unavailable", err)
	}
	if _, err := db.FindTask(ctx, u.ID, first.ID); err != nil {
		t.Errorf("read while full: %v", err)
	}

	setMaxPages(1 << 30)
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping once there is room again: %v", err)
	}
	if _, _, err := db.CreateTask(ctx, u.ID, big); err != nil {
		t.Fatalf("write once there is room again: %v", err)
	}
	var left int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM write_probe").Scan(&left); err != nil || left != 0 {
		t.Errorf("write_probe keeps %d rows (%v)", left, err)
	}
}
