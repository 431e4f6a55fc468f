// Package profilecache is a read-through Redis cache of user profiles in
// front of an authdash.Store, so the profile read behind every
// authenticated page (GET /api/me) costs no database round trip.
//
// Redis is an accelerator here, never a dependency: when it is down, slow
// or holds garbage, every call is answered from the store, the failure is
// logged once (and the recovery once), and a short TTL bounds how long a
// missed invalidation can serve a stale profile.
package profilecache

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authdash/authdash"
	"github.com/redis/go-redis/v9"
)

// Defaults for Options fields left zero.
const (
	DefaultTTL      = 5 * time.Minute
	DefaultTimeout  = 75 * time.Millisecond
	DefaultCooldown = time.Second
)

// maxPending bounds the invalidations remembered while Redis is failing.
const maxPending = 10_000

// Options tunes the cache.
type Options struct {
	// Prefix starts every key, e.g. "authdash:".
	Prefix string
	// TTL is the safety net: how long an entry lives even if an
	// invalidation was lost.
	TTL time.Duration
	// Timeout bounds each Redis operation; past it the store answers.
	Timeout time.Duration
	// Cooldown is how long the cache leaves Redis alone after a failure
	// before trying again, so an outage costs requests nothing.
	Cooldown time.Duration
	// Log receives the outage and recovery notices; default
	// slog.Default().
	Log *slog.Logger
}

// Stats counts cache outcomes since New.
type Stats struct {
	Hits     uint64 // profiles served from Redis
	Misses   uint64 // profiles read from the store and cached
	Errors   uint64 // Redis operations that failed or returned garbage
	Bypassed uint64 // profile reads that skipped Redis during a cooldown
}

// Store is an authdash.Store whose FindUser is served from Redis when it
// can be. Every other method is the wrapped store's; the three that change
// a profile also invalidate its entry.
type Store struct {
	authdash.Store
	rdb *redis.Client
	o   Options

	hits, misses, errs, bypassed atomic.Uint64

	// retryAt is when Redis may next be tried (Unix ns; 0: now).
	retryAt atomic.Int64
	// degraded is true from the first failure until a success, so each
	// outage is logged once, not per request.
	degraded atomic.Bool

	mu      sync.Mutex
	pending map[authdash.UserID]struct{} // invalidations Redis missed
}

// ClientOptions derives the options of the cache's Redis client from
// base (REDIS_URL parsed): it honours context deadlines, which the cache
// sets to Options.Timeout on every call, and never retries, since a slow
// answer is worth less than a store read.
func ClientOptions(base *redis.Options) *redis.Options {
	c := *base
	c.ContextTimeoutEnabled = true
	c.MaxRetries = -1   // none
	c.DialerRetries = 1 // fail fast; the cooldown paces the next try
	return &c
}

// New wraps s, caching in Redis through rdb, a client made with
// ClientOptions that the caller closes after the cache's last use.
func New(s authdash.Store, rdb *redis.Client, o Options) *Store {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Cooldown < 0 {
		o.Cooldown = 0
	} else if o.Cooldown == 0 {
		o.Cooldown = DefaultCooldown
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Store{Store: s, rdb: rdb, o: o, pending: map[authdash.UserID]struct{}{}}
}

// Ping checks Redis answers within ctx's deadline (not the cache's tight
// per-call budget, so a loaded moment does not flap readiness). A failing
// cache degrades speed, not correctness.
func (s *Store) Ping(ctx context.Context) error {
	return s.rdb.Ping(ctx).Err()
}

// Stats returns the counters, for metrics.
func (s *Store) Stats() Stats {
	return Stats{Hits: s.hits.Load(), Misses: s.misses.Load(), Errors: s.errs.Load(), Bypassed: s.bypassed.Load()}
}

// Keys share a hash tag so the entry and its generation live in one Redis
// Cluster slot, as a script touching both requires.
func (s *Store) keys(id authdash.UserID) (entry, gen string) {
	k := s.o.Prefix + "user:{" + string(id) + "}"
	return k, k + ":gen"
}

// fill caches a profile read from the store, unless the profile was
// invalidated since the read began: the generation the reader saw must
// still be current. Without that check a read racing an update could put
// the old profile back right after the update removed it.
var fill = redis.NewScript(`
local gen = redis.call('GET', KEYS[2]) or ''
if gen ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`)

// invalidate removes an entry and moves its generation on, so a read in
// flight does not refill it with what it read before the change.
var invalidate = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1`)

// FindUser returns the profile from Redis when cached, else from the store,
// caching it on the way out.
func (s *Store) FindUser(ctx context.Context, id authdash.UserID) (*authdash.User, error) {
	if !s.ready(ctx) {
		s.bypassed.Add(1)
		return s.Store.FindUser(ctx, id)
	}
	entry, gen := s.keys(id)
	rctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	vals, err := s.rdb.MGet(rctx, entry, gen).Result()
	cancel()
	if err != nil {
		s.readFailed(ctx, "read", err)
		return s.Store.FindUser(ctx, id)
	}
	if raw, ok := vals[0].(string); ok {
		var u authdash.User
		if err := json.Unmarshal([]byte(raw), &u); err == nil && u.ID == id {
			s.hits.Add(1)
			return &u, nil
		}
		// Garbage (another writer, a format change, corruption): a miss,
		// and the entry goes so the next read refills it.
		// Redis itself answered, so no cooldown.
		s.errs.Add(1)
		s.degrade(ctx, "decode", errors.New("undecodable profile entry"))
		s.drop(ctx, id)
		return s.Store.FindUser(ctx, id)
	}
	u, err := s.Store.FindUser(ctx, id)
	if err != nil {
		return nil, err
	}
	s.misses.Add(1)
	seen, _ := vals[1].(string)
	if b, err := json.Marshal(u); err == nil {
		rctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
		err = fill.Run(rctx, s.rdb, []string{entry, gen}, b, seen, s.o.TTL.Milliseconds()).Err()
		cancel()
		if err != nil {
			s.readFailed(ctx, "fill", err)
		}
	}
	return u, nil
}

// UpdateUser updates the store, then invalidates the entry. It invalidates
// after a failure too: a timeout may hide a write that happened.
func (s *Store) UpdateUser(ctx context.Context, id authdash.UserID, p authdash.UserPatch) (*authdash.User, error) {
	u, err := s.Store.UpdateUser(ctx, id, p)
	s.drop(ctx, id)
	return u, err
}

// SetEmail changes or verifies the address in the store, then invalidates
// the entry, after a failure too, as UpdateUser does.
func (s *Store) SetEmail(ctx context.Context, id authdash.UserID, from, to string) (*authdash.User, error) {
	u, err := s.Store.SetEmail(ctx, id, from, to)
	s.drop(ctx, id)
	return u, err
}

// SetPassword changes the password in the store, then invalidates the
// entry (the profile's version may move with it).
func (s *Store) SetPassword(ctx context.Context, id authdash.UserID, hash string, keep authdash.SessionID) error {
	err := s.Store.SetPassword(ctx, id, hash, keep)
	s.drop(ctx, id)
	return err
}

// DeleteUser deletes the account, then its entry.
func (s *Store) DeleteUser(ctx context.Context, id authdash.UserID) error {
	err := s.Store.DeleteUser(ctx, id)
	s.drop(ctx, id)
	return err
}

// drop invalidates id's entry. If Redis cannot take it now, the
// invalidation is remembered and replayed before Redis is used again (the
// TTL covers the rest: other instances' reads, or more than maxPending).
func (s *Store) drop(ctx context.Context, id authdash.UserID) {
	if !s.ready(ctx) {
		s.remember(id)
		if !s.degraded.Load() {
			// The outage ended while this call waited out its cooldown;
			// replay now rather than at the next outage.
			s.recover(ctx)
		}
		return
	}
	if err := s.del(context.WithoutCancel(ctx), id); err != nil {
		s.remember(id)
		s.failed(ctx, "invalidate", err)
	}
}

func (s *Store) del(ctx context.Context, id authdash.UserID) error {
	entry, gen := s.keys(id)
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	return invalidate.Run(ctx, s.rdb, []string{entry, gen}, (2 * s.o.TTL).Milliseconds()).Err()
}

func (s *Store) remember(id authdash.UserID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) < maxPending {
		s.pending[id] = struct{}{}
	}
}

// ready reports whether Redis may be used now: not in a cooldown, and, after
// an outage, only once the invalidations it missed have been replayed, so
// no entry an update meant to remove is served again.
func (s *Store) ready(ctx context.Context) bool {
	if at := s.retryAt.Load(); at != 0 && time.Now().UnixNano() < at {
		return false
	}
	return !s.degraded.Load() || s.recover(ctx)
}

// failed counts a failed Redis operation, starts a cooldown and logs the
// first failure of an outage.
func (s *Store) failed(ctx context.Context, op string, err error) {
	s.errs.Add(1)
	s.retryAt.Store(time.Now().Add(s.o.Cooldown).UnixNano())
	s.degrade(ctx, op, err)
}

// readFailed is failed for a read or a fill, which run under the caller's
// context: one the caller cancelled (a client that went away) says nothing
// about Redis, and must not turn the cache off for everyone for a cooldown.
// (Invalidations run without the caller's cancellation, so their failures
// are always Redis's.)
func (s *Store) readFailed(ctx context.Context, op string, err error) {
	if ctx.Err() != nil {
		return
	}
	s.failed(ctx, op, err)
}

// degrade logs the first problem of an outage; later ones are only counted
// until a success ends it.
func (s *Store) degrade(ctx context.Context, op string, err error) {
	if s.degraded.CompareAndSwap(false, true) {
		s.o.Log.LogAttrs(ctx, slog.LevelWarn, "profile cache degraded: serving profiles from the store",
			slog.String("op", op), slog.Any("err", err))
	}
}

// recover tries to end an outage: it replays the invalidations Redis
// missed (or pings, if none), in one pipelined round trip, and logs the
// recovery once.
func (s *Store) recover(ctx context.Context) bool {
	s.mu.Lock()
	ids := make([]authdash.UserID, 0, len(s.pending))
	for id := range s.pending {
		ids = append(ids, id)
	}
	clear(s.pending)
	s.mu.Unlock()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.o.Timeout)
	defer cancel()
	_, err := s.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
		p.Ping(rctx)
		for _, id := range ids {
			entry, gen := s.keys(id)
			p.Del(rctx, entry)
			p.Incr(rctx, gen)
			p.PExpire(rctx, gen, 2*s.o.TTL)
		}
		return nil
	})
	if err != nil {
		for _, id := range ids {
			s.remember(id)
		}
		s.failed(ctx, "recover", err)
		return false
	}
	s.retryAt.Store(0)
	if s.degraded.CompareAndSwap(true, false) {
		s.o.Log.LogAttrs(ctx, slog.LevelInfo, "profile cache recovered", slog.Int("replayed_invalidations", len(ids)))
	}
	return true
}
