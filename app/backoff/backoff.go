// Package backoff says how long the browser waits before trying the server
// again. The waits are short, so that the page is live again within about
// two seconds of the server's return, and jittered ("full jitter": a random
// wait up to a ceiling that doubles with each failure), so that every tab
// cut off by one restart does not come back in the same instant.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Policy bounds the waits.
type Policy struct {
	// Base is the ceiling of the first wait; each failure after it doubles
	// the ceiling, up to Max.
	Base, Max time.Duration
	// Rand returns a uniform random duration in [0, n); nil means
	// math/rand/v2. Tests give a fixed one.
	Rand func(n time.Duration) time.Duration
}

// Reconnect is the policy of the live connection and of the other retries
// of the dashboard: a first retry within 250 ms, and never more than 1.5 s
// between tries, so a server back after any outage is found within that
// and the time a connection takes.
var Reconnect = Policy{Base: 250 * time.Millisecond, Max: 1500 * time.Millisecond}

// Ceiling is the longest wait after failures consecutive failures (1 for
// the first): Base·2^(failures-1), at most Max.
func (p Policy) Ceiling(failures int) time.Duration {
	if failures < 1 {
		failures = 1
	}
	c := p.Base
	for i := 1; i < failures && c < p.Max; i++ {
		c *= 2
	}
	return min(c, p.Max)
}

// Delay is the wait before the next try after failures consecutive
// failures: uniform in [0, Ceiling(failures)].
func (p Policy) Delay(failures int) time.Duration {
	c := p.Ceiling(failures)
	if c <= 0 {
		return 0
	}
	r := p.Rand
	if r == nil {
		r = rand.N[time.Duration]
	}
	return r(c + 1)
}
