// Package devicelink shares one realtime socket among the tabs of a browser
// profile. The tabs of one signed-in user elect a leader through a lock
// (the Web Locks API in the browser): the leader opens the socket and posts
// what it delivers (events, the live status, reloads) on a channel
// (BroadcastChannel); the others follow the channel. Every tab tracks the
// last point to resume from that the leader's socket confirmed (the
// server's synced frame: every change up to it delivered), so when the
// leader goes (its lock is released when the tab closes or dies) the next
// holder of the lock opens the socket with a resume from there and nothing
// is lost. Not from the highest sequence number seen: a change numbered
// below it may never have been published (its instance died), and only a
// resume from below it brings that change.
//
// Delivery to a tab's handler follows the socket's contract: one call at a
// time, events possibly out of order or more than once (a takeover's resume
// repeats the last ones; a recent-sequence filter drops most repeats),
// applied by version.
package devicelink

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/authdash/authdash"
)

// Lock is the device-wide election. Acquire blocks until the lock is held
// or ctx ends; the returned release lets the next waiter have it.
type Lock interface {
	Acquire(ctx context.Context) (release func(), err error)
}

// Channel posts a message to the other tabs (not to the poster). Its
// constructor is given where received messages go.
type Channel interface {
	Post(b []byte)
	Close()
}

// Handler receives what the socket delivers, in a leader or a follower
// alike (the shape of app/api's StreamHandler).
type Handler interface {
	Reload(ctx context.Context) error
	Event(ev authdash.Event)
	// Status is the live status's text (app/api LiveStatus).
	Status(s string, err error)
}

// Source is the leader's socket: Run until ctx ends, Synced the point to
// resume from it last confirmed (app/api Stream.Synced).
type Source interface {
	Run(ctx context.Context) error
	Synced() int64
}

// Leading is the handler the leader's socket delivers to: a Handler that
// is also told each new point to resume from the socket confirms (app/api
// SyncedHandler), which it passes on to the other tabs.
type Leading interface {
	Handler
	Synced(seq int64)
}

// Open makes the leader's socket, resuming after since (0: none
// confirmed), delivering to h.
type Open func(since int64, h Leading) Source

// Message kinds on the channel.
const (
	kindEvent  = "event"  // leader → followers: a change
	kindStatus = "status" // leader → followers: the live status, and its Seq
	kindSynced = "synced" // leader → followers: a new point to resume from
	kindReload = "reload" // leader → followers: the state was loaded again (resync)
	kindHello  = "hello"  // follower → leader: say your status and Seq
	kindEnd    = "end"    // any tab → all: the session is over (signed out)
)

// message is what goes on the channel, as JSON.
type message struct {
	Kind   string          `json:"k"`
	Event  *authdash.Event `json:"e,omitempty"`
	Status string          `json:"s,omitempty"`
	Error  string          `json:"x,omitempty"`
	// Seq is the leader's last point to resume from when it posted.
	Seq int64 `json:"q,omitempty"`
}

// recent is how many logged sequence numbers are kept to drop repeats.
const recent = 512

// Link is one tab's part in the election. Make it with New, run it with Run.
type Link struct {
	lock Lock
	open Open
	h    Handler
	post func([]byte)

	// inbox holds received messages until Run takes them; notify says
	// there are some.
	inbox  []message
	notify chan struct{}

	mu     sync.Mutex
	leader bool
	last   int64  // the last point to resume from confirmed, led or followed
	status string // the last status delivered, and its error
	err    string
	seen   map[int64]bool
	order  []int64
}

// New returns a link whose tab delivers to h. Join connects it to the
// channel: it is called with the function received messages go to, and
// returns the channel to post on.
func New(lock Lock, join func(receive func([]byte)) Channel, open Open, h Handler) (*Link, Channel) {
	l := &Link{lock: lock, open: open, h: h, notify: make(chan struct{}, 1), seen: map[int64]bool{}}
	ch := join(l.receive)
	l.post = ch.Post
	return l, ch
}

// Leader reports whether this tab holds the socket now.
func (l *Link) Leader() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leader
}

// Last returns the point this tab would resume from if it took the socket
// over: the last one the leader's socket confirmed.
func (l *Link) Last() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// receive is called by the channel with another tab's message; it may be
// called on any goroutine and never blocks.
func (l *Link) receive(b []byte) {
	var m message
	if json.Unmarshal(b, &m) != nil {
		return
	}
	l.mu.Lock()
	l.inbox = append(l.inbox, m)
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// take returns the received messages and empties the inbox.
func (l *Link) take() []message {
	l.mu.Lock()
	defer l.mu.Unlock()
	ms := l.inbox
	l.inbox = nil
	return ms
}

// Run follows until this tab gets the lock, then leads until ctx ends,
// and returns the socket's error that makes reconnecting pointless (the
// session is over) or nil when ctx ends.
func (l *Link) Run(ctx context.Context) error {
	l.postMsg(message{Kind: kindHello})
	got := make(chan func(), 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lockErr error
	go func() {
		release, err := l.lock.Acquire(lctx)
		if err != nil {
			lockErr = err
			close(got)
			return
		}
		got <- release
	}()
	for {
		select {
		case <-ctx.Done():
			// A grant that raced the end is handed back.
			go func() {
				if r, ok := <-got; ok {
					r()
				}
			}()
			return nil
		case <-l.notify:
			for _, m := range l.take() {
				if err := l.follow(ctx, m); err != nil {
					return err
				}
			}
		case release, ok := <-got:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return lockErr
			}
			defer release()
			// What the last leader posted before it let go counts
			// towards where to resume from; anything still in flight is
			// asked of the server again by the resume.
			for _, m := range l.take() {
				if err := l.follow(ctx, m); err != nil {
					return err
				}
			}
			return l.lead(ctx)
		}
	}
}

// follow delivers a leader's message to this tab, or returns the end of
// the session another tab announced.
func (l *Link) follow(ctx context.Context, m message) error {
	switch m.Kind {
	case kindEnd:
		return ended(m.Error)
	case kindEvent:
		if m.Event != nil && l.fresh(*m.Event) {
			l.h.Event(*m.Event)
		}
	case kindStatus:
		l.saw(m.Seq)
		l.setStatus(m.Status, m.Error)
		var err error
		if m.Error != "" {
			err = errors.New(m.Error)
		}
		l.h.Status(m.Status, err)
	case kindSynced:
		l.saw(m.Seq)
	case kindReload:
		l.saw(m.Seq)
		_ = l.h.Reload(ctx)
	}
	return nil
}

// ended is the error Run returns when another tab ended the session: the
// same as the socket's when the server ends it, so the app ends the
// session in this tab too.
func ended(why string) error {
	if why == "" {
		why = "You signed out in another tab."
	}
	return authdash.Errorf(authdash.CodeUnauthorized, "%s", why)
}

// End tells the profile's other tabs of this user that the session is
// over (signed out, revoked): their Run returns an unauthorized error
// with why ("" says they were signed out in another tab).
func (l *Link) End(why string) { l.postMsg(message{Kind: kindEnd, Error: why}) }

// lead opens the socket from the last point confirmed and posts what it
// delivers.
func (l *Link) lead(ctx context.Context) error {
	l.mu.Lock()
	l.leader = true
	since := l.last
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.leader = false
		l.mu.Unlock()
	}()
	lh := &leading{l: l}
	src := l.open(since, lh)
	lh.src = src
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var end error // another tab's End, set before stop
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Newcomers ask for the status and sequence number.
		for {
			select {
			case <-sctx.Done():
				return
			case <-l.notify:
				for _, m := range l.take() {
					if m.Kind == kindEnd {
						end = ended(m.Error)
						stop()
						return
					}
					if m.Kind != kindHello {
						continue
					}
					l.mu.Lock()
					st, e, q := l.status, l.err, l.last
					l.mu.Unlock()
					if st != "" {
						l.postMsg(message{Kind: kindStatus, Status: st, Error: e, Seq: q})
					}
				}
			}
		}
	}()
	err := src.Run(sctx)
	if sctx.Err() != nil && ctx.Err() == nil {
		// Only the End above cancels sctx alone.
		<-done
		return end
	}
	return err
}

// leading is the handler the leader's socket delivers to: the tab's own,
// and the channel.
type leading struct {
	l   *Link
	src Source
}

func (h *leading) seq() int64 {
	if h.src == nil {
		return 0
	}
	q := h.src.Synced()
	h.l.saw(q)
	return q
}

func (h *leading) Synced(seq int64) {
	h.l.saw(seq)
	h.l.postMsg(message{Kind: kindSynced, Seq: seq})
}

func (h *leading) Reload(ctx context.Context) error {
	err := h.l.h.Reload(ctx)
	h.l.postMsg(message{Kind: kindReload, Seq: h.seq()})
	return err
}

func (h *leading) Event(ev authdash.Event) {
	if !h.l.fresh(ev) {
		return
	}
	h.l.postMsg(message{Kind: kindEvent, Event: &ev})
	h.l.h.Event(ev)
}

func (h *leading) Status(s string, err error) {
	var e string
	if err != nil {
		e = err.Error()
	}
	h.l.setStatus(s, e)
	h.l.postMsg(message{Kind: kindStatus, Status: s, Error: e, Seq: h.seq()})
	h.l.h.Status(s, err)
}

func (l *Link) setStatus(s, e string) {
	l.mu.Lock()
	l.status, l.err = s, e
	l.mu.Unlock()
}

func (l *Link) postMsg(m message) {
	b, err := json.Marshal(m)
	if err == nil {
		l.post(b)
	}
}

// saw records a point to resume from the leader's socket confirmed.
func (l *Link) saw(seq int64) {
	l.mu.Lock()
	l.last = max(l.last, seq)
	l.mu.Unlock()
}

// fresh records an event's sequence number and reports whether it is not
// a repeat of a recent one. Events outside the log (no Seq) always pass.
// An event is no point to resume from: only the socket's confirmation is.
func (l *Link) fresh(ev authdash.Event) bool {
	if !ev.Kind.Logged() || ev.Seq == 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[ev.Seq] {
		return false
	}
	l.seen[ev.Seq] = true
	l.order = append(l.order, ev.Seq)
	if len(l.order) > recent {
		delete(l.seen, l.order[0])
		l.order = l.order[1:]
	}
	return true
}

// Name is the lock's and the channel's name for a signed-in user: tabs of
// another user in the same profile never share.
func Name(user authdash.UserID) string { return "authdash-live:" + string(user) }
