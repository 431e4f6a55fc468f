package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash/internal/testkit"
)

func mustMemory(tb testing.TB, rate float64, burst int, opts ...Option) *Memory {
	tb.Helper()
	m, err := NewMemory(rate, burst, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestNewMemoryRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		burst int
		opts  []Option
	}{
		{"ErrZeroRate", 0, 1, nil},
		{"ErrNegativeRate", -1, 1, nil},
		{"ErrNaNRate", nanRate(), 1, nil},
		{"ErrHugeRate", 1e12, 1, nil},
		{"ErrZeroBurst", 1, 0, nil},
		{"ErrZeroMaxKeys", 1, 1, []Option{WithMaxKeys(0)}},
		{"ErrZeroSweep", 1, 1, []Option{WithSweepInterval(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewMemory(tt.rate, tt.burst, tt.opts...); err == nil {
				t.Fatal("NewMemory accepted a bad configuration")
			}
		})
	}
}

func nanRate() float64 { var z float64; return z / z }

// step is one request at an offset from the previous one.
type step struct {
	after     time.Duration
	key       string
	wantOK    bool
	wantRetry time.Duration
}

func TestAllow(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{
			name: "OKBurstThenDenied", rate: 1, burst: 3,
			steps: []step{
				{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0},
				{0, "a", false, time.Second},
				{500 * time.Millisecond, "a", false, 500 * time.Millisecond},
				{500 * time.Millisecond, "a", true, 0},
				{0, "a", false, time.Second},
			},
		},
		{
			name: "OKKeysIndependent", rate: 1, burst: 1,
			steps: []step{
				{0, "a", true, 0}, {0, "a", false, time.Second},
				{0, "b", true, 0}, {0, "b", false, time.Second},
			},
		},
		{
			name: "OKRefillsFullyAfterIdle", rate: 10, burst: 2,
			steps: []step{
				{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, 100 * time.Millisecond},
				{time.Hour, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, 100 * time.Millisecond},
			},
		},
		{
			name: "OKSustainedRate", rate: 2, burst: 1,
			steps: []step{
				{0, "a", true, 0},
				{500 * time.Millisecond, "a", true, 0},
				{500 * time.Millisecond, "a", true, 0},
				{499 * time.Millisecond, "a", false, time.Millisecond},
			},
		},
		{
			name: "OKDeniedRequestsDoNotCount", rate: 1, burst: 1,
			steps: []step{
				{0, "a", true, 0},
				{0, "a", false, time.Second}, {0, "a", false, time.Second}, {0, "a", false, time.Second},
				{time.Second, "a", true, 0},
			},
		},
		{
			name: "OKPerMinute", rate: 5.0 / 60, burst: 5,
			steps: []step{
				{0, "ip", true, 0}, {0, "ip", true, 0}, {0, "ip", true, 0}, {0, "ip", true, 0}, {0, "ip", true, 0},
				{0, "ip", false, 12 * time.Second},
				{12 * time.Second, "ip", true, 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			m := mustMemory(t, tt.rate, tt.burst, WithClock(clk.Now))
			for i, s := range tt.steps {
				clk.Advance(s.after)
				ok, retry, err := m.Allow(context.Background(), s.key)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if ok != s.wantOK || retry != s.wantRetry {
					t.Fatalf("step %d (%s): Allow = %v, %v; want %v, %v", i, s.key, ok, retry, s.wantOK, s.wantRetry)
				}
			}
		})
	}
}

func TestSweepForgetsIdleKeys(t *testing.T) {
	clk := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m := mustMemory(t, 1, 2, WithClock(clk.Now), WithSweepInterval(time.Minute))
	ctx := context.Background()
	for i := range 2000 {
		m.Allow(ctx, fmt.Sprint("k", i))
	}
	if n := m.keys(); n != 2000 {
		t.Fatalf("tracked %d keys, want 2000", n)
	}
	// Buckets refill in 1s, but nothing is dropped before the sweep is due.
	clk.Advance(30 * time.Second)
	m.Allow(ctx, "busy")
	if n := m.keys(); n != 2001 {
		t.Fatalf("tracked %d keys before the sweep, want 2001", n)
	}
	clk.Advance(31 * time.Second)
	m.Allow(ctx, "busy")
	m.Allow(ctx, "busy")
	if n := m.keys(); n != 1 {
		t.Fatalf("tracked %d keys after the sweep, want 1 (only the busy one)", n)
	}
	// The busy key's state survived the sweep: its burst of 2 is used up.
	if ok, _, _ := m.Allow(ctx, "busy"); ok {
		t.Fatal("sweep reset a key that was still limited")
	}
}

func TestMaxKeysBoundsMemory(t *testing.T) {
	clk := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m := mustMemory(t, 1, 1, WithClock(clk.Now), WithMaxKeys(100))
	ctx := context.Background()
	for i := range 1000 {
		if ok, _, _ := m.Allow(ctx, fmt.Sprint("k", i)); !ok {
			t.Fatalf("new key %d denied", i)
		}
		if n := m.keys(); n > 100 {
			t.Fatalf("tracked %d keys, cap is 100", n)
		}
	}
	// A known key is never evicted by its own request.
	if ok, _, _ := m.Allow(ctx, "k999"); ok {
		t.Fatal("the most recent key was forgotten")
	}
}

func TestAllowConcurrent(t *testing.T) {
	clk := testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const burst = 50
	m := mustMemory(t, 1, burst, WithClock(clk.Now))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if ok, _, _ := m.Allow(context.Background(), "shared"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != burst {
		t.Fatalf("allowed %d of 800 concurrent requests, want exactly the burst %d", allowed, burst)
	}
}

func BenchmarkAllow(b *testing.B) {
	m := mustMemory(b, 1e6, 1000)
	ctx := context.Background()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("10.0.", i/256, ".", i%256)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Allow(ctx, keys[i&1023])
			i++
		}
	})
}
