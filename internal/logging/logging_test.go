package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash/internal/logging"
	"github.com/authdash/authdash/internal/testkit"
)

// gate is a writer that blocks every Write until released, like a log pipe
// whose reader stopped reading.
type gate struct {
	release chan struct{}
	entered chan struct{} // receives once per Write that started
	mu      sync.Mutex
	buf     bytes.Buffer
}

func newGate() *gate {
	return &gate{release: make(chan struct{}), entered: make(chan struct{}, 1<<16)}
}

func (g *gate) Write(p []byte) (int, error) {
	g.entered <- struct{}{}
	<-g.release
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

func (g *gate) lines() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return strings.Split(strings.TrimSpace(g.buf.String()), "\n")
}

func mustNew(t *testing.T, w io.Writer, o logging.Options) *logging.Handler {
	t.Helper()
	h, err := logging.New(w, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Close(ctx)
	})
	return h
}

func TestBlockedWriterNeverBlocksHandle(t *testing.T) {
	g := newGate()
	const buffer, n = 8, 1000
	h := mustNew(t, g, logging.Options{Buffer: buffer})
	log := slog.New(h)

	log.Info("first")
	<-g.entered // the writer holds "first" and is stuck in Write
	// If Handle blocked on the stuck writer, this loop would never end and
	// the test would time out.
	for i := range n {
		log.Info("more", "i", i)
	}
	dropped := h.Dropped()
	if want := uint64(n - buffer); dropped != want {
		t.Errorf("dropped = %d, want %d (all but the %d queued)", dropped, want, buffer)
	}

	close(g.release)
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := len(g.lines()), 1+buffer; got != want {
		t.Errorf("wrote %d records, want %d", got, want)
	}
	if h.Dropped() != dropped {
		t.Errorf("dropped changed to %d after the writer caught up", h.Dropped())
	}
}

func TestCloseFlushes(t *testing.T) {
	var buf testkit.Logs
	h, err := logging.New(&buf, logging.Options{Format: "json", Buffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h).With("svc", "test").WithGroup("req")
	const n = 3000
	for i := range n {
		log.Info("hello", "i", i)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != n || h.Dropped() != 0 {
		t.Fatalf("wrote %d of %d records, dropped %d", len(lines), n, h.Dropped())
	}
	var rec struct {
		Msg string `json:"msg"`
		Svc string `json:"svc"`
		Req struct {
			I int `json:"i"`
		} `json:"req"`
	}
	if err := json.Unmarshal([]byte(lines[n-1]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Msg != "hello" || rec.Svc != "test" || rec.Req.I != n-1 {
		t.Errorf("last record = %+v; order or attributes lost", rec)
	}
	if !errors.Is(h.Close(context.Background()), logging.ErrClosed) {
		t.Error("second Close did not say it was closed")
	}
	log.Info("after close") // must neither panic nor write
	if got := strings.Count(buf.String(), "\n"); got != n {
		t.Errorf("a record logged after Close was written")
	}
}

func TestCloseGivesUpWhenWriterIsStuck(t *testing.T) {
	g := newGate()
	h, err := logging.New(g, logging.Options{})
	if err != nil {
		t.Fatal(err)
	}
	slog.New(h).Info("stuck")
	<-g.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v, want context.Canceled", err)
	}
	close(g.release) // lets the writer goroutine finish
}

func TestConcurrentUseAndClose(t *testing.T) {
	var buf testkit.Logs
	h, err := logging.New(&buf, logging.Options{Format: "text", Buffer: 64})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range 8 {
		wg.Go(func() {
			log := slog.New(h).With("g", g)
			<-start
			for i := range 500 {
				log.WithGroup("x").Info("m", "i", i, slog.Group("k", "v", i))
			}
		})
	}
	close(start)
	// Closing while others log must not panic (no send on a closed
	// channel) and must account for every record.
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	written := uint64(strings.Count(buf.String(), "\n"))
	if written+h.Dropped() != 8*500 {
		t.Errorf("written %d + dropped %d != %d", written, h.Dropped(), 8*500)
	}
}

func TestLevelAndRedaction(t *testing.T) {
	var buf testkit.Logs
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelWarn)
	h, err := logging.New(&buf, logging.Options{Level: lv})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	log.Info("hidden")
	lv.Set(slog.LevelDebug)
	log.Debug("shown", "password", "hunter22", slog.Group("req", "Authorization", "Bearer x"), "refreshToken", "r")
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"hidden", "hunter22", "Bearer x", `"r"`} {
		if strings.Contains(out, bad) {
			t.Errorf("log contains %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "shown") || strings.Count(out, "[REDACTED]") != 3 {
		t.Errorf("log = %s", out)
	}
}

func TestNewRejectsUnknownFormat(t *testing.T) {
	if _, err := logging.New(io.Discard, logging.Options{Format: "xml"}); err == nil {
		t.Fatal("no error for format xml")
	}
}

func TestLevelHandler(t *testing.T) {
	lv := new(slog.LevelVar)
	h := logging.LevelHandler(lv, nil)
	tests := []struct {
		name, method, body string
		wantStatus         int
		wantLevel          slog.Level
	}{
		{"Get", "GET", "", 200, slog.LevelInfo},
		{"PutJSON", "PUT", `{"level":"debug"}`, 200, slog.LevelDebug},
		{"PutText", "PUT", "WARN\n", 200, slog.LevelWarn},
		{"ErrUnknownLevel", "PUT", `{"level":"loud"}`, 400, slog.LevelWarn},
		{"ErrBadJSON", "PUT", `{"level":`, 400, slog.LevelWarn},
		{"ErrMethod", "DELETE", "", 405, slog.LevelWarn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, "/debug/loglevel", strings.NewReader(tt.body)))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if lv.Level() != tt.wantLevel {
				t.Errorf("level %v, want %v", lv.Level(), tt.wantLevel)
			}
			if rec.Code == http.StatusOK && !strings.Contains(rec.Body.String(), tt.wantLevel.String()) {
				t.Errorf("body %s does not name %v", rec.Body, tt.wantLevel)
			}
		})
	}
}
