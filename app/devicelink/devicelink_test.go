package devicelink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// server is the realtime server as a tab sees it: a change log, the
// sockets open on it, and live delivery to them.
type server struct {
	mu      sync.Mutex
	log     []authdash.Event
	sockets map[*source]bool
	opened  int // sockets ever opened
	resumes []int64
}

func newServer() *server { return &server{sockets: map[*source]bool{}} }

// change commits a change and delivers it to every open socket.
func (s *server) change(id string) { s.commit(id, true) }

// lose commits a change whose publish is lost (its instance died right
// after the commit): no socket gets it live; only a resume from below it
// brings it.
func (s *server) lose(id string) { s.commit(id, false) }

func (s *server) commit(id string, publish bool) {
	s.mu.Lock()
	ev := authdash.Event{Kind: authdash.EventTaskCreated, Seq: int64(len(s.log) + 1), TaskID: authdash.TaskID(id), Version: 1}
	s.log = append(s.log, ev)
	if publish {
		for so := range s.sockets {
			so.live <- ev
		}
	}
	s.mu.Unlock()
}

func (s *server) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sockets)
}

// source is one socket: a resume from since (or a reload at the head),
// then the live changes, until ctx ends. It confirms a point to resume
// from as soon as every change up to it has been sent (the real server
// does at its next log read): never past a change it did not send.
type source struct {
	s      *server
	since  int64
	h      Leading
	live   chan authdash.Event
	mu     sync.Mutex
	synced int64
	// Run's own: what was sent, and the point up to which all was.
	sent map[int64]bool
	upTo int64
}

func (s *server) opener(since int64, h Leading) Source {
	return &source{s: s, since: since, h: h, live: make(chan authdash.Event, 1000), sent: map[int64]bool{}}
}

func (so *source) Synced() int64 { so.mu.Lock(); defer so.mu.Unlock(); return so.synced }

func (so *source) confirm(seq int64) {
	so.mu.Lock()
	so.synced = seq
	so.mu.Unlock()
	so.h.Synced(seq)
}

func (so *source) Run(ctx context.Context) error {
	so.s.mu.Lock()
	so.s.sockets[so] = true
	so.s.opened++
	so.s.resumes = append(so.s.resumes, so.since)
	var backlog []authdash.Event
	head := int64(len(so.s.log))
	if so.since > 0 {
		backlog = append(backlog, so.s.log[so.since:]...)
	}
	so.s.mu.Unlock()
	defer func() {
		so.s.mu.Lock()
		delete(so.s.sockets, so)
		so.s.mu.Unlock()
	}()
	so.h.Status("live", nil)
	so.upTo = so.since
	if so.since == 0 {
		if err := so.h.Reload(ctx); err != nil {
			return err
		}
		so.upTo = head
		so.confirm(head)
	}
	deliver := func(ev authdash.Event) {
		so.sent[ev.Seq] = true
		so.h.Event(ev)
		from := so.upTo
		for so.sent[so.upTo+1] {
			so.upTo++
		}
		if so.upTo > from {
			so.confirm(so.upTo)
		}
	}
	for _, ev := range backlog {
		deliver(ev)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-so.live:
			deliver(ev)
		}
	}
}

// tab is one browser tab's handler: the tasks it holds, as the app applies
// them (a reload takes the server's whole state).
type tab struct {
	s       *server
	mu      sync.Mutex
	tasks   map[authdash.TaskID]int // times applied
	status  string
	reloads int
}

func (t *tab) Reload(context.Context) error {
	t.s.mu.Lock()
	log := append([]authdash.Event(nil), t.s.log...)
	t.s.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reloads++
	for _, ev := range log {
		if _, ok := t.tasks[ev.TaskID]; !ok {
			t.tasks[ev.TaskID] = 0
		}
	}
	return nil
}

func (t *tab) Event(ev authdash.Event) {
	t.mu.Lock()
	t.tasks[ev.TaskID]++
	t.mu.Unlock()
}

func (t *tab) Status(s string, _ error) {
	t.mu.Lock()
	t.status = s
	t.mu.Unlock()
}

func (t *tab) has(ids ...string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		if _, ok := t.tasks[authdash.TaskID(id)]; !ok {
			return false
		}
	}
	return true
}

// device is a browser profile: one lock and one channel per user.
type device struct {
	lock MemoryLock
	bus  MemoryBus
}

type running struct {
	t    *tab
	l    *Link
	ch   Channel
	stop context.CancelFunc
	done chan error
}

func (d *device) open(s *server) *running {
	t := &tab{s: s, tasks: map[authdash.TaskID]int{}}
	l, ch := New(&d.lock, d.bus.Join, s.opener, t)
	ctx, stop := context.WithCancel(context.Background())
	r := &running{t: t, l: l, ch: ch, stop: stop, done: make(chan error, 1)}
	go func() { r.done <- l.Run(ctx) }()
	return r
}

// close is a tab closing: its channel goes, its Run ends and lets go of
// the lock.
func (r *running) close() {
	r.ch.Close()
	r.stop()
	<-r.done
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func leaders(tabs []*running) (n int, which *running) {
	for _, r := range tabs {
		if r.l.Leader() {
			n++
			which = r
		}
	}
	return n, which
}

func ids(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprint("t", i))
	}
	return out
}

func TestOneSocketPerDevice(t *testing.T) {
	for _, tc := range []struct {
		name string
		tabs int
		// closes is how many leaders in a row close, with changes made
		// before each close and while no tab leads.
		closes int
	}{
		{"one tab", 1, 0},
		{"ten tabs", 10, 0},
		{"ten tabs, leader closes", 10, 1},
		{"ten tabs, leaders close one after another", 10, 5},
		{"two tabs, leader closes", 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer()
			var d device
			var tabs []*running
			for range tc.tabs {
				tabs = append(tabs, d.open(s))
			}
			waitFor(t, "a leader with a socket", func() bool { n, _ := leaders(tabs); return n == 1 && s.open() == 1 })
			next := 0
			made := func(n int) []string {
				out := ids(next, next+n)
				for _, id := range out {
					s.change(id)
				}
				next += n
				return out
			}
			all := made(20)
			for range tc.closes {
				_, lead := leaders(tabs)
				all = append(all, made(5)...)
				// Every tab has them and knows where to resume from
				// before the leader goes. Holding them is not enough: a
				// follower that applies the leader's reload takes the
				// server's whole state at once, before the leader's
				// socket has confirmed any point past it.
				for _, r := range tabs {
					waitFor(t, "the changes before the close", func() bool {
						return r.t.has(all...) && r.l.Last() == int64(len(all))
					})
				}
				lead.close()
				var rest []*running
				for _, r := range tabs {
					if r != lead {
						rest = append(rest, r)
					}
				}
				tabs = rest
				// Changes while no tab holds a socket (or the new one
				// is opening) are caught up by the resume.
				all = append(all, made(5)...)
				waitFor(t, "a new leader", func() bool { n, _ := leaders(tabs); return n == 1 })
			}
			all = append(all, made(10)...)
			for i, r := range tabs {
				waitFor(t, fmt.Sprintf("tab %d holds every change", i), func() bool { return r.t.has(all...) })
			}
			if n, _ := leaders(tabs); n != 1 {
				t.Errorf("%d leaders, want 1", n)
			}
			if got := s.open(); got != 1 {
				t.Errorf("server holds %d sockets, want 1", got)
			}
			s.mu.Lock()
			opened, resumes := s.opened, s.resumes
			s.mu.Unlock()
			if opened != 1+tc.closes {
				t.Errorf("sockets opened %d, want %d (one per leader)", opened, 1+tc.closes)
			}
			for i, since := range resumes[1:] {
				// A takeover resumes from what the tab saw, never from
				// scratch (that would be a reload of everything).
				if since == 0 {
					t.Errorf("takeover %d did not resume", i+1)
				}
			}
			for _, r := range tabs {
				r.t.mu.Lock()
				if r.t.status != "live" {
					t.Errorf("a tab's status %q, want live", r.t.status)
				}
				r.t.mu.Unlock()
				r.close()
			}
			if got := s.open(); got != 0 {
				t.Errorf("after every tab closed the server holds %d sockets", got)
			}
		})
	}
}

// Each user of a profile has a lock and channel of their own.
func TestUsersDoNotShare(t *testing.T) {
	if Name("u1") == Name("u2") {
		t.Fatal("two users, one name")
	}
	s1, s2 := newServer(), newServer()
	devices := map[string]*device{}
	get := func(user authdash.UserID) *device {
		if devices[Name(user)] == nil {
			devices[Name(user)] = &device{}
		}
		return devices[Name(user)]
	}
	a := []*running{get("u1").open(s1), get("u1").open(s1)}
	b := []*running{get("u2").open(s2), get("u2").open(s2)}
	waitFor(t, "one socket for each user", func() bool { return s1.open() == 1 && s2.open() == 1 })
	s1.change("one")
	s2.change("two")
	for _, r := range a {
		waitFor(t, "u1's change", func() bool { return r.t.has("one") })
	}
	for _, r := range b {
		waitFor(t, "u2's change", func() bool { return r.t.has("two") })
		if r.t.has("one") {
			t.Error("u2's tab holds u1's change")
		}
	}
	for _, r := range append(a, b...) {
		r.close()
	}
}

func TestFresh(t *testing.T) {
	ev := func(k authdash.EventKind, seq int64) authdash.Event { return authdash.Event{Kind: k, Seq: seq} }
	for _, tc := range []struct {
		name string
		evs  []authdash.Event
		want []bool
	}{
		{"new ones pass", []authdash.Event{ev(authdash.EventTaskCreated, 1), ev(authdash.EventTaskUpdated, 2)}, []bool{true, true}},
		{"a repeat is dropped", []authdash.Event{ev(authdash.EventTaskCreated, 5), ev(authdash.EventTaskCreated, 5)}, []bool{true, false}},
		{"out of order passes", []authdash.Event{ev(authdash.EventTaskCreated, 9), ev(authdash.EventTaskDeleted, 7)}, []bool{true, true}},
		{"unlogged events always pass", []authdash.Event{ev(authdash.EventUserUpdated, 0), ev(authdash.EventUserUpdated, 0)}, []bool{true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &Link{seen: map[int64]bool{}}
			for i, e := range tc.evs {
				if got := l.fresh(e); got != tc.want[i] {
					t.Errorf("event %d fresh %v, want %v", i, got, tc.want[i])
				}
			}
			// Only the socket's confirmation is a point to resume from.
			if l.Last() != 0 {
				t.Errorf("last %d after events alone, want 0", l.Last())
			}
		})
	}
	// The filter forgets the oldest beyond recent.
	l := &Link{seen: map[int64]bool{}}
	for i := int64(1); i <= recent+1; i++ {
		l.fresh(ev(authdash.EventTaskCreated, i))
	}
	if !l.fresh(ev(authdash.EventTaskCreated, 1)) || l.fresh(ev(authdash.EventTaskCreated, recent+1)) {
		t.Error("the filter keeps the wrong numbers")
	}
}

// The tab that takes the socket over resumes from the last point the old
// leader's socket confirmed, not from the highest change it saw: a change
// committed but never published (its instance died), followed by one
// delivered live, comes back with the resume. From the highest seen, as
// tabs used to, it never would.
func TestTakeoverResumesFromSynced(t *testing.T) {
	s := newServer()
	var d device
	tabs := []*running{d.open(s), d.open(s)}
	waitFor(t, "a leader with a socket", func() bool { n, _ := leaders(tabs); return n == 1 && s.open() == 1 })
	_, lead := leaders(tabs)
	follower := tabs[0]
	if follower == lead {
		follower = tabs[1]
	}
	s.change("seen") // 1: delivered, confirmed
	waitFor(t, "the confirmed point", func() bool { return follower.l.Last() == 1 })
	s.lose("lost")    // 2: never published
	s.change("after") // 3: delivered live, not confirmed
	waitFor(t, "the live change", func() bool { return follower.t.has("after") })
	if got := follower.l.Last(); got != 1 {
		t.Fatalf("the follower would resume from %d, want the confirmed 1", got)
	}
	lead.close()
	waitFor(t, "the takeover", func() bool { return follower.l.Leader() && s.open() == 1 })
	waitFor(t, "the lost change", func() bool { return follower.t.has("lost") })
	s.mu.Lock()
	resumes := s.resumes
	s.mu.Unlock()
	if len(resumes) != 2 || resumes[1] != 1 {
		t.Errorf("resumes %v, want the takeover's from 1", resumes)
	}
	follower.close()
}

// A tab that opens after the leader went live hears the status (and the
// sequence number) from it.
func TestLateTabHearsStatus(t *testing.T) {
	s := newServer()
	var d device
	first := d.open(s)
	waitFor(t, "live", func() bool { first.t.mu.Lock(); defer first.t.mu.Unlock(); return first.t.status == "live" })
	s.change("a")
	waitFor(t, "a", func() bool { return first.t.has("a") })
	late := d.open(s)
	waitFor(t, "the late tab's status", func() bool { late.t.mu.Lock(); defer late.t.mu.Unlock(); return late.t.status == "live" })
	waitFor(t, "the late tab's sequence number", func() bool { return late.l.Last() == 1 })
	late.close()
	first.close()
}

// The session's end (a socket's error that makes reconnecting pointless)
// comes back from the leader's Run.
func TestLeaderEnds(t *testing.T) {
	var d device
	end := errors.New("session over")
	l, ch := New(&d.lock, d.bus.Join, func(int64, Leading) Source { return failing{end} }, &tab{tasks: map[authdash.TaskID]int{}})
	defer ch.Close()
	if err := l.Run(context.Background()); !errors.Is(err, end) {
		t.Fatalf("Run: %v, want %v", err, end)
	}
}

type failing struct{ err error }

func (f failing) Run(context.Context) error { return f.err }
func (f failing) Synced() int64             { return 0 }

// Signing out in one tab ends the session in every other tab of the
// profile, leader or follower, and the socket closes.
func TestEndEverywhere(t *testing.T) {
	for _, tc := range []struct {
		name string
		why  string
		from func(tabs []*running) *running // the tab that signs out
		want string
	}{
		{"a follower signs out", "", func(tabs []*running) *running {
			for _, r := range tabs {
				if !r.l.Leader() {
					return r
				}
			}
			return nil
		}, "You signed out in another tab."},
		{"the leader is signed out", "Your session was revoked.", func(tabs []*running) *running { _, l := leaders(tabs); return l }, "Your session was revoked."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer()
			var d device
			var tabs []*running
			for range 4 {
				tabs = append(tabs, d.open(s))
			}
			waitFor(t, "a leader with a socket", func() bool { n, _ := leaders(tabs); return n == 1 && s.open() == 1 })
			from := tc.from(tabs)
			from.l.End(tc.why)
			from.close()
			for _, r := range tabs {
				if r == from {
					continue
				}
				select {
				case err := <-r.done:
					if authdash.ErrorCodeOf(err) != authdash.CodeUnauthorized || authdash.ErrorMessageOf(err) != tc.want {
						t.Errorf("Run: %v, want unauthorized %q", err, tc.want)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("a tab's Run did not end")
				}
				r.ch.Close()
				r.stop()
			}
			if got := s.open(); got != 0 {
				t.Errorf("server holds %d sockets after sign-out", got)
			}
		})
	}
}
