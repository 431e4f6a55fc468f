// Package brokertest is the contract suite every realtime.Broker passes, with
// the recorder its tests observe a broker through.
package brokertest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/realtime"
)

// wait bounds how long the suite waits for something that should happen at
// once; it only decides when a failing test gives up.
const wait = 10 * time.Second

// Run runs the contract suite. newBroker returns a fresh broker for each
// subtest, isolated from the others (a unique key prefix, say), and arranges
// its cleanup.
func Run(t *testing.T, newBroker func(t *testing.T) realtime.Broker) {
	t.Run("DeliversToSubscribedOwnersOnly", func(t *testing.T) {
		b, rec := start(t, newBroker)
		mustSubscribe(t, b, "alice")
		mustPublish(t, b, taskEvent("bob", 1))
		mustPublish(t, b, taskEvent("alice", 1))
		rec.expect(t, "alice", 1)
		rec.expectNone(t, "bob")
	})

	t.Run("PerOwnerOrder", func(t *testing.T) {
		b, rec := start(t, newBroker)
		mustSubscribe(t, b, "alice")
		mustSubscribe(t, b, "bob")
		for i := int64(1); i <= 200; i++ {
			mustPublish(t, b, taskEvent("alice", i))
			mustPublish(t, b, taskEvent("bob", i))
		}
		rec.expect(t, "alice", seqs(1, 200)...)
		rec.expect(t, "bob", seqs(1, 200)...)
	})

	t.Run("UnsubscribeStopsDelivery", func(t *testing.T) {
		b, rec := start(t, newBroker)
		mustSubscribe(t, b, "alice")
		mustSubscribe(t, b, "bob")
		mustPublish(t, b, taskEvent("alice", 1))
		rec.expect(t, "alice", 1)
		if err := b.Unsubscribe(t.Context(), "alice"); err != nil {
			t.Fatalf("Unsubscribe: %v", err)
		}
		mustPublish(t, b, taskEvent("alice", 2))
		mustPublish(t, b, taskEvent("bob", 1))
		rec.expect(t, "bob", 1)
		rec.expectNone(t, "alice")
	})

	t.Run("SubscribeIsIdempotent", func(t *testing.T) {
		b, rec := start(t, newBroker)
		mustSubscribe(t, b, "alice")
		mustSubscribe(t, b, "alice")
		mustPublish(t, b, taskEvent("alice", 1))
		mustPublish(t, b, taskEvent("alice", 2))
		rec.expect(t, "alice", 1, 2)
		if err := b.Unsubscribe(t.Context(), "alice"); err != nil {
			t.Fatal(err)
		}
		if err := b.Unsubscribe(t.Context(), "alice"); err != nil {
			t.Fatalf("second Unsubscribe: %v", err)
		}
	})

	t.Run("EventIntact", func(t *testing.T) {
		b, rec := start(t, newBroker)
		mustSubscribe(t, b, "alice")
		at := time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)
		due := at.Add(48 * time.Hour)
		task := &authdash.Task{ID: "t1", Title: "Write tests", Description: "ünïcode ✓", Status: authdash.StatusInProgress,
			Priority: authdash.PriorityHigh, DueDate: &due, Tags: []string{"a", "b"}, CreatedAt: at, UpdatedAt: at, Version: 3}
		want := []authdash.Event{
			{Kind: authdash.EventTaskUpdated, Owner: "alice", Seq: 7, TaskID: "t1", Version: 3, Task: task, At: at, Origin: "tab-1"},
			{Kind: authdash.EventTaskDeleted, Owner: "alice", Seq: 8, TaskID: "t1", Version: 4, At: at},
			{Kind: authdash.EventUserUpdated, Owner: "alice", User: &authdash.User{ID: "alice", Email: "a@example.com", Name: "A", CreatedAt: at, UpdatedAt: at, Version: 2}, At: at},
			{Kind: authdash.EventSessionsRevoked, Owner: "alice", SessionID: "s1", At: at},
			{Kind: authdash.EventSessionsRevoked, Owner: "alice", Keep: "s2", At: at},
			{Kind: authdash.EventUserDeleted, Owner: "alice", At: at},
		}
		for _, ev := range want {
			mustPublish(t, b, ev)
		}
		for i, w := range want {
			got := rec.next(t, "alice")
			if !reflect.DeepEqual(got, w) {
				t.Errorf("event %d = %+v, want %+v", i, got, w)
			}
		}
	})

	t.Run("ConcurrentSubscribeAndPublish", func(t *testing.T) {
		b, rec := start(t, newBroker)
		const owners, rounds = 8, 50
		var wg sync.WaitGroup
		for i := range owners {
			id := authdash.UserID(fmt.Sprintf("u%d", i))
			wg.Go(func() {
				for range rounds {
					if err := b.Subscribe(t.Context(), id); err != nil {
						t.Errorf("Subscribe: %v", err)
						return
					}
					if err := b.Unsubscribe(t.Context(), id); err != nil {
						t.Errorf("Unsubscribe: %v", err)
						return
					}
				}
			})
			wg.Go(func() {
				for j := range int64(rounds) {
					if err := b.Publish(t.Context(), taskEvent(id, j+1)); err != nil {
						t.Errorf("Publish: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		// Whatever arrived meanwhile, a subscription made now works.
		mustSubscribe(t, b, "u0")
		mustPublish(t, b, taskEvent("u0", 1000))
		rec.expectEventually(t, "u0", 1000)
	})

	t.Run("RunReturnsOnCancel", func(t *testing.T) {
		b := newBroker(t)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx, NewRecorder()) }()
		mustSubscribe(t, b, "alice")
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(wait):
			t.Fatal("Run did not return after its context ended")
		}
	})
}

// start returns a running broker whose handler records what it gets. The
// broker is known to deliver before start returns.
func start(t *testing.T, newBroker func(t *testing.T) realtime.Broker) (realtime.Broker, *Recorder) {
	t.Helper()
	b := newBroker(t)
	rec := NewRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx, rec) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(wait):
			t.Error("Run did not return after its context ended")
		}
	})
	MustSync(t, b, rec)
	return b, rec
}

var probes atomic.Int64

// MustSync waits until b delivers to rec: a remote broker may still be
// connecting after Run starts. It subscribes a probe owner and publishes to
// it until one probe comes back.
func MustSync(t testing.TB, b realtime.Broker, rec *Recorder) {
	t.Helper()
	probe := authdash.UserID(fmt.Sprintf("probe-%d", probes.Add(1)))
	mustSubscribe(t, b, probe)
	deadline := time.Now().Add(wait)
	for i := int64(1); time.Now().Before(deadline); i++ {
		if err := b.Publish(t.Context(), taskEvent(probe, i)); err != nil {
			t.Logf("probe publish: %v", err)
		}
		select {
		case <-rec.ch(probe):
			if err := b.Unsubscribe(t.Context(), probe); err != nil {
				t.Fatalf("Unsubscribe probe: %v", err)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("broker never delivered a probe event")
}

func mustSubscribe(t testing.TB, b realtime.Broker, id authdash.UserID) {
	t.Helper()
	if err := b.Subscribe(t.Context(), id); err != nil {
		t.Fatalf("Subscribe(%s): %v", id, err)
	}
}

func mustPublish(t testing.TB, b realtime.Broker, ev authdash.Event) {
	t.Helper()
	if err := b.Publish(t.Context(), ev); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

func taskEvent(owner authdash.UserID, seq int64) authdash.Event {
	return authdash.Event{Kind: authdash.EventTaskUpdated, Owner: owner, Seq: seq, TaskID: "t", Version: seq,
		At: time.Unix(1700000000, 0).UTC()}
}

func seqs(from, to int64) []int64 {
	var s []int64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// Recorder is a realtime.Handler that keeps events per owner and counts
// gaps.
type Recorder struct {
	mu     sync.Mutex
	owners map[authdash.UserID]chan authdash.Event
	gaps   chan struct{}
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{owners: make(map[authdash.UserID]chan authdash.Event), gaps: make(chan struct{}, 1000)}
}

func (r *Recorder) ch(id authdash.UserID) chan authdash.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.owners[id]
	if c == nil {
		c = make(chan authdash.Event, 10000)
		r.owners[id] = c
	}
	return c
}

// HandleEvent implements realtime.Handler.
func (r *Recorder) HandleEvent(ev authdash.Event) {
	select {
	case r.ch(ev.Owner) <- ev:
	default:
		panic("brokertest: recorder full")
	}
}

// HandleGap implements realtime.Handler.
func (r *Recorder) HandleGap() {
	select {
	case r.gaps <- struct{}{}:
	default:
	}
}

// Gaps is signalled once per HandleGap.
func (r *Recorder) Gaps() <-chan struct{} { return r.gaps }

// Events returns the channel of the owner's received events.
func (r *Recorder) Events(id authdash.UserID) <-chan authdash.Event { return r.ch(id) }

func (r *Recorder) next(t testing.TB, id authdash.UserID) authdash.Event {
	t.Helper()
	select {
	case ev := <-r.ch(id):
		return ev
	case <-time.After(wait):
		t.Fatalf("no event for %s", id)
		return authdash.Event{}
	}
}

// expect checks that the owner's next events have exactly these Seqs.
func (r *Recorder) expect(t testing.TB, id authdash.UserID, seqs ...int64) {
	t.Helper()
	for _, s := range seqs {
		ev := r.next(t, id)
		if ev.Owner != id || ev.Seq != s {
			t.Fatalf("got %s seq %d, want %s seq %d", ev.Owner, ev.Seq, id, s)
		}
	}
}

// expectEventually skips the owner's events until one with seq arrives.
func (r *Recorder) expectEventually(t testing.TB, id authdash.UserID, seq int64) {
	t.Helper()
	for {
		if ev := r.next(t, id); ev.Seq == seq {
			return
		}
	}
}

// expectNone checks that nothing has arrived for the owner. Call it after an
// event published later to a subscribed owner has arrived: a broker delivers
// in publish order, so anything for id would have come first.
func (r *Recorder) expectNone(t testing.TB, id authdash.UserID) {
	t.Helper()
	select {
	case ev := <-r.ch(id):
		t.Fatalf("%s got %+v though not subscribed", id, ev)
	default:
	}
}
