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
	"github.com/authdash/authdash/store/sqlite"
	"github.com/authdash/authdash/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds how long a test waits for something that should happen soon;
// it only decides when a failing test gives up.
const wait = 10 * time.Second

// env is a hub on a real SQLite store behind an httptest server, with the
// in-process broker and a TaskService publishing through the hub.
type env struct {
	t      testing.TB
	db     *sqlite.DB
	store  authdash.TaskStore // db, as the hub and the TaskService see it
	seqs   seqScheme
	hub    *realtime.Hub
	broker *testBroker
	tasks  *authdash.TaskService
	tokens *tokens
	srv    *httptest.Server
}

// seqScheme is how the store the hub reads numbers an owner's changes.
// Nothing may rely on the numbers being consecutive: tests that check Seqs
// run under each scheme and name them with env.seq.
type seqScheme struct {
	name string
	// of maps the nth change (as SQLite numbers it) to its Seq; 0 is 0.
	of func(n int64) int64
}

var (
	denseSeqs = seqScheme{"Dense", func(n int64) int64 { return n }}
	// sparseSeqs numbers changes as MongoDB does, with a hybrid-clock stamp
	// in microseconds: far apart, and unevenly.
	sparseSeqs = seqScheme{"Sparse", func(n int64) int64 {
		if n == 0 {
			return 0
		}
		return 1_767_225_600_000_000 + n*1_000_000 + (n*7919%1000)*997
	}}
	seqSchemes = []seqScheme{denseSeqs, sparseSeqs}
)

// forSchemes runs test once per seqScheme, each on an env of its own.
func forSchemes(t *testing.T, configure func(*realtime.Config), test func(t *testing.T, e *env)) {
	t.Helper()
	for _, s := range seqSchemes {
		t.Run(s.name, func(t *testing.T) { test(t, newEnvSeqs(t, s, configure)) })
	}
}

// seq returns the Seq of the owner's nth change.
func (e *env) seq(n int64) int64 { return e.seqs.of(n) }

func newEnv(t testing.TB, configure func(*realtime.Config)) *env {
	t.Helper()
	return newEnvSeqs(t, denseSeqs, configure)
}

func newEnvSeqs(t testing.TB, seqs seqScheme, configure func(*realtime.Config)) *env {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "authdash.db"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, store: db, seqs: seqs, broker: newTestBroker(), tokens: &tokens{m: make(map[string]grant)}}
	if seqs.name != denseSeqs.name {
		e.store = renumbered{db, seqs.of}
	}
	cfg := realtime.Config{
		Broker:           e.broker,
		Tokens:           e.tokens,
		Changes:          e.store,
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
	e.tasks = &authdash.TaskService{Store: e.store, Events: e.hub}
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

// write stores a task without publishing it, as if its publish had failed
// or its instance had died right after the commit; the event is returned
// for a test to publish late.
func (e *env) write(owner authdash.UserID, title string) (*authdash.Task, authdash.Event) {
	e.t.Helper()
	task, ev, err := e.store.CreateTask(e.t.Context(), owner, authdash.TaskDraft{Title: title, Status: authdash.StatusTodo, Priority: authdash.PriorityLow, Tags: []string{}})
	if err != nil {
		e.t.Fatal(err)
	}
	return task, ev
}

// renumbered is a task store whose Seqs are of(n) for SQLite's nth change:
// strictly increasing per owner, but not consecutive.
type renumbered struct {
	authdash.TaskStore
	of func(n int64) int64
}

// below returns the n of the last change numbered at or below seq.
func (r renumbered) below(seq int64) int64 {
	if seq >= 1<<62 {
		return 1 << 40 // beyond any head
	}
	lo, hi := int64(0), int64(1<<40)
	for lo < hi { // the largest n with of(n) <= seq
		mid := lo + (hi-lo+1)/2
		if r.of(mid) <= seq {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func (r renumbered) CreateTask(ctx context.Context, owner authdash.UserID, d authdash.TaskDraft) (*authdash.Task, authdash.Event, error) {
	t, ev, err := r.TaskStore.CreateTask(ctx, owner, d)
	ev.Seq = r.of(ev.Seq)
	return t, ev, err
}

func (r renumbered) UpdateTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID, p authdash.TaskPatch, ifVersion int64) (*authdash.Task, authdash.Event, error) {
	t, ev, err := r.TaskStore.UpdateTask(ctx, owner, id, p, ifVersion)
	ev.Seq = r.of(ev.Seq)
	return t, ev, err
}

func (r renumbered) DeleteTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID, ifVersion int64) (authdash.Event, error) {
	ev, err := r.TaskStore.DeleteTask(ctx, owner, id, ifVersion)
	ev.Seq = r.of(ev.Seq)
	return ev, err
}

func (r renumbered) ChangesSince(ctx context.Context, owner authdash.UserID, since int64, limit int) ([]authdash.Event, int64, bool, error) {
	if since < 0 {
		return r.TaskStore.ChangesSince(ctx, owner, since, limit)
	}
	evs, head, ok, err := r.TaskStore.ChangesSince(ctx, owner, r.below(since), limit)
	if err != nil {
		return nil, 0, false, err
	}
	if since > r.of(head) { // ahead of the log, between its numbers
		return nil, r.of(head), false, nil
	}
	for i := range evs {
		evs[i].Seq = r.of(evs[i].Seq)
	}
	return evs, r.of(head), ok, nil
}

func (r renumbered) ChangeHead(ctx context.Context, owner authdash.UserID) (int64, error) {
	head, err := r.TaskStore.ChangeHead(ctx, owner)
	return r.of(head), err
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

// client is a test socket client. It takes synced frames aside unless
// asked to return them (keepSynced): most tests are about what else comes.
type client struct {
	t          testing.TB
	ws         *websocket.Conn
	keepSynced bool
	synced     []int64 // the Seqs of the synced frames read, in order
}

// lastSynced returns the Seq of the last synced frame read, or -1.
func (c *client) lastSynced() int64 {
	if len(c.synced) == 0 {
		return -1
	}
	return c.synced[len(c.synced)-1]
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
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return nil, err
		}
		f, err := wire.DecodeServer(b)
		if err != nil {
			c.t.Fatalf("bad frame %s: %v", b, err)
		}
		if s, ok := f.(wire.Synced); ok {
			c.synced = append(c.synced, s.Seq)
			if !c.keepSynced {
				continue
			}
		}
		return f, nil
	}
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
			if code, _ := want.Meaning(); want >= 4000 && (e.Code != code || e.Close != want) {
				c.t.Errorf("error frame %+v does not match close code %d", e, want)
			}
		}
		frames = append(frames, f)
	}
}

// tokens is a TokenVerifier issuing opaque tokens with any lifetime, so
// expiry can be tested in milliseconds. The real verifier (auth) has
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

func (v *tokens) Verify(token string) (authdash.Identity, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	g, ok := v.m[token]
	if !ok {
		return authdash.Identity{}, authdash.Errorf(authdash.CodeUnauthorized, "Access token is invalid.")
	}
	return authdash.Identity{User: g.user, Session: g.session, Expires: g.exp}, nil
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
