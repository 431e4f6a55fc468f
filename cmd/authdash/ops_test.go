package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func get(t *testing.T, method, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestOperations checks the operator's side of a running server: the admin
// listener (metrics that count what happened, run-time log level, pprof),
// /metrics on the public port behind its token, the API description, and
// the healthcheck subcommand.
func TestOperations(t *testing.T) {
	admin := freeAddr(t)
	const token = "metrics-token-0123456789"
	in := startRun(t, map[string]string{
		"DATA_DIR": t.TempDir(), "METRICS_ADDR": admin, "METRICS_TOKEN": token, "LOG_LEVEL": "info",
	})

	code, _ := in.call(t, "POST", "/api/auth/register", `{"email":"ops@example.com","password":"ops-password-1","name":"Ops"}`)
	if code != 201 {
		t.Fatalf("register: %d", code)
	}
	in.call(t, "GET", "/api/tasks", "") // 401
	if code, _ := in.call(t, "GET", "/healthz", ""); code != 200 {
		t.Fatalf("healthz: %d", code)
	}

	// With a token every admin route wants it, on loopback too.
	bearer := []string{"Authorization", "Bearer " + token}
	for _, path := range []string{"/metrics", "/debug/loglevel", "/debug/pprof/goroutine?debug=1"} {
		if code, _ := get(t, "GET", "http://"+admin+path, ""); code != 401 {
			t.Errorf("admin %s without the token: %d, want 401", path, code)
		}
		if code, _ := get(t, "GET", "http://"+admin+path, "", "Authorization", "Bearer wrong-token-0123456789"); code != 401 {
			t.Errorf("admin %s with a wrong token: %d, want 401", path, code)
		}
	}
	if code, _ := get(t, "PUT", "http://"+admin+"/debug/loglevel", `{"level":"error"}`); code != 401 {
		t.Errorf("PUT loglevel without the token: %d, want 401", code)
	}

	code, body := get(t, "GET", "http://"+admin+"/metrics", "", bearer...)
	if code != 200 {
		t.Fatalf("admin /metrics: %d", code)
	}
	for _, want := range []string{
		`authdash_http_requests_total{code="201",method="POST",route="/api/auth/register"} 1`,
		`authdash_http_requests_total{code="401",method="GET",route="/api/tasks"} 1`,
		`authdash_store_operation_duration_seconds_count{op="CreateUser",outcome="ok"} 1`,
		`authdash_ws_connections 0`,
		`authdash_log_records_dropped_total 0`,
		`authdash_build_info{`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("admin /metrics lacks %s", want)
		}
	}

	if code, body := get(t, "PUT", "http://"+admin+"/debug/loglevel", `{"level":"debug"}`, bearer...); code != 200 || !strings.Contains(body, "DEBUG") {
		t.Errorf("PUT loglevel: %d %s", code, body)
	}
	in.call(t, "GET", "/healthz", "") // logged at debug now
	if code, _ := get(t, "GET", "http://"+admin+"/debug/pprof/goroutine?debug=1", "", bearer...); code != 200 {
		t.Errorf("pprof: %d", code)
	}

	if code, _ := get(t, "GET", in.base+"/metrics", ""); code != 401 {
		t.Errorf("public /metrics without the token: %d, want 401", code)
	}
	if code, body := get(t, "GET", in.base+"/metrics", "", "Authorization", "Bearer "+token); code != 200 || !strings.Contains(body, "authdash_http_requests_total") {
		t.Errorf("public /metrics with the token: %d", code)
	}
	if code, body := get(t, "GET", in.base+"/api/openapi.json", ""); code != 200 || !strings.Contains(body, `"openapi": "3.1.0"`) {
		t.Errorf("openapi.json: %d", code)
	}

	var out bytes.Buffer
	port := in.base[strings.LastIndexByte(in.base, ':')+1:]
	if err := run(context.Background(), []string{"authdash", "healthcheck"}, func(k string) string {
		return map[string]string{"ADDR": ":" + port}[k]
	}, &out, io.Discard, nil); err != nil || strings.TrimSpace(out.String()) != "ok" {
		t.Errorf("healthcheck of a live server: %v %q", err, out.String())
	}

	if err := in.stop(t); err != nil {
		t.Fatal(err)
	}
	// The log handler flushed on the way out: the debug line is there.
	if !strings.Contains(in.log.String(), `"route":"/healthz"`) {
		t.Errorf("the healthz request logged at debug level is missing")
	}
	if err := run(context.Background(), []string{"authdash", "healthcheck"}, func(k string) string {
		return map[string]string{"ADDR": ":" + port}[k]
	}, io.Discard, io.Discard, nil); err == nil {
		t.Error("healthcheck of a stopped server succeeded")
	}
}

// A taken METRICS_ADDR costs the metrics, not the API.
func TestMetricsAddrTakenKeepsServing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	in := startRun(t, map[string]string{"DATA_DIR": t.TempDir(), "METRICS_ADDR": l.Addr().String()})
	if code, _ := in.call(t, "GET", "/healthz", ""); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	// Logging is asynchronous; stopping flushes it.
	if err := in.stop(t); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(in.log.String(), "metrics listener not started") {
		t.Error("the lost metrics listener was not logged")
	}
}

func TestRedisLogIsDebug(t *testing.T) {
	tests := []struct {
		name  string
		level slog.Level
		want  string
	}{
		{"Debug", slog.LevelDebug, `"level":"DEBUG","msg":"redis: dial tcp 10.0.0.1:6379: connection refused","component":"go-redis"`},
		{"Info", slog.LevelInfo, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: tt.level}))
			l := redisLog{log: logger}
			l.Printf(t.Context(), "redis: dial tcp %s: %s", "10.0.0.1:6379", "connection refused")
			if tt.want == "" && buf.Len() != 0 || !strings.Contains(buf.String(), tt.want) {
				t.Errorf("logged %q, want %q", buf.String(), tt.want)
			}
		})
	}
}
