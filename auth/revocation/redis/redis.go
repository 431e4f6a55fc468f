// Package redis shares revocations between instances through Redis: each
// instance keeps every live revocation in memory (a revocation.List), so
// checking a token costs no round trip, and learns of the others' from a
// pub/sub channel. A sorted set under the same key holds the live ones, so
// an instance that (re)connects catches up on what it missed.
//
// If Redis is down, each instance still refuses the tokens it revoked
// itself, and every revoked session still cannot refresh; revocations from
// other instances arrive when Redis is back, and what an instance revoked
// meanwhile is written again then.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth/revocation"
	"github.com/authdash/authdash/internal/reconnect"
)

// Options tune a List. Zero values take the defaults.
type Options struct {
	// Key names both the sorted set and the channel:
	// "authdash:revocations".
	Key string
	// Timeout bounds one write to Redis: 1s.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnects: 100ms
	// and 5s.
	MinBackoff, MaxBackoff time.Duration
	// Log receives one warning when Redis becomes unreachable and one
	// notice when it is back. Nil discards.
	Log *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// keyTTL is how long the set outlives its last write. Revocations live as
// long as an access token (15 minutes at most), so an hour leaves margin.
const keyTTL = time.Hour

// idle is how long a quiet subscription waits before it pings, so a
// connection that died silently is noticed.
const idle = 30 * time.Second

// List is a revocation list shared through Redis.
type List struct {
	rdb    *redis.Client
	opt    Options
	local  *revocation.List
	outage reconnect.Outage
}

// New returns a List over rdb. Call Run to receive other instances'
// revocations.
func New(rdb *redis.Client, opt Options) (*List, error) {
	if rdb == nil {
		return nil, errors.New("revocation/redis: nil client")
	}
	if opt.Key == "" {
		opt.Key = "authdash:revocations"
	}
	if opt.Timeout <= 0 {
		opt.Timeout = time.Second
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 100 * time.Millisecond
	}
	if opt.MaxBackoff < opt.MinBackoff {
		opt.MaxBackoff = max(opt.MinBackoff, 5*time.Second)
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &List{rdb: rdb, opt: opt, local: revocation.New(opt.Now), outage: reconnect.Outage{Log: opt.Log,
		Lost: "revocations: redis unreachable; other instances' sign-outs apply here when it is back",
		Back: "revocations: redis is back"}}, nil
}

// Revoked reports whether a known revocation ends the tokens of the user's
// session that started at started. It reads memory only.
func (l *List) Revoked(user authdash.UserID, session authdash.SessionID, started time.Time) bool {
	return l.local.Revoked(user, session, started)
}

// Add applies r here only, without sharing it: one read from elsewhere (the
// store, at start-up) that the others have too.
func (l *List) Add(r authdash.Revocation) bool { return l.local.Add(r) }

// Revoke applies r here at once and shares it. An error means only that
// the other instances have not heard of it yet; Run shares it again once
// Redis is back.
func (l *List) Revoke(ctx context.Context, r authdash.Revocation) error {
	if !l.local.Add(r) {
		return nil
	}
	return l.push(ctx, []authdash.Revocation{r})
}

// push stores rs in the set and announces them, in one round trip.
func (l *List) push(ctx context.Context, rs []authdash.Revocation) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.opt.Timeout)
	defer cancel()
	now := l.opt.Now()
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range rs {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			p.ZAdd(ctx, l.opt.Key, redis.Z{Score: float64(r.Until.UnixMilli()), Member: b})
			p.Publish(ctx, l.opt.Key, b)
		}
		p.ZRemRangeByScore(ctx, l.opt.Key, "-inf", strconv.FormatInt(now.UnixMilli(), 10))
		p.PExpire(ctx, l.opt.Key, keyTTL)
		return nil
	})
	l.report(ctx, err)
	return err
}

// Run receives other instances' revocations until ctx ends, reconnecting
// by itself, and then returns nil.
func (l *List) Run(ctx context.Context) error {
	reconnect.Loop(ctx, reconnect.Backoff{Min: l.opt.MinBackoff, Max: l.opt.MaxBackoff}, &l.outage, l.session)
	return nil
}

// session lives for one connection. It subscribes first and reads the set
// second, so nothing published in between is missed, and reports whether
// it got as far as receiving.
func (l *List) session(ctx context.Context) (live bool, err error) {
	ps := l.rdb.Subscribe(ctx, l.opt.Key)
	// A blocked read ignores ctx; closing the subscription ends it.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		return false, err
	}
	// What this instance revoked while Redis was away, or knew before a
	// restart emptied it, goes back in (and out to every instance, which
	// ignores what it has).
	if known := l.local.Live(); len(known) > 0 {
		if err := l.push(ctx, known); err != nil {
			return false, err
		}
	}
	if err := l.load(ctx); err != nil {
		return false, err
	}
	l.report(ctx, nil)
	for {
		msg, err := ps.ReceiveTimeout(ctx, idle)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				if err := ps.Ping(ctx); err != nil {
					return true, err
				}
				continue
			}
			return true, err
		}
		if m, ok := msg.(*redis.Message); ok {
			l.apply(ctx, m.Payload)
		}
	}
}

// load reads every live revocation from the set.
func (l *List) load(ctx context.Context) error {
	now := l.opt.Now().UnixMilli()
	//lint:ignore SA1019 ZRANGEBYSCORE works on every Redis; its replacement, ZRANGE BYSCORE, needs Redis 6.2.
	ms, err := l.rdb.ZRangeByScore(ctx, l.opt.Key, &redis.ZRangeBy{Min: "(" + strconv.FormatInt(now, 10), Max: "+inf"}).Result()
	if err != nil {
		return err
	}
	for _, m := range ms {
		l.apply(ctx, m)
	}
	return nil
}

// apply adds one revocation read from Redis. Anything that does not decode
// as one is dropped: it did not come from an instance of this program.
func (l *List) apply(ctx context.Context, payload string) {
	var r authdash.Revocation
	if err := json.Unmarshal([]byte(payload), &r); err != nil || r.User == "" || r.Until.IsZero() {
		l.opt.Log.LogAttrs(ctx, slog.LevelWarn, "revocations: ignored a malformed entry", slog.Int("bytes", len(payload)))
		return
	}
	l.local.Add(r)
}

// report tells the outage how a round trip went.
func (l *List) report(ctx context.Context, err error) {
	if err != nil {
		l.outage.Failed(ctx, err)
	} else {
		l.outage.Recovered(ctx)
	}
}
