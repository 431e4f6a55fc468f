package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// The fuzz targets below send what a client can send through the real
// handler over a SQLite file: whatever the input, the answer is never a
// 5xx, and every refusal is a problem document whose status is the
// response's. Each request comes from its own address, so the per-address
// limits do not turn every input after the first few into a 429.

// fuzzEnv is one API with alice signed up and a task of hers.
type fuzzEnv struct {
	*env
	task authdash.TaskID
	addr atomic.Uint32
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	e := &fuzzEnv{env: mustEnv(f)}
	e.mustUser(f, "alice")
	e.mustUser(f, "bob")
	e.task = e.mustTask(f, "alice", "alice's task").ID
	return e
}

// send makes one request: body as is, headers set (Content-Type JSON unless
// given), alice's token when as is "alice".
func (e *fuzzEnv) send(t *testing.T, method, target, body string, headers map[string]string, as string) *httptest.ResponseRecorder {
	t.Helper()
	// A server always hands a handler a body, http.NoBody when empty.
	var rd io.Reader = http.NoBody
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://api.test"+target, rd)
	if err != nil {
		t.Skip("not a request a client can send:", err)
	}
	n := e.addr.Add(1)
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", byte(n>>16), byte(n>>8), byte(n))
	req.Header.Set("Content-Type", "application/json")
	if as != "" {
		req.Header.Set("Authorization", "Bearer "+e.users[as].Token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res := httptest.NewRecorder()
	e.h.ServeHTTP(res, req)
	checkAnswer(t, req, res)
	return res
}

// checkAnswer: never a 5xx; a 4xx is a problem document.
func checkAnswer(t *testing.T, req *http.Request, res *httptest.ResponseRecorder) {
	t.Helper()
	if res.Code >= 500 {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, res.Code, res.Body)
	}
	if res.Code < 400 {
		return
	}
	if ct := res.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s %s: %d with Content-Type %q: %s", req.Method, req.URL, res.Code, ct, res.Body)
	}
	var p wire.Problem
	if err := json.Unmarshal(res.Body.Bytes(), &p); err != nil || p.Status != res.Code || p.Code == "" || p.Detail == "" {
		t.Fatalf("%s %s: %d, not a problem document (%v): %s", req.Method, req.URL, res.Code, err, res.Body)
	}
}

// taskBodies are drafts and patches, well and badly formed.
var taskBodies = []string{
	`{"title":"Write the report","description":"by Friday","status":"todo","priority":"high","tags":["work","q3"],"dueDate":"2026-12-31T12:00:00Z"}`,
	`{"title":"x","dueDate":"9999-12-31T23:59:59.999Z"}`,
	`{"title":"x","dueDate":"10000-01-01T00:00:00Z"}`,
	`{"title":"x","dueDate":"0000-01-01T00:00:00Z"}`,
	`{"title":"x","dueDate":null}`,
	`{"title":"a","Title":"b"}`,
	`{"title":"a","title":"b"}`,
	`{"title":"\u0000\u001b[2J"}`,
	`{"description":"line\nnext\ttab\u0085"}`,
	`{"title":"x","tags":["a","A"]}`,
	`{"title":"x","tags":[null,1,{}]}`,
	`{"title":"x","id":"665f1c2e8b3a4d5e6f708192","owner":"someone","version":99}`,
	`{"title":"` + strings.Repeat("é", 300) + `"}`,
	`{"title":"x","priority":"urgent","status":"DONE"}`,
	`{"title":1e999}`,
	`{"title":"x"} {"title":"y"}`,
	`[{"title":"x"}]`, `null`, `{}`, `{`, `"x"`, ``,
	"{\"title\":\"\xff\xfe\"}",
}

func FuzzCreateTask(f *testing.F) {
	e := newFuzzEnv(f)
	for _, b := range taskBodies {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		res := e.send(t, http.MethodPost, "/api/tasks", body, nil, "alice")
		if res.Code != http.StatusCreated {
			return
		}
		// What was stored reads back as it was answered.
		var created authdash.Task
		if err := json.Unmarshal(res.Body.Bytes(), &created); err != nil || created.ID == "" {
			t.Fatalf("201 without a task (%v): %s", err, res.Body)
		}
		got := e.send(t, http.MethodGet, "/api/tasks/"+string(created.ID), "", nil, "alice")
		if got.Code != http.StatusOK || got.Body.String() != res.Body.String() {
			t.Fatalf("created %s, read back %d %s", res.Body, got.Code, got.Body)
		}
	})
}

func FuzzUpdateTask(f *testing.F) {
	e := newFuzzEnv(f)
	for _, b := range taskBodies {
		f.Add(b, `"1"`)
	}
	for _, m := range []string{"", "*", "1", `W/"1"`, `"0"`, `"-1"`, `"9223372036854775808"`, `"1", "2"`, `"`, `""`, "W/", " \"1\" "} {
		f.Add(`{"status":"done"}`, m)
	}
	f.Fuzz(func(t *testing.T, body, ifMatch string) {
		h := map[string]string{}
		if ifMatch != "" {
			h["If-Match"] = ifMatch
		}
		res := e.send(t, http.MethodPatch, "/api/tasks/"+string(e.task), body, h, "alice")
		if res.Code == http.StatusOK && res.Header().Get("ETag") == "" {
			t.Fatalf("200 without an ETag: %s", res.Body)
		}
		// Bob can never touch it, whatever he sends.
		if res := e.send(t, http.MethodPatch, "/api/tasks/"+string(e.task), body, h, "bob"); res.Code < 400 {
			t.Fatalf("bob's PATCH of alice's task: %d %s", res.Code, res.Body)
		}
	})
}

func FuzzListTasks(f *testing.F) {
	e := newFuzzEnv(f)
	for _, q := range []string{
		"", "status=done", "status=done;", "limit=1;x", "limit=100&sort=title&order=asc",
		"q=%25%5F%5C&tag=work", "q=%ff%fe", "q=.*&tag=$ne", "dueBefore=2026-01-01T00:00:00Z&dueAfter=9999-12-31T23:59:59.999Z",
		"sort=due&order=desc&cursor=" + authdash.Cursor{Sort: authdash.SortDue, Order: authdash.Desc, ID: "t1", Int: authdash.NoDue}.Encode(),
		"cursor=" + authdash.Cursor{Sort: authdash.SortTitle, Order: authdash.Asc, ID: "t1"}.Encode(),
		"limit=0", "limit=-1", "limit=99999999999999999999", "status=todo&status=done", "STATUS=todo", "a&&b", "%", "=x", "q=a+b%20c",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if strings.ContainsAny(raw, "# \t\r\n") {
			return // not in a request line
		}
		res := e.send(t, http.MethodGet, "/api/tasks?"+raw, "", nil, "alice")
		if res.Code != http.StatusOK {
			return
		}
		var page authdash.TaskPage
		if err := json.Unmarshal(res.Body.Bytes(), &page); err != nil {
			t.Fatalf("200 without a page (%v): %s", err, res.Body)
		}
		// Bob's list, asked the same way, never holds alice's task.
		res = e.send(t, http.MethodGet, "/api/tasks?"+raw, "", nil, "bob")
		if res.Code == http.StatusOK {
			page = authdash.TaskPage{}
			if err := json.Unmarshal(res.Body.Bytes(), &page); err != nil {
				t.Fatalf("200 without a page (%v): %s", err, res.Body)
			}
			for _, it := range page.Items {
				if it.ID == e.task {
					t.Fatalf("bob's list holds alice's task: %s", res.Body)
				}
			}
		}
		e.send(t, http.MethodGet, "/api/tasks/stats?"+raw, "", nil, "alice")
	})
}

func FuzzRefresh(f *testing.F) {
	e := newFuzzEnv(f)
	f.Add("", `{"refreshToken":"`+e.users["alice"].Refresh+`x"}`, "token")
	f.Add("authdash_refresh=abc", `{"raced":true}`, "cookie")
	f.Add("authdash_refresh=abc; authdash_refresh=def", ``, "")
	f.Add("authdash_refresh=\"quoted\"", `{"refreshToken":null}`, "token")
	f.Add("", `{"refreshToken":"a","refreshToken":"b"}`, "token")
	f.Add("", `{"refreshToken":"`+strings.Repeat("A", 5000)+`"}`, "token")
	f.Add("", `{"refreshToken":"AAAA.BBBB"}`, "TOKEN")
	f.Fuzz(func(t *testing.T, cookie, body, mode string) {
		h := map[string]string{}
		if cookie != "" {
			h["Cookie"] = cookie
		}
		if mode != "" {
			h[wire.HeaderAuthMode] = mode
		}
		res := e.send(t, http.MethodPost, "/api/auth/refresh", body, h, "")
		if res.Code < 300 {
			// Only alice's real token refreshes, and it is not in play.
			t.Fatalf("refresh with cookie %q body %q: %d %s", cookie, body, res.Code, res.Body)
		}
	})
}

func FuzzProfile(f *testing.F) {
	e := newFuzzEnv(f)
	for _, b := range []string{
		`{"name":"Alice"}`, `{"name":""}`, `{"name":"a","Name":"b"}`, `{"name":"\u0000"}`, `{"name":"` + strings.Repeat("x", 200) + `"}`,
		`{"email":"bob@example.com"}`, `{"id":"x","role":"admin"}`, `{"name":null}`, `{}`, `[]`, `{"name":"\ud800"}`,
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		res := e.send(t, http.MethodPatch, "/api/me", body, nil, "alice")
		if res.Code == http.StatusOK {
			var u authdash.User
			if err := json.Unmarshal(res.Body.Bytes(), &u); err != nil || u.ID != e.users["alice"].ID {
				t.Fatalf("200 is not alice (%v): %s", err, res.Body)
			}
		}
	})
}

func FuzzRegister(f *testing.F) {
	e := newFuzzEnv(f)
	for _, b := range []string{
		`{"email":"new@example.com","password":"a long enough passphrase 42","name":"New"}`,
		`{"email":"ALICE@example.com","password":"a long enough passphrase 42","name":"A"}`,
		`{"email":"ａｌｉｃｅ＠ｅｘａｍｐｌｅ.ｃｏｍ","password":"a long enough passphrase 42","name":"A"}`,
		`{"email":"x@example.com","password":"        ","name":"x"}`,
		`{"email":"x@example.com","password":"password","name":"x"}`,
		`{"email":"x@example.com","Email":"y@example.com","password":"a long enough passphrase 42"}`,
		`{"email":"\u0000@x","password":"p"}`, `{"email":"` + strings.Repeat("a", 300) + `@x.com"}`, `{}`, `null`,
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		e.send(t, http.MethodPost, "/api/auth/register", body, map[string]string{wire.HeaderAuthMode: wire.AuthModeToken}, "")
	})
}
