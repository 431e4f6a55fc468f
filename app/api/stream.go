package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coder/websocket"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/backoff"
	"github.com/authdash/authdash/wire"
)

// LiveStatus is what the live indicator shows.
type LiveStatus string

// Live statuses.
const (
	LiveConnecting   LiveStatus = "connecting"
	LiveOn           LiveStatus = "live"
	LiveReconnecting LiveStatus = "reconnecting"
	LiveOffline      LiveStatus = "offline"
)

const (
	// offlineAfter failed attempts in a row, the indicator says offline
	// rather than reconnecting (about a second with backoff.Reconnect).
	offlineAfter = 4
	// maxFrame bounds a server frame (an event carries one task, at most
	// about 10k runes of description).
	maxFrame = 1 << 20
)

// StreamHandler receives what the socket delivers. Its methods are called
// one at a time, in order, on the stream's goroutine; events wait while
// Reload runs.
type StreamHandler interface {
	// Reload loads the user's state over REST: on the first connection, and
	// when the server's change log cannot fill a gap (resync).
	Reload(ctx context.Context) error
	// Event delivers a change. Changes can come out of sequence order and
	// more than once: apply a task only at a newer version than the one
	// held (docs/REALTIME.md).
	Event(ev authdash.Event)
	// Status reports the connection's state; err says why it is not live.
	Status(s LiveStatus, err error)
}

// SyncedHandler is a StreamHandler that is also told each new point to
// resume from (Stream.Synced), as the tab that shares its socket with the
// others is, so that the one taking over resumes from there
// (app/devicelink). Synced is called like the other methods.
type SyncedHandler interface {
	StreamHandler
	Synced(seq int64)
}

// Stream keeps a realtime connection open and delivers the user's changes
// to a handler, resuming from the server's change log after every
// reconnection. The zero value is not usable; see Client.NewStream.
type Stream struct {
	c   *Client
	url string
	h   StreamHandler
	// retry is how long to wait between attempts.
	retry backoff.Policy
	// kick cuts a wait between attempts short (Retry).
	kick chan struct{}

	seq sequencer
}

// NewStream returns a stream of the user's changes from the socket at url
// (ws:// or wss://). Run it with Run.
func (c *Client) NewStream(url string, h StreamHandler) *Stream {
	return &Stream{c: c, url: url, h: h, retry: backoff.Reconnect, kick: make(chan struct{}, 1)}
}

// Retry makes a stream that is waiting to reconnect try at once: the
// browser says the network is back (online), or the tab is shown again
// after the browser may have throttled its timers. It does nothing to a
// connected stream.
func (s *Stream) Retry() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// ResumeFrom makes a stream that has not run yet start with a resume after
// since, as a reconnection would, instead of loading everything: the tab
// that takes the socket over from another (app/devicelink) holds every
// change up to since, a point that socket confirmed (Synced). 0 changes
// nothing.
func (s *Stream) ResumeFrom(since int64) { s.seq.resumeFrom(since) }

// Synced returns the point the stream resumes from after a reconnection:
// every change numbered up to it has been delivered or loaded, as the
// server confirmed (a synced frame, a resync, or the ready a load followed).
// It is not the highest sequence number delivered, which a change numbered
// below it may still be missing (docs/REALTIME.md). Call it from the
// handler's methods or once Run has returned.
func (s *Stream) Synced() int64 { return s.seq.synced }

// Run connects, reconnects with backoff after any interruption, and returns
// nil when ctx ends, or the error that makes reconnecting pointless: the
// session was revoked, the account deleted, or the user must sign in again.
func (s *Stream) Run(ctx context.Context) error {
	failures := 0
	s.h.Status(LiveConnecting, nil)
	for {
		live, err := s.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if live {
			failures = 0
		}
		code := wire.CloseCode(websocket.CloseStatus(err))
		switch code {
		case wire.CloseAuthFailed, wire.CloseTokenExpired:
			// The token was refused or ran out: get a new one before
			// redialing. If that fails with unauthorized, the session is
			// over.
			if _, rerr := s.c.Refresh(ctx); authdash.ErrorCodeOf(rerr) == authdash.CodeUnauthorized {
				s.h.Status(LiveOffline, rerr)
				return rerr
			}
		default:
			if code != -1 {
				if _, reconnect := code.Meaning(); !reconnect {
					cerr := code.Err()
					if cerr == nil {
						cerr = authdash.Errorf(authdash.CodeUnavailable, "Live updates ended.")
					}
					s.h.Status(LiveOffline, cerr)
					return cerr
				}
			} else if authdash.ErrorCodeOf(err) == authdash.CodeUnauthorized {
				s.h.Status(LiveOffline, err)
				return err
			}
		}
		failures++
		st := LiveReconnecting
		if failures >= offlineAfter {
			st = LiveOffline
		}
		// A kick from before this wait (while connected) is stale. It is
		// dropped before the status goes out: a Retry made on seeing it
		// (the tab shown again, the browser online) must cut this wait
		// short, not be taken for stale (TestRetryOnTheStatus).
		select {
		case <-s.kick:
		default:
		}
		s.h.Status(st, err)
		t := time.NewTimer(s.retry.Delay(failures))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-s.kick:
			t.Stop()
		}
	}
}

// session runs one connection until it ends, and reports whether it got as
// far as ready.
func (s *Stream) session(ctx context.Context) (live bool, err error) {
	tok, err := s.c.AccessToken(ctx)
	if err != nil {
		return false, err
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	conn, _, err := websocket.Dial(dctx, s.url, nil)
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(maxFrame)

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := writeFrame(ctx, conn, wire.Auth{Token: tok}); err != nil {
		return false, err
	}
	// Right behind auth, so it is answered before any live change.
	if since := s.seq.connected(); since >= 0 {
		if err := writeFrame(ctx, conn, wire.Resume{Since: since}); err != nil {
			return false, err
		}
	}
	reauth := make(chan time.Time, 1)
	go s.keepAuthenticated(ctx, conn, reauth)

	var closing wire.CloseCode // announced by an error frame
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return live, withCloseCode(err, closing)
		}
		f, err := wire.DecodeServer(b)
		if errors.Is(err, wire.ErrUnknownType) {
			continue // a newer server's frame: ignore it
		}
		if err != nil {
			conn.Close(websocket.StatusCode(wire.CloseProtocolError), "bad frame")
			return live, err
		}
		switch f := f.(type) {
		case wire.Authed:
			select {
			case reauth <- f.ExpiresAt:
			default:
				<-reauth
				reauth <- f.ExpiresAt
			}
		case wire.Ready:
			live = true
			s.h.Status(LiveOn, nil)
			if err := s.ready(ctx, f.Seq); err != nil {
				return live, err
			}
		case wire.Resync:
			if err := s.h.Reload(ctx); err != nil {
				return live, err
			}
			s.seq.resync(f.Seq)
			s.confirmed()
		case wire.Synced:
			if s.seq.confirm(f.Seq) {
				s.confirmed()
			}
		case wire.Error:
			closing = f.Close
		case *wire.Event:
			s.event(authdash.Event(*f))
		}
	}
}

// withCloseCode gives a read error the close code the server announced,
// when the error does not carry one: in a browser, coder/websocket reports
// a close by the server as net.ErrClosed, without its code.
func withCloseCode(err error, announced wire.CloseCode) error {
	if announced == 0 || websocket.CloseStatus(err) != -1 {
		return err
	}
	return fmt.Errorf("%w (%w)", websocket.CloseError{Code: websocket.StatusCode(announced), Reason: announced.Reason()}, err)
}

// ready starts from the server's head: a fresh client loads everything (it
// already asked for what it missed, right behind auth, if it had state).
func (s *Stream) ready(ctx context.Context, head int64) error {
	if !s.seq.ready(head) {
		return nil
	}
	if err := s.h.Reload(ctx); err != nil {
		return err
	}
	s.seq.loaded(head)
	s.confirmed()
	return nil
}

// confirmed tells a handler that wants it of the new point to resume from.
func (s *Stream) confirmed() {
	if h, ok := s.h.(SyncedHandler); ok {
		h.Synced(s.seq.synced)
	}
}

func (s *Stream) event(ev authdash.Event) {
	if ev.Kind.Logged() {
		s.seq.event(ev.Seq)
	}
	s.h.Event(ev)
}

// sequencer follows the sequence numbers of the changes (docs/REALTIME.md)
// to know where to resume from. The numbers are not consecutive, so a jump
// is no sign of a lost change (the server recovers those itself), and every
// change is delivered, even one numbered at or below the last seen: a
// resume's answer may come after live changes with higher numbers, and a
// change can commit on one instance after a higher-numbered one on another.
// Delivering twice is harmless because the consumer applies a task only at
// a newer version.
//
// A reconnection resumes from synced, the last point the server confirmed,
// not from the highest number delivered: a change below that one may have
// committed on an instance that died before publishing it, and only a read
// of the log sends it; a resume from above it would never.
type sequencer struct {
	// state says the client holds state (loaded, or handed over by
	// ResumeFrom), so that a connection resumes instead of loading.
	state bool
	// last is the highest sequence number delivered or loaded.
	last int64
	// synced is the point to resume from: every change up to it has been
	// delivered or loaded.
	synced int64
}

// connected returns the since of the resume to send right behind auth, so
// that it is answered before any live change, or -1 without state.
func (q *sequencer) connected() int64 {
	if !q.state {
		return -1
	}
	return q.synced
}

// ready reports whether to reload over REST: when there is no state yet,
// or the server's log restarted below what the client holds. The head is
// taken first, so that every change after it is delivered; changes the
// load already reflects are harmless.
func (q *sequencer) ready(head int64) (reload bool) {
	return !q.state || head < q.last
}

// loaded records that a load over REST after ready{head} succeeded: it
// holds every change up to head.
func (q *sequencer) loaded(head int64) { q.state, q.last, q.synced = true, head, head }

// resync records that a reload brought the state up to seq.
func (q *sequencer) resync(seq int64) { q.state, q.last, q.synced = true, seq, seq }

// event records a delivered change.
func (q *sequencer) event(seq int64) { q.last = max(q.last, seq) }

// confirm records a synced point and reports whether it moved.
func (q *sequencer) confirm(seq int64) bool {
	if !q.state || seq <= q.synced {
		return false
	}
	q.synced = seq
	q.last = max(q.last, seq)
	return true
}

// resumeFrom records a point another socket confirmed.
func (q *sequencer) resumeFrom(since int64) {
	if since <= 0 {
		return
	}
	q.state = true
	q.last, q.synced = max(q.last, since), max(q.synced, since)
}

// keepAuthenticated sends a fresh token shortly before the socket's expires,
// so that the server does not close it.
func (s *Stream) keepAuthenticated(ctx context.Context, conn *websocket.Conn, expiries <-chan time.Time) {
	var timer *time.Timer
	var fire <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case exp := <-expiries:
			if timer != nil {
				timer.Stop()
			}
			// The socket's token was new when it was sent: renew it
			// once it has lived refreshAfter of what it had left.
			timer = time.NewTimer(max(time.Duration(float64(time.Until(exp))*refreshAfter), time.Second))
			fire = timer.C
		case <-fire:
			fire = nil
			tok, err := s.c.AccessToken(ctx)
			if err != nil {
				// Let the server close with CloseTokenExpired; Run
				// refreshes and redials.
				continue
			}
			if err := writeFrame(ctx, conn, wire.Auth{Token: tok}); err != nil {
				return
			}
		}
	}
}

func writeFrame(ctx context.Context, conn *websocket.Conn, f wire.Frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, b)
}
