package redis_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth/revocation/redis"
	"github.com/authdash/authdash/auth/revocation/revocationtest"
	"github.com/authdash/authdash/internal/testkit"
)

func mustClient(t *testing.T, addr string) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

// mustRun starts a List with its receiving loop, stopped at cleanup.
func mustRun(t *testing.T, addr string, opt redis.Options) *redis.List {
	t.Helper()
	if opt.Key == "" {
		opt.Key = t.Name()
	}
	opt.MinBackoff, opt.MaxBackoff = 10*time.Millisecond, 100*time.Millisecond
	l, err := redis.New(mustClient(t, addr), opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return l
}

func TestContract(t *testing.T) {
	srv := testkit.StartRedis(t)
	revocationtest.Run(t, func(t *testing.T, now func() time.Time) revocationtest.List {
		return mustRun(t, srv.Addr(), redis.Options{Now: now})
	})
}

// eventually polls cond until it holds or the deadline passes; the time
// bounds a hang, it asserts no speed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func revocationAt(now time.Time, session authdash.SessionID) authdash.Revocation {
	return authdash.Revocation{User: "u1", Session: session, At: now, Until: now.Add(15 * time.Minute)}
}

// TestInstancesShare: what one instance revokes, another refuses, whether
// it was listening at the time or started later.
func TestInstancesShare(t *testing.T) {
	srv := testkit.StartRedis(t)
	a := mustRun(t, srv.Addr(), redis.Options{})
	b := mustRun(t, srv.Addr(), redis.Options{})
	waitSubscribed(t, srv.Addr(), t.Name(), 2)
	now := time.Now()
	if err := a.Revoke(t.Context(), revocationAt(now, "s1")); err != nil {
		t.Fatal(err)
	}
	if !a.Revoked("u1", "s1", now) {
		t.Fatal("not revoked where it was revoked")
	}
	eventually(t, "b refuses s1", func() bool { return b.Revoked("u1", "s1", now) })
	late := mustRun(t, srv.Addr(), redis.Options{})
	eventually(t, "a later instance refuses s1", func() bool { return late.Revoked("u1", "s1", now) })
	if b.Revoked("u1", "s2", now) || late.Revoked("u2", "s1", now) {
		t.Error("refuses what was not revoked")
	}
}

// TestRedisOutage: a revocation made while Redis is down still applies
// where it was made at once, and reaches the other instances when Redis is
// back, though the restart left it empty; the failure is logged once.
func TestRedisOutage(t *testing.T) {
	srv := testkit.StartRedis(t)
	var logs testkit.Logs
	log := slog.New(slog.NewTextHandler(&logs, nil))
	a := mustRun(t, srv.Addr(), redis.Options{Log: log, Timeout: 200 * time.Millisecond})
	b := mustRun(t, srv.Addr(), redis.Options{})
	waitSubscribed(t, srv.Addr(), t.Name(), 2)
	now := time.Now()

	srv.Kill()
	for _, s := range []authdash.SessionID{"s1", "s2", "s3"} {
		if err := a.Revoke(t.Context(), revocationAt(now, s)); err == nil {
			t.Fatal("no error with Redis down")
		}
		if !a.Revoked("u1", s, now) {
			t.Fatalf("%s not revoked locally during the outage", s)
		}
	}
	if b.Revoked("u1", "s1", now) {
		t.Fatal("b heard of s1 with Redis down")
	}
	srv.Start()
	eventually(t, "b refuses s3 after the outage", func() bool { return b.Revoked("u1", "s3", now) })
	eventually(t, "a logs the recovery", func() bool { return strings.Contains(logs.String(), "redis is back") })
	if n := strings.Count(logs.String(), "redis unreachable"); n != 1 {
		t.Errorf("%d failure lines, want 1:\n%s", n, logs.String())
	}
}

// TestIgnoresGarbage: entries that are not revocations are dropped, and
// the next real one still arrives.
func TestIgnoresGarbage(t *testing.T) {
	srv := testkit.StartRedis(t)
	c := mustClient(t, srv.Addr())
	key := t.Name()
	if err := c.ZAdd(t.Context(), key, goredis.Z{Score: float64(time.Now().Add(time.Hour).UnixMilli()), Member: "not json"}).Err(); err != nil {
		t.Fatal(err)
	}
	a := mustRun(t, srv.Addr(), redis.Options{Key: key})
	b := mustRun(t, srv.Addr(), redis.Options{Key: key})
	waitSubscribed(t, srv.Addr(), key, 2)
	for _, g := range []string{"{}", `{"u":"u1"}`, "\x00\xff", `{"u":"u1","s":"s9","until":"never"}`} {
		if err := c.Publish(t.Context(), key, g).Err(); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	if err := a.Revoke(t.Context(), revocationAt(now, "s1")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b refuses s1", func() bool { return b.Revoked("u1", "s1", now) })
	if b.Revoked("u1", "s9", now) {
		t.Error("garbage revoked s9")
	}
}

// waitSubscribed waits until n connections listen on the channel, so a
// test's first publish is not lost to a subscription still starting (the
// set would deliver it later anyway, but the test means the channel).
func waitSubscribed(t *testing.T, addr, channel string, n int64) {
	t.Helper()
	c := mustClient(t, addr)
	eventually(t, "subscribers", func() bool {
		m, err := c.PubSubNumSub(t.Context(), channel).Result()
		return err == nil && m[channel] >= n
	})
}
