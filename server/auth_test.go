package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/internal/ratelimit"
	"github.com/authdash/authdash/server"
	"github.com/authdash/authdash/wire"
)

const cookieName = "authdash_refresh" // SecureCookies off

// refreshCookieOf returns the refresh cookie a response sets, or nil.
func refreshCookieOf(res *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range res.Result().Cookies() {
		if c.Name == cookieName || c.Name == "__Secure-authdash_refresh" {
			return c
		}
	}
	return nil
}

// hintCookieOf returns the session hint cookie a response sets, or nil.
func hintCookieOf(res *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range res.Result().Cookies() {
		if c.Name == wire.SessionHintCookie {
			return c
		}
	}
	return nil
}

// login signs name in again in the given mode and returns the refresh token
// (from the body or the cookie) and the access token.
func (e *env) login(tb testing.TB, name string, tokenMode bool) (refresh, access string) {
	tb.Helper()
	u := e.users[name]
	h := map[string]string{}
	if tokenMode {
		h["X-Auth-Mode"] = "token"
	}
	res := e.do("POST", "/api/auth/login", `{"email":"`+u.Email+`","password":"`+u.Password+`"}`, h, "")
	if res.Code != 200 {
		tb.Fatalf("login %s: %d %s", name, res.Code, res.Body)
	}
	var g struct{ AccessToken, RefreshToken string }
	mustDecode(tb, res.Body.Bytes(), &g)
	e.events.take()
	if tokenMode {
		return g.RefreshToken, g.AccessToken
	}
	return refreshCookieOf(res).Value, g.AccessToken
}

// refreshWith redeems a refresh token in token mode and returns the status.
func (e *env) refreshWith(token string) int {
	return e.do("POST", "/api/auth/refresh", `{"refreshToken":"`+token+`"}`, map[string]string{"X-Auth-Mode": "token"}, "").Code
}

func wantCookieCleared(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
	t.Helper()
	c := refreshCookieOf(res)
	if c == nil || c.MaxAge >= 0 || c.Value != "" || c.Path != "/api/auth" {
		t.Errorf("cookie not cleared: %+v", c)
	}
	if h := hintCookieOf(res); h == nil || h.MaxAge >= 0 || h.Value != "" || h.Path != "/" {
		t.Errorf("session hint not cleared: %+v", h)
	}
}

func wantNoCookie(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
	t.Helper()
	if c := refreshCookieOf(res); c != nil {
		t.Errorf("unexpected cookie %+v", c)
	}
	if h := hintCookieOf(res); h != nil {
		t.Errorf("unexpected session hint %+v", h)
	}
}

func TestAuthEndpoints(t *testing.T) {
	// A grace of 1ns makes any second use of a rotated token a reuse.
	e := mustEnv(t, withAuth(func(c *auth.Config) { c.RefreshGrace = time.Nanosecond }))
	e.mustUser(t, "alice")
	e.mustUser(t, "bob")
	revoked := []authdash.EventKind{authdash.EventSessionsRevoked}
	jsonCT := map[string]string{"Content-Type": "application/json"}
	tokenMode := map[string]string{"X-Auth-Mode": "token"}

	e.runScenarios(t, []scenario{
		// POST /api/auth/register
		{name: "RegisterSetsCookie", method: "POST", path: "/api/auth/register",
			body:       `{"email":"  Carol@Example.COM ","password":"twelve chars","name":" Carol "}`,
			wantStatus: 201, wantBody: []string{`"email":"carol@example.com"`, `"name":"Carol"`, `"accessToken":"`, `"expiresIn":900`},
			check: func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				if strings.Contains(res.Body.String(), "refreshToken") || strings.Contains(res.Body.String(), "twelve") {
					t.Errorf("body leaks: %s", res.Body)
				}
				c := refreshCookieOf(res)
				if c == nil || c.Value == "" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/api/auth" ||
					c.MaxAge < 29*24*3600 || c.Secure {
					t.Errorf("cookie %+v", c)
				}
				// The hint: readable by the page, sent to every path,
				// as long-lived as the refresh cookie, and no secret.
				if h := hintCookieOf(res); h == nil || h.Value != "1" || h.HttpOnly || h.Path != "/" ||
					h.SameSite != http.SameSiteLaxMode || h.MaxAge != c.MaxAge {
					t.Errorf("session hint %+v", h)
				}
				if res.Header().Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q", res.Header().Get("Cache-Control"))
				}
			}},
		{name: "RegisterTokenMode", method: "POST", path: "/api/auth/register", headers: tokenMode,
			body:       `{"email":"dan@example.com","password":"twelve chars","name":"Dan"}`,
			wantStatus: 201, wantBody: []string{`"refreshToken":"`}, check: wantNoCookie},
		{name: "ErrRegisterEmailTaken", method: "POST", path: "/api/auth/register",
			body:       `{"email":"ALICE@example.com","password":"twelve chars","name":"Other Alice"}`,
			wantStatus: 409, wantProblemCode: "conflict"},
		{name: "ErrRegisterInvalid", method: "POST", path: "/api/auth/register",
			body:       `{"email":"not-an-email","password":"short","name":""}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{`"email":`, `"password":`, `"name":`}},
		{name: "ErrRegisterPasswordTooLong", method: "POST", path: "/api/auth/register",
			body:       `{"email":"long@example.com","password":"` + strings.Repeat("p", authdash.MaxPasswordLen+1) + `","name":"L"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("password")},
		{name: "ErrRegisterUnknownField", method: "POST", path: "/api/auth/register",
			body:       `{"email":"x@example.com","password":"twelve chars","name":"X","admin":true}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("admin")},
		{name: "ErrRegisterWrongType", method: "POST", path: "/api/auth/register",
			body:       `{"email":"x@example.com","password":12345678,"name":"X"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("password")},
		{name: "ErrRegisterBadAuthMode", method: "POST", path: "/api/auth/register", headers: map[string]string{"X-Auth-Mode": "jar"},
			body:       `{"email":"x@example.com","password":"twelve chars","name":"X"}`,
			wantStatus: 400, wantProblemCode: "invalid"},

		// POST /api/auth/login
		{name: "LoginOK", method: "POST", path: "/api/auth/login",
			body:       `{"email":"Alice@Example.com","password":"pw-alice-long-enough"}`,
			wantStatus: 200, wantBody: []string{`"email":"alice@example.com"`, `"accessToken":"`},
			check: func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				if c := refreshCookieOf(res); c == nil || c.Value == "" {
					t.Errorf("no refresh cookie")
				}
				if h := hintCookieOf(res); h == nil || h.Value != "1" {
					t.Errorf("no session hint: %+v", h)
				}
			}},
		{name: "LoginTokenMode", method: "POST", path: "/api/auth/login", headers: tokenMode,
			body:       `{"email":"alice@example.com","password":"pw-alice-long-enough"}`,
			wantStatus: 200, wantBody: []string{`"refreshToken":"`}, check: wantNoCookie},
		{name: "ErrLoginWrongPassword", method: "POST", path: "/api/auth/login",
			body:       `{"email":"alice@example.com","password":"wrong password"}`,
			wantStatus: 401, wantProblemCode: "unauthorized", wantBody: []string{"Email or password is incorrect."}},
		{name: "ErrLoginUnknownEmail", method: "POST", path: "/api/auth/login",
			body:       `{"email":"nobody@example.com","password":"wrong password"}`,
			wantStatus: 401, wantProblemCode: "unauthorized", wantBody: []string{"Email or password is incorrect."}},
		{name: "ErrLoginMissingFields", method: "POST", path: "/api/auth/login", body: `{}`,
			wantStatus: 400, wantProblemCode: "invalid", wantBody: []string{`"email":`, `"password":`}},
		{name: "ErrLoginMalformed", method: "POST", path: "/api/auth/login", body: `{"email":"alice@example.com",`,
			wantStatus: 400, wantProblemCode: "invalid"},
		{name: "ErrLoginNotJSON", method: "POST", path: "/api/auth/login", body: `email=alice@example.com&password=x`,
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, wantStatus: 415, wantProblemCode: "unsupported_media_type"},

		// POST /api/auth/refresh
		{name: "RefreshWithCookie", method: "POST", path: "/api/auth/refresh", headers: jsonCT,
			setup: func(t *testing.T, e *env, s *scenario) {
				refresh, _ := e.login(t, "alice", false)
				s.headers = map[string]string{"Content-Type": "application/json", "Cookie": cookieName + "=" + refresh}
				s.check = func(t *testing.T, e *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
					c := refreshCookieOf(res)
					if c == nil || c.Value == "" || c.Value == refresh || !c.HttpOnly {
						t.Errorf("rotated cookie %+v", c)
					}
				}
			},
			wantStatus: 200, wantBody: []string{`"accessToken":"`, `"expiresIn":`}},
		{name: "RefreshWithCookieAndEmptyObject", method: "POST", path: "/api/auth/refresh", body: `{}`,
			setup: func(t *testing.T, e *env, s *scenario) {
				refresh, _ := e.login(t, "alice", false)
				s.headers = map[string]string{"Cookie": cookieName + "=" + refresh}
			},
			wantStatus: 200},
		{name: "RefreshTokenMode", method: "POST", path: "/api/auth/refresh", headers: tokenMode,
			setup: func(t *testing.T, e *env, s *scenario) {
				refresh, _ := e.login(t, "alice", true)
				s.body = `{"refreshToken":"` + refresh + `"}`
				s.check = func(t *testing.T, e *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
					var g struct{ RefreshToken string }
					mustDecode(t, res.Body.Bytes(), &g)
					if g.RefreshToken == "" || g.RefreshToken == refresh {
						t.Errorf("refresh token not rotated: %q", g.RefreshToken)
					}
					wantNoCookie(t, e, res, nil)
				}
			},
			wantStatus: 200, wantBody: []string{`"refreshToken":"`}},
		{name: "ErrRefreshReuseEndsSession", method: "POST", path: "/api/auth/refresh", headers: tokenMode,
			setup: func(t *testing.T, e *env, s *scenario) {
				first, _ := e.login(t, "alice", true)
				res := e.do("POST", "/api/auth/refresh", `{"refreshToken":"`+first+`"}`, tokenMode, "")
				var g struct{ RefreshToken string }
				mustDecode(t, res.Body.Bytes(), &g)
				// The store keeps times in milliseconds: the replay lands
				// outside the (1ns) grace window a millisecond later.
				e.clock.Advance(time.Millisecond)
				s.body = `{"refreshToken":"` + first + `"}` // replayed
				s.check = func(t *testing.T, e *env, _ *httptest.ResponseRecorder, _ []authdash.Event) {
					if code := e.refreshWith(g.RefreshToken); code != 401 {
						t.Errorf("the successor of a replayed token still refreshes: %d", code)
					}
				}
			},
			wantStatus: 401, wantProblemCode: "unauthorized", wantEvents: revoked},
		{name: "ErrRefreshNoCookie", method: "POST", path: "/api/auth/refresh", headers: jsonCT,
			wantStatus: 401, wantProblemCode: "unauthorized"},
		{name: "ErrRefreshBadCookieIsCleared", method: "POST", path: "/api/auth/refresh",
			headers:    map[string]string{"Content-Type": "application/json", "Cookie": cookieName + "=forged"},
			wantStatus: 401, wantProblemCode: "unauthorized", check: wantCookieCleared},
		{name: "ErrRefreshCookieNeedsJSONContentType", method: "POST", path: "/api/auth/refresh",
			setup: func(t *testing.T, e *env, s *scenario) {
				refresh, _ := e.login(t, "alice", false)
				s.headers = map[string]string{"Cookie": cookieName + "=" + refresh, "Content-Type": "text/plain"}
			},
			wantStatus: 415, wantProblemCode: "unsupported_media_type"},
		{name: "ErrRefreshTokenModeWithoutToken", method: "POST", path: "/api/auth/refresh", headers: tokenMode, body: `{}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("refreshToken")},
		{name: "ErrRefreshTokenInBodyWithoutMode", method: "POST", path: "/api/auth/refresh", body: `{"refreshToken":"x"}`,
			wantStatus: 400, wantProblemCode: "invalid", check: wantField("refreshToken")},
		{name: "ErrRefreshGarbageToken", method: "POST", path: "/api/auth/refresh", headers: tokenMode, body: `{"refreshToken":"garbage"}`,
			wantStatus: 401, wantProblemCode: "unauthorized"},

		// POST /api/auth/logout
		{name: "LogoutWithCookie", method: "POST", path: "/api/auth/logout",
			setup: func(t *testing.T, e *env, s *scenario) {
				refresh, _ := e.login(t, "alice", false)
				s.headers = map[string]string{"Content-Type": "application/json", "Cookie": cookieName + "=" + refresh}
				s.check = func(t *testing.T, e *env, res *httptest.ResponseRecorder, evs []authdash.Event) {
					wantCookieCleared(t, e, res, evs)
					if code := e.refreshWith(refresh); code != 401 {
						t.Errorf("refresh after logout: %d", code)
					}
				}
			},
			wantStatus: 204, wantEvents: revoked},
		{name: "LogoutTokenMode", method: "POST", path: "/api/auth/logout", headers: tokenMode,
			setup: func(t *testing.T, e *env, s *scenario) {
				refresh, _ := e.login(t, "alice", true)
				s.body = `{"refreshToken":"` + refresh + `"}`
			},
			wantStatus: 204, wantEvents: revoked, check: wantNoCookie},
		{name: "LogoutIsIdempotent", method: "POST", path: "/api/auth/logout",
			headers: map[string]string{"Content-Type": "application/json", "Cookie": cookieName + "=unknown"}, wantStatus: 204},
		{name: "ErrLogoutCookieNeedsJSONContentType", method: "POST", path: "/api/auth/logout",
			headers: map[string]string{"Cookie": cookieName + "=x"}, wantStatus: 415, wantProblemCode: "unsupported_media_type"},

		// POST /api/auth/logout-all
		{name: "LogoutAll", method: "POST", path: "/api/auth/logout-all",
			setup: func(t *testing.T, e *env, s *scenario) {
				e.mustUser(t, "erin")
				other, _ := e.login(t, "erin", true)
				s.as = "erin"
				// A revocation lets through sessions started in its own
				// millisecond (see authdash.Revocation).
				e.clock.Advance(time.Millisecond)
				s.check = func(t *testing.T, e *env, res *httptest.ResponseRecorder, evs []authdash.Event) {
					wantCookieCleared(t, e, res, evs)
					for _, tok := range []string{other, e.users["erin"].Refresh} {
						if code := e.refreshWith(tok); code != 401 {
							t.Errorf("refresh after logout-all: %d", code)
						}
					}
					// The access token dies with its session, not 15 minutes later.
					res = e.do("GET", "/api/tasks", "", nil, "erin")
					if res.Code != 401 || !strings.Contains(res.Body.String(), "Session ended") ||
						!strings.Contains(res.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
						t.Errorf("old access token after logout-all: %d %s %q", res.Code, res.Body, res.Header().Get("WWW-Authenticate"))
					}
				}
			},
			wantStatus: 200, wantBody: []string{`"ended":2`}, wantEvents: revoked},
		{name: "ErrLogoutAllAnonymous", method: "POST", path: "/api/auth/logout-all", wantStatus: 401, wantProblemCode: "unauthorized"},

		// GET /api/auth/sessions, DELETE /api/auth/sessions/{id}
		{name: "Sessions", method: "GET", path: "/api/auth/sessions", as: "bob", headers: map[string]string{"User-Agent": "TestBrowser/1.0"},
			wantStatus: 200, wantBody: []string{`"items":[`, `"current":true`, `"device":`, `"lastUsedAt":`},
			check: func(t *testing.T, _ *env, res *httptest.ResponseRecorder, _ []authdash.Event) {
				if strings.Contains(res.Body.String(), "userId") || strings.Contains(res.Body.String(), "oken") {
					t.Errorf("sessions leak internals: %s", res.Body)
				}
			}},
		{name: "RevokeSession", method: "DELETE", as: "alice",
			setup: func(t *testing.T, e *env, s *scenario) {
				refresh, _ := e.login(t, "alice", true)
				s.path = "/api/auth/sessions/" + string(otherSession(t, e, "alice"))
				s.check = func(t *testing.T, e *env, _ *httptest.ResponseRecorder, _ []authdash.Event) {
					if code := e.refreshWith(refresh); code != 401 {
						t.Errorf("refresh of a revoked session: %d", code)
					}
				}
			},
			wantStatus: 204, wantEvents: revoked},
		{name: "ErrRevokeOthersSession", method: "DELETE", as: "alice",
			setup: func(t *testing.T, e *env, s *scenario) {
				s.path = "/api/auth/sessions/" + string(otherSession(t, e, "bob"))
			},
			wantStatus: 404, wantProblemCode: "not_found"},
		{name: "ErrRevokeMissing", method: "DELETE", path: "/api/auth/sessions/nope", as: "alice", wantStatus: 404, wantProblemCode: "not_found"},
		{name: "ErrSessionsAnonymous", method: "GET", path: "/api/auth/sessions", wantStatus: 401, wantProblemCode: "unauthorized"},
	})
}

// otherSession returns a session of name that is not its current one.
func otherSession(tb testing.TB, e *env, name string) authdash.SessionID {
	tb.Helper()
	if len(e.users[name].Refresh) == 0 {
		tb.Fatal("no user")
	}
	_, access := e.login(tb, name, true) // make sure there is another
	req := httptest.NewRequest("GET", "/api/auth/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	res := httptest.NewRecorder()
	e.h.ServeHTTP(res, req)
	var list struct{ Items []authdash.Session }
	mustDecode(tb, res.Body.Bytes(), &list)
	for _, s := range list.Items {
		if !s.Current {
			return s.ID
		}
	}
	tb.Fatalf("no other session in %s", res.Body)
	return ""
}

func TestSecureCookie(t *testing.T) {
	e := mustEnv(t, withDeps(func(d *server.Deps) { d.SecureCookies = true }))
	res := e.do("POST", "/api/auth/register", `{"email":"s@example.com","password":"twelve chars","name":"S"}`, nil, "")
	c := refreshCookieOf(res)
	if res.Code != 201 || c == nil || c.Name != "__Secure-authdash_refresh" || !c.Secure || !c.HttpOnly ||
		c.SameSite != http.SameSiteStrictMode || c.Path != "/api/auth" {
		t.Fatalf("%d cookie %+v", res.Code, c)
	}
	if h := hintCookieOf(res); h == nil || !h.Secure {
		t.Errorf("session hint not Secure: %+v", h)
	}
	if !strings.HasPrefix(res.Header().Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS with secure cookies")
	}
	// The cookie is read back under its prefixed name.
	res = e.do("POST", "/api/auth/refresh", "", map[string]string{"Content-Type": "application/json", "Cookie": c.Name + "=" + c.Value}, "")
	if res.Code != 200 {
		t.Errorf("refresh with secure cookie: %d %s", res.Code, res.Body)
	}
}

// TestAccessTokens sends forged and broken bearer tokens to a protected
// endpoint: only a token signed with our key, by HS256, for our issuer and
// audience, unexpired and naming a user and a session, gets in.
func TestAccessTokens(t *testing.T) {
	e := mustEnv(t)
	alice := e.mustUser(t, "alice")
	bob := e.mustUser(t, "bob")
	now := e.clock.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"iss": "authdash", "aud": []string{"authdash-api"}, "sub": string(alice.ID), "sid": "s1",
			"jti": "j1", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	parts := strings.Split(alice.Token, ".")
	bobPayload := strings.Split(bob.Token, ".")[1]

	tests := []struct {
		name       string
		header     string
		wantStatus int
		wantDetail string
	}{
		{"Issued", "Bearer " + alice.Token, 200, ""},
		{"SchemeCaseInsensitive", "bearer " + alice.Token, 200, ""},
		{"ForgedWithOurKey", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(nil)), 200, ""},
		{"ErrNoHeader", "", 401, "Sign in"},
		{"ErrBasicScheme", "Basic YWxpY2U6cHc=", 401, "Sign in"},
		{"ErrExpired", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = now.Add(-time.Hour).Unix(), now.Add(-time.Minute).Unix()
		})), 401, "expired"},
		{"ErrNoExpiry", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { delete(c, "exp") })), 401, ""},
		{"ErrTamperedPayload", "Bearer " + parts[0] + "." + bobPayload + "." + parts[2], 401, ""},
		{"ErrTamperedSignature", "Bearer " + parts[0] + "." + parts[1] + "." + flip(parts[2]), 401, ""},
		{"ErrUnsigned", "Bearer " + sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)), 401, ""},
		{"ErrAlgorithmSwappedHS512", "Bearer " + sign(jwt.SigningMethodHS512, testSecret, claims(nil)), 401, ""},
		{"ErrOtherKey", "Bearer " + sign(jwt.SigningMethodHS256, []byte("another-key-another-key-another-key!"), claims(nil)), 401, ""},
		{"ErrWrongIssuer", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["iss"] = "evil" })), 401, ""},
		{"ErrWrongAudience", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { c["aud"] = "other-api" })), 401, ""},
		{"ErrNoSession", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { delete(c, "sid") })), 401, ""},
		{"ErrNoSubject", "Bearer " + sign(jwt.SigningMethodHS256, testSecret, claims(func(c jwt.MapClaims) { delete(c, "sub") })), 401, ""},
		{"ErrGarbage", "Bearer not.a.jwt", 401, ""},
		{"ErrHuge", "Bearer " + strings.Repeat("a", 10000), 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("GET", "/api/tasks", "", map[string]string{"Authorization": tt.header}, "")
			if res.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.Code, tt.wantStatus, res.Body)
			}
			if tt.wantStatus == 401 {
				p := wantProblem(t, res, "unauthorized")
				if !strings.Contains(p.Detail, tt.wantDetail) {
					t.Errorf("detail %q, want %q", p.Detail, tt.wantDetail)
				}
				if !strings.HasPrefix(res.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", res.Header().Get("WWW-Authenticate"))
				}
			}
		})
	}
}

// flip changes the first character of a base64url string.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestRateLimits(t *testing.T) {
	mustLimiter := func(rate float64, burst int) server.Limiter {
		l, err := ratelimit.NewMemory(rate, burst)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	e := mustEnv(t, withDeps(func(d *server.Deps) {
		d.Limiter = mustLimiter(1.0/3600, 3)
		d.AccountLimiter = mustLimiter(1.0/3600, 2)
		d.RefreshLimiter = mustLimiter(1.0/3600, 1)
	}))
	login := func(ip, email string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/auth/login", strings.NewReader(`{"email":"`+email+`","password":"wrong password"}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = ip + ":5555"
		res := httptest.NewRecorder()
		e.h.ServeHTTP(res, req)
		return res
	}
	want429 := func(t *testing.T, res *httptest.ResponseRecorder) {
		t.Helper()
		if res.Code != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429: %s", res.Code, res.Body)
		}
		wantProblem(t, res, "rate_limited")
		if s, err := strconv.Atoi(res.Header().Get("Retry-After")); err != nil || s < 1 {
			t.Errorf("Retry-After %q", res.Header().Get("Retry-After"))
		}
	}

	t.Run("PerAccount", func(t *testing.T) {
		// Two tries for one account, from different addresses.
		for i, ip := range []string{"198.51.100.1", "198.51.100.2"} {
			if res := login(ip, "victim@example.com"); res.Code != 401 {
				t.Fatalf("try %d: %d", i, res.Code)
			}
		}
		want429(t, login("198.51.100.3", "VICTIM@example.com"))
		if res := login("198.51.100.3", "someone-else@example.com"); res.Code != 401 {
			t.Errorf("another account is limited too: %d", res.Code)
		}
	})
	t.Run("PerIP", func(t *testing.T) {
		for i := range 3 {
			if res := login("203.0.113.9", "user"+strconv.Itoa(i)+"@example.com"); res.Code != 401 {
				t.Fatalf("try %d: %d", i, res.Code)
			}
		}
		want429(t, login("203.0.113.9", "fresh@example.com"))
		if res := login("203.0.113.10", "fresh@example.com"); res.Code != 401 {
			t.Errorf("another address is limited too: %d", res.Code)
		}
	})
	t.Run("Refresh", func(t *testing.T) {
		if code := e.refreshWith("garbage"); code != 401 {
			t.Fatalf("first refresh: %d", code)
		}
		want429(t, e.do("POST", "/api/auth/refresh", `{"refreshToken":"x"}`, map[string]string{"X-Auth-Mode": "token"}, ""))
	})
	t.Run("PasswordConfirm", func(t *testing.T) {
		// Changing the password and deleting the account share one budget
		// per account, whichever address and token the guesses come from.
		u := e.mustUser(t, "guessed")
		e.mustUser(t, "bystander")
		guesses := []struct{ method, path, body string }{
			{"POST", "/api/me/password", `{"currentPassword":"guess one","newPassword":"a brand new passphrase"}`},
			{"DELETE", "/api/me", `{"password":"guess two"}`},
		}
		for _, g := range guesses {
			if res := e.do(g.method, g.path, g.body, nil, "guessed"); res.Code != http.StatusForbidden {
				t.Fatalf("%s %s: %d %s", g.method, g.path, res.Code, res.Body)
			}
		}
		want429(t, e.do("DELETE", "/api/me", `{"password":"`+u.Password+`"}`, nil, "guessed"))
		if res := e.do("DELETE", "/api/me", `{"password":"guess"}`, nil, "bystander"); res.Code != http.StatusForbidden {
			t.Errorf("another account is limited too: %d", res.Code)
		}
		// An invalid request is answered before it costs a guess.
		if res := e.do("POST", "/api/me/password", `{"currentPassword":"x","newPassword":"short"}`, nil, "bystander"); res.Code != http.StatusBadRequest {
			t.Errorf("invalid change: %d", res.Code)
		}
		if res := e.do("DELETE", "/api/me", `{"password":"guess"}`, nil, "bystander"); res.Code != http.StatusForbidden {
			t.Errorf("second guess for another account: %d", res.Code)
		}
	})
}

// failingLimiter stands for a limiter whose backend is down.
type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string) (bool, time.Duration, error) {
	return false, 0, errors.New("limiter backend unreachable")
}

func TestRateLimiterFailsOpen(t *testing.T) {
	e := mustEnv(t, withDeps(func(d *server.Deps) { d.Limiter, d.AccountLimiter = failingLimiter{}, failingLimiter{} }))
	res := e.do("POST", "/api/auth/register", `{"email":"o@example.com","password":"twelve chars","name":"O"}`, nil, "")
	if res.Code != 201 {
		t.Fatalf("status %d: %s", res.Code, res.Body)
	}
	if !strings.Contains(e.logs.String(), "limiter backend unreachable") {
		t.Errorf("limiter failure not logged")
	}
}

// TestLogsHoldNoSecrets runs the flows that carry passwords and tokens and
// checks none of them reaches the log.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := mustEnv(t)
	const password = "Sup3r-secret-passphrase"
	res := e.do("POST", "/api/auth/register", `{"email":"log@example.com","password":"`+password+`","name":"Log"}`,
		map[string]string{"X-Auth-Mode": "token"}, "")
	var g struct{ AccessToken, RefreshToken string }
	mustDecode(t, res.Body.Bytes(), &g)
	secrets := []string{password, g.AccessToken, g.RefreshToken}

	e.do("POST", "/api/auth/login", `{"email":"log@example.com","password":"wrong-`+password+`"}`, nil, "")
	res = e.do("POST", "/api/auth/login", `{"email":"log@example.com","password":"`+password+`"}`, nil, "")
	cookie := refreshCookieOf(res)
	secrets = append(secrets, cookie.Value)
	res = e.do("POST", "/api/auth/refresh", "", map[string]string{"Content-Type": "application/json", "Cookie": cookieName + "=" + cookie.Value}, "")
	mustDecode(t, res.Body.Bytes(), &g)
	secrets = append(secrets, g.AccessToken, refreshCookieOf(res).Value)
	e.do("GET", "/api/tasks?q=x", "", map[string]string{"Authorization": "Bearer " + g.AccessToken}, "")
	e.do("GET", "/api/tasks", "", map[string]string{"Authorization": "Bearer " + g.AccessToken + "x"}, "")
	e.do("POST", "/api/auth/refresh", `{"refreshToken":"`+g.RefreshToken+`"}`, map[string]string{"X-Auth-Mode": "token"}, "")

	logs := e.logs.String()
	if strings.Count(logs, `"msg":"request"`) < 7 {
		t.Fatalf("expected a request line per request:\n%s", logs)
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("empty secret")
		}
		if strings.Contains(logs, s) {
			t.Errorf("log contains a secret %.12s…:\n%s", s, logs)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
	}
}
