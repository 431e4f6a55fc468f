package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/store/sqlite"
)

func TestPurgeOnce(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.CreateUser(ctx, authdash.NewUser{Email: "j@example.com", Name: "J", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	d := authdash.TaskDraft{Title: "t"}
	d.Normalize()
	task, _, err := db.CreateTask(ctx, u.ID, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteTask(ctx, u.ID, task.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateSession(ctx, authdash.NewSession{UserID: u.ID, Device: "d", TokenHash: make([]byte, 32), ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Within retention nothing goes: a client away for a day still resumes.
	purgeOnce(ctx, db, time.Now().Add(24*time.Hour), log)
	if evs, _, ok, err := db.ChangesSince(ctx, u.ID, 0, 10); err != nil || !ok || len(evs) != 1 {
		t.Fatalf("before retention: %d events, ok %v, err %v", len(evs), ok, err)
	}

	// Past retention the tombstone and the dead session are gone, and the
	// log says it can no longer answer from the start.
	purgeOnce(ctx, db, time.Now().Add(tombstoneRetention+time.Hour), log)
	if _, _, ok, err := db.ChangesSince(ctx, u.ID, 0, 10); err != nil || ok {
		t.Fatalf("after retention: ok %v, err %v; want ok=false", ok, err)
	}
	if ss, err := db.ListSessions(ctx, u.ID); err != nil || len(ss) != 0 {
		t.Fatalf("sessions after purge = %v, %v", ss, err)
	}
}
