// Package stored keeps the revocation list in the store as well as in
// memory, so that ended sessions stay ended across a restart and reach
// every instance that shares the store, Redis or not: each revocation is
// saved when it is made, the live ones are loaded at start, and without
// Redis every instance polls the store for those the others made.
package stored

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/reconnect"
)

// Store is what the list needs of the store (authdash.RevocationStore).
type Store interface {
	SaveRevocation(ctx context.Context, r authdash.Revocation) error
	Revocations(ctx context.Context, since time.Time) ([]authdash.Revocation, error)
}

// Memory is the list checked on every request: the in-process
// revocation.List, or the Redis-shared one. Add takes a revocation read
// from the store without passing it on.
type Memory interface {
	Revoke(ctx context.Context, r authdash.Revocation) error
	Revoked(user authdash.UserID, session authdash.SessionID, started time.Time) bool
	Add(r authdash.Revocation) bool
}

// Options tune a List. Zero values take the defaults.
type Options struct {
	// Poll is how often Run reads what other instances revoked; 0 turns
	// polling off, for when something else (Redis) carries revocations
	// between instances.
	Poll time.Duration
	// Overlap is how far back each poll reads before the previous one
	// started (a minute): a revocation is stamped when it is written, so
	// one whose write committed late, or was stamped by a clock behind
	// ours, is still read. Memory drops the ones it already has.
	Overlap time.Duration
	// Timeout bounds one read or write of the store: 2s.
	Timeout time.Duration
	// Log gets a store outage once when it starts and once when it ends.
	Log *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// List is a revocation list kept in the store too.
type List struct {
	store  Store
	mem    Memory
	opt    Options
	outage reconnect.Outage

	mu   sync.Mutex
	last time.Time // when the last successful read started
}

// New returns a List over mem and store, with every live revocation in the
// store already loaded into mem.
func New(ctx context.Context, store Store, mem Memory, opt Options) (*List, error) {
	if store == nil || mem == nil {
		return nil, errors.New("revocation/stored: nil store or memory")
	}
	if opt.Overlap <= 0 {
		opt.Overlap = time.Minute
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 2 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	l := &List{store: store, mem: mem, opt: opt,
		outage: reconnect.Outage{Log: opt.Log, Lost: "revocations: cannot read the store", Back: "revocations: reading the store again"}}
	if err := l.read(ctx, time.Time{}); err != nil {
		return nil, fmt.Errorf("revocation/stored: load: %w", err)
	}
	return l, nil
}

// Revoke makes r effective here at once (in memory, and through Redis if
// mem shares it), then saves it. A failed save is returned, but r still
// holds on this instance until it expires.
func (l *List) Revoke(ctx context.Context, r authdash.Revocation) error {
	err := l.mem.Revoke(ctx, r)
	sctx, cancel := context.WithTimeout(ctx, l.opt.Timeout)
	defer cancel()
	if serr := l.store.SaveRevocation(sctx, r); serr != nil {
		err = errors.Join(err, fmt.Errorf("revocation/stored: save: %w", serr))
	}
	return err
}

// Revoked implements auth.Revocations: memory only.
func (l *List) Revoked(user authdash.UserID, session authdash.SessionID, started time.Time) bool {
	return l.mem.Revoked(user, session, started)
}

// Run polls the store every Options.Poll until ctx ends; with no Poll it
// returns at once.
func (l *List) Run(ctx context.Context) {
	if l.opt.Poll <= 0 {
		return
	}
	t := time.NewTicker(l.opt.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.Poll(ctx)
		}
	}
}

// Poll reads the revocations recorded since shortly before the last
// successful read into memory. Run calls it; tests call it to poll now.
func (l *List) Poll(ctx context.Context) {
	l.mu.Lock()
	since := l.last.Add(-l.opt.Overlap)
	l.mu.Unlock()
	if err := l.read(ctx, since); err != nil {
		if ctx.Err() == nil {
			l.outage.Failed(ctx, err)
		}
		return
	}
	l.outage.Recovered(ctx)
}

func (l *List) read(ctx context.Context, since time.Time) error {
	started := l.opt.Now()
	rctx, cancel := context.WithTimeout(ctx, l.opt.Timeout)
	defer cancel()
	rs, err := l.store.Revocations(rctx, since)
	if err != nil {
		return err
	}
	for _, r := range rs {
		l.mem.Add(r)
	}
	l.mu.Lock()
	if started.After(l.last) {
		l.last = started
	}
	l.mu.Unlock()
	return nil
}
