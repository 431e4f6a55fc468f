package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/testkit"
)

// TestMigrateEmailKeys opens a database made before migration 10, whose
// accounts were kept apart by lower-cased address only: look-alikes of one
// address could each have an account. Every account gets its key; of two
// that share one, the account whose address is already written the way
// people type it keeps it (even when younger), the other is logged and
// kept, unreachable by address, never merged.
func TestMigrateEmailKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	// The schema as version 9 left it: made now, with migration 10 undone
	// (a fresh store cannot be made at 9 without the functions Open
	// registers).
	cur, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	cur.Close()
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`DROP INDEX users_email_key`, `ALTER TABLE users DROP COLUMN email_key`} {
		if _, err := old.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	accounts := []struct {
		id, email string
		created   int
	}{
		{newID(), "user@example.com", 2000},
		{newID(), "ｕｓｅｒ@example.com", 1000}, // older, a look-alike
		{newID(), "straße@example.de", 1000},
		{newID(), "strasse@example.de", 3000},
		{newID(), "ﬁona@example.com", 1000}, // alone: keyed fiona@
		{newID(), "plain@example.com", 1000},
	}
	stmts := []string{`PRAGMA user_version = 9`}
	for _, a := range accounts {
		stmts = append(stmts, `INSERT INTO users (id, email, name, password_hash, created_ms, updated_ms, version)
			VALUES ('`+a.id+`', '`+a.email+`', 'N', 'h-`+a.id+`', `+itoa(a.created)+`, 0, 1)`)
	}
	for _, s := range stmts {
		if _, err := old.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	logs := &testkit.Logs{}
	db, err := Open(ctx, path, WithLog(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ spelling, want string }{
		{"USER@example.com", accounts[0].id},
		{"ｕｓｅｒ＠example.com", accounts[0].id},
		{"Straße@example.de", accounts[3].id},
		{"fiona@example.com", accounts[4].id},
		{"plain@example.com", accounts[5].id},
	} {
		u, _, err := db.FindLogin(ctx, tt.spelling)
		if err != nil || string(u.ID) != tt.want {
			t.Errorf("FindLogin(%q) = %v, %v; want %s", tt.spelling, u, err, tt.want)
		}
	}
	// The accounts that lost their key are still there, and reported.
	for _, lost := range []int{1, 2} {
		a := accounts[lost]
		if u, err := db.FindUser(ctx, authdash.UserID(a.id)); err != nil || u.Email != a.email {
			t.Errorf("account %s after the migration: %v, %v", a.email, u, err)
		}
		if !strings.Contains(logs.String(), "user="+a.id) {
			t.Errorf("collision of %s not logged:\n%s", a.email, logs)
		}
	}
	if n := logs.Count("level=WARN"); n != 2 {
		t.Errorf("%d warnings, want 2:\n%s", n, logs)
	}
	_, err = db.CreateUser(ctx, authdash.NewUser{Email: "ＰＬＡＩＮ@example.com", Name: "N", PasswordHash: "h"})
	if authdash.ErrorCodeOf(err) != authdash.CodeConflict {
		t.Errorf("a look-alike of a migrated address: %v, want conflict", err)
	}
	db.Close()

	// Once only: opening again finds nothing to do.
	before := logs.Count("level=WARN")
	db, err = Open(ctx, path, WithLog(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if logs.Count("level=WARN") != before {
		t.Errorf("the migration ran again:\n%s", logs)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
