package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// sockets are WebSocket clients that listen for the events the workers'
// writes cause and time their delivery.
type sockets struct {
	env    *env
	url    string
	stop   chan struct{}
	wg     sync.WaitGroup
	shards [16]struct {
		mu   sync.Mutex
		hist histogram
	}
	ready       atomic.Int64 // sockets that got their ready frame
	received    atomic.Int64 // measured events received
	disconnects atomic.Int64 // sockets that dropped while the run went on
	closesMu    sync.Mutex
	closes      map[int]int64 // close status of each drop; -1 for no close frame
}

// openSockets connects cfg.sockets clients, spread round-robin over the
// accounts, and returns once every one is ready.
func openSockets(ctx context.Context, e *env) (*sockets, error) {
	u := *e.cfg.base
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path = "/api/ws"
	s := &sockets{env: e, url: u.String(), stop: make(chan struct{}), closes: map[int]int64{}}
	for i := range e.cfg.sockets {
		e.users[i%len(e.users)].sockets++
	}
	start := time.Now()
	// Dial in bounded parallel so that thousands of handshakes do not all
	// land at once.
	conns := make([]*websocket.Conn, e.cfg.sockets)
	err := parallel(ctx, e.cfg.sockets, 64, func(ctx context.Context, i int) error {
		// A server may refuse or drop a handshake under a burst of them;
		// redial as a browser would, a few times.
		var err error
		for attempt, wait := 0, 100*time.Millisecond; attempt < 5; attempt, wait = attempt+1, 2*wait {
			var c *websocket.Conn
			if c, err = s.dial(ctx, e.users[i%len(e.users)]); err == nil {
				conns[i] = c
				return nil
			}
			if !waitUntil(ctx, time.Now().Add(wait)) {
				break
			}
		}
		return fmt.Errorf("socket %d: %w", i, err)
	})
	if err != nil {
		for _, c := range conns {
			if c != nil {
				c.CloseNow()
			}
		}
		return nil, err
	}
	for i, c := range conns {
		s.wg.Go(func() { s.listen(ctx, e.users[i%len(e.users)], c, i) })
	}
	e.logf("%d socket(s) ready in %s", e.cfg.sockets, time.Since(start).Round(time.Millisecond))
	return s, nil
}

// dial connects and authenticates one socket, returning after the server's
// ready frame.
func (s *sockets) dial(ctx context.Context, u *user) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, s.url, &websocket.DialOptions{HTTPClient: s.env.api.http})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	auth, _ := json.Marshal(map[string]string{"type": "auth", "token": u.token})
	if err := c.Write(ctx, websocket.MessageText, auth); err != nil {
		c.CloseNow()
		return nil, err
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			c.CloseNow()
			return nil, err
		}
		var f struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("frame %q: %w", b, err)
		}
		switch f.Type {
		case "ready":
			s.ready.Add(1)
			return c, nil
		case "error":
			c.CloseNow()
			return nil, fmt.Errorf("server refused the socket: %s", f.Message)
		}
	}
}

// listen reads events until the run stops, redialling (without resuming:
// only live delivery is timed) when the connection drops.
func (s *sockets) listen(ctx context.Context, u *user, c *websocket.Conn, i int) {
	shard := &s.shards[i%len(s.shards)]
	needle := []byte(`"title":"` + stampPrefix)
	backoff := 50 * time.Millisecond
	for {
		done := make(chan struct{})
		go func(c *websocket.Conn) {
			select {
			case <-s.stop:
				c.Close(websocket.StatusNormalClosure, "load test over")
			case <-done:
			}
		}(c)
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				close(done)
				c.CloseNow()
				select {
				case <-s.stop:
					return
				default:
				}
				if ctx.Err() != nil {
					return
				}
				s.disconnects.Add(1)
				s.closesMu.Lock()
				s.closes[int(websocket.CloseStatus(err))]++
				s.closesMu.Unlock()
				break
			}
			now := time.Now().UnixNano()
			k := bytes.Index(b, needle)
			if k < 0 {
				continue
			}
			rest := b[k+len(needle):]
			end := bytes.IndexByte(rest, ':')
			if end < 0 {
				continue
			}
			sent, err := strconv.ParseInt(string(rest[:end]), 10, 64)
			if err != nil || sent < s.env.measureFrom.Load() {
				continue
			}
			s.received.Add(1)
			shard.mu.Lock()
			shard.hist.record(time.Duration(now - sent))
			shard.mu.Unlock()
		}
		// Redial until it works or the run ends.
		for {
			t := time.NewTimer(backoff)
			select {
			case <-s.stop:
				t.Stop()
				return
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, 2*time.Second)
			var err error
			if c, err = s.dial(ctx, u); err == nil {
				backoff = 50 * time.Millisecond
				break
			}
			if errors.Is(err, context.Canceled) {
				return
			}
		}
	}
}

// expected is how many measured events the sockets should have received:
// every measured write of a user, once per socket of that user; unsure adds
// the writes the end of the run interrupted, whose events may also come.
func (s *sockets) expected() (n, unsure int64) {
	for _, u := range s.env.users {
		n += u.writes.Load() * int64(u.sockets)
		unsure += u.unsure.Load() * int64(u.sockets)
	}
	return n, unsure
}

// drain waits, at most wait, for the events of the last writes to arrive.
func (s *sockets) drain(ctx context.Context, wait time.Duration) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if n, _ := s.expected(); s.received.Load() >= n {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// close closes every socket politely and waits for their goroutines.
func (s *sockets) close() {
	close(s.stop)
	s.wg.Wait()
}

func (s *sockets) histogram() *histogram {
	var h histogram
	for i := range s.shards {
		s.shards[i].mu.Lock()
		h.merge(&s.shards[i].hist)
		s.shards[i].mu.Unlock()
	}
	return &h
}
