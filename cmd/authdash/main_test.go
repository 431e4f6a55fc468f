package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// logSink is run's stdout: it keeps the JSON log and reports the address
// from the "listening" line and the start of shutdown.
type logSink struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	addr     chan string
	stopping chan struct{}
	once     [2]sync.Once
}

func newLogSink() *logSink {
	return &logSink{addr: make(chan string, 1), stopping: make(chan struct{})}
}

// Write gets one record per call from slog's JSON handler.
func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	var rec struct{ Msg, Addr string }
	if json.Unmarshal(p, &rec) == nil {
		switch rec.Msg {
		case "listening":
			s.once[0].Do(func() { s.addr <- rec.Addr })
		case "shutting down":
			s.once[1].Do(func() { close(s.stopping) })
		}
	}
	return len(p), nil
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// running is one run of the server.
type running struct {
	base   string
	log    *logSink
	cancel context.CancelFunc
	done   chan error
}

// startRun runs the program with env on a free loopback port and waits for
// it to listen.
func startRun(tb testing.TB, env map[string]string) *running {
	tb.Helper()
	// METRICS_ADDR off: a fixed metrics port would collide between runs.
	full := map[string]string{"ADDR": "127.0.0.1:0", "LOG_FORMAT": "json", "LOG_LEVEL": "debug", "METRICS_ADDR": "off"}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &running{log: newLogSink(), cancel: cancel, done: make(chan error, 1)}
	go func() {
		in.done <- run(ctx, []string{"authdash"}, func(k string) string { return full[k] }, in.log, io.Discard, nil)
	}()
	select {
	case addr := <-in.log.addr:
		in.base = "http://" + addr
	case err := <-in.done:
		tb.Fatalf("run returned before listening: %v\n%s", err, in.log)
	case <-time.After(30 * time.Second):
		tb.Fatalf("run did not listen:\n%s", in.log)
	}
	tb.Cleanup(func() { in.stop(tb) })
	return in
}

// stop cancels run's context and returns what run returned.
func (in *running) stop(tb testing.TB) error {
	tb.Helper()
	in.cancel()
	select {
	case err, ok := <-in.done:
		if ok {
			close(in.done)
		}
		return err
	case <-time.After(30 * time.Second):
		tb.Fatalf("run did not return after cancel:\n%s", in.log)
		return nil
	}
}

func (in *running) call(tb testing.TB, method, path, body string, headers ...string) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, in.base+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestRestartKeepsData runs the server twice on one DATA_DIR: the account,
// its task, the session and the dev signing key all survive.
func TestRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DATA_DIR": dir}

	first := startRun(t, env)
	status, body := first.call(t, "POST", "/api/auth/register", `{"email":"keep@example.com","password":"long enough pw","name":"Keep"}`,
		"X-Auth-Mode", "token")
	if status != 201 {
		t.Fatalf("register: %d %s", status, body)
	}
	var g struct{ AccessToken, RefreshToken string }
	json.Unmarshal(body, &g)
	if status, body = first.call(t, "POST", "/api/tasks", `{"title":"survive a restart"}`, "Authorization", "Bearer "+g.AccessToken); status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	if err := first.stop(t); err != nil {
		t.Fatalf("first run: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "jwt-secret"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev secret: %v %v", fi, err)
	}

	second := startRun(t, env)
	// The old access token still verifies: the key was kept, not regenerated.
	status, body = second.call(t, "GET", "/api/tasks", "", "Authorization", "Bearer "+g.AccessToken)
	if status != 200 || !strings.Contains(string(body), "survive a restart") {
		t.Fatalf("list after restart: %d %s", status, body)
	}
	if status, body = second.call(t, "POST", "/api/auth/refresh", `{"refreshToken":"`+g.RefreshToken+`"}`, "X-Auth-Mode", "token"); status != 200 {
		t.Errorf("refresh after restart: %d %s", status, body)
	}
	if status, body = second.call(t, "POST", "/api/auth/login", `{"email":"keep@example.com","password":"long enough pw"}`); status != 200 {
		t.Errorf("login after restart: %d %s", status, body)
	}
	if err := second.stop(t); err != nil {
		t.Fatalf("second run: %v", err)
	}
}

// TestGracefulShutdown starts a request, cancels run's context while the
// request is still being sent, and checks the request is answered in full
// and run then returns cleanly.
func TestGracefulShutdown(t *testing.T) {
	in := startRun(t, map[string]string{"DATA_DIR": t.TempDir()})
	conn, err := net.Dial("tcp", strings.TrimPrefix(in.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"email":"nobody@example.com","password":"wrong password"}`
	// Expect: 100-continue makes the server say when the handler has begun
	// to read the body: from then on the request is surely in flight.
	fmt.Fprintf(conn, "POST /api/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"+
		"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
	rd := bufio.NewReader(conn)
	if res, err := http.ReadResponse(rd, nil); err != nil || res.StatusCode != http.StatusContinue {
		t.Fatalf("no 100 Continue: %v %v", res, err)
	}

	in.cancel()
	select {
	case <-in.log.stopping:
	case <-time.After(30 * time.Second):
		t.Fatal("no shutdown")
	}
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("in-flight request cut off: %v\n%s", err, in.log)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 401 || !strings.Contains(string(b), "Email or password is incorrect.") {
		t.Errorf("in-flight answer %d %s", res.StatusCode, b)
	}
	if err := in.stop(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(in.log.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in log:\n%s", in.log)
	}
	// Nothing listens any more.
	if c, err := net.Dial("tcp", strings.TrimPrefix(in.base, "http://")); err == nil {
		c.Close()
		t.Errorf("still accepting connections after shutdown")
	}
}

func TestRunRefuses(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"ProductionWithoutSecret", nil, map[string]string{"ENV": "production"}, "JWT_SECRET"},
		{"WeakSecret", nil, map[string]string{"ENV": "production", "JWT_SECRET": "password-password-password-password"}, "JWT_SECRET"},
		{"Arguments", []string{"--port", "80"}, nil, "unexpected arguments"},
		{"BusyAddress", nil, nil, "ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"DATA_DIR": t.TempDir(), "ADDR": "127.0.0.1:0", "METRICS_ADDR": "off"}
			if tt.name == "BusyAddress" {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				env["ADDR"] = ln.Addr().String()
			}
			for k, v := range tt.env {
				env[k] = v
			}
			err := run(t.Context(), append([]string{"authdash"}, tt.args...), func(k string) string { return env[k] }, io.Discard, io.Discard, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("run error %v, want it to mention %s", err, tt.wantErr)
			}
		})
	}
}

// TestShutdownCutsStalledRequest: a request whose body never completes is
// cut at SHUTDOWN_TIMEOUT, and run still returns nil (exit status 0) with a
// warning, rather than failing the process.
func TestShutdownCutsStalledRequest(t *testing.T) {
	in := startRun(t, map[string]string{"DATA_DIR": t.TempDir(), "SHUTDOWN_TIMEOUT": "1s"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(in.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// With Expect: 100-continue the server says "100 Continue" when the
	// handler first reads the body: from then on the request is in flight.
	fmt.Fprint(conn, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("waiting for 100 Continue: %q %v", line, err)
	}
	fmt.Fprint(conn, `{"email":`)
	if err := in.stop(t); err != nil {
		t.Fatalf("run returned %v, want nil after cutting the stalled request\n%s", err, in.log)
	}
	if !strings.Contains(in.log.String(), "requests still in flight at the shutdown deadline were cut") {
		t.Errorf("no warning about the cut request:\n%s", in.log)
	}
	// The stalled client sees its connection closed.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Errorf("stalled connection: %v, want it closed", err)
	}
}
