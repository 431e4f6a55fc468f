// Package revocationtest is the contract every revocation list must meet,
// run by each implementation's tests.
package revocationtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// List is what the contract exercises: the interface auth.Service uses.
type List interface {
	Revoke(ctx context.Context, r authdash.Revocation) error
	Revoked(user authdash.UserID, session authdash.SessionID, started time.Time) bool
}

// Clock is a settable time for the list under test.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at a fixed instant.
func NewClock() *Clock { return &Clock{now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Run runs the contract. open returns an empty list reading the clock.
func Run(t *testing.T, open func(t *testing.T, clock func() time.Time) List) {
	t.Run("OneSession", func(t *testing.T) {
		clk := NewClock()
		l := open(t, clk.Now)
		start := clk.Now().Add(-time.Hour)
		mustRevoke(t, l, authdash.Revocation{User: "u1", Session: "s1", At: clk.Now(), Until: clk.Now().Add(15 * time.Minute)})
		want(t, l, "u1", "s1", start, true)
		want(t, l, "u1", "s2", start, false)
		want(t, l, "u2", "s1", start, false)
	})
	t.Run("EverySessionButKept", func(t *testing.T) {
		clk := NewClock()
		l := open(t, clk.Now)
		at := clk.Now()
		mustRevoke(t, l, authdash.Revocation{User: "u1", Keep: "kept", At: at, Until: at.Add(15 * time.Minute)})
		want(t, l, "u1", "old", at.Add(-time.Hour), true)
		want(t, l, "u1", "kept", at.Add(-time.Hour), false)
		// A session started after the revocation is a new sign-in.
		want(t, l, "u1", "new", at.Add(time.Millisecond), false)
		want(t, l, "u2", "old", at.Add(-time.Hour), false)
	})
	t.Run("SeveralForOneUser", func(t *testing.T) {
		clk := NewClock()
		l := open(t, clk.Now)
		at := clk.Now()
		mustRevoke(t, l, authdash.Revocation{User: "u1", Keep: "a", At: at, Until: at.Add(15 * time.Minute)})
		mustRevoke(t, l, authdash.Revocation{User: "u1", Session: "a", At: at, Until: at.Add(15 * time.Minute)})
		want(t, l, "u1", "a", at.Add(-time.Hour), true)
		want(t, l, "u1", "b", at.Add(-time.Hour), true)
	})
	t.Run("Expiry", func(t *testing.T) {
		clk := NewClock()
		l := open(t, clk.Now)
		at := clk.Now()
		mustRevoke(t, l, authdash.Revocation{User: "u1", Session: "s1", At: at, Until: at.Add(time.Minute)})
		want(t, l, "u1", "s1", at, true)
		clk.Add(time.Minute)
		want(t, l, "u1", "s1", at, false)
		// Already expired when revoked: nothing to remember.
		mustRevoke(t, l, authdash.Revocation{User: "u1", Session: "s2", At: at, Until: clk.Now()})
		want(t, l, "u1", "s2", at, false)
	})
	t.Run("ManyExpire", func(t *testing.T) {
		clk := NewClock()
		l := open(t, clk.Now)
		for i := range 500 {
			u := authdash.UserID("u" + string(rune('a'+i%26)))
			mustRevoke(t, l, authdash.Revocation{User: u, Session: authdash.SessionID(rune(i)), At: clk.Now(), Until: clk.Now().Add(time.Second)})
			clk.Add(10 * time.Millisecond)
		}
		// The last 100 are alive, the rest expired.
		want(t, l, "ua", authdash.SessionID(rune(494)), clk.Now(), true)
		want(t, l, "ua", authdash.SessionID(rune(0)), clk.Now(), false)
	})
	t.Run("Concurrent", func(t *testing.T) {
		clk := NewClock()
		l := open(t, clk.Now)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for j := range 50 {
					s := authdash.SessionID(rune('A'+i)) + authdash.SessionID(rune(j))
					if err := l.Revoke(t.Context(), authdash.Revocation{User: "u1", Session: s, At: clk.Now(), Until: clk.Now().Add(time.Minute)}); err != nil {
						t.Error(err)
					}
					l.Revoked("u1", s, clk.Now())
				}
			})
		}
		wg.Wait()
		want(t, l, "u1", authdash.SessionID('A'+7)+authdash.SessionID(rune(49)), clk.Now(), true)
	})
}

func mustRevoke(t *testing.T, l List, r authdash.Revocation) {
	t.Helper()
	if err := l.Revoke(t.Context(), r); err != nil {
		t.Fatal(err)
	}
}

func want(t *testing.T, l List, user authdash.UserID, session authdash.SessionID, started time.Time, revoked bool) {
	t.Helper()
	if got := l.Revoked(user, session, started); got != revoked {
		t.Errorf("Revoked(%s, %q, %s) = %v, want %v", user, session, started.Format(time.RFC3339Nano), got, revoked)
	}
}
