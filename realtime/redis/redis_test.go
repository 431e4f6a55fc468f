package redis_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/realtime/brokertest"
	"github.com/authdash/authdash/realtime/redis"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var prefixes atomic.Int64

// newBroker returns a broker on srv with a key prefix of its own, so tests
// sharing a server never see each other's events.
func newBroker(t *testing.T, srv *testkit.RedisServer) *redis.Broker {
	return newBrokerPrefix(t, srv, fmt.Sprintf("test%d:", prefixes.Add(1)))
}

// newBrokerPrefix returns a broker of an instance sharing prefix with others.
func newBrokerPrefix(t *testing.T, srv *testkit.RedisServer, prefix string) *redis.Broker {
	return newBrokerLog(t, srv, prefix, nil)
}

func newBrokerLog(t *testing.T, srv *testkit.RedisServer, prefix string, log *slog.Logger) *redis.Broker {
	rdb := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	return redis.New(rdb, redis.Options{
		Prefix:     prefix,
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
		Log:        log,
	})
}

func TestBroker(t *testing.T) {
	srv := testkit.StartRedis(t)
	brokertest.Run(t, func(t *testing.T) realtime.Broker { return newBroker(t, srv) })
}

// TestRestart kills redis-server under a running broker: publishing fails
// while it is down, and once it is back the broker resubscribes by itself,
// reports a gap, and delivers again. The outage is one warning and one
// notice in the log, however many reconnects it took.
func TestRestart(t *testing.T) {
	srv := testkit.StartRedis(t)
	var logs testkit.Logs
	b := newBrokerLog(t, srv, fmt.Sprintf("test%d:", prefixes.Add(1)),
		slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	rec := brokertest.NewRecorder()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, rec) }()
	t.Cleanup(func() { cancel(); <-done })
	brokertest.MustSync(t, b, rec)
	if err := b.Subscribe(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	drain(rec.Gaps())

	srv.Kill()
	if err := b.Publish(t.Context(), ev("alice", 1)); err == nil {
		t.Error("Publish succeeded with Redis down")
	}
	// Let it fail to reconnect a few times.
	for deadline := time.Now().Add(10 * time.Second); strings.Count(logs.String(), "reconnecting") < 4; {
		if time.Now().After(deadline) {
			t.Fatalf("no retries logged:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.Start()

	select {
	case <-rec.Gaps():
	case <-time.After(10 * time.Second):
		t.Fatal("no gap reported after Redis came back")
	}
	// The gap is reported once the subscriptions are active again.
	if err := b.Publish(t.Context(), ev("alice", 2)); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-rec.Events("alice"):
		if got.Seq != 2 {
			t.Fatalf("got seq %d, want 2", got.Seq)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery after Redis came back")
	}
	out := logs.String()
	if n := strings.Count(out, "level=WARN"); n != 1 {
		t.Errorf("%d warnings for one outage, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "connection restored"); n != 1 {
		t.Errorf("%d recovery notices, want 1:\n%s", n, out)
	}
}

func ev(owner authdash.UserID, seq int64) authdash.Event {
	return authdash.Event{Kind: authdash.EventTaskCreated, Owner: owner, Seq: seq, TaskID: "t", Version: 1, At: time.Now().UTC()}
}

func drain(c <-chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}
