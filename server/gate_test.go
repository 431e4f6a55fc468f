package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	for _, n := range []int{1, 3} {
		g := newGate(n)
		var running, most atomic.Int64
		release := make(chan struct{})
		h := g.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			now := running.Add(1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			<-release
			running.Add(-1)
			w.WriteHeader(http.StatusNoContent)
		}))
		var wg sync.WaitGroup
		codes := make(chan int, 10)
		for range 10 {
			wg.Go(func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
				codes <- rec.Code
			})
		}
		// Let every request reach the gate, then let them through.
		for deadline := time.Now().Add(5 * time.Second); running.Load() < int64(n) && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		close(release)
		wg.Wait()
		close(codes)
		for c := range codes {
			if c != http.StatusNoContent {
				t.Errorf("n=%d: status %d", n, c)
			}
		}
		if m := most.Load(); m != int64(n) {
			t.Errorf("n=%d: %d ran at once", n, m)
		}
	}
}

// TestGateClientGone: a request whose client leaves while it waits is
// dropped without running.
func TestGateClientGone(t *testing.T) {
	g := newGate(1)
	g.slots <- struct{}{} // the only slot is taken
	ran := false
	h := g.handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting request did not give up")
	}
	if ran {
		t.Error("the handler ran for a client that had gone")
	}
}
