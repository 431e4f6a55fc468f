// Package ratelimit limits how often a key (an IP address, an account) may do
// something, with the generic cell rate algorithm (GCRA): a token bucket that
// keeps one timestamp per key instead of a count and a refill time.
//
// Memory keeps its state in this process; a Redis-backed limiter with the same
// Allow method lives in ratelimit/redis for several instances.
package ratelimit

import (
	"context"
	"errors"
	"maps"
	"math"
	"sync"
	"time"
)

// Memory is an in-process GCRA limiter, safe for concurrent use. Keys whose
// bucket has refilled completely are forgotten (they are indistinguishable
// from a new key), so memory follows the number of recently active keys; a
// hard cap bounds it even under a flood of distinct keys.
//
// Cleanup runs inline, at most once per sweep interval, inside Allow: there is
// no background goroutine to stop.
type Memory struct {
	interval int64 // ns between requests at the sustained rate (GCRA's T)
	burstNs  int64 // burst × interval (GCRA's τ + T)

	now        func() time.Time
	maxKeys    int
	sweepEvery int64

	mu        sync.Mutex
	tat       map[string]int64 // theoretical arrival time per key, unix ns
	nextSweep int64
}

// Option configures a Memory.
type Option func(*Memory)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(m *Memory) { m.now = now } }

// WithMaxKeys caps how many keys are tracked (default 1<<20). When full, an
// arbitrary tracked key is forgotten to make room: that key starts afresh,
// which fails open for one client rather than closed for every new one.
func WithMaxKeys(n int) Option { return func(m *Memory) { m.maxKeys = n } }

// WithSweepInterval sets how often idle keys are dropped (default 1m).
func WithSweepInterval(d time.Duration) Option { return func(m *Memory) { m.sweepEvery = int64(d) } }

// NewMemory returns a limiter that allows rate requests per second per key
// on average, and up to burst at once. For "N per period" use
// NewMemory(float64(N)/period.Seconds(), N).
func NewMemory(rate float64, burst int, opts ...Option) (*Memory, error) {
	if !(rate > 0) || math.IsInf(rate, 0) || float64(time.Second)/rate < 1 {
		return nil, errors.New("ratelimit: rate must be positive and at most 1e9 per second")
	}
	if burst < 1 {
		return nil, errors.New("ratelimit: burst must be at least 1")
	}
	interval := int64(float64(time.Second) / rate)
	if interval > math.MaxInt64/int64(burst)/2 {
		return nil, errors.New("ratelimit: rate too low for this burst")
	}
	m := &Memory{
		interval:   interval,
		burstNs:    interval * int64(burst),
		now:        time.Now,
		maxKeys:    1 << 20,
		sweepEvery: int64(time.Minute),
		tat:        make(map[string]int64),
	}
	for _, o := range opts {
		o(m)
	}
	if m.maxKeys < 1 || m.sweepEvery <= 0 {
		return nil, errors.New("ratelimit: max keys and sweep interval must be positive")
	}
	return m, nil
}

// Allow records one request for key and reports whether it is within the
// limit; if not, retryAfter says when the next one will be. The in-memory
// limiter never fails; err is part of the signature for shared backends.
func (m *Memory) Allow(_ context.Context, key string) (ok bool, retryAfter time.Duration, err error) {
	now := m.now().UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	if now >= m.nextSweep {
		m.sweep(now)
	}
	tat, seen := m.tat[key]
	if !seen || tat < now {
		tat = now
	}
	next := tat + m.interval
	if allowAt := next - m.burstNs; now < allowAt {
		return false, time.Duration(allowAt - now), nil
	}
	if !seen && len(m.tat) >= m.maxKeys {
		m.evictOne()
	}
	m.tat[key] = next
	return true, 0, nil
}

// sweep forgets every key whose bucket is full again. Called with mu held.
func (m *Memory) sweep(now int64) {
	before := len(m.tat)
	for k, tat := range m.tat {
		if tat <= now {
			delete(m.tat, k)
		}
	}
	// Go maps never shrink: after a flood of distinct keys has passed, copy
	// the survivors so the memory of the flood is released.
	if before >= 1024 && len(m.tat) < before/4 {
		fresh := make(map[string]int64, len(m.tat))
		maps.Copy(fresh, m.tat)
		m.tat = fresh
	}
	m.nextSweep = now + m.sweepEvery
}

// evictOne forgets an arbitrary key (map iteration order is randomised).
func (m *Memory) evictOne() {
	for k := range m.tat {
		delete(m.tat, k)
		return
	}
}

// keys returns how many keys are tracked (for tests).
func (m *Memory) keys() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tat)
}
