package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/realtime/wire"
	"github.com/authdash/authdash/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds how long a test waits for something that should happen soon;
// it only decides when a failing test gives up.
const wait = 10 * time.Second

// env is a hub on a real SQLite store behind an httptest server, with the
// in-process broker and a TaskService publishing through the hub.
type env struct {
	t      *testing.T
	db     *sqlite.DB
	hub    *realtime.Hub
	broker *testBroker
	tasks  *authdash.TaskService
	tokens *tokens
	srv    *httptest.Server
}

func newEnv(t *testing.T, configure func(*realtime.Config)) *env {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "authdash.db"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, broker: newTestBroker(), tokens: &tokens{m: make(map[string]grant)}}
	cfg := realtime.Config{
		Broker:           e.broker,
		Tokens:           e.tokens,
		Changes:          db,
		AllowedOrigins:   []string{"https://app.example", "*.example.org"},
		UnsubscribeDelay: 10 * time.Millisecond,
	}
	if configure != nil {
		configure(&cfg)
	}
	e.hub, err = realtime.NewHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.tasks = &authdash.TaskService{Store: db, Events: e.hub}
	e.srv = httptest.NewServer(e.hub.Handler())

	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		e.hub.Run(ctx)
	}()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), wait)
		defer scancel()
		if err := e.hub.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if n := e.hub.Stats().Connections; n != 0 {
			t.Errorf("%d connections left after Shutdown", n)
		}
		cancel()
		<-ran
		e.srv.Close()
		db.Close()
	})
	e.broker.sync(t)
	return e
}

// user creates an account and returns its ID.
func (e *env) user(name string) authdash.UserID {
	e.t.Helper()
	u, err := e.db.CreateUser(e.t.Context(), authdash.NewUser{Email: name + "@example.com", Name: name, PasswordHash: "x"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

func (e *env) create(owner authdash.UserID, title string) *authdash.Task {
	e.t.Helper()
	task, err := e.tasks.Create(e.t.Context(), owner, authdash.TaskDraft{Title: title})
	if err != nil {
		e.t.Fatal(err)
	}
	return task
}

func (e *env) rename(owner authdash.UserID, id authdash.TaskID, title string) *authdash.Task {
	e.t.Helper()
	task, err := e.tasks.Update(e.t.Context(), owner, id, authdash.TaskPatch{Title: &title}, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return task
}

func (e *env) delete(owner authdash.UserID, id authdash.TaskID) {
	e.t.Helper()
	if err := e.tasks.Delete(e.t.Context(), owner, id, 0); err != nil {
		e.t.Fatal(err)
	}
}

// dial opens a socket; header may set Origin.
func (e *env) dial(header http.Header) *client {
	e.t.Helper()
	return dialURL(e.t, "ws"+strings.TrimPrefix(e.srv.URL, "http"), &websocket.DialOptions{HTTPHeader: header})
}

// login opens a socket authenticated as owner in session sid, past ready.
func (e *env) login(owner authdash.UserID, sid string) *client {
	e.t.Helper()
	c := e.dial(nil)
	c.send(wire.Auth{Token: e.tokens.issue(owner, sid, time.Hour)})
	c.expectType(wire.TypeAuthed)
	c.expectType(wire.TypeReady)
	return c
}

// client is a test socket client.
type client struct {
	t  testing.TB
	ws *websocket.Conn
}

func dialURL(t testing.TB, url string, opts *websocket.DialOptions) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &client{t: t, ws: ws}
}

func (c *client) send(f wire.Frame) {
	c.t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(websocket.MessageText, b)
}

func (c *client) sendRaw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.ws.Write(ctx, typ, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next frame, or the error that ended the socket.
func (c *client) read() (wire.Frame, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	f, err := wire.DecodeServer(b)
	if err != nil {
		c.t.Fatalf("bad frame %s: %v", b, err)
	}
	return f, nil
}

func (c *client) next() wire.Frame {
	c.t.Helper()
	f, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return f
}

func (c *client) expectType(t wire.Type) wire.Frame {
	c.t.Helper()
	f := c.next()
	if f.FrameType() != t {
		c.t.Fatalf("got %#v, want a %s frame", f, t)
	}
	return f
}

// expectEvent reads the next frame and checks it is this task event.
func (c *client) expectEvent(kind authdash.EventKind, id authdash.TaskID, seq int64) *wire.Event {
	c.t.Helper()
	f := c.next()
	ev, ok := f.(*wire.Event)
	if !ok || ev.Kind != kind || ev.TaskID != id || ev.Seq != seq {
		c.t.Fatalf("got %#v, want %s of %s at seq %d", f, kind, id, seq)
	}
	return ev
}

// expectClose reads until the socket ends and checks the close code; any
// frames before it are returned. An error frame, if sent, must agree.
func (c *client) expectClose(want wire.CloseCode) []wire.Frame {
	c.t.Helper()
	var frames []wire.Frame
	for {
		f, err := c.read()
		if err != nil {
			if got := wire.CloseCode(websocket.CloseStatus(err)); got != want {
				c.t.Fatalf("socket ended with %v (code %d), want close code %d; frames before: %#v", err, got, want, frames)
			}
			return frames
		}
		if e, ok := f.(wire.Error); ok {
			if code, _ := want.Meaning(); want >= 4000 && e.Code != code {
				c.t.Errorf("error frame %+v does not match close code %d", e, want)
			}
		}
		frames = append(frames, f)
	}
}

// tokens is a TokenVerifier issuing opaque tokens with any lifetime, so
// expiry can be tested in milliseconds. The real verifier (server/auth) has
// its own tests; this one keeps the hub tests independent of JWT clocks.
type tokens struct {
	mu sync.Mutex
	n  int
	m  map[string]grant
}

type grant struct {
	user    authdash.UserID
	session authdash.SessionID
	exp     time.Time
}

func (v *tokens) issue(user authdash.UserID, session string, ttl time.Duration) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.n++
	tok := fmt.Sprintf("tok-%d", v.n)
	v.m[tok] = grant{user, authdash.SessionID(session), time.Now().Add(ttl)}
	return tok
}

func (v *tokens) VerifyAccess(token string) (authdash.UserID, authdash.SessionID, time.Time, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	g, ok := v.m[token]
	if !ok {
		return "", "", time.Time{}, authdash.Errorf(authdash.CodeUnauthorized, "Access token is invalid.")
	}
	return g.user, g.session, g.exp, nil
}

// testBroker is the real LocalBroker, observed: it lets a test report a gap
// as a remote broker would, and see unsubscribes.
type testBroker struct {
	*realtime.LocalBroker
	mu           sync.Mutex
	handler      realtime.Handler
	probed       chan struct{}
	probeOnce    sync.Once
	unsubscribed chan authdash.UserID
	down         atomic.Bool // Publish fails, as with Redis unreachable
}

func newTestBroker() *testBroker {
	return &testBroker{
		LocalBroker:  realtime.NewLocalBroker(),
		probed:       make(chan struct{}),
		unsubscribed: make(chan authdash.UserID, 1000),
	}
}

const probeOwner = "probe"

func (b *testBroker) Run(ctx context.Context, h realtime.Handler) error {
	b.mu.Lock()
	b.handler = h
	b.mu.Unlock()
	return b.LocalBroker.Run(ctx, spy{h, b})
}

var errBrokerDown = errors.New("broker down")

func (b *testBroker) Publish(ctx context.Context, ev authdash.Event) error {
	if b.down.Load() {
		return errBrokerDown
	}
	return b.LocalBroker.Publish(ctx, ev)
}

func (b *testBroker) Unsubscribe(ctx context.Context, owner authdash.UserID) error {
	err := b.LocalBroker.Unsubscribe(ctx, owner)
	b.unsubscribed <- owner
	return err
}

// gap makes the hub believe the broker lost events.
func (b *testBroker) gap() {
	b.mu.Lock()
	h := b.handler
	b.mu.Unlock()
	h.HandleGap()
}

// sync waits until Run has installed the hub as the handler.
func (b *testBroker) sync(t testing.TB) {
	t.Helper()
	b.LocalBroker.Subscribe(t.Context(), probeOwner)
	defer b.LocalBroker.Unsubscribe(t.Context(), probeOwner)
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); {
		b.Publish(t.Context(), authdash.Event{Kind: authdash.EventTaskCreated, Owner: probeOwner})
		select {
		case <-b.probed:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatal("broker never ran")
}

type spy struct {
	realtime.Handler
	b *testBroker
}

func (s spy) HandleEvent(ev authdash.Event) {
	if ev.Owner == probeOwner {
		s.b.probeOnce.Do(func() { close(s.b.probed) })
		return
	}
	s.Handler.HandleEvent(ev)
}

// view is a client's copy of its tasks, built from events as the browser
// builds it: newer versions win, deletes remove.
type view struct {
	tasks   map[authdash.TaskID]authdash.Task
	deleted map[authdash.TaskID]int64
	last    int64
}

func newView() *view {
	return &view{tasks: map[authdash.TaskID]authdash.Task{}, deleted: map[authdash.TaskID]int64{}}
}

func (v *view) apply(ev *wire.Event) {
	if ev.Seq > v.last {
		v.last = ev.Seq
	}
	if ev.Version <= v.deleted[ev.TaskID] {
		return
	}
	if ev.Kind == authdash.EventTaskDeleted {
		delete(v.tasks, ev.TaskID)
		v.deleted[ev.TaskID] = ev.Version
		return
	}
	if cur, ok := v.tasks[ev.TaskID]; ok && cur.Version >= ev.Version {
		return
	}
	v.tasks[ev.TaskID] = *ev.Task
}

var errNotTask = errors.New("not a task event")

// applyFrame applies a task event or records the head of ready/resync.
func (v *view) applyFrame(f wire.Frame) error {
	switch f := f.(type) {
	case *wire.Event:
		if !authdash.EventKind(f.Kind).Logged() {
			return errNotTask
		}
		v.apply(f)
	case wire.Ready:
		v.last = f.Seq
	case wire.Resync:
		return fmt.Errorf("unexpected resync to %d", f.Seq)
	default:
		return fmt.Errorf("unexpected frame %#v", f)
	}
	return nil
}
