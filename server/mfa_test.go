package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/internal/ratelimit"
	"github.com/authdash/authdash/server"
	"github.com/authdash/authdash/wire"
)

var testMFAKey = []byte("0123456789abcdef0123456789abcdef")

// code is the app's code for secret at the env's now.
func (e *env) code(tb testing.TB, secret string) string {
	tb.Helper()
	c, err := totp.GenerateCode(secret, e.clock.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// challenge signs name in with the password and returns the MFA token the
// answer must hold.
func (e *env) challenge(tb testing.TB, name string) string {
	tb.Helper()
	u := e.users[name]
	res := e.do("POST", "/api/auth/login", `{"email":"`+u.Email+`","password":"`+u.Password+`"}`, nil, "")
	var ch wire.MFAChallenge
	mustDecode(tb, res.Body.Bytes(), &ch)
	if res.Code != 200 || !ch.MFARequired || ch.MFAToken == "" {
		tb.Fatalf("login %s: %d %s, want an MFA challenge", name, res.Code, res.Body)
	}
	return ch.MFAToken
}

// enableTOTP turns TOTP on for name and returns the secret and the recovery codes.
func (e *env) enableTOTP(tb testing.TB, name string) (string, []string) {
	tb.Helper()
	res := e.do("POST", "/api/me/mfa/totp", `{"password":"`+e.users[name].Password+`"}`, nil, name)
	var setup wire.TOTPSetup
	mustDecode(tb, res.Body.Bytes(), &setup)
	res = e.do("POST", "/api/me/mfa/totp/confirm", `{"code":"`+e.code(tb, setup.Secret)+`"}`, nil, name)
	var rc wire.RecoveryCodes
	mustDecode(tb, res.Body.Bytes(), &rc)
	if res.Code != 200 || len(rc.RecoveryCodes) != authdash.RecoveryCodeCount {
		tb.Fatalf("confirm: %d %s", res.Code, res.Body)
	}
	// The confirming code's step is spent: the next code is a step later.
	e.clock.Advance(30 * time.Second)
	return setup.Secret, rc.RecoveryCodes
}

func TestTOTP(t *testing.T) {
	e := mustEnv(t, withAuth(func(c *auth.Config) { c.MFAKey = testMFAKey }))
	alice := e.mustUser(t, "alice")
	var secret, mfaToken, replayed string
	var recovery []string
	mfa := func(field, value string) string {
		return `{"mfaToken":"` + mfaToken + `","` + field + `":"` + value + `"}`
	}
	noCookie := func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
		if c := res.Header().Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("cookies set: %v", c)
		}
	}
	grant := func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
		var g wire.Grant
		mustDecode(t, res.Body.Bytes(), &g)
		if g.AccessToken == "" || g.User == nil || g.User.ID != alice.ID {
			t.Errorf("grant %s", res.Body)
		}
		if !strings.Contains(strings.Join(res.Header().Values("Set-Cookie"), ";"), "authdash_refresh=") {
			t.Errorf("no refresh cookie: %v", res.Header().Values("Set-Cookie"))
		}
	}
	newChallenge := func(t *testing.T, e *env, s *scenario) {
		mfaToken = e.challenge(t, "alice")
		if s.body == "" {
			return
		}
		s.body = strings.ReplaceAll(s.body, "{mfaToken}", mfaToken)
	}
	forbidden := func(field string) func(*testing.T, *env, *httptest.ResponseRecorder, []authdash.Event) {
		return wantField(field)
	}

	e.runScenarios(t, []scenario{
		{name: "ErrBeginAnonymous", method: "POST", path: "/api/me/mfa/totp", body: `{"password":"x"}`, wantStatus: 401, wantProblemCode: "unauthorized"},
		{name: "ErrBeginNoPassword", method: "POST", path: "/api/me/mfa/totp", as: "alice", body: `{}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("password")},
		{name: "ErrBeginWrongPassword", method: "POST", path: "/api/me/mfa/totp", as: "alice", body: `{"password":"not it at all"}`,
			wantStatus: 403, wantProblemCode: "forbidden", check: forbidden("password")},
		{name: "ErrConfirmBeforeBegin", method: "POST", path: "/api/me/mfa/totp/confirm", as: "alice", body: `{"code":"123456"}`,
			wantStatus: 404, wantProblemCode: "not_found"},
		{name: "BeginOK", method: "POST", path: "/api/me/mfa/totp", as: "alice", body: `{"password":"` + alice.Password + `"}`,
			wantStatus: 200, wantBody: []string{`"otpauthUri":"otpauth://totp/Authdash:alice@example.com?`, `"qrSvg":"\u003csvg`},
			check: func(t *testing.T, e *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				var s wire.TOTPSetup
				mustDecode(t, res.Body.Bytes(), &s)
				secret = s.Secret
				if len(secret) != 32 || !strings.Contains(s.OtpauthURI, "secret="+secret) {
					t.Errorf("setup %+v", s)
				}
				// At rest the secret is encrypted (an MFA key is configured).
				st, err := e.store.FindTOTP(context.Background(), alice.ID)
				if err != nil || strings.Contains(st.Secret, secret) || !strings.HasPrefix(st.Secret, "aes-gcm:") {
					t.Errorf("stored secret %q, %v", st.Secret, err)
				}
			}},
		{name: "StatusNotYetOn", method: "GET", path: "/api/me/mfa", as: "alice", wantStatus: 200, wantBody: []string{`{"totp":false,"recoveryCodes":0}`}},
		{name: "LoginBeforeConfirmIsAGrant", method: "POST", path: "/api/auth/login",
			body: `{"email":"alice@example.com","password":"` + alice.Password + `"}`, wantStatus: 200, check: grant},
		{name: "ErrConfirmNoCode", method: "POST", path: "/api/me/mfa/totp/confirm", as: "alice", body: `{}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("code")},
		{name: "ErrConfirmWrongCode", method: "POST", path: "/api/me/mfa/totp/confirm", as: "alice", body: `{"code":"000000"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("code")},
		{name: "ErrConfirmNotDigits", method: "POST", path: "/api/me/mfa/totp/confirm", as: "alice", body: `{"code":"12a456"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("code")},
		{name: "ConfirmOK", method: "POST", path: "/api/me/mfa/totp/confirm", as: "alice",
			setup: func(t *testing.T, e *env, s *scenario) {
				// Spaces as apps show them are fine.
				c := e.code(t, secret)
				s.body = `{"code":"` + c[:3] + " " + c[3:] + `"}`
			},
			wantStatus: 200,
			check: func(t *testing.T, e *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				var rc wire.RecoveryCodes
				mustDecode(t, res.Body.Bytes(), &rc)
				recovery = rc.RecoveryCodes
				seen := map[string]bool{}
				for _, c := range recovery {
					if len(c) != 19 || c[4] != '-' || seen[c] {
						t.Errorf("recovery code %q", c)
					}
					seen[c] = true
				}
				if len(recovery) != 10 {
					t.Errorf("%d recovery codes", len(recovery))
				}
				// The owner hears of it, in case it was not them.
				e.mailTo(t, "alice@example.com", auth.MailTwoFactorOn)
				e.clock.Advance(30 * time.Second)
			}},
		{name: "ErrConfirmAgain", method: "POST", path: "/api/me/mfa/totp/confirm", as: "alice", body: `{"code":"123456"}`,
			wantStatus: 409, wantProblemCode: "conflict"},
		{name: "ErrBeginAgain", method: "POST", path: "/api/me/mfa/totp", as: "alice", body: `{"password":"` + alice.Password + `"}`,
			wantStatus: 409, wantProblemCode: "conflict"},
		{name: "StatusOn", method: "GET", path: "/api/me/mfa", as: "alice", wantStatus: 200, wantBody: []string{`{"totp":true,"recoveryCodes":10}`}},

		// Sign-in.
		{name: "LoginAsksForTheCode", method: "POST", path: "/api/auth/login",
			body: `{"email":"alice@example.com","password":"` + alice.Password + `"}`, wantStatus: 200,
			wantBody: []string{`"mfaRequired":true`, `"methods":["totp","recovery"]`, `"expiresIn":`},
			check: func(t *testing.T, e *env, res *httptest.ResponseRecorder, evs []authdash.Event) {
				noCookie(t, e, res, evs)
				if strings.Contains(res.Body.String(), "accessToken") {
					t.Errorf("a challenge holds an access token: %s", res.Body)
				}
			}},
		{name: "ErrLoginWrongPasswordStillPlain401", method: "POST", path: "/api/auth/login",
			body: `{"email":"alice@example.com","password":"wrong password"}`, wantStatus: 401, wantProblemCode: "unauthorized"},
		{name: "ErrMFANoCode", method: "POST", path: "/api/auth/mfa", body: `{"mfaToken":"{mfaToken}"}`, setup: newChallenge,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("code")},
		{name: "ErrMFABothCodes", method: "POST", path: "/api/auth/mfa", body: `{"mfaToken":"{mfaToken}","code":"123456","recoveryCode":"x"}`, setup: newChallenge,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("code")},
		{name: "ErrMFAUnknownToken", method: "POST", path: "/api/auth/mfa", body: `{"mfaToken":"not-a-token","code":"123456"}`,
			wantStatus: 401, wantProblemCode: "unauthorized", check: wantField("mfaToken")},
		{name: "ErrMFAWrongCode", method: "POST", path: "/api/auth/mfa", setup: func(t *testing.T, e *env, s *scenario) {
			newChallenge(t, e, s)
			s.body = mfa("code", "000000")
		}, wantStatus: 401, wantProblemCode: "unauthorized", check: wantField("code")},
		{name: "MFAOKAfterAWrongCode", method: "POST", path: "/api/auth/mfa", setup: func(t *testing.T, e *env, s *scenario) {
			// The same challenge: a mistyped code does not end it.
			replayed = e.code(t, secret)
			s.body = mfa("code", replayed)
		}, wantStatus: 200, check: grant},
		{name: "ErrMFATokenSpent", method: "POST", path: "/api/auth/mfa", setup: func(t *testing.T, e *env, s *scenario) {
			e.clock.Advance(30 * time.Second)
			s.body = mfa("code", e.code(t, secret))
		}, wantStatus: 401, wantProblemCode: "unauthorized", check: wantField("mfaToken")},
		{name: "ErrMFACodeReplayed", method: "POST", path: "/api/auth/mfa", setup: func(t *testing.T, e *env, s *scenario) {
			e.clock.Advance(-30 * time.Second) // the step the code was accepted in
			newChallenge(t, e, s)
			s.body = mfa("code", replayed)
		}, wantStatus: 401, wantProblemCode: "unauthorized", check: wantField("code")},
		{name: "MFAToken", method: "POST", path: "/api/auth/mfa", headers: map[string]string{wire.HeaderAuthMode: wire.AuthModeToken},
			setup: func(t *testing.T, e *env, s *scenario) {
				e.clock.Advance(60 * time.Second)
				newChallenge(t, e, s)
				s.body = mfa("code", e.code(t, secret))
			}, wantStatus: 200, wantBody: []string{`"refreshToken":"`}, check: noCookie},
		{name: "MFARecoveryCode", method: "POST", path: "/api/auth/mfa", setup: func(t *testing.T, e *env, s *scenario) {
			newChallenge(t, e, s)
			s.body = mfa("recoveryCode", strings.ToUpper(strings.ReplaceAll(recovery[0], "-", " ")))
		}, wantStatus: 200, check: grant},
		{name: "ErrMFARecoveryCodeUsed", method: "POST", path: "/api/auth/mfa", setup: func(t *testing.T, e *env, s *scenario) {
			newChallenge(t, e, s)
			s.body = mfa("recoveryCode", recovery[0])
		}, wantStatus: 401, wantProblemCode: "unauthorized", check: wantField("recoveryCode")},
		{name: "StatusOneCodeUsed", method: "GET", path: "/api/me/mfa", as: "alice", wantStatus: 200, wantBody: []string{`"recoveryCodes":9`}},
		{name: "ErrMFAExpired", method: "POST", path: "/api/auth/mfa", setup: func(t *testing.T, e *env, s *scenario) {
			newChallenge(t, e, s)
			e.clock.Advance(authdash.MFATokenTTL + time.Second)
			s.body = mfa("code", e.code(t, secret))
		}, wantStatus: 401, wantProblemCode: "unauthorized", check: wantField("mfaToken")},

		// Turning it off.
		{name: "ErrDisableMissing", method: "DELETE", path: "/api/me/mfa/totp", as: "alice", body: `{}`,
			wantStatus: 400, wantProblemCode: "invalid", check: func(t *testing.T, e *env, res *httptest.ResponseRecorder, evs []authdash.Event) {
				wantField("password")(t, e, res, evs)
				wantField("code")(t, e, res, evs)
			}},
		{name: "ErrDisableWrongPassword", method: "DELETE", path: "/api/me/mfa/totp", as: "alice",
			setup: func(t *testing.T, e *env, s *scenario) {
				s.body = `{"password":"wrong password","code":"` + e.code(t, secret) + `"}`
			},
			wantStatus: 403, wantProblemCode: "forbidden", check: wantField("password")},
		{name: "ErrDisableWrongCode", method: "DELETE", path: "/api/me/mfa/totp", as: "alice",
			body:       `{"password":"` + alice.Password + `","code":"000000"}`,
			wantStatus: 403, wantProblemCode: "forbidden", check: wantField("code")},
		{name: "DisableWithARecoveryCode", method: "DELETE", path: "/api/me/mfa/totp", as: "alice",
			setup: func(t *testing.T, e *env, s *scenario) {
				e.mail.take()
				s.body = `{"password":"` + alice.Password + `","code":"` + recovery[1] + `"}`
			},
			wantStatus: 204, check: func(t *testing.T, e *env, _ *httptest.ResponseRecorder, _ []authdash.Event) {
				e.mailTo(t, "alice@example.com", auth.MailTwoFactorOff)
			}},
		{name: "ErrDisableAgain", method: "DELETE", path: "/api/me/mfa/totp", as: "alice",
			body:       `{"password":"` + alice.Password + `","code":"123456"}`,
			wantStatus: 404, wantProblemCode: "not_found"},
		{name: "LoginWithoutCodeAgain", method: "POST", path: "/api/auth/login",
			body: `{"email":"alice@example.com","password":"` + alice.Password + `"}`, wantStatus: 200, check: grant},
	})
}

// Turning it off takes a code from the app too (not only a recovery code),
// and a code spent signing in does not turn it off.
func TestTOTPDisableWithCode(t *testing.T) {
	e := mustEnv(t)
	alice := e.mustUser(t, "alice")
	secret, _ := e.enableTOTP(t, "alice")
	code := e.code(t, secret)
	res := e.do("POST", "/api/auth/mfa", `{"mfaToken":"`+e.challenge(t, "alice")+`","code":"`+code+`"}`, nil, "")
	if res.Code != 200 {
		t.Fatalf("mfa: %d %s", res.Code, res.Body)
	}
	res = e.do("DELETE", "/api/me/mfa/totp", `{"password":"`+alice.Password+`","code":"`+code+`"}`, nil, "alice")
	if res.Code != 403 {
		t.Fatalf("disable with a spent code: %d %s", res.Code, res.Body)
	}
	e.clock.Advance(30 * time.Second)
	res = e.do("DELETE", "/api/me/mfa/totp", `{"password":"`+alice.Password+`","code":"`+e.code(t, secret)+`"}`, nil, "alice")
	if res.Code != 204 {
		t.Fatalf("disable: %d %s", res.Code, res.Body)
	}
	// Without a key the secret was stored marked as plain; it is gone now.
	if _, err := e.store.FindTOTP(context.Background(), alice.ID); authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
		t.Fatalf("after disable: %v", err)
	}
}

// Guesses at the code are limited per account, however many challenges the
// password opens and whatever address they come from.
func TestTOTPGuessesLimited(t *testing.T) {
	// Four: the code that confirmed the set-up counts too.
	lim, err := ratelimit.NewMemory(1.0/3600, 4)
	if err != nil {
		t.Fatal(err)
	}
	e := mustEnv(t, withDeps(func(d *server.Deps) { d.AccountLimiter = lim }))
	e.mustUser(t, "alice")
	secret, _ := e.enableTOTP(t, "alice")
	var token string
	for i := range 4 {
		token = e.challenge(t, "alice")
		res := e.do("POST", "/api/auth/mfa", `{"mfaToken":"`+token+`","code":"00000`+strconv.Itoa(i)+`"}`,
			map[string]string{"X-Forwarded-For": "198.51.100." + strconv.Itoa(i)}, "")
		want := 401
		if i == 3 {
			want = 429
		}
		if res.Code != want {
			t.Fatalf("guess %d: %d %s, want %d", i, res.Code, res.Body, want)
		}
	}
	// Even the right code waits now.
	res := e.do("POST", "/api/auth/mfa", `{"mfaToken":"`+token+`","code":"`+e.code(t, secret)+`"}`, nil, "")
	wantProblem(t, res, "rate_limited")
	if res.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestSignInActivity(t *testing.T) {
	e := mustEnv(t)
	alice := e.mustUser(t, "alice")
	const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	login := func(password, ua string) *httptest.ResponseRecorder {
		return e.do("POST", "/api/auth/login", `{"email":"alice@example.com","password":"`+password+`"}`, map[string]string{"User-Agent": ua}, "")
	}
	if res := login("wrong password", firefox); res.Code != 401 {
		t.Fatalf("wrong password: %d", res.Code)
	}
	if m := e.mail.take(); len(m) != 0 {
		t.Fatalf("a failure mailed %+v", m)
	}
	if res := login(alice.Password, firefox); res.Code != 200 {
		t.Fatalf("login: %d %s", res.Code, res.Body)
	}
	msgs := e.mail.take()
	if len(msgs) != 1 || msgs[0].Kind != auth.MailNewSignIn || msgs[0].To != alice.Email ||
		msgs[0].Device != "Firefox on Linux" || msgs[0].IP != "192.0.2.1" {
		t.Fatalf("new device mail: %+v", msgs)
	}
	// The same device again, and the same network: no notice.
	if res := login(alice.Password, firefox); res.Code != 200 {
		t.Fatalf("login: %d", res.Code)
	}
	if m := e.mail.take(); len(m) != 0 {
		t.Fatalf("a known device mailed %+v", m)
	}

	e.runScenarios(t, []scenario{
		{name: "ErrAnonymous", method: "GET", path: "/api/me/activity", wantStatus: 401, wantProblemCode: "unauthorized"},
		{name: "NewestFirst", method: "GET", path: "/api/me/activity", as: "alice", wantStatus: 200,
			check: func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				var list wire.SignInList
				mustDecode(t, res.Body.Bytes(), &list)
				type ev struct {
					device, outcome, reason string
				}
				want := []ev{
					{"Firefox on Linux", "success", ""},
					{"Firefox on Linux", "success", ""},
					{"Firefox on Linux", "failure", "wrong_password"},
					{"Unknown device", "success", ""}, // the sign-up
				}
				if len(list.Items) != len(want) {
					t.Fatalf("items %s", res.Body)
				}
				for i, w := range want {
					g := list.Items[i]
					if g.Device != w.device || string(g.Outcome) != w.outcome || g.Reason != w.reason ||
						g.Method != authdash.SignInPassword || g.IP != "192.0.2.1" || g.At.IsZero() {
						t.Errorf("item %d = %+v, want %+v", i, g, w)
					}
				}
				if strings.Contains(res.Body.String(), "|") {
					t.Errorf("the device key leaks: %s", res.Body)
				}
			}},
	})
}

// The activity names the method and a wrong code as such.
func TestSignInActivityMFA(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	secret, recovery := e.enableTOTP(t, "alice")
	for _, body := range []string{`"code":"000000"`, `"code":"` + e.code(t, secret) + `"`, `"recoveryCode":"` + recovery[0] + `"`} {
		e.do("POST", "/api/auth/mfa", `{"mfaToken":"`+e.challenge(t, "alice")+`",`+body+`}`, nil, "")
	}
	res := e.do("GET", "/api/me/activity", "", nil, "alice")
	var list wire.SignInList
	mustDecode(t, res.Body.Bytes(), &list)
	got := []string{}
	for _, ev := range list.Items {
		got = append(got, string(ev.Method)+"/"+string(ev.Outcome)+"/"+ev.Reason)
	}
	want := "recovery/success/ totp/success/ totp/failure/wrong_code password/success/"
	if strings.Join(got, " ") != want {
		t.Fatalf("activity %v, want %s", got, want)
	}
	if res.Code != http.StatusOK {
		t.Fatal(res.Code)
	}
}

// A challenge opened while TOTP was on cannot be finished once it is off,
// even when a new set-up (not yet confirmed) has begun: the new secret's
// code is not a second factor yet.
func TestMFAChallengeAfterTOTPOff(t *testing.T) {
	e := mustEnv(t)
	alice := e.mustUser(t, "alice")
	_, recovery := e.enableTOTP(t, "alice")
	token := e.challenge(t, "alice")
	if res := e.do("DELETE", "/api/me/mfa/totp", `{"password":"`+alice.Password+`","code":"`+recovery[0]+`"}`, nil, "alice"); res.Code != 204 {
		t.Fatalf("disable: %d %s", res.Code, res.Body)
	}
	for _, step := range []string{"off", "set up again, unconfirmed"} {
		if step != "off" {
			res := e.do("POST", "/api/me/mfa/totp", `{"password":"`+alice.Password+`"}`, nil, "alice")
			var s wire.TOTPSetup
			mustDecode(t, res.Body.Bytes(), &s)
			res = e.do("POST", "/api/auth/mfa", `{"mfaToken":"`+token+`","code":"`+e.code(t, s.Secret)+`"}`, nil, "")
			if res.Code != 401 {
				t.Fatalf("%s: %d %s, want 401", step, res.Code, res.Body)
			}
			wantField("mfaToken")(t, e, res, nil)
			continue
		}
		res := e.do("POST", "/api/auth/mfa", `{"mfaToken":"`+token+`","recoveryCode":"`+recovery[1]+`"}`, nil, "")
		if res.Code != 401 {
			t.Fatalf("%s: %d %s, want 401", step, res.Code, res.Body)
		}
		wantField("mfaToken")(t, e, res, nil)
	}
}
