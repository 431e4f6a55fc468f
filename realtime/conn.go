package realtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// Handler returns the WebSocket endpoint, to be mounted on GET /api/ws.
func (h *Hub) Handler() http.Handler { return http.HandlerFunc(h.serveWS) }

// outbound is one event encoded for the sockets of its owner; all of them
// share it, so a queued event costs a socket one pointer.
type outbound struct {
	kind authdash.EventKind
	seq  int64
	data []byte
}

// request is a verified client frame handed from the reader to the writer:
// an authentication when grant is set, else a resume.
type request struct {
	grant *grant
	since int64
}

type grant struct {
	user    authdash.UserID
	session authdash.SessionID
	expires time.Time
}

// conn is one socket. Two goroutines serve it: the HTTP handler's, which
// reads client frames, and a writer, which owns everything the socket is
// sent and in what order. Neither outlives serveWS.
type conn struct {
	h  *Hub
	ws *websocket.Conn

	ctx    context.Context // ends when the socket is being closed
	cancel context.CancelFunc

	owner   authdash.UserID    // set by the writer before register, then fixed
	session authdash.SessionID // guarded by h.mu once registered

	send       chan *outbound // live events, bounded: full means too slow
	gap        chan struct{}  // the broker may have lost events
	req        chan request   // from the reader
	kill       chan struct{}  // closed by stop
	writerDone chan struct{}
	pong       chan error     // a ping's outcome, from its goroutine
	pings      sync.WaitGroup // the ping goroutine, if one is out

	stopOnce sync.Once
	code     wire.CloseCode // why the socket closes; 0 closes without a handshake
	cause    error          // shown to the client in the error frame

	// authedOnce uncounts the socket from the hub's unauthenticated ones.
	authedOnce func()

	// Writer-only state.
	authed  bool
	pinging bool     // a ping waits for its pong
	resumes *limiter // this socket's resumes answered from the log
	// logged is the owner's head at the socket's latest read of the change
	// log: the socket has been sent every change up to it, except one that
	// commits later on another instance (docs/REALTIME.md).
	logged int64
	// sent holds the Seqs above logged that the socket has been sent since,
	// so that a check against the log sends only what it has not had.
	sent []int64
	// synced is the last point the socket was told it may resume from
	// (wire.Synced), so that a read that finds nothing new says nothing.
	synced int64
}

func (h *Hub) serveWS(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		h.cfg.Refuse(w, r, errShuttingDown)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	// Refused here rather than by websocket.Accept, whose answer is plain
	// text: like every error of the API, it is a problem document.
	if !isUpgrade(r) {
		h.wg.Done()
		w.Header().Set("Upgrade", "websocket")
		h.cfg.Refuse(w, r, errNotUpgrade)
		return
	}
	release, err := h.admit(r)
	if err != nil {
		h.wg.Done()
		h.cfg.Refuse(w, r, err)
		return
	}

	allowed := h.originAllowed(r)
	ws, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{
		// originAllowed has judged the origin already: a refused one is
		// accepted only to be told why with a close code, which a browser
		// can read (it cannot read a refused handshake's status).
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		release()
		h.wg.Done()
		return // Accept has written the HTTP error
	}
	if !allowed {
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "realtime: origin refused", slog.String("origin", r.Header.Get("Origin")))
		go func() {
			defer h.wg.Done()
			defer release()
			// The error frame first, as before every close of ours: a
			// browser's page cannot read close codes, and must learn that
			// redialling will not help.
			ctx, cancel := context.WithTimeout(context.Background(), h.cfg.WriteTimeout)
			defer cancel()
			if data, err := closingError(wire.CloseOriginNotAllowed, nil); err == nil && ws.Write(ctx, websocket.MessageText, data) != nil {
				ws.CloseNow()
				return
			}
			ws.Close(websocket.StatusCode(wire.CloseOriginNotAllowed), wire.CloseOriginNotAllowed.Reason())
		}()
		return
	}
	// The socket gets goroutines of its own and the handler returns, so
	// net/http's request, response and deep serving stack are freed: an idle
	// socket costs only what it needs.
	go h.serveConn(ws, release)
}

// isUpgrade reports whether r asks to switch to the WebSocket protocol
// (RFC 6455: Connection names "upgrade", Upgrade names "websocket").
func isUpgrade(r *http.Request) bool {
	has := func(name, token string) bool {
		for _, v := range r.Header.Values(name) {
			for _, t := range strings.Split(v, ",") {
				if strings.EqualFold(strings.TrimSpace(t), token) {
					return true
				}
			}
		}
		return false
	}
	return has("Connection", "upgrade") && has("Upgrade", "websocket")
}

var (
	errNotUpgrade    = authdash.Errorf(wire.CodeUpgradeRequired, "This endpoint speaks only WebSocket: open it with an Upgrade: websocket request.")
	errShuttingDown  = authdash.Errorf(authdash.CodeUnavailable, "The server is shutting down; try again in a moment.")
	errTooManyFromIP = authdash.Errorf(authdash.CodeUnavailable, "Too many connections from your address are waiting to sign in; try again in a moment.")
	errTooManyAll    = authdash.Errorf(authdash.CodeUnavailable, "Too many connections are waiting to sign in; try again in a moment.")
)

// admit counts a socket that has yet to authenticate against the
// hub's limits, returning the function that uncounts it (once, when it
// authenticates or closes). The client's address is the one the server
// put in the context (behind trusted proxies), else the peer's.
func (h *Hub) admit(r *http.Request) (release func(), err error) {
	ip := authdash.ClientIPFrom(r.Context())
	if ip == "" {
		ip = r.RemoteAddr
		if host, _, err := net.SplitHostPort(ip); err == nil {
			ip = host
		}
	}
	h.pendingMu.Lock()
	defer h.pendingMu.Unlock()
	switch {
	case h.pending[ip] >= h.cfg.MaxUnauthenticatedPerIP:
		h.stats.refusedPerIP.Add(1)
		return nil, errTooManyFromIP
	case h.pendingAll >= h.cfg.MaxUnauthenticated:
		h.stats.refusedTotal.Add(1)
		return nil, errTooManyAll
	}
	h.pending[ip]++
	h.pendingAll++
	var once sync.Once
	return func() {
		once.Do(func() {
			h.pendingMu.Lock()
			defer h.pendingMu.Unlock()
			if h.pending[ip]--; h.pending[ip] <= 0 {
				delete(h.pending, ip)
			}
			h.pendingAll--
		})
	}, nil
}

func (h *Hub) serveConn(ws *websocket.Conn, release func()) {
	defer h.wg.Done()
	defer release()
	ws.SetReadLimit(wire.MaxClientFrame)

	h.stats.conns.Add(1)
	defer h.stats.conns.Add(-1)

	c := &conn{
		h:          h,
		ws:         ws,
		send:       make(chan *outbound, h.cfg.QueueSize),
		gap:        make(chan struct{}, 1),
		req:        make(chan request),
		kill:       make(chan struct{}),
		writerDone: make(chan struct{}),
		pong:       make(chan error, 1),
		authedOnce: release,
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	defer c.cancel()

	go c.writeLoop()
	c.readLoop()
	<-c.writerDone
	c.cancel() // ends a ping still out
	c.pings.Wait()
	h.unregister(c)
}

// smallBuffers hands coder/websocket 1 KiB buffers for the hijacked
// connection instead of net/http's 4 KiB ones, which it would otherwise keep
// for the socket's whole life: our frames are small, larger ones are written
// through, and an idle socket is cheaper by 6 KiB.
type smallBuffers struct{ http.ResponseWriter }

const socketBufferSize = 1 << 10

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	r := brw.Reader
	if r.Buffered() == 0 {
		r = bufio.NewReaderSize(nc, socketBufferSize)
	}
	// net/http has flushed the writer; it is empty.
	return nc, bufio.NewReadWriter(r, bufio.NewWriterSize(nc, socketBufferSize)), nil
}

// stop asks the writer to close the socket with code (the first reason
// wins) and reports whether this call was the one that decided. It never
// blocks, so the hub may call it while fanning out.
func (c *conn) stop(code wire.CloseCode, cause error) bool {
	first := false
	c.stopOnce.Do(func() {
		first = true
		c.code, c.cause = code, cause
		close(c.kill)
		c.cancel()
	})
	return first
}

// Errors shown to clients in the error frame before a close.
var (
	errAuthFirst   = authdash.Errorf(authdash.CodeUnauthorized, "Send an auth frame first.")
	errAuthTimeout = authdash.Errorf(authdash.CodeUnauthorized, "No auth frame in time.")
	errOtherUser   = authdash.Errorf(authdash.CodeUnauthorized, "The token is for another user.")
	errBinary      = authdash.Errorf(authdash.CodeInvalid, "Frames must be JSON text.")
	errBadSince    = authdash.Errorf(authdash.CodeInvalid, "since must not be negative.")
)

// readLoop reads client frames until the socket ends or a frame ends it.
func (c *conn) readLoop() {
	lim := newLimiter(c.h.cfg.MaxMessagesPerMinute, time.Minute)
	var user authdash.UserID // whom the socket authenticated as
	for {
		// Not c.ctx: cancelling a Read tears the connection down without a
		// close frame, and the writer must be able to send one.
		typ, b, err := c.ws.Read(context.Background())
		if err != nil {
			c.stop(0, nil) // the peer left, or the writer closed the socket
			return
		}
		if !lim.allow(time.Now()) {
			c.stop(wire.CloseTooManyMessages, nil)
			return
		}
		if typ != websocket.MessageText {
			c.stop(wire.CloseProtocolError, errBinary)
			return
		}
		f, err := wire.DecodeClient(b)
		if err != nil {
			c.stop(wire.CloseProtocolError, authdash.Errorf(authdash.CodeInvalid, "Bad frame: %v", err))
			return
		}
		var r request
		switch f := f.(type) {
		case wire.Auth:
			id, err := c.h.tokens.Verify(f.Token)
			switch {
			case err != nil:
				c.stop(wire.CloseAuthFailed, err)
				return
			case user != "" && id.User != user:
				c.stop(wire.CloseAuthFailed, errOtherUser)
				return
			case !id.Expires.After(time.Now()):
				c.stop(wire.CloseTokenExpired, nil)
				return
			}
			user = id.User
			r.grant = &grant{user: id.User, session: id.Session, expires: id.Expires}
		case wire.Resume:
			switch {
			case user == "":
				c.stop(wire.CloseAuthFailed, errAuthFirst)
				return
			case f.Since < 0:
				c.stop(wire.CloseProtocolError, errBadSince)
				return
			}
			r.since = f.Since
		}
		select {
		case c.req <- r:
		case <-c.kill:
			return
		}
	}
}

// writeLoop sends the socket everything it gets, in order, until stop; then
// it closes the socket.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	// Until the first auth frame the deadline is the auth timeout, then the
	// token's expiry.
	deadline := time.NewTimer(c.h.cfg.AuthTimeout)
	defer deadline.Stop()
	ping := time.NewTicker(c.h.cfg.PingInterval)
	defer ping.Stop()

	for c.serveOne(deadline, ping) {
	}
	c.finish()
}

// serveOne handles one thing and reports whether to go on.
func (c *conn) serveOne(deadline *time.Timer, ping *time.Ticker) bool {
	// A stop takes precedence over queued work, and a client's request over
	// live events, so that a resume sent right behind auth is answered
	// before anything live.
	select {
	case <-c.kill:
		return false
	default:
	}
	select {
	case r := <-c.req:
		return c.request(r, deadline)
	default:
	}
	select {
	case <-c.kill:
		return false
	case <-c.h.done:
		c.stop(wire.CloseGoingAway, nil)
		return false
	case <-deadline.C:
		if !c.authed {
			c.stop(wire.CloseAuthFailed, errAuthTimeout)
		} else {
			c.stop(wire.CloseTokenExpired, nil)
		}
		return false
	case r := <-c.req:
		return c.request(r, deadline)
	case m := <-c.send:
		return c.deliver(m)
	case <-c.gap:
		return c.catchUp(c.logged, true)
	case <-ping.C:
		if !c.pinging {
			c.pinging = true
			c.pings.Go(c.ping)
		}
	case err := <-c.pong:
		c.pinging = false
		if err != nil {
			c.stop(0, nil) // the peer is gone or frozen: nothing would read a close frame
			return false
		}
		if c.authed {
			return c.checkLog()
		}
	}
	return true
}

// ping sends a ping and reports when its pong is back. It runs beside the
// writer, not in it: the pong is read by the reader, which may be waiting
// for the writer to take a frame the client sent before answering; a
// writer waiting for the pong would stall both until the pong timeout.
func (c *conn) ping() {
	ctx, cancel := context.WithTimeout(c.ctx, c.h.cfg.PongTimeout)
	defer cancel()
	c.pong <- c.ws.Ping(ctx)
}

// checkLog runs with every heartbeat. It checks what the socket was sent
// against the change log, which catches what no gap report reveals: a
// change whose publish failed, or whose instance died between commit and
// publish. Seqs are not consecutive, so a live event says nothing about the
// ones before it: if anything was sent live since the last read, the
// changes since are read and those not yet sent are sent; otherwise the
// head alone tells whether something is missing.
func (c *conn) checkLog() bool {
	if len(c.sent) > 0 {
		return c.catchUp(c.logged, true)
	}
	head, err := c.readHead()
	switch {
	case err != nil:
		c.storeFailed(err)
		return false
	case head > c.logged:
		return c.catchUp(c.logged, true)
	case head < c.logged: // the store was restored from an older copy
		return c.resync(head)
	}
	return true
}

func (c *conn) request(r request, deadline *time.Timer) bool {
	if r.grant != nil {
		return c.authenticate(r.grant, deadline)
	}
	return c.resume(r.since)
}

// resume answers a resume frame from the change log, within the socket's
// and the account's budgets; over either, with a resync at the head.
func (c *conn) resume(since int64) bool {
	now := time.Now()
	if c.resumes == nil {
		c.resumes = newLimiter(c.h.cfg.ResumesPerMinute, time.Minute)
	}
	// Both budgets are charged only when both allow: a socket refused by
	// its account's budget keeps its own.
	if !c.resumes.peek(now) || !c.h.allowResume(c.owner, now) || !c.resumes.allow(now) {
		c.h.stats.resumesLimited.Add(1)
		head, err := c.readHead()
		if err != nil {
			c.storeFailed(err)
			return false
		}
		return c.resync(head)
	}
	return c.catchUp(since, false)
}

// authenticate handles an auth frame: the first one registers the socket
// and reports the head; later ones extend its life.
func (c *conn) authenticate(g *grant, expiry *time.Timer) bool {
	if !c.authed {
		c.owner, c.session = g.user, g.session
		// Register before reading the head: from here on every event is
		// queued, so nothing committed after the read can slip past.
		switch err := c.h.register(c.ctx, c); {
		case errors.Is(err, errTooManySockets):
			c.stop(wire.CloseTooManySockets, nil)
			return false
		case err != nil:
			c.stop(wire.CloseGoingAway, nil)
			return false
		}
		head, err := c.readHead()
		if err != nil {
			c.storeFailed(err)
			return false
		}
		c.authed, c.logged = true, head
		c.authedOnce()
		expiry.Reset(time.Until(g.expires))
		return c.writeFrame(wire.Authed{ExpiresAt: g.expires}) && c.writeFrame(wire.Ready{Seq: head})
	}
	c.h.mu.Lock()
	c.session = g.session
	c.h.mu.Unlock()
	expiry.Reset(time.Until(g.expires))
	return c.writeFrame(wire.Authed{ExpiresAt: g.expires})
}

// deliver sends a live event. Every one is sent, whatever its Seq: Seqs
// are not consecutive, so a jump is no sign of loss, and a change numbered
// below one already sent may have committed later on another instance. An
// event a catch-up has already sent may so be sent twice, which is harmless:
// clients apply a task only at a newer version. What the broker lost comes
// from the log (a gap report, the heartbeat's check, a resume).
func (c *conn) deliver(m *outbound) bool {
	if !c.write(m.data) {
		return false
	}
	c.h.stats.delivered.Add(1)
	if m.kind.Logged() && m.seq > c.logged {
		c.sent = append(c.sent, m.seq)
		// Bounded: check against the log before sent grows large.
		if len(c.sent) >= max(1, c.h.cfg.ResumeLimit/4) {
			return c.catchUp(c.logged, true)
		}
	}
	return true
}

// catchUp sends every change after since from the store, or a resync if the
// log cannot answer. With skipSent (since is then c.logged), the changes the
// socket has been sent live are not sent again.
func (c *conn) catchUp(since int64, skipSent bool) bool {
	c.h.stats.catchUps.Add(1)
	evs, head, ok, err := c.readLog(since, c.h.cfg.ResumeLimit)
	if err != nil {
		c.storeFailed(err)
		return false
	}
	if !ok {
		return c.resync(head)
	}
	// A resume from beyond what the socket has read of the log leaves the
	// changes in between unread: logged stays, and what is sent now joins
	// sent.
	beyond := since > c.logged
	for _, ev := range evs {
		if skipSent && slices.Contains(c.sent, ev.Seq) {
			continue
		}
		data, err := json.Marshal(ev)
		if err != nil {
			c.stop(wire.CloseInternalError, nil)
			return false
		}
		if !c.write(data) {
			return false
		}
		c.h.stats.delivered.Add(1)
		if beyond {
			c.sent = append(c.sent, ev.Seq)
		}
	}
	if beyond {
		return true
	}
	c.logged, c.sent = head, nil
	return c.confirm(head)
}

// confirm tells the client, if it is news, that every change up to head
// has been sent on this socket: the point to resume from. A client that
// resumed from the highest Seq it applied instead would skip a change
// numbered below it whose publish was lost, which only a log read sends,
// and the socket that would have read it may be gone (docs/REALTIME.md).
//
// The promise rests on logged, which the socket takes as known to the
// client from its ready on, before the client's resume is answered: a
// check that ran between the two (a gap report in that instant) would
// confirm a point the client reaches only with the resume's answer.
func (c *conn) confirm(head int64) bool {
	if head <= c.synced {
		return true
	}
	c.synced = head
	return c.writeFrame(wire.Synced{Seq: head})
}

// resync tells the client to reload and continue from head; the client
// holds head as its point to resume from, so no synced follows.
func (c *conn) resync(head int64) bool {
	c.h.stats.resyncs.Add(1)
	c.logged, c.sent, c.synced = head, nil, head
	return c.writeFrame(wire.Resync{Seq: head})
}

// readLog reads the owner's change log, waiting for a turn among the hub's
// concurrent reads.
func (c *conn) readLog(since int64, limit int) (evs []authdash.Event, head int64, ok bool, err error) {
	err = c.withRead(func(ctx context.Context) error {
		evs, head, ok, err = c.h.changes.ChangesSince(ctx, c.owner, since, limit)
		return err
	})
	return evs, head, ok, err
}

func (c *conn) readHead() (head int64, err error) {
	err = c.withRead(func(ctx context.Context) error {
		head, err = c.h.changes.ChangeHead(ctx, c.owner)
		return err
	})
	return head, err
}

// withRead runs one change-log read within the hub's bound on concurrent
// reads and the store timeout.
func (c *conn) withRead(read func(ctx context.Context) error) error {
	select {
	case c.h.reads <- struct{}{}:
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
	defer func() { <-c.h.reads }()
	ctx, cancel := context.WithTimeout(c.ctx, c.h.cfg.StoreTimeout)
	defer cancel()
	return read(ctx)
}

func (c *conn) storeFailed(err error) {
	switch {
	case authdash.ErrorCodeOf(err) == authdash.CodeNotFound:
		c.stop(wire.CloseAccountDeleted, nil)
	case c.ctx.Err() != nil: // closing anyway
	default:
		c.h.log.LogAttrs(c.ctx, slog.LevelError, "realtime: read change log",
			slog.String("user", string(c.owner)), slog.Any("err", err))
		c.stop(wire.CloseInternalError, nil)
	}
}

func (c *conn) writeFrame(f wire.Frame) bool {
	data, err := json.Marshal(f)
	if err != nil {
		c.stop(wire.CloseInternalError, nil)
		return false
	}
	return c.write(data)
}

func (c *conn) write(data []byte) bool {
	// Not c.ctx: a stop must not abort a frame half-written, which would
	// leave no way to send the close code after it.
	ctx, cancel := context.WithTimeout(context.Background(), c.h.cfg.WriteTimeout)
	err := c.ws.Write(ctx, websocket.MessageText, data)
	cancel()
	if err != nil {
		c.stop(0, nil) // the socket is broken or stuck; coder/websocket has closed it
		return false
	}
	return true
}

// finish closes the socket as stop asked: with an error frame and a close
// handshake for our own codes, at once otherwise.
func (c *conn) finish() {
	if c.code == 0 {
		c.ws.CloseNow()
		return
	}
	// A slow consumer gets no error frame: its socket is the one that is
	// stuck, and the close frame says why.
	if c.code >= 4000 && c.code != wire.CloseSlowConsumer {
		if data, err := closingError(c.code, c.cause); err == nil && !c.write(data) {
			c.ws.CloseNow()
			return
		}
	}
	c.ws.Close(websocket.StatusCode(c.code), c.code.Reason())
}

// closingError is the error frame sent before closing with code: the
// close's own meaning, or cause's when it is a domain error.
func closingError(code wire.CloseCode, cause error) ([]byte, error) {
	msg := wire.Error{Code: authdash.ErrorCodeOf(code.Err()), Message: authdash.ErrorMessageOf(code.Err()), Close: code}
	var e *authdash.Error
	if errors.As(cause, &e) {
		msg.Code, msg.Message = e.Code, e.Message
	}
	return json.Marshal(msg)
}

// limiter is a token bucket: n messages per period, in bursts of up to n.
type limiter struct {
	tokens, max float64
	rate        float64 // tokens per second
	last        time.Time
}

func newLimiter(n int, per time.Duration) *limiter {
	return &limiter{tokens: float64(n), max: float64(n), rate: float64(n) / per.Seconds()}
}

func (l *limiter) allow(now time.Time) bool {
	if !l.last.IsZero() {
		l.tokens = min(l.max, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

// peek reports whether allow would, without taking a token.
func (l *limiter) peek(now time.Time) bool {
	t := l.tokens
	if !l.last.IsZero() {
		t = min(l.max, t+now.Sub(l.last).Seconds()*l.rate)
	}
	return t >= 1
}
