package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	legacyrouter "github.com/getkin/kin-openapi/routers/legacy"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/e2e/internal/rawapi"
)

// TestCluster runs the loopback cluster of `make cluster` (three instances
// on one SQLite database, Redis, nginx) and checks through nginx that:
// a change made on one instance reaches clients on the others; rate limits
// are shared, not multiplied; killing an instance loses no accepted write
// and its clients carry on through the others; /metrics counts what
// happened; and real answers through nginx match the OpenAPI document.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and runs a cluster of processes")
	}
	bin := builds.Server(t)
	c := clStart(t, bin)
	ctx, cancel := context.WithTimeout(t.Context(), 75*time.Second)
	defer cancel()

	ann := rtRegister(t, c.lb, "ann@example.com")

	// Clients: one on each instance, falling back to nginx when theirs is
	// gone, and one through nginx itself.
	clients := []*rtClient{
		rtNewClient(ann, c.apis[0], c.lb),
		rtNewClient(ann, c.apis[1], c.lb),
		rtNewClient(ann, c.lb),
	}
	cctx, stopClients := context.WithCancel(ctx)
	var running sync.WaitGroup
	for _, cl := range clients {
		running.Go(func() { cl.run(cctx) })
	}
	defer func() { stopClients(); running.Wait() }()

	// converge waits until every client's view equals the store, read
	// again while a client differs: a write whose client gave up mid-request
	// may still commit after the first read.
	converge := func(what string) {
		t.Helper()
		for i, cl := range clients {
			for {
				want, err := rawapi.ListAll(ctx, c.lb, ann.token)
				if err != nil {
					t.Fatal(err)
				}
				d := cl.diff(want)
				if d == "" {
					break
				}
				select {
				case <-cl.changed:
				case <-time.After(250 * time.Millisecond):
				case <-ctx.Done():
					cl.mu.Lock()
					t.Fatalf("%s: client %d never converged: %s (dials %d, last seq %d, synced %d, %d events received)",
						what, i, d, cl.dials, cl.last, cl.synced, len(cl.received))
				}
			}
		}
	}

	// sockets waits until the given instances hold n sockets in all.
	sockets := func(n int, metrics []string) {
		t.Helper()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var open float64
			for _, m := range metrics {
				open += rawapi.Metric(t, m, "authdash_ws_connections")
			}
			if int(open) == n {
				return
			}
			select {
			case <-tick.C: // a scrape is the only way to ask
			case <-ctx.Done():
				t.Fatalf("%v sockets open, want %d", open, n)
			}
		}
	}

	t.Run("ChangeOnOneInstanceReachesTheOthers", func(t *testing.T) {
		// Written straight away, while sockets may still be in their
		// handshake: the resume each client sends behind auth covers that.
		if err := rawapi.Call(ctx, c.apis[2], ann.token, "POST", "/api/tasks", `{"title":"made on api3"}`, nil); err != nil {
			t.Fatal(err)
		}
		converge("after a write on api3")
	})

	t.Run("RateLimitsAreShared", func(t *testing.T) {
		// 10 sign-in attempts per account, then 5 a minute: spread over
		// three instances they still add up to 10.
		body := `{"email":"mallory@example.com","password":"guess-guess-guess"}`
		for i := range 10 {
			err := rawapi.Call(ctx, c.apis[i%3], "", "POST", "/api/auth/login", body, nil)
			if err == nil || !strings.Contains(err.Error(), ": 401 ") {
				t.Fatalf("attempt %d: %v, want 401", i+1, err)
			}
		}
		for i := range 3 {
			err := rawapi.Call(ctx, c.apis[i], "", "POST", "/api/auth/login", body, nil)
			if err == nil || !strings.Contains(err.Error(), ": 429 ") {
				t.Fatalf("attempt 11 on api%d: %v, want 429", i+1, err)
			}
		}
	})

	t.Run("KillingAnInstanceLosesNoAcceptedWrite", func(t *testing.T) {
		var (
			mu        sync.Mutex
			accepted  []authdash.TaskID
			afterKill int
			failed    int
		)
		killed := make(chan struct{})
		enough := make(chan struct{})
		wctx, stopWriters := context.WithCancel(ctx)
		var writers sync.WaitGroup
		for w := range 4 {
			writers.Go(func() {
				for n := 0; wctx.Err() == nil; n++ {
					var task authdash.Task
					err := rawapi.Call(wctx, c.lb, ann.token, "POST", "/api/tasks", fmt.Sprintf(`{"title":"w%d-%d"}`, w, n), &task)
					mu.Lock()
					if err != nil {
						failed++ // a write to the instance as it died: its outcome is unknown
					} else {
						accepted = append(accepted, task.ID)
						select {
						case <-killed:
							if afterKill++; afterKill == 40 {
								close(enough)
							}
						default:
						}
					}
					mu.Unlock()
				}
			})
		}
		// Let writes flow to all three, then crash api1.
		for {
			mu.Lock()
			n := len(accepted)
			mu.Unlock()
			if n >= 30 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatal("writes did not flow")
			case <-time.After(10 * time.Millisecond):
			}
		}
		c.crash(t, 0)
		close(killed)
		select {
		case <-enough:
		case <-ctx.Done():
			t.Fatal("writes through nginx did not carry on after the crash")
		}
		stopWriters()
		writers.Wait()
		// Every client is back (on a survivor); one more write reveals to
		// each any gap its reconnect left.
		sockets(len(clients), c.metrics[1:])
		if err := rawapi.Call(ctx, c.lb, ann.token, "POST", "/api/tasks", `{"title":"sentinel"}`, nil); err != nil {
			t.Fatal(err)
		}

		store, err := rawapi.ListAll(ctx, c.lb, ann.token)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range accepted {
			if _, ok := store[id]; !ok {
				t.Errorf("accepted write %s is not in the store", id)
			}
		}
		t.Logf("%d writes accepted (%d after the crash), %d cut off by it", len(accepted), afterKill, failed)
		converge("after the crash")
	})

	t.Run("MetricsCountWhatHappened", func(t *testing.T) {
		// api1 died with its counters; the survivors' must account for at
		// least the writes each of them answered, and for live sockets.
		var creates, published, sockets float64
		for _, m := range c.metrics[1:] {
			creates += rawapi.Metric(t, m, `authdash_http_requests_total{code="201",method="POST",route="/api/tasks"}`)
			published += rawapi.Metric(t, m, "authdash_events_published_total")
			sockets += rawapi.Metric(t, m, "authdash_ws_connections")
			if n := rawapi.Metric(t, m, `authdash_ratelimit_rejections_total{limiter="signin-account"`); n < 1 {
				t.Errorf("%s counted no rate-limit rejection", m)
			}
			if n := rawapi.Metric(t, m, `authdash_store_operation_duration_seconds_count{op="CreateTask",outcome="ok"}`); n < 1 {
				t.Errorf("%s timed no CreateTask", m)
			}
		}
		if creates < 40 || published < creates {
			t.Errorf("survivors counted %v task creations and %v published events, want ≥ 40 and ≥ creations", creates, published)
		}
		if sockets != float64(len(clients)) {
			t.Errorf("survivors count %v open sockets, want %d", sockets, len(clients))
		}
	})

	t.Run("AnswersThroughNginxMatchTheSpec", func(t *testing.T) {
		router := clSpec(t, c.lb)
		var task authdash.Task
		if err := rawapi.Call(ctx, c.lb, ann.token, "POST", "/api/tasks", `{"title":"spec"}`, &task); err != nil {
			t.Fatal(err)
		}
		for _, x := range []struct{ method, path, body string }{
			{"GET", "/api/tasks?limit=5&sort=title&order=asc", ""},
			{"GET", "/api/tasks/stats", ""},
			{"POST", "/api/tasks", `{"title":"through nginx","tags":["lb"]}`},
			{"GET", "/api/tasks/" + string(task.ID), ""},
			{"PATCH", "/api/tasks/" + string(task.ID), `{"status":"done"}`},
			{"GET", "/api/tasks/no-such-task", ""},
			{"GET", "/api/me", ""},
			{"GET", "/api/auth/sessions", ""},
			{"GET", "/readyz", ""},
		} {
			clValidate(t, router, c.lb, ann.token, x.method, x.path, x.body)
		}
	})
}

// clSpec loads the OpenAPI document as nginx serves it.
func clSpec(t *testing.T, lb string) routers.Router {
	t.Helper()
	resp, err := http.Get(lb + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("openapi.json through nginx: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatal(err)
	}
	r, err := legacyrouter.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// clValidate sends one request through nginx and validates request and
// response against the spec.
func clValidate(t *testing.T, router routers.Router, lb, token, method, path, body string) {
	t.Helper()
	newReq := func() *http.Request {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, lb+path, rd)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		return req
	}
	twin := newReq()
	route, params, err := router.FindRoute(twin)
	if err != nil {
		t.Fatalf("%s %s: not in the spec: %v", method, path, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	in := &openapi3filter.RequestValidationInput{Request: twin, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		t.Errorf("%s %s: request does not match the spec: %v", method, path, err)
	}
	// Go's transport asks for gzip and decodes it; the body validated is
	// the JSON the client sees.
	resp, err := http.DefaultClient.Do(newReq())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(b)), Options: opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s → %d: response does not match the spec: %v\n%s", method, path, resp.StatusCode, err, b)
	}
}
