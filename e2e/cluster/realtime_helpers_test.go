package cluster

// Helpers of the realtime tests (names start with rt); the API calls they
// share with the browser tests are e2e/internal/rawapi.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/e2e/internal/rawapi"
	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/wire"
)

// rtInstance is one server process.
type rtInstance struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	url  string // http://127.0.0.1:port
	logs *os.File
	done chan struct{}
}

// rtStart runs the server binary on a free port with the given data
// rtPair starts two instances, a and b, on one SQLite database and one
// redis-server, which the test may kill and restart.
func rtPair(t testing.TB) (a, b *rtInstance, rs *testkit.RedisServer) {
	t.Helper()
	bin := builds.Server(t)
	rs = testkit.StartRedis(t)
	data := t.TempDir()
	// One after the other: the first creates the database.
	a = rtStart(t, bin, "a", data, rs.URL())
	b = rtStart(t, bin, "b", data, rs.URL())
	return a, b, rs
}

// directory and Redis, and waits until it listens.
func rtStart(t testing.TB, bin, name, dataDir, redisURL string) *rtInstance {
	t.Helper()
	logs, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"ADDR=127.0.0.1:0", "DATA_DIR="+dataDir, "REDIS_URL="+redisURL,
		"LOG_FORMAT=json", "LOG_LEVEL=info", "RATE_LIMIT=off", "ENV=dev", "SHUTDOWN_TIMEOUT=2s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &rtInstance{t: t, name: name, cmd: cmd, logs: logs, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(in.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			logs.Write(append(line, '\n'))
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "listening" {
				select {
				case addr <- rec.Addr:
				default:
				}
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(func() {
		in.kill()
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("%s log tail:\n%s", name, b)
		}
		logs.Close()
	})
	select {
	case a := <-addr:
		in.url = "http://" + a
	case <-in.done:
		t.Fatalf("%s exited before listening", name)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start listening", name)
	}
	return in
}

// kill ends the process abruptly, as a crash would.
func (in *rtInstance) kill() {
	if in.cmd.Process != nil {
		in.cmd.Process.Kill()
	}
	<-in.done
}

// rtUser is an account with an access token good on every instance.
type rtUser struct {
	id    authdash.UserID
	token string
}

func rtRegister(t testing.TB, base, email string) rtUser {
	t.Helper()
	var g wire.Grant
	body := fmt.Sprintf(`{"email":%q,"password":"correct horse battery","name":"Tester"}`, email)
	if err := rawapi.Call(context.Background(), base, "", http.MethodPost, "/api/auth/register", body, &g); err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return rtUser{id: g.User.ID, token: g.AccessToken}
}

// rtClient is a live-update client as a browser tab runs one: it keeps a
// copy of its user's tasks, resumes after every disconnect, and moves to
// another instance when its own is gone.
type rtClient struct {
	user  rtUser
	bases []string // instances, preferred first

	mu      sync.Mutex
	tasks   map[authdash.TaskID]authdash.Task
	deleted map[authdash.TaskID]int64
	last    int64 // the highest Seq applied
	// synced is the point to resume from: the last the server confirmed
	// (synced, resync). Not last: a change numbered below it may have been
	// committed by an instance that died before publishing it, and only a
	// resume from below it brings that change (docs/REALTIME.md).
	synced   int64
	received []wire.Event
	dials    int
	ready    bool  // has been ready at least once
	err      error // a terminal problem

	changed chan struct{} // signalled after every change of the view
}

func rtNewClient(u rtUser, bases ...string) *rtClient {
	return &rtClient{user: u, bases: bases, tasks: map[authdash.TaskID]authdash.Task{},
		deleted: map[authdash.TaskID]int64{}, changed: make(chan struct{}, 1)}
}

func (c *rtClient) notify() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// run keeps the client connected until ctx ends.
func (c *rtClient) run(ctx context.Context) {
	for i := 0; ctx.Err() == nil; i++ {
		base := c.bases[i%len(c.bases)]
		err := c.session(ctx, base)
		if ctx.Err() != nil {
			return
		}
		code := wire.CloseCode(websocket.CloseStatus(err))
		if _, reconnect := code.Meaning(); !reconnect && code != -1 {
			c.mu.Lock()
			c.err = fmt.Errorf("closed with %d: %w", code, err)
			c.mu.Unlock()
			c.notify()
			return
		}
		if dialFailed := errors.Is(err, errRTDial); !dialFailed {
			i-- // the instance answered: stay with it
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var errRTDial = errors.New("dial failed")

// session is one connection: auth, resume from what the client holds, then
// apply frames until the socket ends.
func (c *rtClient) session(ctx context.Context, base string) error {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	ws, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(base, "http")+"/api/ws", nil)
	cancel()
	if err != nil {
		return fmt.Errorf("%w: %v", errRTDial, err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	c.mu.Lock()
	c.dials++
	// Every connection asks for what it missed since the last point
	// confirmed, the first one too (it holds nothing: since 0). ready{seq}
	// alone only promises changes after the head read at connect time, so
	// a change committed while this socket was in its handshake would
	// otherwise be known to the server as already seen and never sent
	// (docs/REALTIME.md).
	frames := []wire.Frame{wire.Auth{Token: c.user.token}, wire.Resume{Since: c.synced}}
	c.mu.Unlock()
	for _, f := range frames {
		b, _ := json.Marshal(f)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			return err
		}
	}
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return err
		}
		f, err := wire.DecodeServer(b)
		if err != nil {
			continue // a frame type this client does not know
		}
		switch f := f.(type) {
		case wire.Ready:
			c.mu.Lock()
			c.ready = true
			c.mu.Unlock()
			c.notify()
		case *wire.Event:
			c.apply(f)
		case wire.Synced:
			c.mu.Lock()
			c.synced = max(c.synced, f.Seq)
			c.mu.Unlock()
		case wire.Resync:
			tasks, err := rawapi.ListAll(ctx, base, c.user.token)
			if err != nil {
				return err
			}
			c.mu.Lock()
			c.tasks, c.last, c.synced = tasks, f.Seq, f.Seq
			c.mu.Unlock()
			c.notify()
		}
	}
}

// apply takes an event into the view: newer versions win, deletions stick.
func (c *rtClient) apply(ev *wire.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.notify()
	c.received = append(c.received, *ev)
	if !authdash.EventKind(ev.Kind).Logged() {
		return
	}
	c.last = max(c.last, ev.Seq)
	if ev.Version <= c.deleted[ev.TaskID] {
		return
	}
	if ev.Kind == authdash.EventTaskDeleted {
		delete(c.tasks, ev.TaskID)
		c.deleted[ev.TaskID] = ev.Version
		return
	}
	if cur, ok := c.tasks[ev.TaskID]; !ok || cur.Version < ev.Version {
		c.tasks[ev.TaskID] = *ev.Task
	}
}

// isReady reports whether the client has been live at least once.
func (c *rtClient) isReady() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ready
}

// has reports whether the view holds the task.
func (c *rtClient) has(id authdash.TaskID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.tasks[id]
	return ok
}

// diff describes how the client's view differs from want, or "".
func (c *rtClient) diff(want map[authdash.TaskID]authdash.Task) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err.Error()
	}
	var d []string
	for id, w := range want {
		got, ok := c.tasks[id]
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("missing %s v%d", id, w.Version))
		case got.Version != w.Version || got.Title != w.Title:
			d = append(d, fmt.Sprintf("%s is v%d %q, want v%d %q", id, got.Version, got.Title, w.Version, w.Title))
		}
	}
	for id, got := range c.tasks {
		if _, ok := want[id]; !ok {
			d = append(d, fmt.Sprintf("extra %s v%d", id, got.Version))
		}
	}
	if len(d) > 5 {
		d = append(d[:5], fmt.Sprintf("and %d more", len(d)-5))
	}
	return strings.Join(d, "; ")
}

// rtDialReady opens a socket, authenticates and returns once the server
// says it is ready; or, with since not negative, resumes from since and
// returns at once, leaving the answer (which may come before or after
// ready) to be read.
func rtDialReady(ctx context.Context, t *testing.T, base, token string, since int64) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	frames := []any{wire.Auth{Token: token}}
	if since >= 0 {
		frames = append(frames, wire.Resume{Since: since})
	}
	for _, f := range frames {
		b, _ := json.Marshal(f)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	if since >= 0 {
		return ws
	}
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f, _ := wire.DecodeServer(msg); f != nil && f.FrameType() == wire.TypeReady {
			return ws
		}
	}
}

// rtNextEvent reads frames until an event about the task id.
func rtNextEvent(ctx context.Context, t *testing.T, ws *websocket.Conn, id authdash.TaskID) authdash.Event {
	t.Helper()
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for an event about %s: %v", id, err)
		}
		if f, _ := wire.DecodeServer(msg); f != nil {
			if ev, ok := f.(*wire.Event); ok && ev.TaskID == id {
				return authdash.Event(*ev)
			}
		}
	}
}
