package stored_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth/revocation"
	"github.com/authdash/authdash/auth/revocation/revocationtest"
	"github.com/authdash/authdash/auth/revocation/stored"
	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/store/sqlite"
)

func mustStore(t *testing.T, path string, now func() time.Time) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustList(t *testing.T, s stored.Store, now func() time.Time) *stored.List {
	t.Helper()
	l, err := stored.New(context.Background(), s, revocation.New(now), stored.Options{Poll: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestContract(t *testing.T) {
	revocationtest.Run(t, func(t *testing.T, now func() time.Time) revocationtest.List {
		return mustList(t, mustStore(t, filepath.Join(t.TempDir(), "r.db"), now), now)
	})
}

// TestRestart: what was revoked before a restart is revoked after it (the
// review's finding: without Redis, sign-out everywhere came undone).
func TestRestart(t *testing.T) {
	clk := revocationtest.NewClock()
	path := filepath.Join(t.TempDir(), "r.db")
	db := mustStore(t, path, clk.Now)
	before := mustList(t, db, clk.Now)
	start := clk.Now().Add(-time.Hour)
	if err := before.Revoke(context.Background(), authdash.Revocation{User: "u1", At: clk.Now(), Until: clk.Now().Add(15 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	clk.Add(time.Minute)
	after := mustList(t, mustStore(t, path, clk.Now), clk.Now)
	if !after.Revoked("u1", "s1", start) {
		t.Error("a revocation made before the restart is gone after it")
	}
	clk.Add(15 * time.Minute)
	if after.Revoked("u1", "s1", start) {
		t.Error("a revocation outlived its tokens")
	}
}

// TestSharedStore: two instances on one store and no Redis; what one
// revokes the other refuses after its next poll.
func TestSharedStore(t *testing.T) {
	clk := revocationtest.NewClock()
	path := filepath.Join(t.TempDir(), "r.db")
	a := mustList(t, mustStore(t, path, clk.Now), clk.Now)
	b := mustList(t, mustStore(t, path, clk.Now), clk.Now)
	start := clk.Now().Add(-time.Hour)
	if err := a.Revoke(context.Background(), authdash.Revocation{User: "u1", Session: "s1", At: clk.Now(), Until: clk.Now().Add(15 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if !a.Revoked("u1", "s1", start) {
		t.Fatal("the revoking instance does not refuse at once")
	}
	clk.Add(2 * time.Second)
	b.Poll(context.Background())
	if !b.Revoked("u1", "s1", start) {
		t.Error("the other instance does not refuse after a poll")
	}
	// Later polls read only recent revocations, yet still see new ones.
	for i := range 3 {
		clk.Add(10 * time.Minute)
		sess := authdash.SessionID("later" + string(rune('0'+i)))
		if err := a.Revoke(context.Background(), authdash.Revocation{User: "u2", Session: sess, At: clk.Now(), Until: clk.Now().Add(15 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		clk.Add(2 * time.Second)
		b.Poll(context.Background())
		if !b.Revoked("u2", sess, start) {
			t.Errorf("poll %d missed a revocation", i)
		}
	}
}

// brokenStore fails every call while down.
type brokenStore struct {
	stored.Store
	mu   sync.Mutex
	down bool
}

func (s *brokenStore) set(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }
func (s *brokenStore) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return authdash.WrapError(authdash.CodeUnavailable, errors.New("disk on fire"), "down")
	}
	return nil
}
func (s *brokenStore) SaveRevocation(ctx context.Context, r authdash.Revocation) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.SaveRevocation(ctx, r)
}
func (s *brokenStore) Revocations(ctx context.Context, since time.Time) ([]authdash.Revocation, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.Revocations(ctx, since)
}

// TestStoreDown: the instance that revokes refuses at once even when the
// save fails (and says so); polls log the outage once and its end once.
func TestStoreDown(t *testing.T) {
	clk := revocationtest.NewClock()
	log, logs := testkit.NewLogger(slog.LevelDebug)
	bs := &brokenStore{Store: mustStore(t, filepath.Join(t.TempDir(), "r.db"), clk.Now)}
	l, err := stored.New(context.Background(), bs, revocation.New(clk.Now), stored.Options{Poll: time.Hour, Now: clk.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	bs.set(true)
	err = l.Revoke(context.Background(), authdash.Revocation{User: "u1", At: clk.Now(), Until: clk.Now().Add(time.Minute)})
	if err == nil {
		t.Error("a failed save is not reported")
	}
	if !l.Revoked("u1", "s", clk.Now().Add(-time.Hour)) {
		t.Error("a revocation whose save failed does not hold here")
	}
	for range 3 {
		l.Poll(context.Background())
	}
	bs.set(false)
	l.Poll(context.Background())
	out := logs.String()
	if strings.Count(out, "revocations: cannot read the store") != 3 || strings.Count(out, `"level":"WARN"`) != 1 ||
		strings.Count(out, "revocations: reading the store again") != 1 {
		t.Errorf("outage not logged once at warn and its end once:\n%s", out)
	}
}
