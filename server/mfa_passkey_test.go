package server_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/internal/passkeytest"
	"github.com/authdash/authdash/internal/ratelimit"
	"github.com/authdash/authdash/server"
	"github.com/authdash/authdash/wire"
)

// mfaPasskey is POST /api/auth/mfa's body with a passkey's answer.
func mfaPasskey(mfaToken string, cred json.RawMessage) string {
	b, _ := json.Marshal(authdash.MFAAnswer{MFAToken: mfaToken, Passkey: cred})
	return string(b)
}

// beginMFAPasskey asks POST /api/auth/mfa/passkey/begin for the options of
// the sign-in waiting on mfaToken.
func (e *env) beginMFAPasskey(tb testing.TB, mfaToken string) []byte {
	tb.Helper()
	res := e.do("POST", "/api/auth/mfa/passkey/begin", `{"mfaToken":"`+mfaToken+`"}`, nil, "")
	if res.Code != 200 {
		tb.Fatalf("begin: %d %s", res.Code, res.Body)
	}
	return res.Body.Bytes()
}

// TestMFAPasskey: the documented second step, POST /api/auth/mfa, takes a
// passkey's answer as it takes a code (issue 15: "a passkey also satisfies
// the second factor").
func TestMFAPasskey(t *testing.T) {
	e := mustEnv(t, withAuth(func(c *auth.Config) { c.MFAKey = testMFAKey }))
	alice := e.mustUser(t, "alice")
	e.mustUser(t, "bob")
	a := &passkeytest.Authenticator{Origin: "http://localhost:8080", UserVerified: true}
	key, _ := e.addPasskey(t, a, "alice", "Laptop")
	e.enableTOTP(t, "alice")
	e.enableTOTP(t, "bob")

	t.Run("OK", func(t *testing.T) {
		token := e.challenge(t, "alice")
		opts := e.beginMFAPasskey(t, token)
		var o struct {
			PublicKey struct {
				AllowCredentials []struct{ ID string } `json:"allowCredentials"`
			} `json:"publicKey"`
		}
		mustDecode(t, opts, &o)
		// Only the account's own passkeys are offered.
		if len(o.PublicKey.AllowCredentials) != 1 || o.PublicKey.AllowCredentials[0].ID != auth.PasskeyID(key.ID) {
			t.Errorf("allowCredentials %+v, want alice's one passkey", o.PublicKey.AllowCredentials)
		}
		cred, err := a.Get(opts, key)
		if err != nil {
			t.Fatal(err)
		}
		res := e.do("POST", "/api/auth/mfa", mfaPasskey(token, cred), nil, "")
		if res.Code != 200 {
			t.Fatalf("mfa: %d %s", res.Code, res.Body)
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
			t.Errorf("activity %+v, want a passkey success", ev)
		}
		// The token is spent: neither a code nor another passkey answer
		// finishes it again.
		res = e.do("POST", "/api/auth/mfa", `{"mfaToken":"`+token+`","code":"123456"}`, nil, "")
		if pr := wantProblem(t, res, authdash.CodeUnauthorized); pr.Errors["mfaToken"] == "" {
			t.Errorf("problem %+v, want mfaToken named", pr)
		}
		res = e.do("POST", "/api/auth/mfa/passkey/begin", `{"mfaToken":"`+token+`"}`, nil, "")
		wantProblem(t, res, authdash.CodeUnauthorized)
	})

	// Each case gets a fresh sign-in of alice's and the options begun for
	// it; answer makes the body from them.
	for _, c := range []struct {
		name   string
		answer func(t *testing.T, token string, opts []byte) string
		status int
		field  string
		// spent: the token no longer finishes the sign-in afterwards.
		spent bool
	}{
		{"ErrPasskeyAndCode", func(t *testing.T, token string, opts []byte) string {
			cred, _ := a.Get(opts, key)
			return `{"mfaToken":"` + token + `","code":"123456","passkey":` + string(cred) + `}`
		}, 400, "code", false},
		{"ErrNotAnObject", func(t *testing.T, token string, _ []byte) string {
			return `{"mfaToken":"` + token + `","passkey":"abc"}`
		}, 400, "passkey", false},
		{"ErrNotAnAnswer", func(t *testing.T, token string, _ []byte) string {
			return mfaPasskey(token, json.RawMessage(`{"id":"abc"}`))
		}, 400, "passkey", false},
		// An answer to a passkey-alone ceremony is no second factor of
		// this sign-in.
		{"ErrAloneCeremony", func(t *testing.T, token string, _ []byte) string {
			cred, _ := a.Get(e.beginLogin(t, ""), key)
			return mfaPasskey(token, cred)
		}, 400, "passkey", false},
		// alice's answer with bob's token: bob's sign-in is not alice's.
		{"ErrAnotherAccountsToken", func(t *testing.T, _ string, opts []byte) string {
			cred, _ := a.Get(opts, key)
			return mfaPasskey(e.challenge(t, "bob"), cred)
		}, 401, "mfaToken", false},
		{"ErrCounterBackwards", func(t *testing.T, token string, opts []byte) string {
			clone := *key
			clone.Count = 0
			cred, _ := a.Sign(passkeytest.Challenge(opts), "localhost", &clone)
			return mfaPasskey(token, cred)
		}, 401, "passkey", false},
		{"ErrWrongOrigin", func(t *testing.T, token string, opts []byte) string {
			evil := &passkeytest.Authenticator{Origin: "https://evil.example", UserVerified: true}
			k := *key
			cred, _ := evil.Get(opts, &k)
			return mfaPasskey(token, cred)
		}, 401, "passkey", false},
		{"ErrAnswerReplayed", func(t *testing.T, token string, opts []byte) string {
			cred, _ := a.Get(opts, key)
			if res := e.do("POST", "/api/auth/mfa", mfaPasskey(token, cred), nil, ""); res.Code != 200 {
				t.Fatalf("first answer: %d %s", res.Code, res.Body)
			}
			return mfaPasskey(token, cred)
		}, 401, "mfaToken", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := e.challenge(t, "alice")
			body := c.answer(t, token, e.beginMFAPasskey(t, token))
			res := e.do("POST", "/api/auth/mfa", body, nil, "")
			if res.Code != c.status {
				t.Fatalf("%d %s, want %d", res.Code, res.Body, c.status)
			}
			pr := wantProblem(t, res, map[int]authdash.ErrorCode{400: authdash.CodeInvalid, 401: authdash.CodeUnauthorized}[c.status])
			if pr.Errors[c.field] == "" {
				t.Errorf("errors %v lack %q", pr.Errors, c.field)
			}
			// A refused answer leaves the sign-in open for a right one.
			cred, _ := a.Get(e.beginMFAPasskeyOr(t, token, c.spent), key)
			res = e.do("POST", "/api/auth/mfa", mfaPasskey(token, cred), nil, "")
			if want := map[bool]int{false: 200, true: 401}[c.spent]; res.Code != want {
				t.Errorf("a right answer then: %d %s, want %d", res.Code, res.Body, want)
			}
		})
	}

	t.Run("ErrBegin", func(t *testing.T) {
		for _, c := range []struct {
			name, body string
			status     int
			field      string
		}{
			{"NoToken", `{}`, 400, "mfaToken"},
			{"UnknownToken", `{"mfaToken":"not-a-token"}`, 401, "mfaToken"},
			{"NoPasskeys", `{"mfaToken":"` + e.challenge(t, "bob") + `"}`, 400, "mfaToken"},
			{"UnknownField", `{"token":"x"}`, 400, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				res := e.do("POST", "/api/auth/mfa/passkey/begin", c.body, nil, "")
				if res.Code != c.status {
					t.Fatalf("%d %s, want %d", res.Code, res.Body, c.status)
				}
				pr := wantProblem(t, res, map[int]authdash.ErrorCode{400: authdash.CodeInvalid, 401: authdash.CodeUnauthorized}[c.status])
				if c.field != "" && pr.Errors[c.field] == "" {
					t.Errorf("errors %v lack %q", pr.Errors, c.field)
				}
			})
		}
	})
}

// beginMFAPasskeyOr begins as beginMFAPasskey, or, for a token that is
// spent, makes options of another sign-in (their answer must not finish the
// spent one).
func (e *env) beginMFAPasskeyOr(tb testing.TB, token string, spent bool) []byte {
	tb.Helper()
	if spent {
		return e.beginMFAPasskey(tb, e.challenge(tb, "alice"))
	}
	return e.beginMFAPasskey(tb, token)
}

// TestMFAPasskeyLimited: passkey answers count against the account's limit
// of second-factor tries, as codes do.
func TestMFAPasskeyLimited(t *testing.T) {
	// Three: the code that confirmed the set-up counts too.
	lim, err := ratelimit.NewMemory(1.0/3600, 3)
	if err != nil {
		t.Fatal(err)
	}
	e := mustEnv(t, withDeps(func(d *server.Deps) { d.AccountLimiter = lim }))
	e.mustUser(t, "alice")
	a := &passkeytest.Authenticator{Origin: "http://localhost:8080", UserVerified: true}
	key, _ := e.addPasskey(t, a, "alice", "Laptop")
	e.enableTOTP(t, "alice")
	for i, want := range []int{401, 401, 429} {
		token := e.challenge(t, "alice")
		opts := e.beginMFAPasskey(t, token)
		evil := &passkeytest.Authenticator{Origin: "https://evil.example", UserVerified: true}
		cred, _ := evil.Get(opts, key) // refused: signed for another site
		res := e.do("POST", "/api/auth/mfa", mfaPasskey(token, cred),
			map[string]string{"X-Forwarded-For": "198.51.100." + strconv.Itoa(i)}, "")
		if res.Code != want {
			t.Fatalf("try %d: %d %s, want %d", i, res.Code, res.Body, want)
		}
	}
}
