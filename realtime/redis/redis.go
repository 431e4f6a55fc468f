// Package redis is a realtime.Broker over Redis pub/sub (go-redis v9): one
// channel per user, to which an instance subscribes while it has sockets of
// that user. Pub/sub delivers at most once; after any reconnect the broker
// resubscribes and reports a gap, and the hub catches sockets up from the
// store.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/reconnect"
	"github.com/authdash/authdash/realtime"
)

// Options tune a Broker. Zero values take the defaults shown.
type Options struct {
	// Prefix starts every channel name: "authdash:". Channels are
	// Prefix + "u:" + user ID.
	Prefix string
	// PublishTimeout bounds a Publish, so a write request is not held up
	// for long while Redis is down: 250ms.
	PublishTimeout time.Duration
	// HealthInterval is how long the subscription may stay silent before
	// the broker pings Redis; an unanswered ping counts as a lost
	// connection: 5s.
	HealthInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnect attempts:
	// 100ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	Log                    *slog.Logger
}

// Broker is a realtime.Broker on Redis pub/sub.
type Broker struct {
	rdb redis.UniversalClient
	opt Options

	mu      sync.Mutex
	running bool
	wanted  map[authdash.UserID]struct{}
	ps      *redis.PubSub              // the live subscription; nil while disconnected
	waiters map[string][]chan struct{} // by "subscribe <channel>": calls awaiting Redis's confirmation
	outage  reconnect.Outage           // logs each outage of the subscription once
}

var _ realtime.Broker = (*Broker)(nil)

// New returns a broker publishing and subscribing through rdb, which the
// caller owns and closes after Run has returned.
func New(rdb redis.UniversalClient, opt Options) *Broker {
	if opt.Prefix == "" {
		opt.Prefix = "authdash:"
	}
	if opt.PublishTimeout <= 0 {
		opt.PublishTimeout = 250 * time.Millisecond
	}
	if opt.HealthInterval <= 0 {
		opt.HealthInterval = 5 * time.Second
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 100 * time.Millisecond
	}
	if opt.MaxBackoff < opt.MinBackoff {
		opt.MaxBackoff = max(5*time.Second, opt.MinBackoff)
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Broker{
		rdb:     rdb,
		opt:     opt,
		wanted:  make(map[authdash.UserID]struct{}),
		waiters: make(map[string][]chan struct{}),
		outage: reconnect.Outage{Log: opt.Log,
			Lost: "redis: pub/sub connection lost; reconnecting", Back: "redis: pub/sub connection restored"},
	}
}

func (b *Broker) channel(owner authdash.UserID) string { return b.opt.Prefix + "u:" + string(owner) }

// envelope is an event on a channel. The domain keeps Owner, SessionID and
// Keep out of its JSON (clients never see them); instances need them.
type envelope struct {
	authdash.Event
	Owner     authdash.UserID    `json:"owner"`
	SessionID authdash.SessionID `json:"sid,omitempty"`
	Keep      authdash.SessionID `json:"keep,omitempty"`
}

// Publish sends ev on its owner's channel. It fails fast while Redis is
// unreachable; the caller logs it and clients recover from the change log.
func (b *Broker) Publish(ctx context.Context, ev authdash.Event) error {
	if ev.Owner == "" {
		return errors.New("redis: publish: event has no owner")
	}
	data, err := json.Marshal(envelope{Event: ev, Owner: ev.Owner, SessionID: ev.SessionID, Keep: ev.Keep})
	if err != nil {
		return fmt.Errorf("redis: publish: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, b.opt.PublishTimeout)
	defer cancel()
	if err := b.rdb.Publish(ctx, b.channel(ev.Owner), data).Err(); err != nil {
		return fmt.Errorf("redis: publish %s: %w", ev.Kind, err)
	}
	return nil
}

// Subscribe records the wish and, while connected, subscribes at once and
// waits for Redis to confirm. While disconnected it returns at once: the next
// connection subscribes every wished owner and then reports a gap.
func (b *Broker) Subscribe(ctx context.Context, owner authdash.UserID) error {
	b.mu.Lock()
	b.wanted[owner] = struct{}{}
	b.mu.Unlock()
	return b.change(ctx, "subscribe", owner)
}

// Unsubscribe forgets the wish and, while connected, unsubscribes and waits
// for Redis to confirm, after which no more of the owner's events arrive.
func (b *Broker) Unsubscribe(ctx context.Context, owner authdash.UserID) error {
	b.mu.Lock()
	delete(b.wanted, owner)
	b.mu.Unlock()
	return b.change(ctx, "unsubscribe", owner)
}

// change sends SUBSCRIBE or UNSUBSCRIBE on the live connection, if any, and
// waits for the confirmation Redis sends in its stream.
func (b *Broker) change(ctx context.Context, kind string, owner authdash.UserID) error {
	ch := b.channel(owner)
	key := kind + " " + ch
	b.mu.Lock()
	ps := b.ps
	if ps == nil {
		b.mu.Unlock()
		return nil
	}
	confirmed := make(chan struct{})
	b.waiters[key] = append(b.waiters[key], confirmed)
	b.mu.Unlock()

	var err error
	if kind == "subscribe" {
		err = ps.Subscribe(ctx, ch)
	} else {
		err = ps.Unsubscribe(ctx, ch)
	}
	if err == nil {
		select {
		case <-confirmed:
			return nil
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dropWaiterLocked(key, confirmed)
	if b.ps != ps {
		return nil // that connection is gone; the next one follows the wishes
	}
	return fmt.Errorf("redis: %s %s: %w", kind, owner, err)
}

func (b *Broker) dropWaiterLocked(key string, w chan struct{}) {
	ws := b.waiters[key]
	for i, x := range ws {
		if x == w {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(b.waiters, key)
	} else {
		b.waiters[key] = ws
	}
}

// resubscribed is the payload of the ping sent after (re)subscribing: Redis
// answers in order, so its pong means every subscription is active.
const resubscribed = "authdash:resubscribed"

// Run receives until ctx ends, reconnecting with backoff, and reports a gap
// after every (re)connection once its subscriptions are active.
func (b *Broker) Run(ctx context.Context, h realtime.Handler) error {
	b.mu.Lock()
	if b.running {
		b.mu.Unlock()
		return errors.New("redis: broker is already running")
	}
	b.running = true
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.running = false
		b.mu.Unlock()
	}()

	reconnect.Loop(ctx, reconnect.Backoff{Min: b.opt.MinBackoff, Max: b.opt.MaxBackoff}, &b.outage, func(ctx context.Context) (bool, error) {
		return b.session(ctx, h)
	})
	return nil
}

// session lives for one connection: it subscribes every wanted owner,
// delivers until the connection fails, and reports whether it got as far as
// receiving.
func (b *Broker) session(ctx context.Context, h realtime.Handler) (live bool, err error) {
	ps := b.rdb.Subscribe(ctx)
	// A blocked read ignores ctx; closing the subscription ends it.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	defer ps.Close()

	// Connect before taking the lock, so a Subscribe call never waits on a
	// dial.
	if err := ps.Ping(ctx); err != nil {
		return false, err
	}
	b.mu.Lock()
	chans := make([]string, 0, len(b.wanted))
	for id := range b.wanted {
		chans = append(chans, b.channel(id))
	}
	// Holding the lock until b.ps is set means a Subscribe either is in this
	// snapshot or sees b.ps and subscribes itself.
	for len(chans) > 0 && err == nil {
		n := min(len(chans), 1000)
		err = ps.Subscribe(ctx, chans[:n]...)
		chans = chans[n:]
	}
	if err == nil {
		err = ps.Ping(ctx, resubscribed)
	}
	if err == nil {
		b.ps = ps
	}
	b.mu.Unlock()
	if err != nil {
		return false, err
	}
	defer func() {
		b.mu.Lock()
		b.ps = nil
		// Release waiting Subscribe calls: the next connection covers them.
		for ch, ws := range b.waiters {
			for _, w := range ws {
				close(w)
			}
			delete(b.waiters, ch)
		}
		b.mu.Unlock()
	}()

	pinged := false // a health ping is unanswered
	for {
		msg, err := ps.ReceiveTimeout(ctx, b.opt.HealthInterval)
		if err != nil {
			if ctx.Err() != nil {
				return true, nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged {
				pinged = true
				if err := ps.Ping(ctx); err != nil {
					return true, err
				}
				continue
			}
			return true, err
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Message:
			b.deliver(ctx, h, m)
		case *redis.Subscription:
			b.confirm(m.Kind + " " + m.Channel)
		case *redis.Pong:
			if m.Payload == resubscribed {
				live = true
				b.outage.Recovered(ctx)
				h.HandleGap()
			}
		}
	}
}

func (b *Broker) confirm(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range b.waiters[key] {
		close(w)
	}
	delete(b.waiters, key)
}

func (b *Broker) deliver(ctx context.Context, h realtime.Handler, m *redis.Message) {
	var env envelope
	if err := json.Unmarshal([]byte(m.Payload), &env); err != nil || b.channel(env.Owner) != m.Channel {
		b.opt.Log.LogAttrs(ctx, slog.LevelWarn, "redis: dropping malformed message",
			slog.String("channel", m.Channel), slog.Any("err", err))
		return
	}
	ev := env.Event
	ev.Owner, ev.SessionID, ev.Keep = env.Owner, env.SessionID, env.Keep
	h.HandleEvent(ev)
}
