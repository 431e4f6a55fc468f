// Package revocation remembers which sessions ended, for as long as their
// access tokens could still be presented, so that signing out, revoking a
// session, changing the password or deleting the account stops those tokens
// at once instead of when they expire (up to 15 minutes later).
//
// List keeps them in memory: complete for one instance. The redis
// subpackage shares them between instances.
package revocation

import (
	"context"
	"sync"
	"time"

	"github.com/authdash/authdash"
)

// List is an in-memory set of live revocations, safe for concurrent use.
// Checking a token costs one map lookup under a read lock; entries are
// dropped once they expire, so its size is bounded by the revocations of
// the last access-token lifetime.
type List struct {
	now func() time.Time

	mu     sync.RWMutex
	byUser map[authdash.UserID][]authdash.Revocation
	n      int // entries, expired ones included
	swept  int // entries the last sweep left
}

// New returns an empty List. now is the clock (nil: time.Now).
func New(now func() time.Time) *List {
	if now == nil {
		now = time.Now
	}
	return &List{now: now, byUser: map[authdash.UserID][]authdash.Revocation{}}
}

// Revoke adds r. It never fails; the error is for the interface that the
// shared implementation also satisfies.
func (l *List) Revoke(_ context.Context, r authdash.Revocation) error {
	l.Add(r)
	return nil
}

// Add adds r unless it has expired or is already there, and reports
// whether it was added.
func (l *List) Add(r authdash.Revocation) bool {
	now := l.now()
	if !now.Before(r.Until) || r.User == "" {
		return false
	}
	r.At, r.Until = r.At.UTC(), r.Until.UTC()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, have := range l.byUser[r.User] {
		if have == r {
			return false
		}
	}
	l.byUser[r.User] = append(l.byUser[r.User], r)
	l.n++
	// Sweeping when the list has doubled since the last sweep keeps the
	// cost per Add constant.
	if l.n > 2*max(l.swept, 32) {
		l.sweep(now)
	}
	return true
}

func (l *List) sweep(now time.Time) {
	n := 0
	for u, rs := range l.byUser {
		kept := rs[:0]
		for _, r := range rs {
			if now.Before(r.Until) {
				kept = append(kept, r)
			}
		}
		if len(kept) == 0 {
			delete(l.byUser, u)
			continue
		}
		l.byUser[u] = kept
		n += len(kept)
	}
	l.n, l.swept = n, n
}

// Revoked reports whether a live revocation ends the tokens of the user's
// session that started at started.
func (l *List) Revoked(user authdash.UserID, session authdash.SessionID, started time.Time) bool {
	l.mu.RLock()
	rs := l.byUser[user]
	if len(rs) == 0 {
		l.mu.RUnlock()
		return false
	}
	now := l.now()
	defer l.mu.RUnlock()
	for _, r := range rs {
		if now.Before(r.Until) && r.Revokes(user, session, started) {
			return true
		}
	}
	return false
}

// Live returns the revocations that have not expired.
func (l *List) Live() []authdash.Revocation {
	now := l.now()
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []authdash.Revocation
	for _, rs := range l.byUser {
		for _, r := range rs {
			if now.Before(r.Until) {
				out = append(out, r)
			}
		}
	}
	return out
}

// Len counts the entries held, expired ones not yet swept included.
func (l *List) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.n
}
