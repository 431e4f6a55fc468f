package server_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authdash/authdash"
)

func TestMe(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	e.mustUser(t, "bob")
	updated := []authdash.EventKind{authdash.EventUserUpdated}

	e.runScenarios(t, []scenario{
		// GET /api/me
		{name: "GetOK", method: "GET", path: "/api/me", as: "alice", wantStatus: 200,
			wantBody: []string{`"email":"alice@example.com"`, `"name":"alice"`, `"version":1`},
			check: func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				if strings.Contains(strings.ToLower(res.Body.String()), "password") || strings.Contains(res.Body.String(), "$argon2") {
					t.Errorf("profile leaks the password hash: %s", res.Body)
				}
			}},
		{name: "ErrGetAnonymous", method: "GET", path: "/api/me", wantStatus: 401, wantProblemCode: "unauthorized"},

		// PATCH /api/me
		{name: "PatchName", method: "PATCH", path: "/api/me", as: "alice", body: `{"name":"  Alice A. "}`,
			wantStatus: 200, wantEvents: updated, wantBody: []string{`"name":"Alice A."`, `"version":2`},
			check: func(t *testing.T, _ *env, _ *httptest.ResponseRecorder, evs []authdash.Event) {
				if evs[0].User == nil || evs[0].User.Name != "Alice A." {
					t.Errorf("event %+v", evs[0])
				}
			}},
		// The email changes only through POST /api/me/email (account_test.go); the
		// address the account has is no change, so a form may send it back.
		{name: "ErrPatchEmail", method: "PATCH", path: "/api/me", as: "alice", body: `{"email":" Alice.New@Example.com ","name":"Alice"}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{"POST /api/me/email"}, check: wantField("email")},
		{name: "ErrPatchEmailTaken", method: "PATCH", path: "/api/me", as: "alice", body: `{"email":"BOB@example.com"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("email")},
		{name: "PatchSameEmail", method: "PATCH", path: "/api/me", as: "alice", body: `{"email":" ALICE@example.com ","name":"Alice B."}`,
			wantStatus: 200, wantEvents: updated, wantBody: []string{`"email":"alice@example.com"`, `"name":"Alice B."`}},
		{name: "PatchSameEmailOnly", method: "PATCH", path: "/api/me", as: "alice", body: `{"email":"alice@example.com"}`,
			wantStatus: 200, wantBody: []string{`"email":"alice@example.com"`}},
		{name: "ErrPatchInvalid", method: "PATCH", path: "/api/me", as: "alice", body: `{"name":""}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{`"name":`}},
		{name: "ErrPatchNothing", method: "PATCH", path: "/api/me", as: "alice", body: `{}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{"changes nothing"}},
		{name: "ErrPatchPasswordHere", method: "PATCH", path: "/api/me", as: "alice", body: `{"password":"new password"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("password")},
		{name: "ErrPatchWrongType", method: "PATCH", path: "/api/me", as: "alice", body: `{"name":["A"]}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("name")},
		{name: "ErrPatchAnonymous", method: "PATCH", path: "/api/me", body: `{"name":"X"}`, wantStatus: 401, wantProblemCode: "unauthorized"},

		// POST /api/me/password
		{name: "ChangePassword", method: "POST", path: "/api/me/password",
			setup: func(t *testing.T, e *env, s *scenario) {
				u := e.mustUser(t, "carol")
				other, _ := e.login(t, "carol", true)
				s.as = "carol"
				s.body = `{"currentPassword":"` + u.Password + `","newPassword":"a brand new passphrase"}`
				s.check = func(t *testing.T, e *env, _ *httptest.ResponseRecorder, evs []authdash.Event) {
					if evs[0].Keep == "" {
						t.Errorf("revocation keeps no session: %+v", evs[0])
					}
					if code := e.refreshWith(other); code != 401 {
						t.Errorf("another device still refreshes: %d", code)
					}
					if code := e.refreshWith(u.Refresh); code != 200 {
						t.Errorf("this device was signed out: %d", code)
					}
					res := e.do("POST", "/api/auth/login", `{"email":"carol@example.com","password":"a brand new passphrase"}`, nil, "")
					if res.Code != 200 {
						t.Errorf("login with the new password: %d", res.Code)
					}
				}
			},
			wantStatus: 204, wantEvents: []authdash.EventKind{authdash.EventSessionsRevoked}},
		{name: "ErrChangePasswordWrongCurrent", method: "POST", path: "/api/me/password", as: "bob",
			body:       `{"currentPassword":"not it at all","newPassword":"a brand new passphrase"}`,
			wantStatus: 403, wantProblemCode: "forbidden", check: wantField("currentPassword")},
		{name: "ErrChangePasswordTooShort", method: "POST", path: "/api/me/password", as: "bob",
			body:       `{"currentPassword":"pw-bob-long-enough","newPassword":"short"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("newPassword")},
		{name: "ErrChangePasswordMissing", method: "POST", path: "/api/me/password", as: "bob", body: `{}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{`"currentPassword":`, `"newPassword":`}},
		{name: "ErrChangePasswordAnonymous", method: "POST", path: "/api/me/password",
			body: `{"currentPassword":"x","newPassword":"a brand new passphrase"}`, wantStatus: 401, wantProblemCode: "unauthorized"},

		// DELETE /api/me
		{name: "DeleteAccount", method: "DELETE", path: "/api/me",
			setup: func(t *testing.T, e *env, s *scenario) {
				u := e.mustUser(t, "dave")
				e.mustTask(t, "dave", "doomed")
				s.as = "dave"
				s.body = `{"password":"` + u.Password + `"}`
				s.check = func(t *testing.T, e *env, res *httptest.ResponseRecorder, evs []authdash.Event) {
					wantCookieCleared(t, e, res, evs)
					if code := e.refreshWith(u.Refresh); code != 401 {
						t.Errorf("refresh after delete: %d", code)
					}
					if res := e.do("POST", "/api/auth/login", `{"email":"dave@example.com","password":"`+u.Password+`"}`, nil, ""); res.Code != 401 {
						t.Errorf("login after delete: %d", res.Code)
					}
					if n, err := e.store.TaskStats(t.Context(), u.ID); err != nil || n.Total != 0 {
						t.Errorf("tasks left: %+v %v", n, err)
					}
				}
			},
			wantStatus: 204, wantEvents: []authdash.EventKind{authdash.EventUserDeleted}},
		{name: "ErrDeleteWithoutBody", method: "DELETE", path: "/api/me", as: "bob",
			headers: map[string]string{"Content-Type": "application/json"}, wantStatus: 400, wantProblemCode: "invalid"},
		{name: "ErrDeleteWithoutPassword", method: "DELETE", path: "/api/me", as: "bob", body: `{}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("password")},
		{name: "ErrDeleteWrongPassword", method: "DELETE", path: "/api/me", as: "bob", body: `{"password":"guess"}`,
			wantStatus: 403, wantProblemCode: "forbidden", check: wantField("password")},
		{name: "ErrDeleteAnonymous", method: "DELETE", path: "/api/me", body: `{"password":"x"}`, wantStatus: 401, wantProblemCode: "unauthorized"},
	})
}
