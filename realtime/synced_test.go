package realtime_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/wire"
)

// TestResumeFromSynced is the crash the synced frame exists for: a change
// commits but is never published (its instance died right after the
// commit), a later change reaches the client live, and the socket ends
// before any heartbeat could have sent the lost one. A client that resumes
// from the last synced point gets the lost change; one that resumes from
// the highest Seq it applied, as clients used to, never does.
func TestResumeFromSynced(t *testing.T) {
	forSchemes(t, nil, func(t *testing.T, e *env) {
		alice := e.user("alice")
		first := e.create(alice, "first") // 1

		c := e.dial(nil)
		c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Hour)})
		c.send(wire.Resume{Since: 0})
		c.expectType(wire.TypeAuthed)
		c.expectType(wire.TypeReady)
		c.expectEvent(authdash.EventTaskCreated, first.ID, e.seq(1))
		lost, _ := e.write(alice, "lost")    // 2: committed, never published
		next := e.create(alice, "published") // 3: delivered live
		c.expectEvent(authdash.EventTaskCreated, next.ID, e.seq(3))
		// The default heartbeat (25 s) has not run: nothing sent change 2.
		safe, applied := c.lastSynced(), e.seq(3)
		if safe != e.seq(1) {
			t.Fatalf("synced frames %v, want the resume's answer to end with %d", c.synced, e.seq(1))
		}
		c.ws.Close(websocket.StatusNormalClosure, "")

		got := resumeOnce(t, e, alice, safe)
		if got[lost.ID] != e.seq(2) {
			t.Errorf("resume from the synced %d sent %v, want %s at %d", safe, got, lost.ID, e.seq(2))
		}
		if got := resumeOnce(t, e, alice, applied); got[lost.ID] != 0 {
			t.Errorf("resume from the highest applied %d sent the lost change: the log is not meant to", applied)
		}
	})
}

// resumeOnce opens a socket that resumes from since and returns the Seq of
// each task its answer sends, up to the synced frame that ends it.
func resumeOnce(t *testing.T, e *env, owner authdash.UserID, since int64) map[authdash.TaskID]int64 {
	t.Helper()
	c := e.dial(nil)
	defer c.ws.Close(websocket.StatusNormalClosure, "")
	c.keepSynced = true
	c.send(wire.Auth{Token: e.tokens.issue(owner, "s2", time.Hour)})
	c.send(wire.Resume{Since: since})
	got := map[authdash.TaskID]int64{}
	for {
		switch f := c.next().(type) {
		case wire.Authed, wire.Ready:
		case *wire.Event:
			got[f.TaskID] = f.Seq
		case wire.Synced:
			return got
		default:
			t.Fatalf("resume from %d: got %#v", since, f)
		}
	}
}

// TestSynced: the synced frame follows every read of the log that brings
// the socket up to the head (a resume's answer, a heartbeat's check after
// live events or with a change never published), and only with a point new
// to the socket; a resync is not followed by one.
func TestSynced(t *testing.T) {
	forSchemes(t, func(c *realtime.Config) { c.PingInterval = 100 * time.Millisecond }, func(t *testing.T, e *env) {
		alice := e.user("alice")
		t1, t2 := e.create(alice, "one"), e.create(alice, "two") // 1, 2

		c := e.dial(nil)
		c.keepSynced = true
		c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Hour)})
		c.send(wire.Resume{Since: 0})
		c.expectType(wire.TypeAuthed)
		c.expectType(wire.TypeReady)
		c.expectEvent(authdash.EventTaskCreated, t1.ID, e.seq(1))
		c.expectEvent(authdash.EventTaskCreated, t2.ID, e.seq(2))
		expectSynced(t, c, e.seq(2), "after the resume's answer")

		// A live event is confirmed by the next heartbeat's check. (Were
		// the check to read it before it is delivered live, it would come
		// twice: repeats are skipped.)
		t3 := e.create(alice, "three")
		c.expectEvent(authdash.EventTaskCreated, t3.ID, e.seq(3))
		expectSynced(t, c, e.seq(3), "at the heartbeat after a live event", t3.ID)

		// A change never published is sent by the check, then confirmed.
		lost, _ := e.write(alice, "lost")
		if f := nextNew(c, t3.ID); !isEvent(f, lost.ID, e.seq(4)) {
			t.Fatalf("got %#v, want the lost change at %d", f, e.seq(4))
		}
		expectSynced(t, c, e.seq(4), "at the heartbeat after a lost publish")

	})

	t.Run("NothingNewConfirmsNothing", func(t *testing.T) {
		e := newEnv(t, nil)
		alice := e.user("alice")
		e.create(alice, "one")
		c := e.dial(nil)
		c.keepSynced = true
		c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Hour)})
		c.send(wire.Resume{Since: 0})
		c.expectType(wire.TypeAuthed)
		c.expectType(wire.TypeReady)
		c.expectType(wire.TypeTaskCreated)
		expectSynced(t, c, 1, "after the resume's answer")

		// The same point again is not sent; the live change may come
		// before the resume's answer, which then sends it and its point.
		c.send(wire.Resume{Since: 1})
		two := e.create(alice, "two")
		for {
			f := c.next()
			if s, ok := f.(wire.Synced); ok && s.Seq != 2 {
				t.Fatalf("synced %d again, want nothing before change 2", s.Seq)
			}
			if ev, ok := f.(*wire.Event); ok && ev.TaskID == two.ID {
				break
			}
		}
	})

	t.Run("NotAfterResync", func(t *testing.T) {
		e := newEnv(t, func(c *realtime.Config) { c.ResumeLimit = 2 })
		alice := e.user("alice")
		for range 3 {
			e.create(alice, "x")
		}
		c := e.login(alice, "s1")
		c.keepSynced = true
		c.send(wire.Resume{Since: 0})
		if r := c.expectType(wire.TypeResync).(wire.Resync); r.Seq != 3 {
			t.Fatalf("resync seq = %d, want 3", r.Seq)
		}
		task := e.create(alice, "y")
		c.expectEvent(authdash.EventTaskCreated, task.ID, 4)
		if len(c.synced) != 0 {
			t.Errorf("synced frames %v, want none", c.synced)
		}
	})
}

// nextNew returns the next frame that is not a repeat of an event about
// one of the tasks.
func nextNew(c *client, repeats ...authdash.TaskID) wire.Frame {
	c.t.Helper()
	for {
		f := c.next()
		if ev, ok := f.(*wire.Event); !ok || !slices.Contains(repeats, ev.TaskID) {
			return f
		}
	}
}

func isEvent(f wire.Frame, id authdash.TaskID, seq int64) bool {
	ev, ok := f.(*wire.Event)
	return ok && ev.TaskID == id && ev.Seq == seq
}

// expectSynced checks that the next frame, repeats of the tasks aside, is
// synced at seq.
func expectSynced(t *testing.T, c *client, seq int64, when string, repeats ...authdash.TaskID) {
	t.Helper()
	f := nextNew(c, repeats...)
	if s, ok := f.(wire.Synced); !ok || s.Seq != seq {
		t.Fatalf("%s: got %#v, want synced at %d", when, f, seq)
	}
}

// TestFrameDuringPing: a frame that reaches the server while its ping
// waits for the pong (the client sent it just before answering) is
// answered, and the socket lives on. The writer used to wait for the pong
// itself, while the reader, which reads the pong, waited for the writer to
// take the frame: the socket stalled until the pong timeout and was dropped.
func TestFrameDuringPing(t *testing.T) {
	e := newEnv(t, func(c *realtime.Config) {
		c.PingInterval = 50 * time.Millisecond
		c.PongTimeout = time.Hour // a stall would outlast the test
	})
	alice := e.user("alice")
	task := e.create(alice, "one")
	var c *client
	pinged := make(chan struct{})
	var once sync.Once
	c = dialURL(t, "ws"+strings.TrimPrefix(e.srv.URL, "http"), &websocket.DialOptions{
		OnPingReceived: func(ctx context.Context, _ []byte) bool {
			once.Do(func() {
				// Ahead of the pong: a resume, as a client may send at any time.
				b, _ := json.Marshal(wire.Resume{Since: 0})
				if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
					t.Errorf("write: %v", err)
				}
				close(pinged)
			})
			return true
		},
	})
	c.keepSynced = true
	c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Hour)})
	c.expectType(wire.TypeAuthed)
	c.expectType(wire.TypeReady)
	// Reading answers the pings; the first one sends the resume.
	c.expectEvent(authdash.EventTaskCreated, task.ID, 1)
	<-pinged
	expectSynced(t, c, 1, "after the resume sent during a ping")
}
