package realtime_test

import (
	"context"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/wire"
)

func TestAuth(t *testing.T) {
	e := newEnv(t, func(c *realtime.Config) { c.AuthTimeout = 500 * time.Millisecond })
	alice := e.user("alice")
	tests := []struct {
		name  string
		frame func() []byte
		typ   websocket.MessageType
		want  wire.CloseCode
	}{
		{"ErrNoAuthFrame", nil, 0, wire.CloseAuthFailed},
		{"ErrResumeFirst", func() []byte { return []byte(`{"type":"resume","since":0}`) }, websocket.MessageText, wire.CloseAuthFailed},
		{"ErrBadToken", func() []byte { return []byte(`{"type":"auth","token":"forged"}`) }, websocket.MessageText, wire.CloseAuthFailed},
		{"ErrNoToken", func() []byte { return []byte(`{"type":"auth"}`) }, websocket.MessageText, wire.CloseAuthFailed},
		{"ErrExpiredToken", func() []byte {
			return []byte(`{"type":"auth","token":"` + e.tokens.issue(alice, "s1", -time.Second) + `"}`)
		}, websocket.MessageText, wire.CloseTokenExpired},
		{"ErrNotJSON", func() []byte { return []byte(`hello`) }, websocket.MessageText, wire.CloseProtocolError},
		{"ErrUnknownType", func() []byte { return []byte(`{"type":"subscribe"}`) }, websocket.MessageText, wire.CloseProtocolError},
		{"ErrBinary", func() []byte { return []byte(`{"type":"auth","token":"x"}`) }, websocket.MessageBinary, wire.CloseProtocolError},
		{"ErrOversized", func() []byte {
			return []byte(`{"type":"auth","token":"` + strings.Repeat("x", wire.MaxClientFrame) + `"}`)
		}, websocket.MessageText, wire.CloseMessageTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.dial(nil)
			if tt.frame != nil {
				c.sendRaw(tt.typ, tt.frame())
			}
			c.expectClose(tt.want)
		})
	}

	t.Run("OK", func(t *testing.T) {
		e.create(alice, "before")
		c := e.dial(nil)
		c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Hour)})
		authed := c.expectType(wire.TypeAuthed).(wire.Authed)
		if time.Until(authed.ExpiresAt) < 59*time.Minute {
			t.Errorf("expiresAt = %v, want about an hour from now", authed.ExpiresAt)
		}
		if ready := c.expectType(wire.TypeReady).(wire.Ready); ready.Seq != 1 {
			t.Errorf("ready seq = %d, want 1 (the head)", ready.Seq)
		}
		task := e.create(alice, "after")
		c.expectEvent(authdash.EventTaskCreated, task.ID, 2)
	})

	t.Run("ErrOtherUsersTokenOnReauth", func(t *testing.T) {
		bob := e.user("bob")
		c := e.login(alice, "s1")
		c.send(wire.Auth{Token: e.tokens.issue(bob, "s2", time.Hour)})
		c.expectClose(wire.CloseAuthFailed)
	})

	t.Run("ErrDeletedAccount", func(t *testing.T) {
		carol := e.user("carol")
		if err := e.db.DeleteUser(t.Context(), carol); err != nil {
			t.Fatal(err)
		}
		c := e.dial(nil)
		c.send(wire.Auth{Token: e.tokens.issue(carol, "s3", time.Hour)})
		c.expectClose(wire.CloseAccountDeleted)
	})
}

// TestNotAHandshake: a plain request is refused with 426 and the protocol
// to upgrade to, through the configured refusal (the server's problem
// document), not websocket.Accept's plain text; a handshake still opens.
func TestNotAHandshake(t *testing.T) {
	var mu sync.Mutex
	var refused []error
	e := newEnv(t, func(c *realtime.Config) {
		c.Refuse = func(w http.ResponseWriter, r *http.Request, err error) {
			mu.Lock()
			refused = append(refused, err)
			mu.Unlock()
			w.WriteHeader(wire.StatusOf(authdash.ErrorCodeOf(err)))
		}
	})
	tests := []struct {
		name    string
		headers map[string]string
	}{
		{"Plain", nil},
		{"UpgradeOther", map[string]string{"Connection": "Upgrade", "Upgrade": "h2c"}},
		{"NoConnectionUpgrade", map[string]string{"Connection": "keep-alive", "Upgrade": "websocket"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			refused = nil
			mu.Unlock()
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL, nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUpgradeRequired || res.Header.Get("Upgrade") != "websocket" {
				t.Errorf("status %d, Upgrade %q; want 426 and websocket", res.StatusCode, res.Header.Get("Upgrade"))
			}
			mu.Lock()
			defer mu.Unlock()
			if len(refused) != 1 || authdash.ErrorCodeOf(refused[0]) != wire.CodeUpgradeRequired {
				t.Errorf("refused with %v, want one upgrade_required", refused)
			}
		})
	}
	c := e.dial(nil)
	c.send(wire.Auth{Token: e.tokens.issue(e.user("alice"), "s1", time.Hour)})
	c.expectType(wire.TypeAuthed)
}

func TestOrigin(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.user("alice")
	tests := []struct {
		name   string
		origin string
		host   string // as a proxy forwards it; default the server's address
		ok     bool
	}{
		{"OKNoOrigin", "", "", true},
		{"OKSameOrigin", e.srv.URL, "", true},
		{"OKSameHostBehindProxyWithoutPort", "http://dash.test:8080", "dash.test", true},
		{"ErrOtherPortSameHost", "http://dash.test:8080", "dash.test:9090", false},
		{"ErrOtherHostBehindProxy", "http://evil.test:8080", "dash.test", false},
		{"OKAllowed", "https://app.example", "", true},
		{"OKPattern", "https://eu.example.org", "", true},
		{"ErrPatternIsNotSuffix", "https://example.org.evil.example", "", false},
		{"ErrOtherSite", "https://evil.example", "", false},
		{"ErrAllowedHostOtherScheme", "http://app.example", "", false},
		{"ErrSuffix", "https://app.example.evil.example", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			c := dialURL(t, "ws"+strings.TrimPrefix(e.srv.URL, "http"), &websocket.DialOptions{HTTPHeader: h, Host: tt.host})
			if !tt.ok {
				// The error frame comes first: a page cannot read the close code.
				frames := c.expectClose(wire.CloseOriginNotAllowed)
				if len(frames) != 1 {
					t.Fatalf("frames before the close: %#v, want one error frame", frames)
				}
				if e, ok := frames[0].(wire.Error); !ok || e.Close != wire.CloseOriginNotAllowed {
					t.Errorf("frame before the close: %#v, want the error of 4504", frames[0])
				}
				return
			}
			c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Hour)})
			c.expectType(wire.TypeAuthed)
		})
	}
}

// TestOwnerIsolation: events reach every socket of their owner, the tab
// that made the change included (marked as its own), and nobody else's.
func TestOwnerIsolation(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice"), e.user("bob")
	a1, a2 := e.login(alice, "a1"), e.login(alice, "a2")
	b1 := e.login(bob, "b1")

	ctx := authdash.WithOrigin(t.Context(), "tab-a1")
	bobs, err := e.tasks.Create(ctx, bob, authdash.TaskDraft{Title: "bob's"})
	if err != nil {
		t.Fatal(err)
	}
	alices, err := e.tasks.Create(ctx, alice, authdash.TaskDraft{Title: "alice's"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{a1, a2} {
		ev := c.expectEvent(authdash.EventTaskCreated, alices.ID, 1)
		if ev.Origin != "tab-a1" || ev.Task == nil || ev.Task.Title != "alice's" {
			t.Errorf("alice got %+v", ev)
		}
	}
	b1.expectEvent(authdash.EventTaskCreated, bobs.ID, 1)

	// A profile change reaches the owner only, too.
	e.hub.Publish(t.Context(), authdash.Event{Kind: authdash.EventUserUpdated, Owner: bob, User: &authdash.User{ID: bob, Name: "Bob"}})
	e.rename(alice, alices.ID, "renamed")
	if f := b1.expectType(wire.TypeUserUpdated).(*wire.Event); f.User == nil || f.User.Name != "Bob" {
		t.Errorf("bob got %+v", f)
	}
	a1.expectEvent(authdash.EventTaskUpdated, alices.ID, 2)
}

func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.user("alice")

	t.Run("ErrExpired", func(t *testing.T) {
		c := e.dial(nil)
		c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", 300*time.Millisecond)})
		c.expectClose(wire.CloseTokenExpired)
	})

	t.Run("OKReauthExtends", func(t *testing.T) {
		c := e.dial(nil)
		c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Second)})
		first := c.expectType(wire.TypeAuthed).(wire.Authed)
		c.expectType(wire.TypeReady)
		c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Hour)})
		c.expectType(wire.TypeAuthed)
		// Past the first token's expiry the socket still delivers.
		<-time.After(time.Until(first.ExpiresAt) + 200*time.Millisecond)
		task := e.create(alice, "still here")
		c.expectEvent(authdash.EventTaskCreated, task.ID, task.Version)
	})
}

func TestSlowConsumer(t *testing.T) {
	e := newEnv(t, func(c *realtime.Config) { c.QueueSize = 4 })
	alice := e.user("alice")
	slow, fast := e.login(alice, "s1"), e.login(alice, "s2")

	// slow reads nothing until it has been cut off; fast reads each event
	// before the next is published, so its queue never fills.
	big := &authdash.Task{ID: "t", Title: "big", Description: strings.Repeat("x", 8000)}
	var seq int64
	for e.hub.Stats().SlowConsumers == 0 {
		seq++
		if seq > 100000 {
			t.Fatal("the slow socket was never cut off")
		}
		e.hub.Publish(t.Context(), authdash.Event{Kind: authdash.EventTaskUpdated, Owner: alice, Seq: seq, TaskID: "t", Version: seq, Task: big})
		fast.expectEvent(authdash.EventTaskUpdated, "t", seq)
	}
	slow.expectClose(wire.CloseSlowConsumer)

	seq++
	e.hub.Publish(t.Context(), authdash.Event{Kind: authdash.EventTaskUpdated, Owner: alice, Seq: seq, TaskID: "t", Version: seq, Task: big})
	fast.expectEvent(authdash.EventTaskUpdated, "t", seq)
	if st := e.hub.Stats(); st.SlowConsumers != 1 || st.Dropped < 1 {
		t.Errorf("stats = %+v, want one slow consumer and a drop", st)
	}
}

func TestHeartbeat(t *testing.T) {
	e := newEnv(t, func(c *realtime.Config) {
		c.PingInterval = 100 * time.Millisecond
		c.PongTimeout = time.Second
	})
	alice := e.user("alice")
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http")

	t.Run("ErrFrozenPeer", func(t *testing.T) {
		// A peer that reads but never answers pings, as a frozen one would.
		c := dialURL(t, url, &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool { return false }})
		c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Hour)})
		c.expectType(wire.TypeAuthed)
		c.expectType(wire.TypeReady)
		_, err := c.read()
		if err == nil || websocket.CloseStatus(err) != -1 {
			t.Fatalf("read = %v, want the connection dropped", err)
		}
	})

	t.Run("OKLivePeer", func(t *testing.T) {
		c := e.login(alice, "s1")
		// Reading is what answers pings, as a browser does by itself.
		frames := make(chan wire.Frame, 10)
		go func() {
			defer close(frames)
			for {
				_, b, err := c.ws.Read(context.Background())
				if err != nil {
					return
				}
				if f, err := wire.DecodeServer(b); err == nil {
					frames <- f
				}
			}
		}()
		<-time.After(1500 * time.Millisecond) // several ping rounds
		task := e.create(alice, "alive")
		select {
		case f := <-frames:
			if ev, ok := f.(*wire.Event); !ok || ev.TaskID != task.ID {
				t.Errorf("got %#v", f)
			}
		case <-time.After(wait):
			t.Fatal("no event")
		}
		c.ws.Close(websocket.StatusNormalClosure, "")
		for range frames {
		}
	})
}

func TestTooManySockets(t *testing.T) {
	e := newEnv(t, func(c *realtime.Config) { c.MaxSocketsPerUser = 2 })
	alice, bob := e.user("alice"), e.user("bob")
	e.login(alice, "s1")
	e.login(alice, "s2")
	c := e.dial(nil)
	c.send(wire.Auth{Token: e.tokens.issue(alice, "s3", time.Hour)})
	c.expectClose(wire.CloseTooManySockets)
	e.login(bob, "s4") // others are not affected
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(c *realtime.Config) { c.MaxMessagesPerMinute = 5 })
	alice := e.user("alice")
	c := e.login(alice, "s1") // 1
	for range 5 {             // 2..6: the sixth is one too many
		c.send(wire.Resume{Since: 0})
	}
	c.expectClose(wire.CloseTooManyMessages)
}

// TestResume: a client that was away gets exactly what it missed, deletions
// included, compacted to each task's latest state, then live events.
func TestResume(t *testing.T) {
	forSchemes(t, nil, func(t *testing.T, e *env) {
		alice := e.user("alice")
		t1, t2, t3 := e.create(alice, "one"), e.create(alice, "two"), e.create(alice, "three") // changes 1..3

		c := e.login(alice, "s1")
		c.ws.Close(websocket.StatusNormalClosure, "")

		e.rename(alice, t1.ID, "one v2")  // 4
		e.delete(alice, t2.ID)            // 5
		t4 := e.create(alice, "four")     // 6
		e.rename(alice, t4.ID, "four v2") // 7
		e.rename(alice, t1.ID, "one v3")  // 8

		c = e.dial(nil)
		c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Hour)})
		c.send(wire.Resume{Since: e.seq(3)})
		c.expectType(wire.TypeAuthed)
		if r := c.expectType(wire.TypeReady).(wire.Ready); r.Seq != e.seq(8) {
			t.Fatalf("ready seq = %d, want %d", r.Seq, e.seq(8))
		}
		if ev := c.expectEvent(authdash.EventTaskDeleted, t2.ID, e.seq(5)); ev.Version != 2 || ev.Task != nil {
			t.Errorf("delete = %+v, want version 2 and no task", ev)
		}
		if ev := c.expectEvent(authdash.EventTaskUpdated, t4.ID, e.seq(7)); ev.Task.Title != "four v2" {
			t.Errorf("t4 = %+v", ev.Task)
		}
		if ev := c.expectEvent(authdash.EventTaskUpdated, t1.ID, e.seq(8)); ev.Task.Title != "one v3" || ev.Version != 3 {
			t.Errorf("t1 = %+v", ev.Task)
		}
		t5 := e.create(alice, "five")
		c.expectEvent(authdash.EventTaskCreated, t5.ID, e.seq(9))
		_ = t3

		t.Run("ResyncWhenSinceIsAhead", func(t *testing.T) {
			c := e.login(alice, "s1")
			c.send(wire.Resume{Since: e.seq(9) + 1})
			if r := c.expectType(wire.TypeResync).(wire.Resync); r.Seq != e.seq(9) {
				t.Errorf("resync seq = %d, want %d", r.Seq, e.seq(9))
			}
		})
	})

	t.Run("ResyncWhenTooMuchChanged", func(t *testing.T) {
		e := newEnv(t, func(c *realtime.Config) { c.ResumeLimit = 2 })
		alice := e.user("alice")
		for range 3 {
			e.create(alice, "x")
		}
		c := e.login(alice, "s1")
		c.send(wire.Resume{Since: 0})
		if r := c.expectType(wire.TypeResync).(wire.Resync); r.Seq != 3 {
			t.Errorf("resync seq = %d, want 3", r.Seq)
		}
		task := e.create(alice, "y")
		c.expectEvent(authdash.EventTaskCreated, task.ID, 4)
	})
}

// TestResumeUnderWrites: a client that resumes while another tab keeps
// writing ends up exactly equal to the store, with no gap and nothing
// applied twice out of order.
func TestResumeUnderWrites(t *testing.T) {
	// A queue the test's reader cannot fill: under a loaded race build the
	// writer outruns it, and being cut off as too slow is another test's.
	forSchemes(t, func(c *realtime.Config) { c.QueueSize = 1 << 16 }, testResumeUnderWrites)
}

func testResumeUnderWrites(t *testing.T, e *env) {
	alice := e.user("alice")
	for range 20 {
		e.create(alice, "seed")
	}
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		var ids []authdash.TaskID
		for i := 0; ctx.Err() == nil; i++ {
			switch {
			case i%5 == 4 && len(ids) > 0:
				if err := e.tasks.Delete(ctx, alice, ids[0], 0); err != nil && ctx.Err() == nil {
					t.Error(err)
				}
				ids = ids[1:]
			case i%2 == 1 && len(ids) > 0:
				title := "edit"
				if _, err := e.tasks.Update(ctx, alice, ids[len(ids)-1], authdash.TaskPatch{Title: &title}, 0); err != nil && ctx.Err() == nil {
					t.Error(err)
				}
			default:
				task, err := e.tasks.Create(ctx, alice, authdash.TaskDraft{Title: "new"})
				if err != nil {
					if ctx.Err() == nil {
						t.Error(err)
					}
					continue
				}
				ids = append(ids, task.ID)
			}
		}
	})

	v := newView()
	for round := range 5 {
		c := e.dial(nil)
		c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Hour)})
		c.send(wire.Resume{Since: v.last})
		c.expectType(wire.TypeAuthed)
		c.expectType(wire.TypeReady)
		for range 20 + round*10 {
			if err := v.applyFrame(c.next()); err != nil {
				t.Fatal(err)
			}
		}
		c.ws.Close(websocket.StatusNormalClosure, "")
	}
	stop()
	wg.Wait()

	// One more resume after the writes stopped brings the view to the head.
	c := e.dial(nil)
	c.send(wire.Auth{Token: e.tokens.issue(alice, "s1", time.Hour)})
	c.send(wire.Resume{Since: v.last})
	c.expectType(wire.TypeAuthed)
	head := c.expectType(wire.TypeReady).(wire.Ready).Seq
	for v.last < head {
		if err := v.applyFrame(c.next()); err != nil {
			t.Fatal(err)
		}
	}
	page, err := e.db.FindTasks(t.Context(), alice, authdash.TaskQuery{Sort: authdash.SortCreated, Order: authdash.Asc, Limit: authdash.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	want := map[authdash.TaskID]authdash.Task{}
	for _, task := range page.Items {
		want[task.ID] = task
	}
	if page.NextCursor != "" {
		t.Skip("more tasks than one page; the comparison needs paging")
	}
	if !maps.EqualFunc(v.tasks, want, func(a, b authdash.Task) bool { return reflect.DeepEqual(a, b) }) {
		t.Errorf("client view (%d tasks) differs from the store (%d tasks)", len(v.tasks), len(want))
	}
}

// TestGap: a socket sends every live event as it comes, whatever its Seq,
// without reading the store; what the broker lost reaches it from the store
// when the broker reports a gap, without repeating what it was sent live.
func TestGap(t *testing.T) {
	forSchemes(t, nil, func(t *testing.T, e *env) {
		alice := e.user("alice")
		c := e.login(alice, "s1")

		lost, _ := e.write(alice, "lost")
		e.broker.gap()
		c.expectEvent(authdash.EventTaskCreated, lost.ID, e.seq(1))
		if st := e.hub.Stats(); st.Gaps != 1 || st.CatchUps != 1 {
			t.Fatalf("stats = %+v, want 1 gap and 1 catch-up", st)
		}

		// A jump is no sign of loss: the event is sent as it is.
		lost2, _ := e.write(alice, "lost too")
		next := e.create(alice, "published") // change 3 arrives while 2 never did
		c.expectEvent(authdash.EventTaskCreated, next.ID, e.seq(3))
		if st := e.hub.Stats(); st.CatchUps != 1 {
			t.Fatalf("stats = %+v, want no catch-up for a jump", st)
		}

		// A change numbered below one already sent (it committed later, on
		// another instance) is sent too.
		late, lateEv := e.write(alice, "committed late") // 4
		after := e.create(alice, "after")                // 5
		c.expectEvent(authdash.EventTaskCreated, after.ID, e.seq(5))
		e.hub.Publish(t.Context(), lateEv)
		c.expectEvent(authdash.EventTaskCreated, late.ID, e.seq(4))

		// The gap report brings what the broker lost, even numbered below
		// what was sent since, and nothing that was sent live.
		e.broker.gap()
		c.expectEvent(authdash.EventTaskCreated, lost2.ID, e.seq(2))
		marker := e.create(alice, "marker")
		c.expectEvent(authdash.EventTaskCreated, marker.ID, e.seq(6))
		if st := e.hub.Stats(); st.Gaps != 2 || st.CatchUps != 2 {
			t.Errorf("stats = %+v, want 2 gaps and 2 catch-ups", st)
		}
	})
}

// TestLostPublish: a change that was never published (its publish failed,
// or its instance died right after the commit) still reaches the socket,
// whether or not later changes reached it first.
func TestLostPublish(t *testing.T) {
	t.Run("OKNothingFollows", func(t *testing.T) {
		forSchemes(t, func(c *realtime.Config) { c.PingInterval = 100 * time.Millisecond }, func(t *testing.T, e *env) {
			alice := e.user("alice")
			c := e.login(alice, "s1")
			lost, _ := e.write(alice, "lost")
			c.expectEvent(authdash.EventTaskCreated, lost.ID, e.seq(1))
		})
	})

	t.Run("OKLaterChangeSentFirst", func(t *testing.T) {
		forSchemes(t, func(c *realtime.Config) { c.PingInterval = 100 * time.Millisecond }, func(t *testing.T, e *env) {
			alice := e.user("alice")
			c := e.login(alice, "s1")
			lost, _ := e.write(alice, "lost")
			next := e.create(alice, "published")
			// A heartbeat may come before or after the live event, and a
			// check may repeat it: clients apply by version.
			got := map[authdash.TaskID]int64{}
			for got[lost.ID] == 0 || got[next.ID] == 0 {
				f := c.next()
				ev, ok := f.(*wire.Event)
				if !ok {
					t.Fatalf("got %#v, want task events", f)
				}
				got[ev.TaskID] = ev.Seq
			}
			if got[lost.ID] != e.seq(1) || got[next.ID] != e.seq(2) {
				t.Errorf("seqs = %v, want %s at %d and %s at %d", got, lost.ID, e.seq(1), next.ID, e.seq(2))
			}
		})
	})

	// However long between heartbeats, a socket checks what it was sent
	// against the log after ResumeLimit/4 live events.
	t.Run("OKCheckedAfterBound", func(t *testing.T) {
		forSchemes(t, func(c *realtime.Config) { c.ResumeLimit = 8 }, func(t *testing.T, e *env) {
			alice := e.user("alice")
			c := e.login(alice, "s1")
			lost, _ := e.write(alice, "lost") // 1
			var ids []authdash.TaskID
			for range 2 { // 2, 3: the second reaches the bound
				ids = append(ids, e.create(alice, "published").ID)
				c.expectEvent(authdash.EventTaskCreated, ids[len(ids)-1], e.seq(int64(len(ids)+1)))
			}
			c.expectEvent(authdash.EventTaskCreated, lost.ID, e.seq(1))
			marker := e.create(alice, "marker") // nothing repeated before it
			c.expectEvent(authdash.EventTaskCreated, marker.ID, e.seq(4))
			if st := e.hub.Stats(); st.CatchUps != 1 {
				t.Errorf("stats = %+v, want 1 catch-up", st)
			}
		})
	})
}

// TestBrokerDown: while the broker refuses to publish, a change still
// reaches the sockets on the instance that made it, at once.
func TestBrokerDown(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.user("alice")
	c := e.login(alice, "s1")
	e.broker.down.Store(true)
	task := e.create(alice, "while the broker is down") // the write succeeds
	c.expectEvent(authdash.EventTaskCreated, task.ID, 1)
	if st := e.hub.Stats(); st.PublishErrors != 1 || st.CatchUps != 0 {
		t.Errorf("stats = %+v, want one publish error and no catch-up", st)
	}
}

func TestRevocation(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice"), e.user("bob")
	a, b, c := e.login(alice, "sa"), e.login(alice, "sb"), e.login(alice, "sc")
	other := e.login(bob, "sa") // same session ID string, other user: untouched

	e.hub.Publish(t.Context(), authdash.Event{Kind: authdash.EventSessionsRevoked, Owner: alice, SessionID: "sa"})
	a.expectClose(wire.CloseSessionRevoked)

	e.hub.Publish(t.Context(), authdash.Event{Kind: authdash.EventSessionsRevoked, Owner: alice, Keep: "sb"})
	c.expectClose(wire.CloseSessionRevoked)

	task := e.create(alice, "b survives")
	b.expectEvent(authdash.EventTaskCreated, task.ID, 1)

	e.hub.Publish(t.Context(), authdash.Event{Kind: authdash.EventUserDeleted, Owner: alice})
	b.expectClose(wire.CloseAccountDeleted)

	task = e.create(bob, "bob survives")
	other.expectEvent(authdash.EventTaskCreated, task.ID, 1)
}

// TestShutdown: every socket is told to reconnect elsewhere, nothing is left
// running, and the subscriptions go once the sockets have.
func TestShutdown(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice"), e.user("bob")
	clients := []*client{e.login(alice, "s1"), e.login(alice, "s2"), e.login(bob, "s3")}
	if st := e.hub.Stats(); st.Connections != 3 || st.Subscriptions != 2 {
		t.Fatalf("stats = %+v, want 3 connections, 2 subscriptions", st)
	}

	// Closing one owner's sockets unsubscribes it after the delay.
	clients[2].ws.Close(websocket.StatusNormalClosure, "")
	select {
	case id := <-e.broker.unsubscribed:
		if id != bob {
			t.Fatalf("unsubscribed %s, want bob", id)
		}
	case <-time.After(wait):
		t.Fatal("bob was never unsubscribed")
	}
	if st := e.hub.Stats(); st.Subscriptions != 1 {
		t.Errorf("subscriptions = %d, want 1", st.Subscriptions)
	}

	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.hub.Shutdown(ctx) }()
	for _, c := range clients[:2] {
		c.expectClose(wire.CloseGoingAway)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := e.hub.Stats(); st.Connections != 0 {
		t.Errorf("connections = %d after shutdown", st.Connections)
	}
	resp, err := http.Get(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after shutdown: %d, want 503", resp.StatusCode)
	}
}

func TestNewHub(t *testing.T) {
	ok := realtime.Config{Broker: realtime.NewLocalBroker(), Tokens: &tokens{}, Changes: emptyLog{}}
	tests := []struct {
		name    string
		change  func(*realtime.Config)
		wantErr bool
	}{
		{"OK", func(*realtime.Config) {}, false},
		{"OKOrigins", func(c *realtime.Config) { c.AllowedOrigins = []string{"https://app.example", " *.example.org ", ""} }, false},
		{"ErrNoBroker", func(c *realtime.Config) { c.Broker = nil }, true},
		{"ErrNoTokens", func(c *realtime.Config) { c.Tokens = nil }, true},
		{"ErrNoChangeLog", func(c *realtime.Config) { c.Changes = nil }, true},
		{"ErrOriginWithPath", func(c *realtime.Config) { c.AllowedOrigins = []string{"https://app.example/login"} }, true},
		{"ErrBadPattern", func(c *realtime.Config) { c.AllowedOrigins = []string{"[a-"} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.change(&cfg)
			if _, err := realtime.NewHub(cfg); (err != nil) != tt.wantErr {
				t.Errorf("NewHub error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

type emptyLog struct{}

func (emptyLog) ChangesSince(context.Context, authdash.UserID, int64, int) ([]authdash.Event, int64, bool, error) {
	return nil, 0, true, nil
}

func (emptyLog) ChangeHead(context.Context, authdash.UserID) (int64, error) { return 0, nil }
