//go:build !js

package api

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/backoff"
	"github.com/authdash/authdash/e2e/apitest"
)

// cutter forwards TCP connections to a server and cuts them all on
// demand, as a lost network does; new connections go through again.
type cutter struct {
	ln    net.Listener
	to    string
	mu    sync.Mutex
	conns []net.Conn
}

func newCutter(t *testing.T, to string) *cutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, to: to}
	t.Cleanup(func() { ln.Close(); c.cut() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", to)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

type statuses chan LiveStatus

func (s statuses) Reload(context.Context) error  { return nil }
func (s statuses) Event(authdash.Event)          {}
func (s statuses) Status(st LiveStatus, _ error) { s <- st }

// waitFor waits for the stream to report st; the deadline only ends a
// test that would otherwise hang (the backoff below is an hour).
func (s statuses) waitFor(t *testing.T, st LiveStatus) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case got := <-s:
			if got == st {
				return
			}
		case <-deadline:
			t.Fatalf("the stream never reported %s", st)
		}
	}
}

// hourStream registers an account and returns a stream to it through a
// cutter, whose backoff between attempts is an hour, so that only Retry
// can make it try again within a test.
func hourStream(t *testing.T, h StreamHandler) (*Stream, *cutter) {
	t.Helper()
	srv := apitest.Start(t, apitest.Options{})
	proxy := newCutter(t, strings.TrimPrefix(srv.URL, "http://"))
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := New(Config{BaseURL: srv.URL, ClientID: "tab", HTTP: &http.Client{Jar: jar, Timeout: 10 * time.Second}})
	if _, err := c.Register(t.Context(), authdash.Registration{Email: "retry@example.com", Password: "long enough pw", Name: "Ada"}); err != nil {
		t.Fatal(err)
	}
	s := c.NewStream("ws://"+proxy.ln.Addr().String()+"/api/ws", h)
	hour := func(time.Duration) time.Duration { return time.Hour }
	s.retry = backoff.Policy{Base: time.Hour, Max: time.Hour, Rand: hour}
	return s, proxy
}

// run runs s until the test ends.
func run(t *testing.T, s *Stream) {
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestRetryCutsTheWaitShort: a stream waiting to reconnect tries again at
// once on Retry (the browser's online event, the tab shown again), not at
// the end of its backoff, which here is an hour.
func TestRetryCutsTheWaitShort(t *testing.T) {
	st := make(statuses, 64)
	s, proxy := hourStream(t, st)
	run(t, s)

	st.waitFor(t, LiveOn)
	for range 2 {
		proxy.cut()
		st.waitFor(t, LiveReconnecting)
		s.Retry()
		st.waitFor(t, LiveOn)
	}
}

// retrying is a handler that calls Retry as soon as it hears the stream is
// reconnecting, before the stream has begun its wait: the order a tab's
// online event can take.
type retrying struct {
	statuses
	s *Stream
}

func (r *retrying) Status(st LiveStatus, err error) {
	if st == LiveReconnecting {
		r.s.Retry()
	}
	r.statuses.Status(st, err)
}

// TestRetryOnTheStatus: a Retry made on hearing "reconnecting" is not taken
// for a stale one; the stream reconnects at once, not after its backoff
// (an hour here).
func TestRetryOnTheStatus(t *testing.T) {
	h := &retrying{statuses: make(statuses, 64)}
	var proxy *cutter
	h.s, proxy = hourStream(t, h)
	run(t, h.s)

	h.waitFor(t, LiveOn)
	proxy.cut()
	h.waitFor(t, LiveReconnecting)
	h.waitFor(t, LiveOn)
}
