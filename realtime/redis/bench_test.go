package redis_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	goredis "github.com/redis/go-redis/v9"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/realtime/redis"
	"github.com/authdash/authdash/store/sqlite"
	"github.com/authdash/authdash/wire"
)

// BenchmarkCrossInstance measures the realtime path between two instances:
// a write on instance A (TaskService: SQLite commit, then PUBLISH) reaches a
// socket on instance B (its Redis subscription, hub, socket writer), with
// 1,000 and 10,000 sockets open on B, one per user.
//
// Both hubs run in this process, each with its own go-redis client and
// SQLite handle on one file, and one private redis-server; the WebSocket
// clients run in a child process (this test binary again), since 10,000
// sockets at both ends would not fit one process's file limit here.
//
// Reported: p50/p99 from the start of the write to the frame read by the
// client, events/s sustained by one writer (the write itself included), and
// per idle socket the Go heap and goroutine stacks it costs instance B.
func BenchmarkCrossInstance(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchCrossInstance(b, n) })
	}
}

func benchCrossInstance(b *testing.B, n int) {
	srv := testkit.StartRedis(b)
	dir := b.TempDir()
	dbA := mustOpen(b, filepath.Join(dir, "authdash.db"))
	dbB := mustOpen(b, filepath.Join(dir, "authdash.db"))

	users := make([]authdash.UserID, n)
	for i := range users {
		u, err := dbA.CreateUser(b.Context(), authdash.NewUser{Email: fmt.Sprintf("u%d@example.com", i), Name: "u", PasswordHash: "x"})
		if err != nil {
			b.Fatal(err)
		}
		users[i] = u.ID
	}
	usersFile := filepath.Join(dir, "users")
	if err := os.WriteFile(usersFile, []byte(joinIDs(users)), 0o600); err != nil {
		b.Fatal(err)
	}

	prefix := fmt.Sprintf("bench%d:", prefixes.Add(1))
	hubA := benchHub(b, srv, prefix, dbA)
	hubB := benchHub(b, srv, prefix, dbB)
	tasksA := &authdash.TaskService{Store: dbA, Events: hubA}
	ts := httptestServer(b, hubB)

	runtime.GC()
	before := memInUse()
	goroutines := runtime.NumGoroutine()

	child := startClients(b, "ws"+strings.TrimPrefix(ts, "http")+"/api/ws", usersFile)
	if got := hubB.Stats().Connections; got != int64(n) {
		b.Fatalf("%d sockets open on B, want %d", got, n)
	}
	for range 4 {
		runtime.GC() // lets grown stacks shrink back
	}
	perConn := float64(memInUse()-before) / float64(n)
	perConnG := float64(runtime.NumGoroutine()-goroutines) / float64(n)

	b.Run("idle", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(perConn, "B/conn")
		b.ReportMetric(perConnG, "goroutines/conn")
	})

	write := func(ctx context.Context, u authdash.UserID) error {
		title := strconv.FormatInt(time.Now().UnixNano(), 10)
		_, err := tasksA.Create(ctx, u, authdash.TaskDraft{Title: title})
		return err
	}
	publish := func(ctx context.Context, u authdash.UserID) error {
		name := strconv.FormatInt(time.Now().UnixNano(), 10)
		return hubA.Publish(ctx, authdash.Event{Kind: authdash.EventUserUpdated, Owner: u, User: &authdash.User{ID: u, Name: name}})
	}
	for _, m := range []struct {
		name string
		send func(context.Context, authdash.UserID) error
	}{{"write", write}, {"publish", publish}} {
		b.Run(m.name, func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(1, uint64(n)))
			sent := 0
			start := time.Now()
			for b.Loop() {
				if err := m.send(b.Context(), users[rnd.IntN(n)]); err != nil {
					b.Fatal(err)
				}
				sent++
			}
			lat := child.collect(b, sent)
			elapsed := time.Since(start)
			slices.Sort(lat)
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
			b.ReportMetric(float64(sent)/elapsed.Seconds(), "events/s")
		})
	}
	// Latency of the realtime path at a steady 5,000 events/s, well below
	// saturation, rather than flat out as above.
	b.Run("paced-5000", func(b *testing.B) {
		const every = time.Second / 5000
		rnd := rand.New(rand.NewPCG(2, uint64(n)))
		sent := 0
		start := time.Now()
		for b.Loop() {
			if d := time.Until(start.Add(time.Duration(sent) * every)); d > 0 {
				time.Sleep(d)
			}
			if err := publish(b.Context(), users[rnd.IntN(n)]); err != nil {
				b.Fatal(err)
			}
			sent++
		}
		lat := child.collect(b, sent)
		slices.Sort(lat)
		b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
		b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
		b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "events/s")
	})

	// Sustained rate of the realtime path alone, with 16 publishers.
	b.Run("publish-parallel", func(b *testing.B) {
		b.SetParallelism(8)
		var seeds atomic.Uint64
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			rnd := rand.New(rand.NewPCG(seeds.Add(1), uint64(n)))
			for pb.Next() {
				if err := publish(b.Context(), users[rnd.IntN(n)]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		lat := child.collect(b, b.N)
		elapsed := time.Since(start)
		slices.Sort(lat)
		b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
		b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	})
	if st := hubB.Stats(); st.SlowConsumers != 0 || st.Resyncs != 0 {
		b.Errorf("instance B: %+v", st)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// memInUse is what the Go heap and goroutine stacks hold.
func memInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func mustOpen(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(tb.Context(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func joinIDs(ids []authdash.UserID) string {
	var sb strings.Builder
	for _, id := range ids {
		sb.WriteString(string(id))
		sb.WriteByte('\n')
	}
	return sb.String()
}

// benchTokens accepts "bench:<user id>": the benchmark measures delivery,
// not JWT verification (auth has its own benchmarks).
type benchTokens struct{}

func (benchTokens) Verify(token string) (authdash.Identity, error) {
	id, ok := strings.CutPrefix(token, "bench:")
	if !ok {
		return authdash.Identity{}, authdash.Errorf(authdash.CodeUnauthorized, "bad token")
	}
	return authdash.Identity{User: authdash.UserID(id), Session: "s", Expires: time.Now().Add(time.Hour)}, nil
}

func benchHub(tb testing.TB, srv *testkit.RedisServer, prefix string, db *sqlite.DB) *realtime.Hub {
	tb.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	broker := redis.New(rdb, redis.Options{Prefix: prefix})
	hub, err := realtime.NewHub(realtime.Config{Broker: broker, Tokens: benchTokens{}, Changes: db})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		hub.Run(ctx)
	}()
	tb.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		hub.Shutdown(sctx)
		cancel()
		<-done
		rdb.Close()
	})
	return hub
}

// clientProc is the child process holding the sockets. It prints "ready"
// once every socket is authenticated, then one latency in nanoseconds per
// event received.
type clientProc struct {
	lat chan int64
}

// collect waits for n latencies.
func (c *clientProc) collect(tb testing.TB, n int) []time.Duration {
	tb.Helper()
	out := make([]time.Duration, 0, n)
	timeout := time.After(2 * time.Minute)
	for len(out) < n {
		select {
		case l, ok := <-c.lat:
			if !ok {
				tb.Fatalf("client process ended after %d of %d events", len(out), n)
			}
			out = append(out, time.Duration(l))
		case <-timeout:
			tb.Fatalf("only %d of %d events arrived", len(out), n)
		}
	}
	return out
}

func startClients(tb testing.TB, url, usersFile string) *clientProc {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchClients$", "-test.v")
	cmd.Env = append(os.Environ(), "AUTHDASH_BENCH_CLIENTS="+url+" "+usersFile)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &clientProc{lat: make(chan int64, 1<<16)}
	ready := make(chan struct{})
	go func() {
		defer close(c.lat)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if line == "ready" {
				close(ready)
				continue
			}
			if v, err := strconv.ParseInt(line, 10, 64); err == nil {
				c.lat <- v
			}
		}
	}()
	tb.Cleanup(func() {
		stdin.Close() // the child closes its sockets and exits
		cmd.Wait()
	})
	select {
	case <-ready:
	case <-time.After(5 * time.Minute):
		tb.Fatal("clients did not connect")
	}
	return c
}

// TestBenchClients is the child process of BenchmarkCrossInstance; it does
// nothing in a normal test run.
func TestBenchClients(t *testing.T) {
	spec := os.Getenv("AUTHDASH_BENCH_CLIENTS")
	if spec == "" {
		t.Skip("only runs as BenchmarkCrossInstance's client process")
	}
	url, usersFile, _ := strings.Cut(spec, " ")
	b, err := os.ReadFile(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	ids := strings.Fields(string(b))

	lat := make(chan int64, 1<<16)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var connected sync.WaitGroup
	for _, id := range ids {
		sem <- struct{}{}
		connected.Add(1)
		wg.Go(func() {
			ws, ok := benchDial(ctx, url, id)
			<-sem
			connected.Done()
			if !ok {
				t.Errorf("client %s could not connect", id)
				return
			}
			defer ws.CloseNow()
			benchRead(ctx, ws, lat)
		})
	}
	connected.Wait()

	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	out.Flush()
	go func() {
		io.Copy(io.Discard, os.Stdin) // until the parent closes it
		cancel()
	}()
	for {
		select {
		case l := <-lat:
			fmt.Fprintln(out, l)
			if len(lat) == 0 {
				out.Flush()
			}
		case <-ctx.Done():
			out.Flush()
			wg.Wait()
			return
		}
	}
}

func benchDial(ctx context.Context, url, id string) (*websocket.Conn, bool) {
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, url, nil)
	if err != nil {
		return nil, false
	}
	auth, _ := json.Marshal(wire.Auth{Token: "bench:" + id})
	if ws.Write(dctx, websocket.MessageText, auth) != nil {
		ws.CloseNow()
		return nil, false
	}
	for {
		_, b, err := ws.Read(dctx)
		if err != nil {
			ws.CloseNow()
			return nil, false
		}
		if f, err := wire.DecodeServer(b); err == nil && f.FrameType() == wire.TypeReady {
			return ws, true
		}
	}
}

// benchRead reports, for every event, how long ago its writer stamped it.
func benchRead(ctx context.Context, ws *websocket.Conn, lat chan<- int64) {
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		var ev struct {
			Task *struct{ Title string }
			User *struct{ Name string }
		}
		if json.Unmarshal(b, &ev) != nil {
			continue
		}
		stamp := ""
		switch {
		case ev.Task != nil:
			stamp = ev.Task.Title
		case ev.User != nil:
			stamp = ev.User.Name
		}
		if t, err := strconv.ParseInt(stamp, 10, 64); err == nil {
			lat <- now - t
		}
	}
}

func httptestServer(tb testing.TB, hub *realtime.Hub) string {
	tb.Helper()
	s := httptest.NewServer(hub.Handler())
	tb.Cleanup(s.Close)
	return s.URL
}
