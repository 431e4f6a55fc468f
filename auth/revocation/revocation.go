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
// It is read on every authenticated request and written on sign-outs, so
// reads take no lock: a user's entries are an immutable slice in a
// sync.Map, replaced whole by writers, which serialise among themselves.
// A user with no entries (nearly every request) costs one map load.
// Entries are dropped once they expire, so the size is bounded by the
// revocations of the last access-token lifetime.
type List struct {
	now    func() time.Time
	byUser sync.Map // authdash.UserID → []authdash.Revocation, never mutated

	mu    sync.Mutex // serialises writers
	n     int        // entries, expired ones included
	swept int        // entries the last sweep left
}

// New returns an empty List. now is the clock (nil: time.Now).
func New(now func() time.Time) *List {
	if now == nil {
		now = time.Now
	}
	return &List{now: now}
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
	have := l.load(r.User)
	for _, h := range have {
		if h == r {
			return false
		}
	}
	l.byUser.Store(r.User, append(have[:len(have):len(have)], r))
	l.n++
	// Sweeping when the list has doubled since the last sweep keeps the
	// cost per Add constant.
	if l.n > 2*max(l.swept, 32) {
		l.sweep(now)
	}
	return true
}

func (l *List) load(user authdash.UserID) []authdash.Revocation {
	v, ok := l.byUser.Load(user)
	if !ok {
		return nil
	}
	return v.([]authdash.Revocation)
}

func (l *List) sweep(now time.Time) {
	n := 0
	l.byUser.Range(func(k, v any) bool {
		rs := v.([]authdash.Revocation)
		var kept []authdash.Revocation
		for _, r := range rs {
			if now.Before(r.Until) {
				kept = append(kept, r)
			}
		}
		switch {
		case len(kept) == 0:
			l.byUser.Delete(k)
		case len(kept) < len(rs):
			l.byUser.Store(k, kept)
		}
		n += len(kept)
		return true
	})
	l.n, l.swept = n, n
}

// Revoked reports whether a live revocation ends the tokens of the user's
// session that started at started.
func (l *List) Revoked(user authdash.UserID, session authdash.SessionID, started time.Time) bool {
	rs := l.load(user)
	if len(rs) == 0 {
		return false
	}
	now := l.now()
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
	var out []authdash.Revocation
	l.byUser.Range(func(_, v any) bool {
		for _, r := range v.([]authdash.Revocation) {
			if now.Before(r.Until) {
				out = append(out, r)
			}
		}
		return true
	})
	return out
}

// Len counts the entries held, expired ones not yet swept included.
func (l *List) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}
