// Package redis is a rate limiter whose state lives in Redis, so that every
// instance of the server draws on one allowance per key: N instances do not
// multiply the limit by N. It implements the same GCRA as
// ratelimit.Memory, in one Lua script, so each decision is atomic and
// timed by the Redis server's clock rather than the instances'.
//
// When Redis cannot be reached the limiter decides with its Fallback, an
// in-memory limiter of the same rate (so N instances allow at worst N times
// the limit), or without one fails open; either way it logs the outage once
// (and the recovery once) and counts the decisions Redis did not make.
// Refusing every sign-in while Redis is down would be the worse outage, and
// allowing every one would lift the limit exactly when an attacker can take
// down Redis.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// gcra is the generic cell rate algorithm on one key. Times are in
// microseconds: Lua numbers are doubles, exact to 2^53, which microseconds
// since 1970 stay well within. The key expires when its bucket is full
// again, when it is indistinguishable from a key never seen.
//
// KEYS[1] key; ARGV[1] interval (µs between requests at the sustained
// rate); ARGV[2] burst × interval (µs). Returns {allowed (0/1), retry after
// (µs)}.
var gcra = redis.NewScript(`
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local nxt = tat + interval
local allow_at = nxt - burst
if now < allow_at then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000))
return {1, 0}
`)

// Options tune a Limiter. Zero values take the defaults shown.
type Options struct {
	// Prefix is prepended to every key: "authdash:ratelimit:".
	Prefix string
	// Timeout bounds one decision, so a slow Redis cannot hold up a
	// sign-in: 250ms.
	Timeout time.Duration
	// Cooldown is how long the limiter stops asking Redis after a failure,
	// failing open at once instead of waiting on a dead server each time:
	// 1s.
	Cooldown time.Duration
	// Fallback decides while Redis is unreachable: an in-memory limiter
	// of the same rate (ratelimit.Memory). Nil fails open instead.
	Fallback Decider
	// Log receives one error when Redis becomes unreachable and one notice
	// when it is back. Nil discards.
	Log *slog.Logger
}

// Decider is a rate limiter: ratelimit.Memory is one.
type Decider interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// Limiter is a Redis-backed GCRA limiter, safe for concurrent use by any
// number of goroutines and instances.
type Limiter struct {
	rdb      redis.Scripter
	interval int64 // µs
	burst    int64 // µs
	opt      Options

	failures  atomic.Uint64
	down      atomic.Bool  // Redis failed and has not answered since
	downUntil atomic.Int64 // while down, when (unix ns) to try Redis again
}

// New returns a limiter that allows rate requests per second per key on
// average and up to burst at once, with its state in rdb. The arguments
// mean what they mean for ratelimit.NewMemory.
func New(rdb redis.Scripter, rate float64, burst int, opt Options) (*Limiter, error) {
	if rdb == nil {
		return nil, errors.New("ratelimit/redis: nil client")
	}
	if !(rate > 0) || math.IsInf(rate, 0) || rate > 1e6 {
		return nil, errors.New("ratelimit/redis: rate must be positive and at most 1e6 per second")
	}
	if burst < 1 {
		return nil, errors.New("ratelimit/redis: burst must be at least 1")
	}
	interval := int64(math.Round(1e6 / rate))
	if float64(interval)*float64(burst) > 1<<52 {
		return nil, errors.New("ratelimit/redis: rate too low for this burst")
	}
	if opt.Prefix == "" {
		opt.Prefix = "authdash:ratelimit:"
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 250 * time.Millisecond
	}
	if opt.Cooldown <= 0 {
		opt.Cooldown = time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{rdb: rdb, interval: interval, burst: interval * int64(burst), opt: opt}, nil
}

// Allow records one request for key and reports whether it is within the
// limit; if not, retryAfter says when the next one will be. It never
// returns an error: when Redis fails, the request is allowed (see the
// package doc) and counted in Failures.
func (l *Limiter) Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error) {
	if l.coolingDown() {
		l.failures.Add(1)
		return l.fallback(ctx, key)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, l.opt.Timeout)
	defer cancel()
	res, err := gcra.Run(ctx, l.rdb, []string{l.opt.Prefix + key}, l.interval, l.burst).Int64Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil {
		if parent.Err() != nil {
			return true, 0, nil // the caller gave up: not Redis's fault
		}
		l.failed(err)
		return l.fallback(parent, key)
	}
	l.recovered()
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, time.Duration(res[1]) * time.Microsecond, nil
}

// Failures returns how many decisions Redis did not make because it
// failed (the Fallback made them, or the request was allowed).
func (l *Limiter) Failures() uint64 { return l.failures.Load() }

// fallback decides when Redis cannot: by the in-memory limiter, or allowing.
func (l *Limiter) fallback(ctx context.Context, key string) (bool, time.Duration, error) {
	if l.opt.Fallback == nil {
		return true, 0, nil
	}
	return l.opt.Fallback.Allow(ctx, key)
}

func (l *Limiter) coolingDown() bool {
	return l.down.Load() && time.Now().UnixNano() < l.downUntil.Load()
}

func (l *Limiter) failed(err error) {
	l.failures.Add(1)
	l.downUntil.Store(time.Now().Add(l.opt.Cooldown).UnixNano())
	if l.down.CompareAndSwap(false, true) {
		msg := "rate limiter: Redis unreachable; allowing requests unlimited until it is back"
		if l.opt.Fallback != nil {
			msg = "rate limiter: Redis unreachable; each instance limits on its own until it is back"
		}
		l.opt.Log.Error(msg, slog.String("prefix", l.opt.Prefix), slog.Any("err", err))
	}
}

func (l *Limiter) recovered() {
	if l.down.Load() && l.down.CompareAndSwap(true, false) {
		l.opt.Log.Warn("rate limiter: Redis is back; limits apply again")
	}
}
