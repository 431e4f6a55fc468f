package profilecache_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/store/profilecache"
	"github.com/authdash/authdash/store/sqlite"
)

// spyStore counts profile reads that reach the real store, and can run a
// hook in the middle of one (after the store read, before the cache fill).
type spyStore struct {
	authdash.Store
	finds    atomic.Int64
	duringMu sync.Mutex
	during   func()
}

func (s *spyStore) FindUser(ctx context.Context, id authdash.UserID) (*authdash.User, error) {
	s.finds.Add(1)
	u, err := s.Store.FindUser(ctx, id)
	s.duringMu.Lock()
	hook := s.during
	s.during = nil
	s.duringMu.Unlock()
	if hook != nil {
		hook()
	}
	return u, err
}

type fixture struct {
	cache *profilecache.Store
	spy   *spyStore
	redis *testkit.RedisServer
	rdb   *redis.Client // a separate client, for poking at keys
	log   *testkit.Logs
	user  *authdash.User
}

func newFixture(t *testing.T, o profilecache.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	srv := testkit.StartRedis(t)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "authdash.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	spy := &spyStore{Store: db}
	lb := &testkit.Logs{}
	o.Log = slog.New(slog.NewTextHandler(lb, nil))
	if o.Timeout == 0 {
		// Generous, so a loaded test machine does not look like a slow
		// Redis; the slow-Redis test sets its own.
		o.Timeout = 2 * time.Second
	}
	o.Prefix = "test:"
	ro, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cacheClient := redis.NewClient(profilecache.ClientOptions(ro))
	t.Cleanup(func() { cacheClient.Close() })
	cache := profilecache.New(spy, cacheClient, o)
	rdb := redis.NewClient(ro)
	t.Cleanup(func() { rdb.Close() })
	u, err := cache.CreateUser(ctx, authdash.NewUser{Email: "ann@example.com", Name: "Ann", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{cache: cache, spy: spy, redis: srv, rdb: rdb, log: lb, user: u}
}

func (f *fixture) key() string { return "test:user:{" + string(f.user.ID) + "}" }

// mustFind reads the profile through the cache and checks its name.
func (f *fixture) mustFind(t *testing.T, name string) {
	t.Helper()
	u, err := f.cache.FindUser(context.Background(), f.user.ID)
	if err != nil {
		t.Fatalf("FindUser: %v", err)
	}
	if u.ID != f.user.ID || u.Name != name || !u.CreatedAt.Equal(f.user.CreatedAt) {
		t.Fatalf("FindUser = %+v, want %s named %q", u, f.user.ID, name)
	}
}

func TestReadThrough(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, profilecache.Options{})

	f.mustFind(t, "Ann")
	f.mustFind(t, "Ann")
	f.mustFind(t, "Ann")
	if n := f.spy.finds.Load(); n != 1 {
		t.Errorf("store read %d times for three lookups, want 1", n)
	}
	if st := f.cache.Stats(); st.Hits != 2 || st.Misses != 1 || st.Errors != 0 {
		t.Errorf("stats = %+v", st)
	}
	if ttl := f.rdb.PTTL(ctx, f.key()).Val(); ttl <= 0 || ttl > profilecache.DefaultTTL {
		t.Errorf("entry TTL = %v, want within %v", ttl, profilecache.DefaultTTL)
	}

	t.Run("UpdateInvalidates", func(t *testing.T) {
		if _, err := f.cache.UpdateUser(ctx, f.user.ID, authdash.UserPatch{Name: new("Annie")}); err != nil {
			t.Fatal(err)
		}
		f.mustFind(t, "Annie")
		f.mustFind(t, "Annie")
	})
	t.Run("SetPasswordInvalidates", func(t *testing.T) {
		before := f.spy.finds.Load()
		if err := f.cache.SetPassword(ctx, f.user.ID, "h2", ""); err != nil {
			t.Fatal(err)
		}
		f.mustFind(t, "Annie")
		if f.spy.finds.Load() != before+1 {
			t.Error("profile not re-read after SetPassword")
		}
	})
	t.Run("DeleteInvalidates", func(t *testing.T) {
		if err := f.cache.DeleteUser(ctx, f.user.ID); err != nil {
			t.Fatal(err)
		}
		_, err := f.cache.FindUser(ctx, f.user.ID)
		if authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
			t.Errorf("FindUser after delete: %v, want not_found", err)
		}
		if n := f.rdb.Exists(ctx, f.key()).Val(); n != 0 {
			t.Error("a missing user was cached")
		}
	})
	var _ authdash.Store = f.cache // still a whole store
}

// TestUpdateDuringRead: an update that lands between a cache miss's store
// read and its fill must win; the old profile is not put back.
func TestUpdateDuringRead(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, profilecache.Options{})
	f.spy.duringMu.Lock()
	f.spy.during = func() {
		if _, err := f.cache.UpdateUser(ctx, f.user.ID, authdash.UserPatch{Name: new("Annie")}); err != nil {
			t.Error(err)
		}
	}
	f.spy.duringMu.Unlock()
	f.mustFind(t, "Ann") // read before the update finished: the old name is right for this call
	f.mustFind(t, "Annie")
}

// TestGarbage: whatever is in the key, the profile comes from the store and
// the bad entry is replaced.
func TestGarbage(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, profilecache.Options{})
	for i, junk := range []string{"not json", `{"id":"someone-else","name":"Mallory"}`, `{}`, `[1,2]`} {
		if err := f.rdb.Set(ctx, f.key(), junk, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		f.mustFind(t, "Ann")
		if st := f.cache.Stats(); st.Errors != uint64(i+1) {
			t.Errorf("%q: errors = %d, want %d", junk, st.Errors, i+1)
		}
		if got, _ := f.rdb.Get(ctx, f.key()).Result(); got == junk {
			t.Errorf("garbage %q left in place", junk)
		}
		f.mustFind(t, "Ann") // a miss that refills it
		f.mustFind(t, "Ann") // and a hit
	}
	if n := strings.Count(f.log.String(), "profile cache degraded"); n < 1 {
		t.Error("garbage not logged")
	}
}

// TestRedisDown: with Redis gone every request still succeeds, the outage
// is logged once however many requests fail, and after a restart the cache
// recovers by itself, logging that once too.
func TestRedisDown(t *testing.T) {
	ctx := context.Background()
	// No cooldown: every request tries Redis, the worst case for log spam.
	f := newFixture(t, profilecache.Options{Cooldown: -1})
	f.mustFind(t, "Ann")

	f.redis.Kill()
	for range 50 {
		f.mustFind(t, "Ann")
	}
	// An update while Redis is down is remembered and replayed.
	if _, err := f.cache.UpdateUser(ctx, f.user.ID, authdash.UserPatch{Name: new("Annie")}); err != nil {
		t.Fatal(err)
	}
	f.mustFind(t, "Annie")
	if n := strings.Count(f.log.String(), "profile cache degraded"); n != 1 {
		t.Errorf("outage logged %d times, want once:\n%s", n, f.log.String())
	}
	if st := f.cache.Stats(); st.Errors < 50 {
		t.Errorf("errors = %d, want one per failed Redis call", st.Errors)
	}

	f.redis.Start()
	// The client re-dials in the background once its own dial breaker has
	// tripped; requests meanwhile keep succeeding from the store.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(f.log.String(), "profile cache recovered") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery within 10s of Redis restarting:\n%s", f.log.String())
		}
		f.mustFind(t, "Annie")
		time.Sleep(10 * time.Millisecond) // nothing to wait on: recovery is noticed by trying
	}
	// A connection that flaps while the server comes back may log another
	// outage and recovery; what matters is that 50 failing requests above
	// logged one line, and that the cache serves hits again.
	for {
		before := f.cache.Stats()
		f.mustFind(t, "Annie")
		after := f.cache.Stats()
		if after.Hits == before.Hits+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cache hit after recovery: %+v then %+v\n%s", before, after, f.log.String())
		}
		time.Sleep(10 * time.Millisecond) // as above: only trying tells
	}
}

// TestRedisUnreachableKeepsInvalidation: Redis alive but not answering (a
// partition, a stall) keeps its stale entry; the invalidation that could
// not be delivered is replayed before the entry can be served again.
func TestRedisUnreachableKeepsInvalidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, profilecache.Options{Cooldown: -1, Timeout: 100 * time.Millisecond})
	f.mustFind(t, "Ann")
	f.mustFind(t, "Ann") // cached

	// Stall every client but this one for longer than the cache waits.
	if err := f.rdb.Do(ctx, "CLIENT", "PAUSE", "2000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cache.UpdateUser(ctx, f.user.ID, authdash.UserPatch{Name: new("Annie")}); err != nil {
		t.Fatal(err)
	}
	f.mustFind(t, "Annie") // Redis too slow: answered by the store
	if st := f.cache.Stats(); st.Errors == 0 {
		t.Error("the stall was not noticed")
	}
	if err := f.rdb.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
		t.Fatal(err)
	}
	f.mustFind(t, "Annie") // never the stale "Ann" still in Redis
	f.mustFind(t, "Annie")
}

// TestCooldown: after a failure the cache leaves Redis alone for a while,
// so an outage adds no latency to requests.
func TestCooldown(t *testing.T) {
	f := newFixture(t, profilecache.Options{Cooldown: time.Hour})
	f.redis.Kill()
	for range 10 {
		f.mustFind(t, "Ann")
	}
	if st := f.cache.Stats(); st.Errors != 1 || st.Bypassed != 9 {
		t.Errorf("stats = %+v, want 1 error then 9 bypassed", st)
	}
}

// TestCallerGoneIsNotAnOutage: a request whose client went away (its
// context cancelled) fails its Redis read, but Redis is fine: no warning,
// no cooldown, and the next request reads from Redis again.
func TestCallerGoneIsNotAnOutage(t *testing.T) {
	f := newFixture(t, profilecache.Options{Cooldown: time.Hour})
	f.mustFind(t, "Ann") // cached
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.cache.FindUser(ctx, f.user.ID)
	f.mustFind(t, "Ann")
	if st := f.cache.Stats(); st.Errors != 0 || st.Bypassed != 0 || st.Hits != 1 {
		t.Errorf("stats = %+v, want the last read a hit and no error or bypass", st)
	}
	if strings.Contains(f.log.String(), "degraded") {
		t.Errorf("a cancelled request was logged as an outage:\n%s", f.log)
	}
}
