package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/internal/passkeytest"
	"github.com/authdash/authdash/wire"
)

var tokenMode = map[string]string{wire.HeaderAuthMode: wire.AuthModeToken}

// addPasskey registers a new passkey of a for name through the API.
func (e *env) addPasskey(tb testing.TB, a *passkeytest.Authenticator, name, keyName string) (*passkeytest.Key, wire.Passkey) {
	tb.Helper()
	res := e.do("POST", "/api/me/passkeys/begin", "", nil, name)
	if res.Code != 200 {
		tb.Fatalf("begin: %d %s", res.Code, res.Body)
	}
	cred, key, err := a.Create(res.Body.Bytes())
	if err != nil {
		tb.Fatal(err)
	}
	res = e.do("POST", "/api/me/passkeys/finish", registration(keyName, cred), nil, name)
	if res.Code != http.StatusCreated {
		tb.Fatalf("finish: %d %s", res.Code, res.Body)
	}
	var p wire.Passkey
	mustDecode(tb, res.Body.Bytes(), &p)
	return key, p
}

func registration(name string, cred json.RawMessage) string {
	b, _ := json.Marshal(wire.PasskeyRegistration{Name: name, Credential: cred})
	return string(b)
}

func passkeyLogin(mfaToken string, cred json.RawMessage) string {
	b, _ := json.Marshal(wire.PasskeyLogin{MFAToken: mfaToken, Credential: cred})
	return string(b)
}

// beginLogin asks for a sign-in's options (body "" for a passkey alone).
func (e *env) beginLogin(tb testing.TB, body string) []byte {
	tb.Helper()
	res := e.do("POST", "/api/auth/passkey/begin", body, nil, "")
	if res.Code != 200 {
		tb.Fatalf("begin sign-in: %d %s", res.Code, res.Body)
	}
	return res.Body.Bytes()
}

func lastSignIn(tb testing.TB, e *env, name string) authdash.SignInEvent {
	tb.Helper()
	res := e.do("GET", "/api/me/activity", "", nil, name)
	var l wire.SignInList
	mustDecode(tb, res.Body.Bytes(), &l)
	if len(l.Items) == 0 {
		tb.Fatal("no sign-in activity")
	}
	return l.Items[0]
}

func TestPasskeys(t *testing.T) {
	e := mustEnv(t, withAuth(func(c *auth.Config) { c.MFAKey = testMFAKey }))
	alice := e.mustUser(t, "alice")
	e.mustUser(t, "bob")
	a := &passkeytest.Authenticator{Origin: "http://localhost:8080", UserVerified: true, BackupEligible: true}
	key, p := e.addPasskey(t, a, "alice", " Laptop ")
	if p.Name != "Laptop" || p.ID == "" || !p.BackupEligible || p.BackupState || p.LastUsedAt != nil {
		t.Fatalf("registered %+v", p)
	}

	t.Run("RegistrationErrs", func(t *testing.T) {
		res := e.do("POST", "/api/me/passkeys/begin", "", nil, "alice")
		cred, _, err := a.Create(res.Body.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, body, as string
			status         int
			field          string
		}{
			{"NoName", registration("  ", cred), "alice", 400, "name"},
			{"NoCredential", `{"name":"x"}`, "alice", 400, "credential"},
			{"NotAnAnswer", registration("x", json.RawMessage(`{"id":"abc"}`)), "alice", 400, "credential"},
			// A ceremony is its user's: bob cannot finish alice's.
			{"AnotherUsersCeremony", registration("x", cred), "bob", 400, "credential"},
			{"Anonymous", registration("x", cred), "", 401, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				res := e.do("POST", "/api/me/passkeys/finish", c.body, nil, c.as)
				if res.Code != c.status {
					t.Fatalf("%d %s, want %d", res.Code, res.Body, c.status)
				}
				pr := wantProblem(t, res, map[int]authdash.ErrorCode{400: authdash.CodeInvalid, 401: authdash.CodeUnauthorized}[c.status])
				if c.field != "" && pr.Errors[c.field] == "" {
					t.Errorf("errors %v lack %q", pr.Errors, c.field)
				}
			})
		}
		// bob's attempt spent the challenge: alice cannot finish it either.
		res = e.do("POST", "/api/me/passkeys/finish", registration("x", cred), nil, "alice")
		wantProblem(t, res, authdash.CodeInvalid)
	})

	t.Run("WrongOrigin", func(t *testing.T) {
		evil := &passkeytest.Authenticator{Origin: "https://evil.example", UserVerified: true}
		res := e.do("POST", "/api/me/passkeys/begin", "", nil, "alice")
		cred, _, _ := evil.Create(res.Body.Bytes())
		res = e.do("POST", "/api/me/passkeys/finish", registration("x", cred), nil, "alice")
		wantProblem(t, res, authdash.CodeInvalid)
	})

	t.Run("SignInAlone", func(t *testing.T) {
		opts := e.beginLogin(t, "")
		cred, err := a.Get(opts, key)
		if err != nil {
			t.Fatal(err)
		}
		res := e.do("POST", "/api/auth/passkey/finish", passkeyLogin("", cred), nil, "")
		if res.Code != 200 {
			t.Fatalf("finish: %d %s", res.Code, res.Body)
		}
		if !strings.Contains(res.Header().Get("Set-Cookie"), "HttpOnly") {
			t.Errorf("no refresh cookie: %v", res.Header())
		}
		var g wire.Grant
		mustDecode(t, res.Body.Bytes(), &g)
		if g.AccessToken == "" || g.User == nil || g.User.ID != alice.ID {
			t.Fatalf("grant %s", res.Body)
		}
		if ev := lastSignIn(t, e, "alice"); ev.Method != authdash.SignInPasskey || ev.Outcome != authdash.SignInSuccess {
			t.Errorf("activity %+v", ev)
		}
		// The same answer again: its challenge is spent.
		res = e.do("POST", "/api/auth/passkey/finish", passkeyLogin("", cred), nil, "")
		wantProblem(t, res, authdash.CodeInvalid)
	})

	t.Run("CounterBackwardsRefused", func(t *testing.T) {
		opts := e.beginLogin(t, "")
		clone := *key
		clone.Count = 0 // a copy of the key that signed less often
		cred, err := a.Sign(passkeytest.Challenge(opts), "localhost", &clone)
		if err != nil {
			t.Fatal(err)
		}
		res := e.do("POST", "/api/auth/passkey/finish", passkeyLogin("", cred), nil, "")
		if pr := wantProblem(t, res, authdash.CodeUnauthorized); pr.Errors["credential"] == "" {
			t.Errorf("problem %+v", pr)
		}
		if ev := lastSignIn(t, e, "alice"); ev.Outcome != authdash.SignInFailure || ev.Reason != authdash.ReasonPasskeyRefused {
			t.Errorf("activity %+v", ev)
		}
	})

	t.Run("UnverifiedUserRefused", func(t *testing.T) {
		opts := e.beginLogin(t, "")
		lazy := *a
		lazy.UserVerified = false
		cred, _ := lazy.Get(opts, key)
		res := e.do("POST", "/api/auth/passkey/finish", passkeyLogin("", cred), nil, "")
		wantProblem(t, res, authdash.CodeUnauthorized)
	})

	t.Run("UnknownPasskey", func(t *testing.T) {
		other := &passkeytest.Authenticator{Origin: "http://localhost:8080", UserVerified: true}
		stray := &passkeytest.Key{ID: []byte("never registered"), RPID: "localhost", UserHandle: []byte(alice.ID), Priv: key.Priv}
		cred, _ := other.Get(e.beginLogin(t, ""), stray)
		res := e.do("POST", "/api/auth/passkey/finish", passkeyLogin("", cred), nil, "")
		wantProblem(t, res, authdash.CodeUnauthorized)
	})

	t.Run("SecondFactor", func(t *testing.T) {
		e.enableTOTP(t, "alice")
		mfaToken := e.challenge(t, "alice")
		res := e.do("POST", "/api/auth/login", `{"email":"`+alice.Email+`","password":"`+alice.Password+`"}`, nil, "")
		var ch wire.MFAChallenge
		mustDecode(t, res.Body.Bytes(), &ch)
		if strings.Join(ch.Methods, ",") != "totp,recovery,passkey" {
			t.Errorf("methods %v, want passkey among them", ch.Methods)
		}
		opts := e.beginLogin(t, `{"mfaToken":"`+mfaToken+`"}`)
		cred, _ := a.Get(opts, key)
		// Without the sign-in's token the answer does not finish it.
		res = e.do("POST", "/api/auth/passkey/finish", passkeyLogin("", cred), nil, "")
		if pr := wantProblem(t, res, authdash.CodeUnauthorized); pr.Errors["mfaToken"] == "" {
			t.Errorf("problem %+v", pr)
		}
		opts = e.beginLogin(t, `{"mfaToken":"`+mfaToken+`"}`)
		cred, _ = a.Get(opts, key)
		res = e.do("POST", "/api/auth/passkey/finish", passkeyLogin(mfaToken, cred), tokenMode, "")
		if res.Code != 200 {
			t.Fatalf("finish: %d %s", res.Code, res.Body)
		}
		// The challenge is spent.
		res = e.do("POST", "/api/auth/mfa", `{"mfaToken":"`+mfaToken+`","code":"123456"}`, nil, "")
		wantProblem(t, res, authdash.CodeUnauthorized)
	})

	t.Run("RenameDelete", func(t *testing.T) {
		path := "/api/me/passkeys/" + p.ID
		res := e.do("PATCH", path, `{"name":"Work laptop"}`, nil, "alice")
		var got wire.Passkey
		mustDecode(t, res.Body.Bytes(), &got)
		if res.Code != 200 || got.Name != "Work laptop" || got.LastUsedAt == nil {
			t.Fatalf("rename: %d %s", res.Code, res.Body)
		}
		for _, c := range []struct {
			name, method, path, body, as string
			code                         authdash.ErrorCode
		}{
			{"BadName", "PATCH", path, `{"name":""}`, "alice", authdash.CodeInvalid},
			{"LongName", "PATCH", path, `{"name":"` + strings.Repeat("x", 65) + `"}`, "alice", authdash.CodeInvalid},
			{"NotBobs", "PATCH", path, `{"name":"mine"}`, "bob", authdash.CodeNotFound},
			{"NotBobsToDelete", "DELETE", path, "", "bob", authdash.CodeNotFound},
			{"BadID", "DELETE", "/api/me/passkeys/not*base64", "", "alice", authdash.CodeNotFound},
		} {
			t.Run(c.name, func(t *testing.T) { wantProblem(t, e.do(c.method, c.path, c.body, nil, c.as), c.code) })
		}
		res = e.do("GET", "/api/me/passkeys", "", nil, "alice")
		var l wire.PasskeyList
		mustDecode(t, res.Body.Bytes(), &l)
		if len(l.Items) != 1 || l.Items[0].Name != "Work laptop" {
			t.Fatalf("list %s", res.Body)
		}
		if res := e.do("DELETE", path, "", nil, "alice"); res.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.Code, res.Body)
		}
		wantProblem(t, e.do("DELETE", path, "", nil, "alice"), authdash.CodeNotFound)
		// A deleted passkey signs in no more.
		cred, _ := a.Get(e.beginLogin(t, ""), key)
		wantProblem(t, e.do("POST", "/api/auth/passkey/finish", passkeyLogin("", cred), nil, ""), authdash.CodeUnauthorized)
	})
}
