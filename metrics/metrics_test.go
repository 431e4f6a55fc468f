package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/metrics"
)

// limiterFunc adapts a func to metrics.Limiter, to force each outcome.
type limiterFunc func(ctx context.Context, key string) (bool, time.Duration, error)

func (f limiterFunc) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	return f(ctx, key)
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestMetricsCountWhatHappened(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, "v1.2.3")

	req := httptest.NewRequest("GET", "/api/tasks/abc", nil)
	m.Observe(req, "/api/tasks/{id}", 200, 3*time.Millisecond)
	m.Observe(req, "/api/tasks/{id}", 200, 5*time.Millisecond)
	m.Observe(req, "/api/tasks/{id}", 404, time.Millisecond)
	m.Observe(httptest.NewRequest("GET", "/nope", nil), "", 404, time.Millisecond)

	m.ObserveStore("FindTask", time.Millisecond, nil)
	m.ObserveStore("FindTask", time.Millisecond, authdash.Errorf(authdash.CodeNotFound, "gone"))
	m.ObserveStore("CreateTask", time.Millisecond, errors.New("disk full"))
	m.PublishError(errors.New("redis down"))
	m.Mail("reset-password", "sent")
	m.Mail("reset-password", "sent")
	m.Mail("verify-email", "retried")
	m.Mail("verify-email", "failed")

	outcomes := map[string]struct {
		ok  bool
		err error
	}{"login:ip:10.0.0.1": {false, nil}, "login:account:a@b.c": {false, nil}, "refresh:ip:::1": {true, nil}, "Weird Key": {false, nil}, "register:ip:x": {true, errors.New("redis down")}}
	lim := m.Limiter("signin", limiterFunc(func(_ context.Context, key string) (bool, time.Duration, error) {
		o := outcomes[key]
		return o.ok, time.Second, o.err
	}))
	for key := range outcomes {
		_, _, _ = lim.Allow(context.Background(), key)
	}

	m.Realtime(func() metrics.RealtimeStats {
		return metrics.RealtimeStats{Open: 7, Published: 10, Delivered: 20, Dropped: 2, SlowDisconnects: 1, RefusedPerIP: 3, RefusedInstance: 1, ResumesLimited: 4}
	})
	m.Cache("profile", func() (uint64, uint64) { return 30, 4 })
	m.LogDrops(func() uint64 { return 5 })
	m.LimiterFailures("signin", func() uint64 { return 9 })

	out := scrape(t, m.Handler())
	for _, want := range []string{
		`authdash_http_requests_total{code="200",method="GET",route="/api/tasks/{id}"} 2`,
		`authdash_http_requests_total{code="404",method="GET",route="/api/tasks/{id}"} 1`,
		`authdash_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`authdash_http_request_duration_seconds_count{code="200",method="GET",route="/api/tasks/{id}"} 2`,
		`authdash_http_request_duration_seconds_sum{code="200",method="GET",route="/api/tasks/{id}"} 0.008`,
		`authdash_store_operation_duration_seconds_count{op="FindTask",outcome="ok"} 1`,
		`authdash_store_operation_duration_seconds_count{op="FindTask",outcome="not_found"} 1`,
		`authdash_store_operation_duration_seconds_count{op="CreateTask",outcome="internal"} 1`,
		`authdash_events_publish_errors_total 1`,
		`authdash_mail_attempts_total{kind="reset-password",result="sent"} 2`,
		`authdash_mail_attempts_total{kind="verify-email",result="retried"} 1`,
		`authdash_mail_attempts_total{kind="verify-email",result="failed"} 1`,
		`authdash_ratelimit_rejections_total{limiter="signin",scope="login"} 2`,
		`authdash_ratelimit_rejections_total{limiter="signin",scope="other"} 1`,
		`authdash_ratelimit_errors_total{limiter="signin"} 1`,
		`authdash_ws_connections 7`,
		`authdash_events_published_total 10`,
		`authdash_events_delivered_total 20`,
		`authdash_events_dropped_total 2`,
		`authdash_ws_slow_consumer_disconnects_total 1`,
		`authdash_ws_unauthenticated_refused_total{scope="ip"} 3`,
		`authdash_ws_unauthenticated_refused_total{scope="instance"} 1`,
		`authdash_ws_resumes_limited_total 4`,
		`authdash_cache_hits_total{cache="profile"} 30`,
		`authdash_cache_misses_total{cache="profile"} 4`,
		`authdash_log_records_dropped_total 5`,
		`authdash_ratelimit_backend_failures_total{limiter="signin"} 9`,
		`authdash_build_info{goversion="go`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	for _, leak := range []string{"10.0.0.1", "a@b.c"} {
		if strings.Contains(out, leak) {
			t.Errorf("a label leaks %q", leak)
		}
	}
	if n := strings.Count(out, "\nauthdash_http_requests_total{"); n != 3 {
		t.Errorf("%d request series, want 3", n)
	}
}

func TestAdmin(t *testing.T) {
	m := metrics.New(prometheus.NewRegistry(), "dev")
	level := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "level") })
	srv := httptest.NewServer(m.Admin(level))
	defer srv.Close()
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/metrics", 200, "go_goroutines"},
		{"/debug/loglevel", 200, "level"},
		{"/debug/pprof/", 200, "goroutine"},
		{"/debug/pprof/cmdline", 200, ""},
		{"/debug/pprof/goroutine?debug=1", 200, "goroutine profile"},
		{"/elsewhere", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := srv.Client().Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(b), tt.wantBody) {
				t.Errorf("status %d body %.200q; want %d with %q", resp.StatusCode, b, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestRequireToken(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metrics") })
	tests := []struct {
		name, token, header string
		want                int
	}{
		{"OK", "s3cret-token", "Bearer s3cret-token", 200},
		{"ErrMissing", "s3cret-token", "", 401},
		{"ErrWrong", "s3cret-token", "Bearer s3cret-tokeN", 401},
		{"ErrPrefix", "s3cret-token", "Bearer s3cret", 401},
		{"ErrScheme", "s3cret-token", "Basic s3cret-token", 401},
		{"ErrEmptyTokenNeverMatches", "", "Bearer ", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/metrics", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			metrics.RequireToken(tt.token, ok).ServeHTTP(rec, r)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
		})
	}
}
