package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// TestCreateIdempotent: POST /api/tasks with an Idempotency-Key.
func TestCreateIdempotent(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	e.mustUser(t, "bob")
	created := []authdash.EventKind{authdash.EventTaskCreated}
	body := `{"title":"Pay rent","tags":["home"],"dueDate":"2030-01-31T17:00:00Z"}`

	// first sends the request the scenario repeats, and checks the repeat
	// answers exactly as it did.
	var firstRes *httptest.ResponseRecorder
	first := func(key, body string) func(t *testing.T, e *env, s *scenario) {
		return func(t *testing.T, e *env, s *scenario) {
			firstRes = e.do("POST", "/api/tasks", body, map[string]string{"Idempotency-Key": key}, s.as)
			if firstRes.Code != http.StatusCreated {
				t.Fatalf("first create: %d %s", firstRes.Code, firstRes.Body)
			}
		}
	}
	sameAnswer := func(t *testing.T, e *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
		if res.Body.String() != firstRes.Body.String() {
			t.Errorf("repeat answered\n%s\nthe first\n%s", res.Body, firstRes.Body)
		}
		for _, h := range []string{"Location", "ETag", "Content-Type"} {
			if res.Header().Get(h) != firstRes.Header().Get(h) || res.Header().Get(h) == "" {
				t.Errorf("%s %q, first %q", h, res.Header().Get(h), firstRes.Header().Get(h))
			}
		}
		if res.Header().Get("Idempotent-Replayed") != "true" || firstRes.Header().Get("Idempotent-Replayed") != "" {
			t.Errorf("Idempotent-Replayed %q, first %q", res.Header().Get("Idempotent-Replayed"), firstRes.Header().Get("Idempotent-Replayed"))
		}
		if st, _ := e.tasks.Stats(context.Background(), e.users["alice"].ID); st.Total != 1 {
			t.Errorf("alice has %d tasks after a repeat, want 1", st.Total)
		}
	}
	// anotherTask checks the answer is a new task, not the first one.
	anotherTask := func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
		if res.Header().Get("Location") == firstRes.Header().Get("Location") || res.Header().Get("Idempotent-Replayed") != "" {
			t.Errorf("answered the first create again: %v", res.Header())
		}
	}
	// fresh gives each scenario a user with no tasks, so counts are its own.
	fresh := func(then func(t *testing.T, e *env, s *scenario)) func(t *testing.T, e *env, s *scenario) {
		return func(t *testing.T, e *env, s *scenario) {
			u := e.users["alice"]
			if err := e.store.DeleteUser(context.Background(), u.ID); err != nil {
				t.Fatal(err)
			}
			e.mustUser(t, "alice")
			if then != nil {
				then(t, e, s)
			}
		}
	}
	header := func(v string) map[string]string { return map[string]string{"Idempotency-Key": v} }

	e.runScenarios(t, []scenario{
		{name: "FirstCreates", method: "POST", path: "/api/tasks", as: "alice", body: body, headers: header("a1b2c3"),
			setup: fresh(nil), wantStatus: 201, wantEvents: created, wantBody: []string{`"title":"Pay rent"`, `"version":1`},
			check: func(t *testing.T, _ *env, res *httptest.ResponseRecorder, evs []authdash.Event) {
				if res.Header().Get("Location") != "/api/tasks/"+string(evs[0].TaskID) || res.Header().Get("ETag") != `"1"` ||
					res.Header().Get("Idempotent-Replayed") != "" {
					t.Errorf("headers %v", res.Header())
				}
			}},
		{name: "RepeatGetsTheFirstAnswer", method: "POST", path: "/api/tasks", as: "alice", body: body, headers: header("k-1"),
			setup: fresh(first("k-1", body)), wantStatus: 201, check: sameAnswer},
		{name: "RepeatOtherSpellingOfTheSameDraft", method: "POST", path: "/api/tasks", as: "alice",
			body:    `{ "dueDate":"2030-01-31T18:00:00+01:00", "tags":[" home "], "title":" Pay rent", "status":"todo", "priority":"medium" }`,
			headers: header(`"k-2"`), setup: fresh(first("k-2", body)), wantStatus: 201, check: sameAnswer},
		{name: "RepeatAfterTheTaskChanged", method: "POST", path: "/api/tasks", as: "alice", body: body, headers: header("k-3"),
			setup: fresh(func(t *testing.T, e *env, s *scenario) {
				first("k-3", body)(t, e, s)
				loc := firstRes.Header().Get("Location")
				if res := e.do("PATCH", loc, `{"title":"Paid"}`, nil, "alice"); res.Code != 200 {
					t.Fatalf("patch: %d", res.Code)
				}
			}),
			wantStatus: 201, check: sameAnswer, wantBody: []string{`"title":"Pay rent"`}},
		{name: "SameKeyOtherUser", method: "POST", path: "/api/tasks", as: "bob", body: body, headers: header("k-4"),
			setup: fresh(func(t *testing.T, e *env, s *scenario) {
				firstRes = e.do("POST", "/api/tasks", body, header("k-4"), "alice")
			}),
			wantStatus: 201, wantEvents: created, check: anotherTask},
		{name: "ExpiredKeyCreatesAgain", method: "POST", path: "/api/tasks", as: "alice", body: body, headers: header("k-5"),
			setup: fresh(func(t *testing.T, e *env, s *scenario) {
				first("k-5", body)(t, e, s)
				e.tasks.Now = func() time.Time { return time.Now().Add(authdash.IdempotencyKeyTTL + time.Minute) }
				t.Cleanup(func() { e.tasks.Now = nil })
			}),
			wantStatus: 201, wantEvents: created, check: anotherTask},
		{name: "InvalidDraftRecordsNothing", method: "POST", path: "/api/tasks", as: "alice", body: body, headers: header("k-6"),
			setup: fresh(func(t *testing.T, e *env, s *scenario) {
				if res := e.do("POST", "/api/tasks", `{"title":""}`, header("k-6"), "alice"); res.Code != 400 {
					t.Fatalf("invalid draft: %d", res.Code)
				}
			}),
			wantStatus: 201, wantEvents: created},
		{name: "ErrKeyReusedForAnotherTask", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"Something else"}`,
			headers: header("k-7"), setup: fresh(first("k-7", body)),
			wantStatus: 422, wantProblemCode: "idempotency_key_reused", wantBody: []string{"Idempotency-Key"},
			check: func(t *testing.T, e *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				if res.Header().Get("Location") != "" || res.Header().Get("ETag") != "" {
					t.Errorf("a refused repeat carries %v", res.Header())
				}
				if st, _ := e.tasks.Stats(context.Background(), e.users["alice"].ID); st.Total != 1 {
					t.Errorf("%d tasks, want 1", st.Total)
				}
			}},
		{name: "ErrKeyEmpty", method: "POST", path: "/api/tasks", as: "alice", body: body, headers: header(`""`),
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("Idempotency-Key")},
		{name: "ErrKeyTooLong", method: "POST", path: "/api/tasks", as: "alice", body: body, headers: header(strings.Repeat("k", 256)),
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("Idempotency-Key")},
		{name: "ErrKeyWithSpace", method: "POST", path: "/api/tasks", as: "alice", body: body, headers: header(`"two words"`),
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("Idempotency-Key")},
		{name: "ErrKeyNotASCII", method: "POST", path: "/api/tasks", as: "alice", body: body, headers: header("clé"),
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("Idempotency-Key")},
		{name: "ErrKeyHalfQuoted", method: "POST", path: "/api/tasks", as: "alice", body: body, headers: header(`"abc`),
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("Idempotency-Key")},
		{name: "ErrKeyAnonymous", method: "POST", path: "/api/tasks", body: body, headers: header("k-8"),
			wantStatus: 401, wantProblemCode: "unauthorized"},
	})

	t.Run("ErrKeyTwice", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/api/tasks", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.users["bob"].Token)
		req.Header.Add("Idempotency-Key", "one")
		req.Header.Add("Idempotency-Key", "two")
		res := httptest.NewRecorder()
		e.h.ServeHTTP(res, req)
		if res.Code != 400 {
			t.Fatalf("two keys: %d %s", res.Code, res.Body)
		}
		wantProblem(t, res, authdash.CodeInvalid)
	})
}

// TestCreateIdempotentConcurrent: a double-click's two requests (or a
// retry racing the original) create one task, and both get its answer.
func TestCreateIdempotentConcurrent(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	const clicks = 8
	var wg sync.WaitGroup
	res := make([]*httptest.ResponseRecorder, clicks)
	start := make(chan struct{})
	for i := range clicks {
		wg.Go(func() {
			<-start
			res[i] = e.do("POST", "/api/tasks", `{"title":"once"}`, map[string]string{"Idempotency-Key": "click"}, "alice")
		})
	}
	close(start)
	wg.Wait()
	replayed := 0
	for i, r := range res {
		if r.Code != 201 || r.Body.String() != res[0].Body.String() {
			t.Errorf("click %d: %d %s, first %s", i, r.Code, r.Body, res[0].Body)
		}
		if r.Header().Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if evs := e.events.take(); len(evs) != 1 || replayed != clicks-1 {
		t.Errorf("%d events published, %d answers replayed; want 1 and %d", len(evs), replayed, clicks-1)
	}
	if st, _ := e.tasks.Stats(context.Background(), e.users["alice"].ID); st.Total != 1 {
		t.Errorf("%d tasks, want 1", st.Total)
	}
}

// TestRestoreTask: POST /api/tasks/{id}/restore.
func TestRestoreTask(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	e.mustUser(t, "bob")
	created := []authdash.EventKind{authdash.EventTaskCreated}
	// deleted deletes the scenario's task first (by path).
	deleted := func(t *testing.T, e *env, s *scenario) {
		id := strings.TrimSuffix(strings.TrimPrefix(s.path, "/api/tasks/"), "/restore")
		as := "alice"
		if s.as == "bob" || strings.Contains(s.name, "Others") {
			as = "bob"
		}
		if err := e.tasks.Delete(context.Background(), e.users[as].ID, authdash.TaskID(id), 0); err != nil {
			t.Fatal(err)
		}
	}

	e.runScenarios(t, []scenario{
		{name: "OK", method: "POST", path: "/api/tasks/{task}/restore", as: "alice", setup: deleted,
			wantStatus: 200, wantEvents: created, wantBody: []string{`"title":"alice's task"`, `"version":3`},
			check: func(t *testing.T, e *env, res *httptest.ResponseRecorder, evs []authdash.Event) {
				if res.Header().Get("ETag") != `"3"` || res.Header().Get("Content-Type") != "application/json" {
					t.Errorf("headers %v", res.Header())
				}
				if evs[0].Task == nil || evs[0].Version != 3 || evs[0].Seq == 0 ||
					res.Header().Get("Content-Location") != "/api/tasks/"+string(evs[0].TaskID) {
					t.Errorf("event %+v, Content-Location %q", evs[0], res.Header().Get("Content-Location"))
				}
				if got := e.do("GET", "/api/tasks/"+string(evs[0].TaskID), "", nil, "alice"); got.Code != 200 {
					t.Errorf("restored task answers %d", got.Code)
				}
			}},
		{name: "OKCarriesClientID", method: "POST", path: "/api/tasks/{task}/restore", as: "alice", setup: deleted,
			headers: map[string]string{"X-Client-ID": "tab-9"}, wantStatus: 200, wantEvents: created,
			check: func(t *testing.T, _ *env, _ *httptest.ResponseRecorder, evs []authdash.Event) {
				if evs[0].Origin != "tab-9" {
					t.Errorf("origin %q", evs[0].Origin)
				}
			}},
		{name: "OKIgnoresABody", method: "POST", path: "/api/tasks/{task}/restore", as: "alice", setup: deleted, body: `{}`,
			wantStatus: 200, wantEvents: created},
		{name: "ErrNotDeleted", method: "POST", path: "/api/tasks/{task}/restore", as: "alice",
			wantStatus: 409, wantProblemCode: "conflict", wantBody: []string{"not deleted"}},
		{name: "ErrTwice", method: "POST", path: "/api/tasks/{task}/restore", as: "alice",
			setup: func(t *testing.T, e *env, s *scenario) {
				deleted(t, e, s)
				if res := e.do("POST", s.path, "", nil, "alice"); res.Code != 200 {
					t.Fatalf("first restore: %d %s", res.Code, res.Body)
				}
			},
			wantStatus: 409, wantProblemCode: "conflict"},
		{name: "ErrOthersTask", method: "POST", path: "/api/tasks/{bobTask}/restore", as: "alice", setup: deleted,
			wantStatus: 404, wantProblemCode: "not_found"},
		{name: "ErrNeverExisted", method: "POST", path: "/api/tasks/nope/restore", as: "alice",
			wantStatus: 404, wantProblemCode: "not_found"},
		{name: "ErrPastTheWindow", method: "POST", path: "/api/tasks/{task}/restore", as: "alice",
			setup: func(t *testing.T, e *env, s *scenario) {
				deleted(t, e, s)
				e.tasks.Now = func() time.Time { return time.Now().Add(authdash.RestoreWindow + time.Minute) }
				t.Cleanup(func() { e.tasks.Now = nil })
			},
			wantStatus: 404, wantProblemCode: "not_found"},
		{name: "ErrAnonymous", method: "POST", path: "/api/tasks/{task}/restore", setup: deleted,
			wantStatus: 401, wantProblemCode: "unauthorized"},
		{name: "ErrMethodNotAllowed", method: "GET", path: "/api/tasks/{task}/restore", as: "alice",
			wantStatus: 405, wantProblemCode: "method_not_allowed", check: wantAllow("POST")},
	})
}
