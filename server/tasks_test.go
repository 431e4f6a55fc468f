package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func TestTasks(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	e.mustUser(t, "bob")
	created := []authdash.EventKind{authdash.EventTaskCreated}
	updated := []authdash.EventKind{authdash.EventTaskUpdated}
	deleted := []authdash.EventKind{authdash.EventTaskDeleted}

	e.runScenarios(t, []scenario{
		// POST /api/tasks
		{name: "CreateOK", method: "POST", path: "/api/tasks", as: "alice",
			body:       `{"title":"  Write README ","priority":"high","dueDate":"2026-12-01T10:00:00+02:00","tags":["docs"," Docs ","ops"]}`,
			wantStatus: 201, wantEvents: created,
			wantBody: []string{`"title":"Write README"`, `"priority":"high"`, `"status":"todo"`, `"dueDate":"2026-12-01T08:00:00Z"`, `"tags":["docs","ops"]`, `"version":1`},
			check: func(t *testing.T, _ *env, res *httptest.ResponseRecorder, evs []authdash.Event) {
				if res.Header().Get("ETag") != `"1"` {
					t.Errorf("ETag %q", res.Header().Get("ETag"))
				}
				loc := res.Header().Get("Location")
				if !strings.HasPrefix(loc, "/api/tasks/") || evs[0].TaskID != authdash.TaskID(strings.TrimPrefix(loc, "/api/tasks/")) {
					t.Errorf("Location %q, event %+v", loc, evs[0])
				}
			}},
		{name: "CreateTagsNeverNull", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"t"}`,
			wantStatus: 201, wantEvents: created, wantBody: []string{`"tags":[]`, `"dueDate":null`, `"description":""`}},
		{name: "CreateCarriesClientID", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"t"}`,
			headers: map[string]string{"X-Client-ID": "tab_42-a"}, wantStatus: 201, wantEvents: created,
			check: func(t *testing.T, _ *env, _ *httptest.ResponseRecorder, evs []authdash.Event) {
				if evs[0].Origin != "tab_42-a" {
					t.Errorf("event origin %q", evs[0].Origin)
				}
			}},
		{name: "ErrCreateBadClientID", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"t"}`,
			headers: map[string]string{"X-Client-ID": "tab 42; drop"}, wantStatus: 400, wantProblemCode: "invalid"},
		{name: "ErrCreateAnonymous", method: "POST", path: "/api/tasks", body: `{"title":"t"}`,
			wantStatus: 401, wantProblemCode: "unauthorized",
			check: func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				if !strings.HasPrefix(res.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", res.Header().Get("WWW-Authenticate"))
				}
			}},
		{name: "ErrCreateTruncatedJSON", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{"ends in the middle"}},
		{name: "ErrCreateSyntax", method: "POST", path: "/api/tasks", as: "alice", body: `{"title" "x"}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{"not valid JSON", "at byte 10"}},
		{name: "ErrCreateMissingTitle", method: "POST", path: "/api/tasks", as: "alice", body: `{"description":"d"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("title")},
		{name: "ErrCreateTitleTooLong", method: "POST", path: "/api/tasks", as: "alice",
			body: `{"title":"` + strings.Repeat("é", authdash.MaxTitleLen+1) + `"}`, wantStatus: 400, wantProblemCode: "invalid", check: wantField("title")},
		{name: "ErrCreateSeveralFields", method: "POST", path: "/api/tasks", as: "alice",
			body:       `{"title":"t","status":"later","priority":"urgent","tags":["` + strings.Repeat("x", 33) + `"]}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{`"status":`, `"priority":`, `"tags":`}},
		{name: "ErrCreateTooManyTags", method: "POST", path: "/api/tasks", as: "alice",
			body: `{"title":"t","tags":["a"` + manyTags(authdash.MaxTags) + `]}`, wantStatus: 400, wantProblemCode: "invalid", check: wantField("tags")},
		{name: "ErrCreateWrongType", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":5}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{`Field \"title\" must be a string`}, check: wantField("title")},
		{name: "ErrCreateWrongTypeInArray", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"t","tags":[1]}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("tags")},
		{name: "ErrCreateBadDueDate", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"t","dueDate":"tomorrow"}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{"RFC 3339"}, check: wantField("dueDate")},
		{name: "ErrCreateDueDateNotAString", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"t","dueDate":20261201}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{"RFC 3339"}, check: wantField("dueDate")},
		{name: "ErrCreateDueDateOutOfRange", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"t","dueDate":"2026-13-01T00:00:00Z"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("dueDate")},
		{name: "ErrCreateUnknownField", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"t","colour":"red"}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{`Unknown field \"colour\"`}, check: wantField("colour")},
		// encoding/json lets the last of repeated (or case-variant) keys win;
		// the body is refused instead of read one way here and another
		// elsewhere.
		{name: "ErrCreateDuplicateKey", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"a","title":"b"}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{`Field \"title\" is given more than once`}, check: wantField("title")},
		{name: "ErrCreateCaseVariantKey", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"a","Title":"b"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("Title")},
		{name: "ErrCreateEscapedDuplicateKey", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"a","\u0074itle":"b"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("title")},
		{name: "ErrCreateTitleControl", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"a\u001b[2Jb"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("title")},
		{name: "ErrCreateDescriptionNUL", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"a","description":"x\u0000y"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("description")},
		{name: "ErrCreateNotAnObject", method: "POST", path: "/api/tasks", as: "alice", body: `["t"]`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{"must be a JSON object"}},
		{name: "ErrCreateTwoValues", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"a"} {"title":"b"}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{"single JSON object"}},
		{name: "ErrCreateEmptyBody", method: "POST", path: "/api/tasks", as: "alice",
			headers: map[string]string{"Content-Type": "application/json"}, wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{"empty"}},
		{name: "ErrCreateWrongContentType", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"t"}`,
			headers: map[string]string{"Content-Type": "text/plain"}, wantStatus: 415, wantProblemCode: "unsupported_media_type"},
		{name: "ErrCreateNoContentType", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"t"}`,
			headers: map[string]string{"Content-Type": ""}, wantStatus: 415, wantProblemCode: "unsupported_media_type"},
		{name: "CreateContentTypeWithCharset", method: "POST", path: "/api/tasks", as: "alice", body: `{"title":"t"}`,
			headers: map[string]string{"Content-Type": "Application/JSON; charset=utf-8"}, wantStatus: 201, wantEvents: created},
		{name: "ErrCreateOversized", method: "POST", path: "/api/tasks", as: "alice",
			body: `{"title":"t","description":"` + strings.Repeat("x", 1<<20) + `"}`, wantStatus: 413, wantProblemCode: "too_large"},

		// GET /api/tasks/{id}
		{name: "GetOK", method: "GET", path: "/api/tasks/{task}", as: "alice", wantStatus: 200,
			wantBody: []string{`"title":"alice's task"`, `"tags":[]`},
			check: func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				if res.Header().Get("ETag") != `"1"` || res.Header().Get("Cache-Control") != "no-store" {
					t.Errorf("headers %v", res.Header())
				}
			}},
		{name: "GetNotModified", method: "GET", path: "/api/tasks/{task}", as: "alice",
			headers: map[string]string{"If-None-Match": `"1"`}, wantStatus: 304},
		{name: "ErrGetOthersTask", method: "GET", path: "/api/tasks/{bobTask}", as: "alice", wantStatus: 404, wantProblemCode: "not_found"},
		{name: "ErrGetMissing", method: "GET", path: "/api/tasks/nope", as: "alice", wantStatus: 404, wantProblemCode: "not_found"},
		{name: "ErrGetAnonymous", method: "GET", path: "/api/tasks/{task}", wantStatus: 401, wantProblemCode: "unauthorized"},

		// PATCH /api/tasks/{id}
		{name: "PatchOK", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"status":"done","title":"renamed"}`,
			headers: map[string]string{"If-Match": `"1"`}, wantStatus: 200, wantEvents: updated,
			wantBody: []string{`"status":"done"`, `"title":"renamed"`, `"version":2`},
			check: func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				if res.Header().Get("ETag") != `"2"` {
					t.Errorf("ETag %q", res.Header().Get("ETag"))
				}
			}},
		{name: "ErrPatchDuplicateKey", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"status":"done","STATUS":"todo"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("STATUS")},
		{name: "PatchWeakETag", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"status":"done"}`,
			headers: map[string]string{"If-Match": `W/"1"`}, wantStatus: 200, wantEvents: updated},
		{name: "PatchBareVersion", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"status":"done"}`,
			headers: map[string]string{"If-Match": `1`}, wantStatus: 200, wantEvents: updated},
		{name: "PatchUnconditional", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"priority":"low"}`,
			wantStatus: 200, wantEvents: updated, wantBody: []string{`"priority":"low"`}},
		{name: "PatchSetAndClearDueDate", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"dueDate":"2027-01-01T00:00:00Z"}`,
			wantStatus: 200, wantEvents: updated, wantBody: []string{`"dueDate":null`},
			// Set a due date first, then clear it with null.
			setup: func(t *testing.T, e *env, s *scenario) {
				res := e.do("PATCH", s.path, s.body, nil, "alice")
				if res.Code != 200 || !strings.Contains(res.Body.String(), `"dueDate":"2027-01-01T00:00:00Z"`) {
					t.Fatalf("set due date: %d %s", res.Code, res.Body)
				}
				s.body = `{"dueDate":null}`
			}},
		{name: "ErrPatchStale", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"status":"done"}`,
			headers: map[string]string{"If-Match": `"7"`}, wantStatus: 412, wantProblemCode: "precondition_failed"},
		{name: "PatchIfMatchList", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"status":"done"}`,
			headers: map[string]string{"If-Match": `"7", W/"1"`}, wantStatus: 200, wantEvents: updated, wantBody: []string{`"version":2`}},
		{name: "ErrPatchIfMatchListStale", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"status":"done"}`,
			headers: map[string]string{"If-Match": `"7", "8"`}, wantStatus: 412, wantProblemCode: "precondition_failed"},
		{name: "ErrPatchIfMatchListMalformed", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"status":"done"}`,
			headers: map[string]string{"If-Match": `"1", "abc"`}, wantStatus: 400, wantProblemCode: "invalid", check: wantField("If-Match")},
		{name: "ErrPatchIfMatchListOthersTask", method: "PATCH", path: "/api/tasks/{bobTask}", as: "alice", body: `{"status":"done"}`,
			headers: map[string]string{"If-Match": `"1", "2"`}, wantStatus: 404, wantProblemCode: "not_found"},
		{name: "ErrPatchMalformedIfMatch", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"status":"done"}`,
			headers: map[string]string{"If-Match": `"abc"`}, wantStatus: 400, wantProblemCode: "invalid"},
		{name: "ErrPatchOthersTask", method: "PATCH", path: "/api/tasks/{bobTask}", as: "alice", body: `{"status":"done"}`,
			wantStatus: 404, wantProblemCode: "not_found"},
		{name: "ErrPatchNothing", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{"changes nothing"}},
		{name: "ErrPatchUnknownField", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"done":true}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("done")},
		{name: "ErrPatchBadDueDate", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"dueDate":"soon"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("dueDate")},
		{name: "ErrPatchWrongType", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"tags":"a,b"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("tags")},
		{name: "ErrPatchEmptyTitle", method: "PATCH", path: "/api/tasks/{task}", as: "alice", body: `{"title":"   "}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("title")},

		// DELETE /api/tasks/{id}
		{name: "DeleteOK", method: "DELETE", path: "/api/tasks/{task}", as: "alice",
			headers: map[string]string{"If-Match": `"1"`}, wantStatus: 204, wantEvents: deleted,
			check: func(t *testing.T, e *env, res *httptest.ResponseRecorder, evs []authdash.Event) {
				if got := e.do("GET", "/api/tasks/"+string(evs[0].TaskID), "", nil, "alice"); got.Code != 404 {
					t.Errorf("deleted task still answers %d", got.Code)
				}
			}},
		{name: "DeleteUnconditional", method: "DELETE", path: "/api/tasks/{task}", as: "alice", wantStatus: 204, wantEvents: deleted},
		{name: "ErrDeleteStale", method: "DELETE", path: "/api/tasks/{task}", as: "alice",
			headers: map[string]string{"If-Match": `"2"`}, wantStatus: 412, wantProblemCode: "precondition_failed"},
		{name: "DeleteIfMatchList", method: "DELETE", path: "/api/tasks/{task}", as: "alice",
			headers: map[string]string{"If-Match": `"3", "1"`}, wantStatus: 204, wantEvents: deleted},
		{name: "ErrDeleteIfMatchListStale", method: "DELETE", path: "/api/tasks/{task}", as: "alice",
			headers: map[string]string{"If-Match": `"2", "3"`}, wantStatus: 412, wantProblemCode: "precondition_failed"},
		{name: "ErrDeleteOthersTask", method: "DELETE", path: "/api/tasks/{bobTask}", as: "alice", wantStatus: 404, wantProblemCode: "not_found"},
		{name: "ErrDeleteTwice", method: "DELETE", path: "/api/tasks/{task}", as: "alice", wantStatus: 404, wantProblemCode: "not_found",
			setup: func(t *testing.T, e *env, s *scenario) {
				if res := e.do("DELETE", s.path, "", nil, "alice"); res.Code != 204 {
					t.Fatalf("first delete: %d", res.Code)
				}
			}},

		// Routing
		{name: "ErrMethodNotAllowed", method: "PUT", path: "/api/tasks/{task}", as: "alice", body: `{}`,
			wantStatus: 405, wantProblemCode: "method_not_allowed", check: wantAllow("GET, HEAD, PATCH, DELETE")},
		{name: "ErrMethodNotAllowedList", method: "DELETE", path: "/api/tasks", as: "alice",
			wantStatus: 405, wantProblemCode: "method_not_allowed", check: wantAllow("GET, HEAD, POST")},
		{name: "HeadOK", method: "HEAD", path: "/api/tasks/{task}", as: "alice", wantStatus: 200,
			check: func(t *testing.T, e *env, res *httptest.ResponseRecorder, evs []authdash.Event) {
				if res.Header().Get("ETag") != `"1"` {
					t.Errorf("ETag %q, want the GET's", res.Header().Get("ETag"))
				}
			}},
		{name: "ErrUnknownEndpoint", method: "GET", path: "/api/nothing-here", as: "alice", wantStatus: 404, wantProblemCode: "not_found"},
	})
}

// wantAllow checks a 405's Allow header (RFC 9110 requires it).
func wantAllow(methods string) func(*testing.T, *env, *httptest.ResponseRecorder, []authdash.Event) {
	return func(t *testing.T, e *env, res *httptest.ResponseRecorder, evs []authdash.Event) {
		if got := res.Header().Get("Allow"); got != methods {
			t.Errorf("Allow %q, want %q", got, methods)
		}
	}
}

func manyTags(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,"tag%d"`, i)
	}
	return b.String()
}

func TestListTasks(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	e.mustUser(t, "bob")
	for _, d := range []authdash.TaskDraft{
		{Title: "Buy milk", Status: authdash.StatusTodo, Priority: authdash.PriorityLow, Tags: []string{"home"}},
		{Title: "Ship release", Description: "tag v2 and 100% done", Status: authdash.StatusInProgress, Priority: authdash.PriorityHigh, Tags: []string{"work"}},
		{Title: "File taxes", Status: authdash.StatusDone, Priority: authdash.PriorityHigh, Tags: []string{"home", "Money"}},
	} {
		if _, err := e.tasks.Create(context.Background(), e.users["alice"].ID, d); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Millisecond) // newest first is then one order
	}
	e.mustTask(t, "bob", "Bob's secret milk plan")

	titles := func(want ...string) func(*testing.T, *env, *httptest.ResponseRecorder, []authdash.Event) {
		return func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
			var page authdash.TaskPage
			mustDecode(t, res.Body.Bytes(), &page)
			var got []string
			for _, it := range page.Items {
				got = append(got, it.Title)
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("titles %q, want %q", got, want)
			}
		}
	}
	e.runScenarios(t, []scenario{
		{name: "AllNewestFirst", method: "GET", path: "/api/tasks", as: "alice", wantStatus: 200,
			wantBody: []string{`"nextCursor":""`}, check: titles("File taxes", "Ship release", "Buy milk")},
		{name: "Search", method: "GET", path: "/api/tasks?q=MILK", as: "alice", wantStatus: 200, check: titles("Buy milk")},
		{name: "SearchIsLiteral", method: "GET", path: "/api/tasks?q=" + url.QueryEscape("100%"), as: "alice", wantStatus: 200, check: titles("Ship release")},
		{name: "FilterStatus", method: "GET", path: "/api/tasks?status=done", as: "alice", wantStatus: 200, check: titles("File taxes")},
		{name: "FilterPriorityAndTag", method: "GET", path: "/api/tasks?priority=high&tag=money", as: "alice", wantStatus: 200, check: titles("File taxes")},
		{name: "SortTitleAsc", method: "GET", path: "/api/tasks?sort=title&order=asc", as: "alice", wantStatus: 200,
			check: titles("Buy milk", "File taxes", "Ship release")},
		{name: "Empty", method: "GET", path: "/api/tasks?q=nothing-matches", as: "alice", wantStatus: 200, wantBody: []string{`"items":[]`}},
		{name: "DueWindow", method: "GET", path: "/api/tasks?dueAfter=2020-01-01T00:00:00Z&dueBefore=2030-01-01T00:00:00Z", as: "alice",
			wantStatus: 200, wantBody: []string{`"items":[]`}},
		{name: "ErrBadParams", method: "GET", path: "/api/tasks?limit=abc&status=later&dueBefore=yesterday&bogus=1&sort=size", as: "alice",
			wantStatus: 400, wantProblemCode: "invalid",
			wantBody: []string{`"limit":`, `"status":`, `"dueBefore":`, `"bogus":`, `"sort":`}},
		// Every bad query parameter is said to be one, whether the
		// handler or TaskService found it.
		{name: "ErrLimitZero", method: "GET", path: "/api/tasks?limit=0", as: "alice", wantStatus: 400, wantProblemCode: "invalid",
			wantBody: []string{queryDetail}, check: wantField("limit")},
		{name: "ErrLimitTooBig", method: "GET", path: "/api/tasks?limit=101", as: "alice", wantStatus: 400, wantProblemCode: "invalid",
			wantBody: []string{queryDetail}, check: wantField("limit")},
		{name: "ErrSearchTooLong", method: "GET", path: "/api/tasks?q=" + strings.Repeat("a", 501), as: "alice", wantStatus: 400, wantProblemCode: "invalid",
			wantBody: []string{queryDetail}, check: wantField("q")},
		{name: "ErrRepeatedParam", method: "GET", path: "/api/tasks?status=done&status=todo", as: "alice", wantStatus: 400, wantProblemCode: "invalid", check: wantField("status")},
		// Go's own query parser drops these pairs silently, so the filter
		// would be ignored and the answer look valid.
		{name: "ErrSemicolonInValue", method: "GET", path: "/api/tasks?status=done;", as: "alice", wantStatus: 400, wantProblemCode: "invalid", check: wantField("status")},
		{name: "ErrSemicolonAfterLimit", method: "GET", path: "/api/tasks?limit=1;x", as: "alice", wantStatus: 400, wantProblemCode: "invalid", check: wantField("limit")},
		{name: "ErrSemicolonSeparator", method: "GET", path: "/api/tasks?status=done;priority=high", as: "alice", wantStatus: 400, wantProblemCode: "invalid", check: wantField("status")},
		{name: "ErrBadEscape", method: "GET", path: "/api/tasks?q=%zz", as: "alice", wantStatus: 400, wantProblemCode: "invalid", check: wantField("q")},
		{name: "EscapedSemicolonIsText", method: "GET", path: "/api/tasks?q=%3B", as: "alice", wantStatus: 200, wantBody: []string{`"items":[]`}},
		{name: "EmptyPairsIgnored", method: "GET", path: "/api/tasks?&status=done&&", as: "alice", wantStatus: 200, check: titles("File taxes")},
		{name: "ErrBadCursor", method: "GET", path: "/api/tasks?cursor=garbage", as: "alice", wantStatus: 400, wantProblemCode: "invalid",
			wantBody: []string{queryDetail}, check: wantField("cursor")},
		{name: "ErrAnonymous", method: "GET", path: "/api/tasks", wantStatus: 401, wantProblemCode: "unauthorized"},
		{name: "Stats", method: "GET", path: "/api/tasks/stats", as: "alice", wantStatus: 200,
			wantBody: []string{`"todo":1`, `"inProgress":1`, `"done":1`, `"total":3`}},
		{name: "StatsOfOtherUser", method: "GET", path: "/api/tasks/stats", as: "bob", wantStatus: 200, wantBody: []string{`"total":1`}},
	})
}

// queryDetail is the problem detail of a list's bad query parameters.
const queryDetail = `"detail":"Some query parameters are not valid."`

// TestPaginationStable pages through a list while tasks are added and
// removed between pages: no task is seen twice, and every task that existed
// throughout is seen once.
func TestPaginationStable(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	for _, sort := range []string{"created", "title", "priority"} {
		t.Run(sort, func(t *testing.T) {
			var ids []authdash.TaskID
			for i := range 25 {
				ids = append(ids, e.mustTask(t, "alice", fmt.Sprintf("%s task %02d", sort, (i*7)%25)).ID)
			}
			stay := map[authdash.TaskID]bool{}
			for _, id := range ids {
				stay[id] = true
			}
			seen := map[authdash.TaskID]int{}
			cursor, pages := "", 0
			for {
				path := "/api/tasks?limit=4&order=asc&sort=" + sort + "&q=" + url.QueryEscape(sort+" task")
				if cursor != "" {
					path += "&cursor=" + url.QueryEscape(cursor)
				}
				res := e.do("GET", path, "", nil, "alice")
				if res.Code != 200 {
					t.Fatalf("page %d: %d %s", pages, res.Code, res.Body)
				}
				var page authdash.TaskPage
				mustDecode(t, res.Body.Bytes(), &page)
				for _, it := range page.Items {
					seen[it.ID]++
				}
				pages++
				if page.NextCursor == "" {
					break
				}
				cursor = page.NextCursor
				// Between pages: one new task, and one not yet seen removed.
				e.mustTask(t, "alice", fmt.Sprintf("%s task %02d new", sort, pages))
				for _, id := range ids {
					if stay[id] && seen[id] == 0 {
						if err := e.tasks.Delete(context.Background(), e.users["alice"].ID, id, 0); err != nil {
							t.Fatal(err)
						}
						delete(stay, id)
						break
					}
				}
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("task %s seen %d times", id, n)
				}
			}
			for id := range stay {
				if seen[id] != 1 {
					t.Errorf("task %s that existed throughout was skipped", id)
				}
			}
			if pages < 3 {
				t.Errorf("only %d pages", pages)
			}
			// Clean up for the next sort.
			for id := range seen {
				e.tasks.Delete(context.Background(), e.users["alice"].ID, id, 0)
			}
			res := e.do("GET", "/api/tasks?limit=100", "", nil, "alice")
			var page authdash.TaskPage
			mustDecode(t, res.Body.Bytes(), &page)
			for _, it := range page.Items {
				e.tasks.Delete(context.Background(), e.users["alice"].ID, it.ID, 0)
			}
		})
	}
}

// TestTaskResponsesAreGzipped checks compression end to end on a real list.
func TestTaskResponsesAreGzipped(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	for i := range 10 {
		e.mustTask(t, "alice", fmt.Sprintf("task number %d with a reasonably long title", i))
	}
	res := e.do("GET", "/api/tasks", "", map[string]string{"Accept-Encoding": "gzip, br"}, "alice")
	if res.Code != http.StatusOK || res.Header().Get("Content-Encoding") != "gzip" || res.Header().Get("Content-Length") != "" {
		t.Fatalf("status %d headers %v", res.Code, res.Header())
	}
	body := gunzip(t, res.Body.Bytes())
	if !strings.Contains(body, "reasonably long title") {
		t.Errorf("body %s", body)
	}
	// A small answer is not worth compressing.
	res = e.do("GET", "/api/tasks/stats", "", map[string]string{"Accept-Encoding": "gzip"}, "alice")
	if res.Header().Get("Content-Encoding") != "" || !strings.Contains(res.Body.String(), `"total":10`) {
		t.Errorf("stats: headers %v body %s", res.Header(), res.Body)
	}
}
