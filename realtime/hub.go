// Package realtime serves the live-update WebSocket (GET /api/ws): it
// authenticates sockets, fans the events a Broker delivers out to the
// sockets of their owner, and catches sockets up from the store's change log
// when they resume or when the broker may have lost something.
//
// The Hub owns the sockets of one instance; a Broker (LocalBroker here, a
// Redis one in realtime/redis) carries events between instances. The frames
// are defined in package wire and documented in docs/REALTIME.md.
package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"hash/maphash"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// TokenVerifier checks an access token and returns whom it speaks for (an
// error of CodeUnauthorized if no one). *auth.Verifier implements it.
type TokenVerifier interface {
	Verify(token string) (authdash.Identity, error)
}

// ChangeLog is the part of authdash.TaskStore the hub reads: the head
// alone (at sign-in, and on a heartbeat after no live traffic) and the
// changes after a Seq. An unknown owner is CodeNotFound.
type ChangeLog interface {
	ChangesSince(ctx context.Context, owner authdash.UserID, since int64, limit int) (evs []authdash.Event, head int64, ok bool, err error)
	ChangeHead(ctx context.Context, owner authdash.UserID) (int64, error)
}

// Config is what a Hub needs. Zero durations and sizes take the defaults
// shown.
type Config struct {
	Broker  Broker
	Tokens  TokenVerifier
	Changes ChangeLog
	// AllowedOrigins are the browser origins, besides the endpoint's own,
	// that may open a socket: "https://app.example.com" exactly, or a host
	// pattern such as "*.example.com" (path.Match syntax).
	AllowedOrigins []string
	Log            *slog.Logger

	QueueSize            int           // events queued per socket before it is cut off: 64
	WriteTimeout         time.Duration // per frame: 5s
	PingInterval         time.Duration // heartbeat: 25s
	PongTimeout          time.Duration // a pong must come back within: 15s
	AuthTimeout          time.Duration // first auth frame within: wire.AuthTimeout
	UnsubscribeDelay     time.Duration // keep an owner subscribed after its last socket: 5s
	MaxMessagesPerMinute int           // client frames per socket: 60
	ResumeLimit          int           // changes sent on resume before asking for a resync: 1000
	StoreTimeout         time.Duration // change-log reads and broker subscribes: 5s
	// MaxSocketsPerUser bounds one account's open sockets on an instance
	// (every tab of every device), so one token cannot hold thousands: 32.
	MaxSocketsPerUser int
	// ResumesPerMinute bounds the resumes that are answered from the change
	// log, per socket and per account on this instance (in bursts of as
	// many): 3 and 30. A resume over either is answered with a resync at the
	// head, which costs one indexed read instead of up to ResumeLimit
	// events: the client reloads its list, so nothing is lost, but one
	// account's sockets can no longer replay the log over and over at the
	// cost of everyone else's requests.
	ResumesPerMinute, AccountResumesPerMinute int
	// MaxUnauthenticated and MaxUnauthenticatedPerIP bound the sockets that
	// are open but not yet authenticated, on this instance and from one
	// client address, so that sockets that never send an auth frame cannot
	// pile up for AuthTimeout each: 4096 and 64. Over either, the upgrade
	// is refused at once with Refuse (503, Retry-After).
	MaxUnauthenticated      int
	MaxUnauthenticatedPerIP int
	// Refuse answers an upgrade the hub will not take (the server's
	// problem writer); by default a plain 503.
	Refuse func(http.ResponseWriter, *http.Request, error)
	// MaxStoreReads bounds concurrent change-log reads, so that thousands
	// of sockets catching up at once (after a Redis reconnect, or moving
	// from a crashed instance) queue instead of swamping the store: 16.
	MaxStoreReads int
}

// defaultTo sets *p to v when the field was left at zero (or set negative), so a
// Config literal names only what it changes.
func defaultTo[T int | time.Duration](p *T, v T) {
	if *p <= 0 {
		*p = v
	}
}

func (c *Config) setDefaults() {
	defaultTo(&c.WriteTimeout, 5*time.Second)
	defaultTo(&c.PingInterval, 25*time.Second)
	defaultTo(&c.PongTimeout, 15*time.Second)
	defaultTo(&c.AuthTimeout, wire.AuthTimeout)
	defaultTo(&c.UnsubscribeDelay, 5*time.Second)
	defaultTo(&c.StoreTimeout, 5*time.Second)
	defaultTo(&c.QueueSize, 64)
	defaultTo(&c.MaxMessagesPerMinute, 60)
	defaultTo(&c.ResumeLimit, 1000)
	defaultTo(&c.MaxStoreReads, 16)
	defaultTo(&c.MaxSocketsPerUser, 32)
	defaultTo(&c.ResumesPerMinute, 3)
	defaultTo(&c.AccountResumesPerMinute, 30)
	defaultTo(&c.MaxUnauthenticated, 4096)
	defaultTo(&c.MaxUnauthenticatedPerIP, 64)
	if c.Refuse == nil {
		c.Refuse = func(w http.ResponseWriter, _ *http.Request, err error) {
			status := wire.StatusOf(authdash.ErrorCodeOf(err))
			if status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "1")
			}
			http.Error(w, authdash.ErrorMessageOf(err), status)
		}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Stats are the hub's counters since it started; Connections and
// Subscriptions are current values.
type Stats struct {
	Connections   int64 // open sockets
	Subscriptions int64 // owners this instance is subscribed to
	Published     int64 // events handed to the broker by Publish
	PublishErrors int64 // of which the broker refused or timed out
	Received      int64 // events the broker delivered to this instance
	Delivered     int64 // event frames written to sockets
	Dropped       int64 // events not queued because a socket's queue was full
	SlowConsumers int64 // sockets closed for falling behind
	Gaps          int64 // times the broker reported possible loss
	CatchUps      int64 // change-log reads: resumes, gaps, checks of what was sent live
	Resyncs       int64 // of which the log could not answer
	// ResumesLimited counts resumes answered with a resync because the
	// socket or its account was over ResumesPerMinute.
	ResumesLimited int64
	// Upgrades refused because too many sockets were waiting to
	// authenticate: from one address, or on the whole instance.
	RefusedPerIP, RefusedTotal int64
}

type counters struct {
	conns, subs, published, publishErrors, received, delivered, dropped,
	slow, gaps, catchUps, resyncs, resumesLimited, refusedPerIP, refusedTotal atomic.Int64
}

// Hub is the WebSocket endpoint of one instance. Create it with NewHub, serve
// Handler on GET /api/ws, run Run for as long as it serves, and end it with
// Shutdown.
type Hub struct {
	cfg     Config
	broker  Broker
	tokens  TokenVerifier
	changes ChangeLog
	log     *slog.Logger
	origins []string
	stats   counters

	reads    chan struct{} // a token per change-log read in flight
	done     chan struct{} // closed by Shutdown
	doneOnce sync.Once
	wg       sync.WaitGroup // one per socket handler

	// subLocks order Subscribe and Unsubscribe calls per owner (an owner
	// always maps to the same lock) without serialising all owners.
	subLocks [32]sync.Mutex
	seed     maphash.Seed

	mu      sync.RWMutex
	closing bool
	owners  map[authdash.UserID]*owner

	// pending counts the sockets not yet authenticated, per client address
	// (pendingAll in all). A lock of its own: the writer that releases a
	// place must not wait on the fan-out's h.mu.
	pendingMu  sync.Mutex
	pending    map[string]int
	pendingAll int
}

// owner is the sockets of one user on this instance.
type owner struct {
	conns      map[*conn]struct{}
	subscribed bool
	gen        uint64      // bumped whenever a pending unsubscribe is cancelled
	timer      *time.Timer // pending delayed unsubscribe
	resumes    *limiter    // the account's resumes answered from the log
}

// NewHub checks cfg and returns a hub.
func NewHub(cfg Config) (*Hub, error) {
	if cfg.Broker == nil || cfg.Tokens == nil || cfg.Changes == nil {
		return nil, errors.New("realtime: hub needs a broker, a token verifier and a change log")
	}
	cfg.setDefaults()
	origins, err := parseOrigins(cfg.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	return &Hub{
		cfg:     cfg,
		broker:  cfg.Broker,
		tokens:  cfg.Tokens,
		changes: cfg.Changes,
		log:     cfg.Log,
		origins: origins,
		reads:   make(chan struct{}, cfg.MaxStoreReads),
		done:    make(chan struct{}),
		seed:    maphash.MakeSeed(),
		owners:  make(map[authdash.UserID]*owner),
		pending: make(map[string]int),
	}, nil
}

// allowResume takes a resume from the account's budget.
func (h *Hub) allowResume(user authdash.UserID, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := h.owners[user]
	return o == nil || o.resumes.allow(now)
}

// Run receives events from the broker and fans them out until ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	return h.broker.Run(ctx, (*fanout)(h))
}

// Publish hands a committed event to the broker, counting it; it is the
// authdash.Publisher of TaskService and the auth service. If the broker fails (Redis down), the
// event still reaches this instance's sockets directly, and the error is
// returned for the caller to log: other instances' sockets catch up from the
// store (at their next heartbeat, or when the broker reconnects).
func (h *Hub) Publish(ctx context.Context, ev authdash.Event) error {
	h.stats.published.Add(1)
	if err := h.broker.Publish(ctx, ev); err != nil {
		h.stats.publishErrors.Add(1)
		// Should the broker have delivered it after all, the socket sends
		// it twice, and the client ignores the second by its version.
		(*fanout)(h).HandleEvent(ev)
		return err
	}
	return nil
}

// Shutdown stops accepting sockets, closes every open one with
// wire.CloseGoingAway (clients reconnect, to another instance if this one is
// going) and waits for their goroutines to end, or for ctx.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	for _, o := range h.owners {
		if o.timer != nil {
			o.timer.Stop()
			o.timer = nil
		}
	}
	h.mu.Unlock()
	h.doneOnce.Do(func() { close(h.done) })

	idle := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(idle)
	}()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the counters.
func (h *Hub) Stats() Stats {
	s := &h.stats
	return Stats{
		Connections:    s.conns.Load(),
		Subscriptions:  s.subs.Load(),
		Published:      s.published.Load(),
		PublishErrors:  s.publishErrors.Load(),
		Received:       s.received.Load(),
		Delivered:      s.delivered.Load(),
		Dropped:        s.dropped.Load(),
		SlowConsumers:  s.slow.Load(),
		Gaps:           s.gaps.Load(),
		CatchUps:       s.catchUps.Load(),
		Resyncs:        s.resyncs.Load(),
		ResumesLimited: s.resumesLimited.Load(),
		RefusedPerIP:   s.refusedPerIP.Load(),
		RefusedTotal:   s.refusedTotal.Load(),
	}
}

func (h *Hub) subLock(id authdash.UserID) *sync.Mutex {
	return &h.subLocks[maphash.String(h.seed, string(id))%uint64(len(h.subLocks))]
}

var (
	errClosing        = errors.New("realtime: hub is shutting down")
	errTooManySockets = errors.New("realtime: too many sockets for one user")
)

// register adds an authenticated socket and, for the owner's first socket,
// subscribes the broker. When it returns, the socket receives every event
// published from then on (or a gap notice), which is what lets the caller
// read the change log afterwards without a race.
func (h *Hub) register(ctx context.Context, c *conn) error {
	l := h.subLock(c.owner)
	l.Lock()
	defer l.Unlock()

	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return errClosing
	}
	o := h.owners[c.owner]
	if o == nil {
		o = &owner{conns: make(map[*conn]struct{}), resumes: newLimiter(h.cfg.AccountResumesPerMinute, time.Minute)}
		h.owners[c.owner] = o
	}
	if len(o.conns) >= h.cfg.MaxSocketsPerUser {
		h.mu.Unlock()
		return errTooManySockets
	}
	o.conns[c] = struct{}{}
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
		o.gen++
	}
	need := !o.subscribed
	o.subscribed = true
	h.mu.Unlock()

	if !need {
		return nil
	}
	h.stats.subs.Add(1)
	sctx, cancel := context.WithTimeout(ctx, h.cfg.StoreTimeout)
	defer cancel()
	if err := h.broker.Subscribe(sctx, c.owner); err != nil {
		// The broker keeps the wish and reports a gap once it can deliver;
		// until then the socket still resumes from the store.
		h.log.LogAttrs(ctx, slog.LevelWarn, "realtime: subscribe failed",
			slog.String("user", string(c.owner)), slog.Any("err", err))
	}
	return nil
}

// unregister removes a socket; the owner's last socket leaves the broker
// subscribed for UnsubscribeDelay, so a reload does not churn subscriptions.
func (h *Hub) unregister(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := h.owners[c.owner]
	if o == nil {
		return
	}
	if _, ok := o.conns[c]; !ok {
		return
	}
	delete(o.conns, c)
	if len(o.conns) > 0 || h.closing {
		return
	}
	gen := o.gen
	id := c.owner
	o.timer = time.AfterFunc(h.cfg.UnsubscribeDelay, func() { h.unsubscribe(id, gen) })
}

// unsubscribe runs when an owner's delayed unsubscribe fires. It does
// nothing if a socket came back meanwhile.
func (h *Hub) unsubscribe(id authdash.UserID, gen uint64) {
	l := h.subLock(id)
	l.Lock()
	defer l.Unlock()

	h.mu.Lock()
	o := h.owners[id]
	if o == nil || o.gen != gen || len(o.conns) > 0 || h.closing {
		h.mu.Unlock()
		return
	}
	delete(h.owners, id)
	h.mu.Unlock()

	h.stats.subs.Add(-1)
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.StoreTimeout)
	defer cancel()
	if err := h.broker.Unsubscribe(ctx, id); err != nil {
		h.log.LogAttrs(ctx, slog.LevelWarn, "realtime: unsubscribe failed",
			slog.String("user", string(id)), slog.Any("err", err))
	}
}

// fanout is the hub as the broker's Handler. It is a separate type so that
// HandleEvent and HandleGap are not part of the Hub's API.
type fanout Hub

// HandleEvent queues ev on every socket of its owner without blocking; a
// socket whose queue is full is cut off as a slow consumer.
func (f *fanout) HandleEvent(ev authdash.Event) {
	h := (*Hub)(f)
	h.stats.received.Add(1)
	h.mu.RLock()
	defer h.mu.RUnlock()
	o := h.owners[ev.Owner]
	if o == nil || len(o.conns) == 0 {
		return
	}
	switch ev.Kind {
	case authdash.EventSessionsRevoked:
		for c := range o.conns {
			if ev.SessionID != "" && c.session == ev.SessionID || ev.SessionID == "" && c.session != ev.Keep {
				c.stop(wire.CloseSessionRevoked, nil)
			}
		}
		return
	case authdash.EventUserDeleted:
		for c := range o.conns {
			c.stop(wire.CloseAccountDeleted, nil)
		}
		return
	}
	// Encoded once for all of the owner's sockets.
	data, err := json.Marshal(ev)
	if err != nil {
		h.log.Error("realtime: encode event", slog.String("kind", string(ev.Kind)), slog.Any("err", err))
		return
	}
	m := &outbound{kind: ev.Kind, seq: ev.Seq, data: data}
	for c := range o.conns {
		select {
		case c.send <- m:
		default:
			h.stats.dropped.Add(1)
			if c.stop(wire.CloseSlowConsumer, nil) {
				h.stats.slow.Add(1)
			}
		}
	}
}

// HandleGap asks every socket to catch up from the store.
func (f *fanout) HandleGap() {
	h := (*Hub)(f)
	h.stats.gaps.Add(1)
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, o := range h.owners {
		for c := range o.conns {
			select {
			case c.gap <- struct{}{}:
			default: // a catch-up is already pending
			}
		}
	}
}
