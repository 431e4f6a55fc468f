package realtime

import (
	"context"
	"errors"
	"sync"

	"github.com/authdash/authdash"
)

// Broker carries events between instances: every instance publishes the
// events its writes commit, and receives those of the owners it has sockets
// for. It is a transport only; the Hub owns the sockets.
//
// Delivery is at most once. A broker that may have lost messages (a
// reconnect, say) says so with Handler.HandleGap, and the hub then reads
// what was missed from the store's change log.
type Broker interface {
	authdash.Publisher
	// Subscribe says this instance wants the owner's events. When it returns
	// nil, every event published from then on reaches Run's handler, or a
	// HandleGap follows. The broker keeps the wish across reconnects.
	// Subscribe and Unsubscribe are idempotent and must not block for long:
	// the hub calls them as sockets come and go.
	Subscribe(ctx context.Context, owner authdash.UserID) error
	// Unsubscribe says this instance no longer wants the owner's events.
	Unsubscribe(ctx context.Context, owner authdash.UserID) error
	// Run delivers received events to h until ctx ends, reconnecting by
	// itself, and then returns nil. Only one Run may be active at a time.
	Run(ctx context.Context, h Handler) error
}

// Handler receives what a broker delivers. Calls come from the broker's
// receiving goroutine and must not block.
type Handler interface {
	// HandleEvent is called once per received event, in the order the
	// broker received them. Control events (authdash.EventSessionsRevoked,
	// authdash.EventUserDeleted) arrive here too, on the owner's channel.
	HandleEvent(authdash.Event)
	// HandleGap says events may have been lost (for example while the
	// broker reconnected); the hub then catches every socket up from the
	// store.
	HandleGap()
}

// errRunning is returned by a second concurrent Run.
var errRunning = errors.New("realtime: broker is already running")

// LocalBroker is the Broker of a single instance: Publish hands the event
// straight to the running hub. It never loses an event, so it never reports
// a gap.
type LocalBroker struct {
	mu      sync.RWMutex
	wanted  map[authdash.UserID]struct{}
	handler Handler // nil unless Run is active
}

// NewLocalBroker returns an in-process broker.
func NewLocalBroker() *LocalBroker {
	return &LocalBroker{wanted: make(map[authdash.UserID]struct{})}
}

// Publish delivers ev to the handler if its owner is subscribed, and drops it
// otherwise (including while Run is not active), as a remote broker would.
func (b *LocalBroker) Publish(ctx context.Context, ev authdash.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.RLock()
	h := b.handler
	_, ok := b.wanted[ev.Owner]
	b.mu.RUnlock()
	if ok && h != nil {
		h.HandleEvent(ev)
	}
	return nil
}

// Subscribe implements Broker.
func (b *LocalBroker) Subscribe(ctx context.Context, owner authdash.UserID) error {
	b.mu.Lock()
	b.wanted[owner] = struct{}{}
	b.mu.Unlock()
	return nil
}

// Unsubscribe implements Broker.
func (b *LocalBroker) Unsubscribe(ctx context.Context, owner authdash.UserID) error {
	b.mu.Lock()
	delete(b.wanted, owner)
	b.mu.Unlock()
	return nil
}

// Run makes h the receiver of published events until ctx ends.
func (b *LocalBroker) Run(ctx context.Context, h Handler) error {
	b.mu.Lock()
	if b.handler != nil {
		b.mu.Unlock()
		return errRunning
	}
	b.handler = h
	b.mu.Unlock()

	<-ctx.Done()

	b.mu.Lock()
	b.handler = nil
	b.mu.Unlock()
	return nil
}
