package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/server"
	"github.com/authdash/authdash/store/sqlite"
)

func TestSecurityHeaders(t *testing.T) {
	e := mustEnv(t, withDeps(func(d *server.Deps) {
		d.ConnectSrc = []string{"https://api.example.com", "wss://api.example.com"}
		d.Frontend = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<!doctype html>") })
	}))
	e.mustUser(t, "alice")
	for _, tt := range []struct{ name, method, path, as string }{
		{"API", "GET", "/api/tasks", "alice"},
		{"Problem", "GET", "/api/tasks", ""},
		{"Health", "GET", "/healthz", ""},
		{"Frontend", "GET", "/tasks", ""},
		{"NotFound", "GET", "/api/nope", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := e.do(tt.method, tt.path, "", nil, tt.as).Header()
			want := map[string]string{
				"X-Content-Type-Options":     "nosniff",
				"Referrer-Policy":            "no-referrer",
				"X-Frame-Options":            "DENY",
				"Cross-Origin-Opener-Policy": "same-origin",
			}
			for k, v := range want {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
			csp := h.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "frame-ancestors 'none'",
				"object-src 'none'", "connect-src 'self' https://api.example.com wss://api.example.com", "base-uri 'self'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("CSP %q lacks %q", csp, d)
				}
			}
			if h.Get("Strict-Transport-Security") != "" {
				t.Errorf("HSTS without SecureCookies")
			}
		})
	}
}

func TestCORS(t *testing.T) {
	const app = "https://app.example.com"
	e := mustEnv(t, withDeps(func(d *server.Deps) { d.AllowedOrigins = []string{app} }))
	e.mustUser(t, "alice")
	tests := []struct {
		name       string
		method     string
		headers    map[string]string
		wantStatus int
		wantAllow  string
		check      func(t *testing.T, h http.Header)
	}{
		{"Allowed", "GET", map[string]string{"Origin": app}, 200, app, func(t *testing.T, h http.Header) {
			if h.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "ETag") {
				t.Errorf("headers %v", h)
			}
		}},
		{"Refused", "GET", map[string]string{"Origin": "https://evil.example"}, 200, "", nil},
		{"SubdomainRefused", "GET", map[string]string{"Origin": "https://app.example.com.evil.example"}, 200, "", nil},
		{"SameOrigin", "GET", nil, 200, "", nil},
		{"Preflight", "OPTIONS", map[string]string{"Origin": app, "Access-Control-Request-Method": "PATCH",
			"Access-Control-Request-Headers": "authorization, if-match, content-type"}, 204, app, func(t *testing.T, h http.Header) {
			for _, want := range []string{"Authorization", "Content-Type", "If-Match", "X-Client-ID", "X-Request-ID", "X-Auth-Mode"} {
				if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
					t.Errorf("Allow-Headers %q lacks %s", h.Get("Access-Control-Allow-Headers"), want)
				}
			}
			if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "PATCH") || h.Get("Access-Control-Max-Age") == "" {
				t.Errorf("headers %v", h)
			}
		}},
		{"PreflightRefused", "OPTIONS", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"}, 403, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(tt.method, "/api/tasks", "", tt.headers, "alice")
			if res.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.Code, tt.wantStatus, res.Body)
			}
			h := res.Header()
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Errorf("Allow-Origin %q, want %q", got, tt.wantAllow)
			}
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("no Vary: Origin")
			}
			if tt.check != nil {
				tt.check(t, h)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	e := mustEnv(t)
	tests := []struct {
		name, in string
		echoed   bool
	}{
		{"Sane", "req-123_abc.def:9", true},
		{"Missing", "", false},
		{"TooLong", strings.Repeat("a", 65), false},
		{"Unsafe", "abc\"def", false},
		{"Spaces", "a b", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("GET", "/api/me", "", map[string]string{"X-Request-ID": tt.in}, "")
			got := res.Header().Get("X-Request-ID")
			if tt.echoed != (got == tt.in) || got == "" || seen[got] {
				t.Errorf("X-Request-ID %q for %q", got, tt.in)
			}
			seen[got] = true
			if p := wantProblem(t, res, "unauthorized"); p.RequestID != got {
				t.Errorf("problem requestId %q", p.RequestID)
			}
			if !strings.Contains(e.logs.String(), `"requestId":"`+got+`"`) {
				t.Errorf("request id not logged")
			}
		})
	}
}

func TestRequestLog(t *testing.T) {
	var mu sync.Mutex
	var observed []string
	e := mustEnv(t, withDeps(func(d *server.Deps) {
		d.Observe = func(r *http.Request, route string, status int, _ time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			observed = append(observed, r.Method+" "+route+" "+http.StatusText(status))
		}
	}))
	alice := e.mustUser(t, "alice")
	task := e.mustTask(t, "alice", "t")
	e.do("GET", "/api/tasks/"+string(task.ID), "", nil, "alice")
	logs := e.logs.String()
	for _, want := range []string{`"route":"/api/tasks/{id}"`, `"status":200`, `"user":"` + string(alice.ID) + `"`, `"method":"GET"`, `"duration":`, `"bytes":`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if observed[len(observed)-1] != "GET /api/tasks/{id} OK" {
		t.Errorf("observed %q", observed)
	}
}

func TestPanicBecomesProblem(t *testing.T) {
	e := mustEnv(t, withDeps(func(d *server.Deps) {
		d.Frontend = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom: frontend broke") })
	}))
	res := e.do("GET", "/dashboard", "", map[string]string{"Accept-Encoding": "gzip"}, "")
	if res.Code != 500 {
		t.Fatalf("status %d", res.Code)
	}
	p := wantProblem(t, res, "internal")
	if p.Detail != "Internal error." || strings.Contains(res.Body.String(), "boom") {
		t.Errorf("problem %+v", p)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"msg":"panic"`) || !strings.Contains(logs, "boom: frontend broke") || !strings.Contains(logs, "goroutine") ||
		!strings.Contains(logs, `"requestId":"`+p.RequestID+`"`) {
		t.Errorf("panic not logged with stack and request id:\n%s", logs)
	}
}

// TestInternalErrorIsLogged closes the store under the API: the client gets
// a bare 500, the log gets the cause with the request id.
func TestInternalErrorIsLogged(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	e.store.Close()
	res := e.do("GET", "/api/tasks", "", nil, "alice")
	if res.Code != 500 {
		t.Fatalf("status %d: %s", res.Code, res.Body)
	}
	p := wantProblem(t, res, "internal")
	if p.Detail != "Internal error." {
		t.Errorf("detail %q leaks", p.Detail)
	}
	var line string
	for l := range strings.SplitSeq(e.logs.String(), "\n") {
		if strings.Contains(l, p.RequestID) {
			line = l
		}
	}
	if !strings.Contains(line, `"level":"ERROR"`) || !strings.Contains(line, `"err":"`) || !strings.Contains(line, "closed") {
		t.Errorf("error line %s", line)
	}
}

func TestHealth(t *testing.T) {
	var fail error
	var mu sync.Mutex
	e := mustEnv(t, withDeps(func(d *server.Deps) {
		d.Ready = append(d.Ready,
			server.Check{Name: "broker", Check: func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				return fail
			}})
	}))
	if res := e.do("GET", "/healthz", "", nil, ""); res.Code != 200 || res.Body.String() != "{\"status\":\"ok\"}\n" {
		t.Errorf("healthz %d %s", res.Code, res.Body)
	}
	// Probes may use HEAD (RFC 9110: wherever GET is answered).
	for _, path := range []string{"/healthz", "/readyz"} {
		if res := e.do("HEAD", path, "", nil, ""); res.Code != 200 {
			t.Errorf("HEAD %s: %d", path, res.Code)
		}
	}
	res := e.do("GET", "/readyz", "", nil, "")
	if res.Code != 200 || !strings.Contains(res.Body.String(), `"checks":{"broker":"ok","store":"ok"}`) {
		t.Errorf("readyz %d %s", res.Code, res.Body)
	}
	mu.Lock()
	fail = errors.New("redis: connection refused")
	mu.Unlock()
	res = e.do("GET", "/readyz", "", nil, "")
	if res.Code != 503 || !strings.Contains(res.Body.String(), `"broker":"fail"`) || !strings.Contains(res.Body.String(), `"status":"unavailable"`) ||
		strings.Contains(res.Body.String(), "refused") {
		t.Errorf("readyz %d %s", res.Code, res.Body)
	}
	if !strings.Contains(e.logs.String(), "redis: connection refused") {
		t.Errorf("failed check not logged")
	}
}

// TestReadyzOptionalDegrades: a dependency the instance can serve without
// (Redis) reports "degraded" but keeps the instance in the load balancer.
func TestReadyzOptionalDegrades(t *testing.T) {
	e := mustEnv(t, withDeps(func(d *server.Deps) {
		d.Ready = append(d.Ready, server.Check{Name: "redis", Optional: true,
			Check: func(context.Context) error { return errors.New("redis: connection refused") }})
	}))
	res := e.do("GET", "/readyz", "", nil, "")
	body := res.Body.String()
	if res.Code != 200 || !strings.Contains(body, `"status":"degraded"`) || !strings.Contains(body, `"redis":"fail"`) {
		t.Errorf("readyz %d %s", res.Code, body)
	}
}

// TestReadyzTimesOut shows a hung dependency makes the probe answer 503
// within its bound instead of hanging the probe.
func TestReadyzTimesOut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 2s readiness bound")
	}
	e := mustEnv(t, withDeps(func(d *server.Deps) {
		d.Ready = []server.Check{{Name: "hung", Check: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}}
	}))
	if res := e.do("GET", "/readyz", "", nil, ""); res.Code != 503 || !strings.Contains(res.Body.String(), `"hung":"fail"`) {
		t.Errorf("readyz %d %s", res.Code, res.Body)
	}
}

func TestOptionalHandlers(t *testing.T) {
	e := mustEnv(t)
	for _, path := range []string{"/api/ws", "/", "/tasks/123"} {
		res := e.do("GET", path, "", nil, "")
		if res.Code != 404 {
			t.Errorf("%s: %d", path, res.Code)
		}
		wantProblem(t, res, "not_found")
	}
}

func TestCompression(t *testing.T) {
	big := strings.Repeat("<p>dashboard</p>", 200)
	e := mustEnv(t, withDeps(func(d *server.Deps) {
		d.Frontend = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/big.html":
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				io.WriteString(w, big[:len(big)/2]) // in two writes, no length
				io.WriteString(w, big[len(big)/2:])
			case "/sniffed":
				io.WriteString(w, big)
			case "/small.html":
				w.Header().Set("Content-Type", "text/html")
				io.WriteString(w, "<p>hi</p>")
			case "/app.wasm":
				// Precompressed by the build: must pass untouched.
				w.Header().Set("Content-Type", "application/wasm")
				w.Header().Set("Content-Encoding", "br")
				io.WriteString(w, big)
			case "/logo.png":
				w.Header().Set("Content-Type", "image/png")
				io.WriteString(w, big)
			}
		})
	}))
	gz := map[string]string{"Accept-Encoding": "gzip"}
	tests := []struct {
		name, method, path string
		headers            map[string]string
		wantEncoding       string
	}{
		{"BigHTML", "GET", "/big.html", gz, "gzip"},
		{"SniffedType", "GET", "/sniffed", gz, "gzip"},
		{"Small", "GET", "/small.html", gz, ""},
		{"Precompressed", "GET", "/app.wasm", gz, "br"},
		{"Image", "GET", "/logo.png", gz, ""},
		{"NotAccepted", "GET", "/big.html", nil, ""},
		{"Refused", "GET", "/big.html", map[string]string{"Accept-Encoding": "gzip;q=0, br"}, ""},
		{"Head", "HEAD", "/big.html", gz, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(tt.method, tt.path, "", tt.headers, "")
			if res.Code != 200 || res.Header().Get("Content-Encoding") != tt.wantEncoding {
				t.Fatalf("status %d, Content-Encoding %q, want %q", res.Code, res.Header().Get("Content-Encoding"), tt.wantEncoding)
			}
			if !strings.Contains(strings.Join(res.Header().Values("Vary"), ","), "Accept-Encoding") {
				t.Errorf("no Vary: Accept-Encoding")
			}
			body := res.Body.String()
			if tt.wantEncoding == "gzip" {
				body = gunzip(t, res.Body.Bytes())
			}
			if tt.method == "GET" && tt.path != "/small.html" && body != big {
				t.Errorf("body of %d bytes differs", len(body))
			}
		})
	}
}

// TestWebSocketRouteHijacks checks the realtime route gets a connection it
// can hijack, untouched by compression, through the real HTTP stack.
func TestWebSocketRouteHijacks(t *testing.T) {
	e := mustEnv(t, withDeps(func(d *server.Deps) {
		d.Realtime = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer conn.Close()
			rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello")
			rw.Flush()
		})
	}))
	// The request log is written when the handler chain returns, which can
	// be after the client has read the hijacked connection to its end.
	served := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.h.ServeHTTP(w, r)
		served <- struct{}{}
	}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/ws", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 101 || res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("status %d headers %v", res.StatusCode, res.Header)
	}
	b, _ := io.ReadAll(res.Body)
	if string(b) != "hello" {
		t.Errorf("read %q", b)
	}
	select {
	case <-served:
	case <-time.After(10 * time.Second):
		t.Fatal("handler chain never returned after the hijack")
	}
	if !strings.Contains(e.logs.String(), `"route":"/api/ws","path":"/api/ws","status":101`) {
		t.Errorf("upgrade not logged as 101:\n%s", e.logs)
	}
}

// TestChunkedBodyLimit sends a body of undeclared length over the limit.
func TestChunkedBodyLimit(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	body := io.MultiReader(strings.NewReader(`{"title":"t","description":"`), strings.NewReader(strings.Repeat("x", 2<<20)), strings.NewReader(`"}`))
	req := httptest.NewRequest("POST", "/api/tasks", body)
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.users["alice"].Token)
	res := httptest.NewRecorder()
	e.h.ServeHTTP(res, req)
	if res.Code != 413 {
		t.Fatalf("status %d: %s", res.Code, res.Body)
	}
	wantProblem(t, res, authdash.CodeTooLarge)
}

// hintErr is a store's cause carrying how long to wait, as store/sqlite's
// "cannot write" does.
type hintErr time.Duration

func (h hintErr) Error() string             { return "database or disk is full" }
func (h hintErr) RetryAfter() time.Duration { return time.Duration(h) }

// fullStore is a store whose writes fail for want of disk.
type fullStore struct{ *sqlite.DB }

func (fullStore) CreateTask(context.Context, authdash.UserID, authdash.TaskDraft) (*authdash.Task, authdash.Event, error) {
	return nil, authdash.Event{}, authdash.WrapError(authdash.CodeUnavailable, hintErr(30*time.Second), "The server cannot save changes right now; try again later.")
}

// TestStoreCannotWrite: a write the store cannot make for want of disk is a
// 503 with the store's Retry-After, not a 500 "internal".
func TestStoreCannotWrite(t *testing.T) {
	e := mustEnv(t, withDeps(func(d *server.Deps) {
		d.Tasks = &authdash.TaskService{Store: fullStore{d.Tasks.Store.(*sqlite.DB)}, Events: &recorder{}, Log: d.Log}
	}))
	e.mustUser(t, "alice")
	res := e.do("POST", "/api/tasks", `{"title":"t"}`, nil, "alice")
	if res.Code != 503 || res.Header().Get("Retry-After") != "30" || !strings.Contains(res.Body.String(), `"code":"unavailable"`) {
		t.Errorf("create on a full store: %d Retry-After %q %s", res.Code, res.Header().Get("Retry-After"), res.Body)
	}
}
