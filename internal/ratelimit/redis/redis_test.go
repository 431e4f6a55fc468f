package redis_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authdash/authdash/internal/ratelimit"
	"github.com/authdash/authdash/internal/ratelimit/redis"
	"github.com/authdash/authdash/internal/testkit"
)

func mustClient(t *testing.T, addr string) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

func mustLimiter(t *testing.T, c goredis.Scripter, rate float64, burst int, opt redis.Options) *redis.Limiter {
	t.Helper()
	l, err := redis.New(c, rate, burst, opt)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNewRejectsBadArguments(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	tests := []struct {
		name  string
		rate  float64
		burst int
	}{
		{"ZeroRate", 0, 1}, {"NegativeRate", -1, 1}, {"HugeRate", 1e9, 1}, {"ZeroBurst", 1, 0}, {"TooSlowForBurst", 1e-9, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := redis.New(c, tt.rate, tt.burst, redis.Options{}); err == nil {
				t.Error("no error")
			}
		})
	}
}

// Two limiters on two connections, as two instances would have, share one
// allowance: a burst of 5 is 5 in total, not 5 each.
func TestInstancesShareTheAllowance(t *testing.T) {
	srv := testkit.StartRedis(t)
	opt := redis.Options{Prefix: t.Name() + ":"}
	a := mustLimiter(t, mustClient(t, srv.Addr()), 1.0/60, 5, opt)
	b := mustLimiter(t, mustClient(t, srv.Addr()), 1.0/60, 5, opt)
	ctx := context.Background()
	for i := range 5 {
		l := []*redis.Limiter{a, b}[i%2]
		if ok, _, err := l.Allow(ctx, "login:ip:10.0.0.1"); !ok || err != nil {
			t.Fatalf("request %d refused (%v)", i, err)
		}
	}
	for _, l := range []*redis.Limiter{a, b} {
		ok, after, err := l.Allow(ctx, "login:ip:10.0.0.1")
		if ok || err != nil {
			t.Fatalf("6th request allowed (%v)", err)
		}
		// One request regains a slot every 60 s.
		if after <= 55*time.Second || after > 60*time.Second {
			t.Errorf("retry after %v, want just under 60s", after)
		}
	}
	if ok, _, _ := a.Allow(ctx, "login:ip:10.0.0.2"); !ok {
		t.Error("another key was refused")
	}
}

// Many goroutines over two instances never get more than the burst: the
// script's read-modify-write is atomic.
func TestConcurrentDecisionsAreAtomic(t *testing.T) {
	srv := testkit.StartRedis(t)
	opt := redis.Options{Prefix: t.Name() + ":"}
	ls := []*redis.Limiter{
		mustLimiter(t, mustClient(t, srv.Addr()), 1.0/3600, 20, opt),
		mustLimiter(t, mustClient(t, srv.Addr()), 1.0/3600, 20, opt),
	}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for range 10 {
				if ok, _, _ := ls[g%2].Allow(context.Background(), "k"); ok {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 20 {
		t.Errorf("%d of 160 allowed, want exactly the burst of 20", n)
	}
}

// A key is forgotten once its bucket is full again, so Redis holds only
// recently active keys.
func TestKeysExpire(t *testing.T) {
	srv := testkit.StartRedis(t)
	c := mustClient(t, srv.Addr())
	l := mustLimiter(t, c, 10, 3, redis.Options{Prefix: "p:"})
	ctx := context.Background()
	for range 2 {
		l.Allow(ctx, "k")
	}
	ttl, err := c.PTTL(ctx, "p:k").Result()
	if err != nil {
		t.Fatal(err)
	}
	// Two requests at 10/s take 200ms to refill.
	if ttl <= 0 || ttl > 200*time.Millisecond {
		t.Errorf("TTL %v, want (0, 200ms]", ttl)
	}
}

// With Redis down, every request is allowed, the outage is logged once, and
// limits apply again once Redis is back.
func TestFailsOpenAndRecovers(t *testing.T) {
	srv := testkit.StartRedis(t)
	var logs testkit.Logs
	// No cooldown: every call asks Redis, so the first call after the
	// restart already sees it.
	l := mustLimiter(t, mustClient(t, srv.Addr()), 1.0/3600, 1, redis.Options{
		Prefix: "r:", Cooldown: time.Nanosecond, Log: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	ctx := context.Background()
	if ok, _, _ := l.Allow(ctx, "k"); !ok {
		t.Fatal("first request refused")
	}
	if ok, _, _ := l.Allow(ctx, "k"); ok {
		t.Fatal("second request allowed with Redis up")
	}

	srv.Kill()
	for i := range 50 {
		ok, _, err := l.Allow(ctx, "k")
		if !ok || err != nil {
			t.Fatalf("request %d with Redis down: ok=%v err=%v, want allowed", i, ok, err)
		}
	}
	if n := strings.Count(logs.String(), "Redis unreachable"); n != 1 {
		t.Errorf("outage logged %d times, want once:\n%s", n, logs.String())
	}
	if l.Failures() != 50 {
		t.Errorf("Failures() = %d, want 50", l.Failures())
	}

	srv.Start() // empty: the key's state is gone, so one request is allowed again
	// go-redis backs off redialling after a run of failed dials, and calls
	// meanwhile fail open. The first call that reaches Redis gets the fresh
	// bucket. (A process restart gives no event to wait on; tick instead.)
	reached := false
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for !reached {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("Redis never answered again")
		}
		before := l.Failures()
		ok, _, _ := l.Allow(ctx, "k")
		if l.Failures() == before {
			if !ok {
				t.Fatal("first request Redis decided after the restart was refused")
			}
			reached = true
		}
	}
	if ok, _, _ := l.Allow(ctx, "k"); ok {
		t.Fatal("limits do not apply again after Redis came back")
	}
	if !strings.Contains(logs.String(), "Redis is back") {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}
}

// A caller that gives up is not counted as a Redis failure.
func TestCancelledCallerIsNotAFailure(t *testing.T) {
	srv := testkit.StartRedis(t)
	l := mustLimiter(t, mustClient(t, srv.Addr()), 1, 1, redis.Options{Prefix: fmt.Sprint(t.Name(), ":")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ok, _, err := l.Allow(ctx, "k"); !ok || err != nil {
		t.Errorf("ok=%v err=%v", ok, err)
	}
	if l.Failures() != 0 {
		t.Errorf("Failures() = %d, want 0", l.Failures())
	}
}

// With a Fallback, Redis going down does not lift the limit: the in-memory
// limiter decides (the review: 45 wrong passwords with Redis killed got no
// 429), and Redis decides again once it is back.
func TestFallsBackWhileDown(t *testing.T) {
	srv := testkit.StartRedis(t)
	var logs testkit.Logs
	mem, err := ratelimit.NewMemory(1.0/3600, 2)
	if err != nil {
		t.Fatal(err)
	}
	l := mustLimiter(t, mustClient(t, srv.Addr()), 1.0/3600, 2, redis.Options{
		Prefix: "f:", Cooldown: time.Nanosecond, Fallback: mem, Log: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	ctx := context.Background()
	srv.Kill()
	var allowed int
	for range 45 {
		ok, after, err := l.Allow(ctx, "acct")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			allowed++
		} else if after <= 0 {
			t.Errorf("refused without a retry time")
		}
	}
	if allowed != 2 {
		t.Errorf("%d of 45 allowed with Redis down, want the burst, 2", allowed)
	}
	if n := strings.Count(logs.String(), "each instance limits on its own"); n != 1 {
		t.Errorf("fallback logged %d times, want once:\n%s", n, logs.String())
	}
	if ok, _, _ := l.Allow(ctx, "other"); !ok {
		t.Error("another key refused: the fallback limits per key")
	}
}
