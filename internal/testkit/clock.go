package testkit

import (
	"sync"
	"time"
)

// Clock is a time the test moves, for code that takes a func() time.Time:
// a test then steps past a deadline, an expiry or a millisecond boundary
// instead of sleeping until it passes. Safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	t       time.Time // a stopped clock's time
	running bool      // Now is time.Now plus offset
	offset  time.Duration
}

// NewClock returns a clock stopped at start: it moves only by Advance.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// NewRunningClock returns a clock that runs with the real one, and that
// Advance puts ahead of it: for code that also reads the real clock
// somewhere the test cannot reach, such as an HTTP handler computing a
// cookie's Max-Age, while the test still needs "later" to be certain.
func NewRunningClock() *Clock { return &Clock{running: true} }

// Now returns the clock's time; pass the method value (clk.Now) as the
// code's clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return time.Now().Add(c.offset)
	}
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.offset += d
}
