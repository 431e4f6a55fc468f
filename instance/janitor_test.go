package instance

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
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
	keyed := authdash.Idempotency{Key: "k", Fingerprint: d.Fingerprint()}
	first, _, _, err := db.CreateTaskOnce(ctx, u.ID, keyed, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteTask(ctx, u.ID, first.ID, 0); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tokenHash := authdash.TokenHash("a-mailed-link")
	if err := db.CreateAccountToken(ctx, authdash.AccountToken{Hash: tokenHash, Purpose: authdash.PurposeVerifyEmail, User: u.ID,
		Email: u.Email, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	tokenSays := func(now time.Time) string {
		_, err := db.UseAccountToken(ctx, tokenHash, authdash.PurposeVerifyEmail, now)
		return authdash.ErrorMessageOf(err)
	}

	// Within the restore window and the key's life nothing goes: the
	// deleted task comes back, the key still answers with its first task.
	purgeOnce(ctx, db, time.Now().Add(time.Hour), log)
	// An expired link says so for a day (then is forgotten, below).
	if got := tokenSays(time.Now().Add(time.Hour)); !strings.Contains(got, "expired") {
		t.Errorf("an hour after expiry the link says %q", got)
	}
	if _, replayed, err := createOnce(ctx, db, u.ID, keyed, d); err != nil || !replayed {
		t.Fatalf("key within its life: replayed %v, %v", replayed, err)
	}
	if _, _, err := db.RestoreTask(ctx, u.ID, first.ID, time.Time{}); err != nil {
		t.Fatalf("restore within the window: %v", err)
	}
	if _, err := db.DeleteTask(ctx, u.ID, first.ID, 0); err != nil {
		t.Fatal(err)
	}

	// Past both, the deleted content and the key are gone, but a client
	// away for a day still resumes: the tombstones stay.
	purgeOnce(ctx, db, time.Now().Add(authdash.RestoreWindow+authdash.IdempotencyKeyTTL+time.Minute), log)
	if _, _, err := db.RestoreTask(ctx, u.ID, first.ID, time.Time{}); authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
		t.Fatalf("restore after the window: %v, want not_found", err)
	}
	if got := tokenSays(time.Now()); !strings.Contains(got, "not valid") {
		t.Errorf("a day past expiry the link says %q", got)
	}
	if evs, _, ok, err := db.ChangesSince(ctx, u.ID, 0, 10); err != nil || !ok || len(evs) != 2 {
		t.Fatalf("before retention: %d events, ok %v, err %v", len(evs), ok, err)
	}
	if again, replayed, err := createOnce(ctx, db, u.ID, keyed, d); err != nil || replayed || again.ID == first.ID {
		t.Fatalf("key past its life: replayed %v, %v; want a new task", replayed, err)
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
	// Sign-in activity is kept 90 days.
	if _, err := db.RecordSignIn(ctx, u.ID, authdash.SignInEvent{At: time.Now(), Method: authdash.SignInPassword, Outcome: authdash.SignInSuccess}); err != nil {
		t.Fatal(err)
	}
	purgeOnce(ctx, db, time.Now().Add(89*24*time.Hour), log)
	if evs, err := db.SignIns(ctx, u.ID, 10); err != nil || len(evs) != 1 {
		t.Fatalf("sign-ins within 90 days = %v, %v", evs, err)
	}
	purgeOnce(ctx, db, time.Now().Add(91*24*time.Hour), log)
	if evs, err := db.SignIns(ctx, u.ID, 10); err != nil || len(evs) != 0 {
		t.Fatalf("sign-ins after 90 days = %v, %v", evs, err)
	}
}

// createOnce is CreateTaskOnce without the event.
func createOnce(ctx context.Context, db *sqlite.DB, owner authdash.UserID, k authdash.Idempotency, d authdash.TaskDraft) (*authdash.Task, bool, error) {
	t, _, replayed, err := db.CreateTaskOnce(ctx, owner, k, d)
	return t, replayed, err
}

// sweepingStore is a purger that also sweeps deleted accounts, as the
// MongoDB store does; it records what the janitor asked of it.
type sweepingStore struct {
	purgedBefore, contentBefore, keysBefore, tokensBefore, revocationsBefore, signInsBefore, challengesBefore, sweptAsOf time.Time
}

func (s *sweepingStore) PurgeSignIns(_ context.Context, before time.Time) (int, error) {
	s.signInsBefore = before
	return 0, nil
}

func (s *sweepingStore) PurgePasskeyChallenges(_ context.Context, before time.Time) (int, error) {
	s.challengesBefore = before
	return 0, nil
}

func (s *sweepingStore) PurgeRevocations(_ context.Context, before time.Time) (int, error) {
	s.revocationsBefore = before
	return 0, nil
}

func (s *sweepingStore) PurgeAccountTokens(_ context.Context, before time.Time) (int, error) {
	s.tokensBefore = before
	return 0, nil
}

func (s *sweepingStore) PurgeTombstones(_ context.Context, olderThan time.Time) (int, error) {
	s.purgedBefore = olderThan
	return 0, nil
}

func (s *sweepingStore) PurgeDeletedContent(_ context.Context, olderThan time.Time) (int, error) {
	s.contentBefore = olderThan
	return 0, nil
}

func (s *sweepingStore) PurgeIdempotencyKeys(_ context.Context, olderThan time.Time) (int, error) {
	s.keysBefore = olderThan
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
	if !s.signInsBefore.Equal(now.Add(-90 * 24 * time.Hour)) {
		t.Errorf("sign-ins purged before %v, want those older than 90 days, %v", s.signInsBefore, now.Add(-90*24*time.Hour))
	}
	if !s.challengesBefore.Equal(now) {
		t.Errorf("passkey challenges purged before %v, want those expired by now, %v", s.challengesBefore, now)
	}
	if !s.revocationsBefore.Equal(now) {
		t.Errorf("revocations purged before %v, want those expired by now, %v", s.revocationsBefore, now)
	}
	if !s.tokensBefore.Equal(now.Add(-accountTokenRetention)) {
		t.Errorf("links purged before %v, want %v", s.tokensBefore, now.Add(-accountTokenRetention))
	}
	if !s.contentBefore.Equal(now.Add(-authdash.RestoreWindow)) || !s.keysBefore.Equal(now.Add(-authdash.IdempotencyKeyTTL)) {
		t.Errorf("deleted content purged before %v, keys before %v; want %v and %v", s.contentBefore, s.keysBefore,
			now.Add(-authdash.RestoreWindow), now.Add(-authdash.IdempotencyKeyTTL))
	}
}
