package server_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// wantFieldSays checks a problem's error on field says what.
func wantFieldSays(field, what string) func(*testing.T, *env, *httptest.ResponseRecorder, []authdash.Event) {
	return func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
		t.Helper()
		var p wire.Problem
		mustDecode(t, res.Body.Bytes(), &p)
		if !strings.Contains(p.Errors[field], what) {
			t.Errorf("problem errors %v: %q does not say %q", p.Errors, field, what)
		}
	}
}

// TestPasswordPolicy: sign-up and a password change refuse a password that
// is common, trivially guessable, made of the person's own email or name,
// or only spaces, with the reason on the field (review finding 9: before,
// "password" and eight spaces were accepted).
func TestPasswordPolicy(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	register := func(password string) string {
		return `{"email":"zebulon@fairweather.example","name":"Zebulon Fairweather","password":"` + password + `"}`
	}
	change := func(password string) string {
		return `{"currentPassword":"` + e.users["alice"].Password + `","newPassword":"` + password + `"}`
	}
	e.runScenarios(t, []scenario{
		{name: "ErrSignUpCommon", method: "POST", path: "/api/auth/register", body: register("password"),
			wantStatus: 400, wantProblemCode: authdash.CodeInvalid, check: wantFieldSays("password", "100 most common passwords")},
		{name: "ErrSignUpEightSpaces", method: "POST", path: "/api/auth/register", body: register("        "),
			wantStatus: 400, wantProblemCode: authdash.CodeInvalid, check: wantFieldSays("password", "only spaces")},
		{name: "ErrSignUpOnlyWhitespace", method: "POST", path: "/api/auth/register", body: register(`\t \u00a0 \u3000 \t  `),
			wantStatus: 400, wantProblemCode: authdash.CodeInvalid, check: wantFieldSays("password", "only spaces")},
		{name: "ErrSignUpKeyboard", method: "POST", path: "/api/auth/register", body: register("qwertyuiop"),
			wantStatus: 400, wantProblemCode: authdash.CodeInvalid, check: wantFieldSays("password", "Too easy to guess")},
		{name: "ErrSignUpOwnName", method: "POST", path: "/api/auth/register", body: register("ZebulonFairweather"),
			wantStatus: 400, wantProblemCode: authdash.CodeInvalid, check: wantFieldSays("password", "your email address or name")},
		{name: "SignUpStrong", method: "POST", path: "/api/auth/register", body: register("correct horse battery"),
			wantStatus: 201},
		{name: "ErrChangeCommon", method: "POST", path: "/api/me/password", as: "alice", body: change("iloveyou1"),
			wantStatus: 400, wantProblemCode: authdash.CodeInvalid, check: wantFieldSays("newPassword", "commonly used password")},
		{name: "ErrChangeOwnEmail", method: "POST", path: "/api/me/password", as: "alice", body: change("alice@example.com"),
			wantStatus: 400, wantProblemCode: authdash.CodeInvalid, check: wantFieldSays("newPassword", "your email address or name")},
		{name: "ErrChangeSpaces", method: "POST", path: "/api/me/password", as: "alice", body: change("            "),
			wantStatus: 400, wantProblemCode: authdash.CodeInvalid, check: wantFieldSays("newPassword", "only spaces")},
		{name: "ChangeStrong", method: "POST", path: "/api/me/password", as: "alice", body: change("a brand new passphrase"),
			wantStatus: 204, wantEvents: []authdash.EventKind{authdash.EventSessionsRevoked}},
	})
}

// TestEmailLookalikes: an address written with fullwidth or other
// compatibility forms is the same address: sign-in finds the account, and
// sign-up with it is a conflict, not a second account (review finding 9).
func TestEmailLookalikes(t *testing.T) {
	e := mustEnv(t)
	res := e.do("POST", "/api/auth/register", `{"email":"user@example.com","name":"User","password":"correct horse battery"}`, nil, "")
	if res.Code != 201 {
		t.Fatalf("register: %d %s", res.Code, res.Body)
	}
	var g wire.Grant
	mustDecode(t, res.Body.Bytes(), &g)
	e.runScenarios(t, []scenario{
		{name: "SignInFullwidth", method: "POST", path: "/api/auth/login", body: `{"email":"ｕｓｅｒ＠ｅｘａｍｐｌｅ.ｃｏｍ","password":"correct horse battery"}`,
			wantStatus: 200, check: func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				var got wire.Grant
				mustDecode(t, res.Body.Bytes(), &got)
				if got.User.ID != g.User.ID {
					t.Errorf("signed in as %s, want %s", got.User.ID, g.User.ID)
				}
			}},
		{name: "ErrSignUpFullwidth", method: "POST", path: "/api/auth/register", body: `{"email":"ＵＳＥＲ＠example.com","name":"Impostor","password":"correct horse battery"}`,
			wantStatus: 409, wantProblemCode: authdash.CodeConflict, check: wantField("email")},
		{name: "ErrSignUpFullwidthLocalPart", method: "POST", path: "/api/auth/register", body: `{"email":"ｕｓｅｒ@example.com","name":"Impostor","password":"correct horse battery"}`,
			wantStatus: 409, wantProblemCode: authdash.CodeConflict, check: wantField("email")},
	})
}
