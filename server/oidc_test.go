package server_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/auth/idp"
	"github.com/authdash/authdash/internal/oidctest"
	"github.com/authdash/authdash/server"
	"github.com/authdash/authdash/wire"
)

const testAppURL = "https://app.authdash.test"

// oidcEnv is the API with one identity provider, "test", served by a real
// OIDC provider on loopback.
type oidcEnv struct {
	*env
	p *oidctest.Provider
}

func withProvider(p *oidctest.Provider, issuer string) []envOption {
	cfg := idp.Config{Name: "test", DisplayName: "Test ID", Issuer: issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret}
	prov := idp.New(cfg, testAppURL+"/api/auth/oidc/test/callback", idp.Options{RetryAfter: time.Nanosecond})
	return []envOption{
		withAuth(func(c *auth.Config) { c.Providers = []*idp.Provider{prov}; c.MFAKey = testMFAKey }),
		withDeps(func(d *server.Deps) { d.AppURL = testAppURL }),
	}
}

func mustOIDCEnv(t *testing.T) *oidcEnv {
	p := oidctest.Start()
	t.Cleanup(p.Close)
	return &oidcEnv{env: mustEnv(t, withProvider(p, p.Issuer())...), p: p}
}

// flow is one round trip through the provider: what start set and where
// the provider sent the browser back.
type flow struct {
	binding  string // the browser-binding cookie
	callback string // path and query of the callback
}

// begin starts a sign-in (or, with as, a connection) and lets the
// provider answer; the provider signs in who.
func (o *oidcEnv) begin(t *testing.T, who oidctest.Person, spoil oidctest.Spoil, as string) flow {
	t.Helper()
	o.p.SignIn(who, spoil)
	var to string
	var res *httptest.ResponseRecorder
	if as == "" {
		res = o.do("GET", "/api/auth/oidc/test/start?return=/tasks", "", nil, "")
		if res.Code != http.StatusFound {
			t.Fatalf("start: %d %s", res.Code, res.Body)
		}
		to = res.Header().Get("Location")
	} else {
		res = o.do("POST", "/api/me/identities/test/link?return=/profile", "", nil, as)
		if res.Code != http.StatusOK {
			t.Fatalf("link: %d %s", res.Code, res.Body)
		}
		var r wire.OIDCRedirect
		mustDecode(t, res.Body.Bytes(), &r)
		to = r.URL
	}
	var f flow
	for _, c := range res.Result().Cookies() {
		if c.Name == "authdash_oidc" {
			f.binding = c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/api/auth/oidc" {
				t.Errorf("binding cookie %+v: want HttpOnly, SameSite=Lax, Path=/api/auth/oidc", c)
			}
		}
	}
	u, err := url.Parse(to)
	if err != nil || !strings.HasPrefix(to, o.p.Issuer()+"/authorize?") {
		t.Fatalf("start sends the browser to %q", to)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" ||
		!strings.Contains(q.Get("scope"), "openid") || q.Get("redirect_uri") != testAppURL+"/api/auth/oidc/test/callback" {
		t.Fatalf("authorization request %v: want PKCE S256, nonce, state, openid scope, the callback", q)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ar, err := client.Get(to)
	if err != nil {
		t.Fatal(err)
	}
	ar.Body.Close()
	back, err := url.Parse(ar.Header.Get("Location"))
	if err != nil || ar.StatusCode != http.StatusFound {
		t.Fatalf("provider answered %d %q", ar.StatusCode, ar.Header.Get("Location"))
	}
	f.callback = back.Path + "?" + back.RawQuery
	return f
}

// finish is the browser's (page) or a client's arrival at the callback.
func (o *oidcEnv) finish(f flow, page bool) *httptest.ResponseRecorder {
	h := map[string]string{"Accept": "application/json"}
	if page {
		h["Accept"] = "text/html,application/xhtml+xml"
	}
	if f.binding != "" {
		h["Cookie"] = "authdash_oidc=" + f.binding
	}
	return o.do("GET", f.callback, "", h, "")
}

// setsRefresh says the answer signs the browser in (a refresh cookie with a value).
func setsRefresh(res *httptest.ResponseRecorder) bool {
	for _, c := range res.Result().Cookies() {
		if c.Name == "authdash_refresh" && c.Value != "" {
			return true
		}
	}
	return false
}

func person(sub, email string) oidctest.Person {
	return oidctest.Person{Subject: sub, Email: email, EmailVerified: true, Name: "Olive " + sub}
}

func TestOIDCProviders(t *testing.T) {
	o := mustOIDCEnv(t)
	res := o.do("GET", "/api/auth/oidc/providers", "", nil, "")
	var ps []wire.OIDCProvider
	mustDecode(t, res.Body.Bytes(), &ps)
	if res.Code != 200 || len(ps) != 1 || ps[0] != (wire.OIDCProvider{Name: "test", DisplayName: "Test ID", StartURL: "/api/auth/oidc/test/start"}) {
		t.Fatalf("providers: %d %s", res.Code, res.Body)
	}
	// Without providers, an empty list (the page shows no buttons).
	e := mustEnv(t)
	if res := e.do("GET", "/api/auth/oidc/providers", "", nil, ""); res.Code != 200 || strings.TrimSpace(res.Body.String()) != "[]" {
		t.Fatalf("no providers: %d %s", res.Code, res.Body)
	}
}

// TestOIDCNewAccount: an unknown subject with a verified email that no
// account has gets a new account, without a password, and signs in; the
// next sign-in finds it by the subject.
func TestOIDCNewAccount(t *testing.T) {
	o := mustOIDCEnv(t)
	res := o.finish(o.begin(t, person("s-1", "olive@example.com"), oidctest.SpoilNone, ""), false)
	if res.Code != 200 || !setsRefresh(res) {
		t.Fatalf("callback: %d %s %v", res.Code, res.Body, res.Header())
	}
	var g wire.Grant
	mustDecode(t, res.Body.Bytes(), &g)
	if g.AccessToken == "" || g.User == nil || g.User.Email != "olive@example.com" || !g.User.EmailVerified || g.User.Name != "Olive s-1" {
		t.Fatalf("grant %s", res.Body)
	}
	if ids, err := o.store.LinkedIdentities(context.Background(), g.User.ID); err != nil || len(ids) != 1 || ids[0].LastUsedAt.IsZero() {
		t.Errorf("identities after the first sign-in %+v, %v: want one, used", ids, err)
	}
	if h, err := o.store.PasswordHash(context.Background(), g.User.ID); err != nil || h != "" {
		t.Errorf("password hash %q, %v: want none", h, err)
	}
	o.users["olive"] = &user{ID: g.User.ID, Token: g.AccessToken}
	if ev := lastSignIn(t, o.env, "olive"); ev.Method != authdash.SignInOIDC || ev.Outcome != authdash.SignInSuccess {
		t.Errorf("activity %+v, want an oidc success", ev)
	}
	// A password sign-in of that account fails like a wrong password, and
	// a change that asks for the password says there is none.
	wantProblem(t, o.do("POST", "/api/auth/login", `{"email":"olive@example.com","password":"any password at all"}`, nil, ""), authdash.CodeUnauthorized)
	res = o.do("DELETE", "/api/me", `{"password":"any password at all"}`, nil, "olive")
	if pr := wantProblem(t, res, authdash.CodeForbidden); !strings.Contains(pr.Errors["password"], "no password yet") {
		t.Errorf("delete without a password: %+v", pr)
	}

	// Again, as a browser: the same account, the refresh cookie, and a
	// redirect to where the sign-in began.
	res = o.finish(o.begin(t, person("s-1", "changed@example.com"), oidctest.SpoilNone, ""), true)
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != testAppURL+"/tasks" || !setsRefresh(res) {
		t.Fatalf("page callback: %d %v", res.Code, res.Header())
	}
	ids, err := o.store.LinkedIdentities(context.Background(), g.User.ID)
	if err != nil || len(ids) != 1 || ids[0].LastUsedAt.IsZero() {
		t.Fatalf("identities %+v, %v: want one, used", ids, err)
	}
	// Its only way in cannot be disconnected.
	res = o.do("DELETE", "/api/me/identities/"+ids[0].ID, "", nil, "olive")
	wantProblem(t, res, authdash.CodeConflict)
}

// TestOIDCLinkByMail: an unknown subject whose verified email is an
// account's is never linked silently: the owner is mailed, and the link
// connects and signs in, once.
func TestOIDCLinkByMail(t *testing.T) {
	o := mustOIDCEnv(t)
	alice := o.mustUser(t, "alice")
	res := o.finish(o.begin(t, person("a-1", "ALICE@example.com"), oidctest.SpoilNone, ""), false)
	if res.Code != http.StatusAccepted || !strings.Contains(res.Body.String(), `"linkSent":true`) || setsRefresh(res) {
		t.Fatalf("callback: %d %s %v", res.Code, res.Body, res.Header())
	}
	if _, err := o.store.FindLinkedIdentity(context.Background(), "test", "a-1"); authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
		t.Fatalf("linked before the owner said so: %v", err)
	}
	msgs := o.mail.take()
	if len(msgs) != 1 || msgs[0].Kind != auth.MailLinkIdentity || msgs[0].To != alice.Email || msgs[0].Token == "" || msgs[0].Provider != "Test ID" {
		t.Fatalf("mail %+v", msgs)
	}
	// As a browser, the same answer is a page that says so.
	res = o.finish(o.begin(t, person("a-1", "alice@example.com"), oidctest.SpoilNone, ""), true)
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != testAppURL+"/signin?oidc=link-sent" {
		t.Fatalf("page: %d %v", res.Code, res.Header())
	}
	o.mail.take()

	body := `{"token":"` + msgs[0].Token + `"}`
	res = o.do("POST", "/api/auth/oidc/link", body, map[string]string{wire.HeaderAuthMode: wire.AuthModeToken}, "")
	var g wire.Grant
	mustDecode(t, res.Body.Bytes(), &g)
	if res.Code != 200 || g.User == nil || g.User.ID != alice.ID {
		t.Fatalf("confirm: %d %s", res.Code, res.Body)
	}
	wantProblem(t, o.do("POST", "/api/auth/oidc/link", body, nil, ""), authdash.CodeInvalid)
	// From now on the provider signs alice in.
	res = o.finish(o.begin(t, person("a-1", "alice@example.com"), oidctest.SpoilNone, ""), false)
	mustDecode(t, res.Body.Bytes(), &g)
	if res.Code != 200 || g.User.ID != alice.ID {
		t.Fatalf("sign-in after the link: %d %s", res.Code, res.Body)
	}
}

// TestOIDCConnectSignedIn: a signed-in owner connects a provider from the
// profile; a subject that is another's is refused.
func TestOIDCConnectSignedIn(t *testing.T) {
	o := mustOIDCEnv(t)
	alice, _ := o.mustUser(t, "alice"), o.mustUser(t, "bob")
	res := o.finish(o.begin(t, person("a-9", "someone@else.example"), oidctest.SpoilNone, "alice"), true)
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != testAppURL+"/profile?oidc=linked" || setsRefresh(res) {
		t.Fatalf("connect: %d %v", res.Code, res.Header())
	}
	res = o.do("GET", "/api/me/identities", "", nil, "alice")
	var l wire.IdentityList
	mustDecode(t, res.Body.Bytes(), &l)
	if res.Code != 200 || len(l.Items) != 1 || l.Items[0].Provider != "test" || l.Items[0].Email != "someone@else.example" {
		t.Fatalf("identities: %d %s", res.Code, res.Body)
	}
	if res := o.do("GET", "/api/me/identities", "", nil, "bob"); !strings.Contains(res.Body.String(), `"items":[]`) {
		t.Fatalf("bob's: %s", res.Body)
	}
	// Bob cannot take alice's.
	res = o.finish(o.begin(t, person("a-9", "bob@example.com"), oidctest.SpoilNone, "bob"), false)
	wantProblem(t, res, authdash.CodeConflict)
	res = o.finish(o.begin(t, person("a-9", "bob@example.com"), oidctest.SpoilNone, "bob"), true)
	if res.Header().Get("Location") != testAppURL+"/signin?oidcError=taken" {
		t.Fatalf("page: %v", res.Header())
	}
	// Alice has a password: she may disconnect it, once.
	path := "/api/me/identities/" + l.Items[0].ID
	wantProblem(t, o.do("DELETE", path, "", nil, "bob"), authdash.CodeNotFound)
	if res := o.do("DELETE", path, "", nil, "alice"); res.Code != http.StatusNoContent {
		t.Fatalf("unlink: %d %s", res.Code, res.Body)
	}
	wantProblem(t, o.do("DELETE", path, "", nil, "alice"), authdash.CodeNotFound)
	_ = alice
}

// TestOIDCSecondFactor: a provider's sign-in of an account with a second
// factor only opens the challenge, as a right password does.
func TestOIDCSecondFactor(t *testing.T) {
	o := mustOIDCEnv(t)
	o.mustUser(t, "alice")
	o.finish(o.begin(t, person("a-2", "x@example.org"), oidctest.SpoilNone, "alice"), false)
	o.enableTOTP(t, "alice")
	res := o.finish(o.begin(t, person("a-2", "x@example.org"), oidctest.SpoilNone, ""), false)
	var ch wire.MFAChallenge
	mustDecode(t, res.Body.Bytes(), &ch)
	if res.Code != 200 || !ch.MFARequired || ch.MFAToken == "" || setsRefresh(res) {
		t.Fatalf("callback: %d %s", res.Code, res.Body)
	}
	res = o.finish(o.begin(t, person("a-2", "x@example.org"), oidctest.SpoilNone, ""), true)
	loc, _ := url.Parse(res.Header().Get("Location"))
	if res.Code != http.StatusSeeOther || loc.Path != "/signin" || loc.Query().Get("mfaToken") == "" ||
		loc.Query().Get("methods") != "totp,recovery" || setsRefresh(res) {
		t.Fatalf("page: %d %v", res.Code, res.Header())
	}
}

// TestOIDCRefused: every way the answer can be wrong is refused with the
// problem's field naming it, and a browser is sent to the sign-in page
// with that name.
func TestOIDCRefused(t *testing.T) {
	o := mustOIDCEnv(t)
	ok := person("r-1", "r@example.com")
	for _, c := range []struct {
		name   string
		flow   func(t *testing.T) flow
		code   authdash.ErrorCode
		status int
		field  string
	}{
		{"WrongState", func(t *testing.T) flow {
			f := o.begin(t, ok, oidctest.SpoilNone, "")
			f.callback = strings.Replace(f.callback, "state=", "state=x", 1)
			return f
		}, authdash.CodeInvalid, 400, "state"},
		{"NoCookie", func(t *testing.T) flow {
			f := o.begin(t, ok, oidctest.SpoilNone, "")
			f.binding = ""
			return f
		}, authdash.CodeInvalid, 400, "state"},
		{"AnotherBrowsersCookie", func(t *testing.T) flow {
			other := o.begin(t, ok, oidctest.SpoilNone, "")
			f := o.begin(t, ok, oidctest.SpoilNone, "")
			f.binding = other.binding
			return f
		}, authdash.CodeInvalid, 400, "state"},
		{"ReplayedState", func(t *testing.T) flow {
			f := o.begin(t, ok, oidctest.SpoilNone, "")
			if res := o.finish(f, false); res.Code != 200 {
				t.Fatalf("first: %d %s", res.Code, res.Body)
			}
			return f
		}, authdash.CodeInvalid, 400, "state"},
		{"ReplayedCode", func(t *testing.T) flow {
			used := o.begin(t, ok, oidctest.SpoilNone, "")
			if res := o.finish(used, false); res.Code != 200 {
				t.Fatalf("first: %d %s", res.Code, res.Body)
			}
			f := o.begin(t, ok, oidctest.SpoilNone, "")
			code := func(s string) string { u, _ := url.Parse(s); return u.Query().Get("code") }
			f.callback = strings.Replace(f.callback, code(f.callback), code(used.callback), 1)
			return f
		}, authdash.CodeUnauthorized, 401, "code"},
		{"BadNonce", func(t *testing.T) flow { return o.begin(t, ok, oidctest.SpoilNonce, "") }, authdash.CodeUnauthorized, 401, "nonce"},
		{"ExpiredToken", func(t *testing.T) flow { return o.begin(t, ok, oidctest.SpoilExpired, "") }, authdash.CodeUnauthorized, 401, "token"},
		{"WrongAudience", func(t *testing.T) flow { return o.begin(t, ok, oidctest.SpoilAudience, "") }, authdash.CodeUnauthorized, 401, "token"},
		{"ForeignKey", func(t *testing.T) flow { return o.begin(t, ok, oidctest.SpoilKey, "") }, authdash.CodeUnauthorized, 401, "token"},
		{"WrongIssuer", func(t *testing.T) flow { return o.begin(t, ok, oidctest.SpoilIssuer, "") }, authdash.CodeUnauthorized, 401, "token"},
		{"UnverifiedEmail", func(t *testing.T) flow {
			p := person("r-2", "new@example.com")
			p.EmailVerified = false
			return o.begin(t, p, oidctest.SpoilNone, "")
		}, authdash.CodeForbidden, 403, "email"},
		{"Denied", func(t *testing.T) flow {
			o.p.Deny()
			res := o.do("GET", "/api/auth/oidc/test/start", "", nil, "")
			f := flow{binding: res.Result().Cookies()[0].Value}
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			ar, err := client.Get(res.Header().Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			ar.Body.Close()
			back, _ := url.Parse(ar.Header.Get("Location"))
			f.callback = back.Path + "?" + back.RawQuery
			return f
		}, authdash.CodeForbidden, 403, "denied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := o.p.Tokens
			res := o.finish(c.flow(t), false)
			if res.Code != c.status {
				t.Fatalf("status %d, want %d: %s", res.Code, c.status, res.Body)
			}
			if pr := wantProblem(t, res, c.code); pr.Errors[c.field] == "" {
				t.Errorf("problem %+v, want field %s", pr, c.field)
			}
			if setsRefresh(res) {
				t.Errorf("a refused sign-in set %v", res.Header()["Set-Cookie"])
			}
			// A state that does not hold is refused before the code is
			// redeemed (and the code dies unused at the provider).
			if c.field == "state" && c.name != "ReplayedState" && o.p.Tokens != before {
				t.Errorf("a code was redeemed for a sign-in whose state was refused")
			}
		})
		t.Run(c.name+"Page", func(t *testing.T) {
			res := o.finish(c.flow(t), true)
			if res.Code != http.StatusSeeOther || res.Header().Get("Location") != testAppURL+"/signin?oidcError="+c.field {
				t.Fatalf("page: %d %v", res.Code, res.Header())
			}
		})
	}
	if _, err := o.store.FindLinkedIdentity(context.Background(), "test", "r-2"); authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
		t.Errorf("an unverified email got an identity: %v", err)
	}
}

// TestOIDCStartRefused: an unknown provider, an open redirect.
func TestOIDCStartRefused(t *testing.T) {
	o := mustOIDCEnv(t)
	wantProblem(t, o.do("GET", "/api/auth/oidc/nope/start", "", nil, ""), authdash.CodeNotFound)
	for _, ret := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "tasks"} {
		res := o.do("GET", "/api/auth/oidc/test/start?return="+url.QueryEscape(ret), "", nil, "")
		if pr := wantProblem(t, res, authdash.CodeInvalid); pr.Errors["return"] == "" {
			t.Errorf("return %q: %+v", ret, pr)
		}
	}
}

// TestOIDCProviderDown: a provider that cannot be reached is 503 for its
// sign-in (the rest of the API is unaffected) and works once it is back.
func TestOIDCProviderDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	template := oidctest.StartOn("127.0.0.1:0") // for its client credentials
	template.Close()
	e := mustEnv(t, withProvider(template, "http://"+addr)...)
	res := e.do("GET", "/api/auth/oidc/test/start", "", nil, "")
	if pr := wantProblem(t, res, authdash.CodeUnavailable); pr.Errors["provider"] == "" {
		t.Fatalf("down: %+v", pr)
	}
	res = e.do("GET", "/api/auth/oidc/test/start", "", map[string]string{"Accept": "text/html"}, "")
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != testAppURL+"/signin?oidcError=provider" {
		t.Fatalf("down, page: %d %v", res.Code, res.Header())
	}
	p := oidctest.StartOn(addr)
	defer p.Close()
	p.ClientID, p.ClientSecret = template.ClientID, template.ClientSecret
	o := &oidcEnv{env: e, p: p}
	res = o.finish(o.begin(t, person("d-1", "d@example.com"), oidctest.SpoilNone, ""), false)
	if res.Code != 200 {
		t.Fatalf("back: %d %s", res.Code, res.Body)
	}
}
