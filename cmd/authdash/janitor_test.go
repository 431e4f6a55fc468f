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

// sweepingStore is a purger that also sweeps deleted accounts, as the
// MongoDB store does; it records what the janitor asked of it.
type sweepingStore struct {
	purgedBefore, sweptAsOf time.Time
}

func (s *sweepingStore) PurgeTombstones(_ context.Context, olderThan time.Time) (int, error) {
	s.purgedBefore = olderThan
	return 0, nil
}

func (s *sweepingStore) PurgeExpiredSessions(context.Context, time.Time) (int, error) { return 0, nil }

func (s *sweepingStore) SweepDeletedAccounts(_ context.Context, asOf time.Time) (int, error) {
	s.sweptAsOf = asOf
	return 1, nil
}

func TestPurgeOnceSweepsDeletedAccounts(t *testing.T) {
	s := &sweepingStore{}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	purgeOnce(context.Background(), s, now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !s.sweptAsOf.Equal(now) || !s.purgedBefore.Equal(now.Add(-tombstoneRetention)) {
		t.Errorf("swept as of %v, purged before %v; want %v and %v", s.sweptAsOf, s.purgedBefore, now, now.Add(-tombstoneRetention))
	}
}
