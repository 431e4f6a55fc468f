package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	legacyrouter "github.com/getkin/kin-openapi/routers/legacy"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth/idp"
	"github.com/authdash/authdash/e2e/apitest"
	"github.com/authdash/authdash/instance"
	"github.com/authdash/authdash/internal/oidctest"
	"github.com/authdash/authdash/mail/mailtest"
	"github.com/authdash/authdash/openapi"
	"github.com/authdash/authdash/server"
	"github.com/authdash/authdash/wire"
)

var testSecret = []byte("Qe7v-openapi-test-signing-key-Lm3xW9pZ2rT5")

// api is the real server (instance.Build, as cmd/authdash builds it) behind
// a real listener.
type api struct {
	url     string
	client  *http.Client
	unready atomic.Bool      // makes /readyz fail
	mail    *mailtest.Server // receives what the server mails
	idp     *oidctest.Provider
}

func mustAPI(t *testing.T) *api {
	t.Helper()
	// Redirects are answers to check, not to follow (the identity
	// provider's start and callback).
	a := &api{client: &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		mail: mailtest.Start(t, mailtest.Options{}), idp: oidctest.Start()}
	t.Cleanup(a.idp.Close)
	smtp := a.mail.URL()
	smtp.Host = "localhost:" + smtp.Port() // the test certificate names localhost
	srv := apitest.Start(t, apitest.Options{
		SMTP: smtp, MailRootCAs: a.mail.Roots,
		Secret: testSecret,
		OIDCProviders: []idp.Config{{Name: "test", DisplayName: "Test", Issuer: a.idp.Issuer(),
			ClientID: a.idp.ClientID, ClientSecret: a.idp.ClientSecret}},
		OIDCRedirectBase: "http://api.authdash.test",
		// A tight per-account limit, so that the test can provoke a 429
		// without affecting the other accounts.
		Limits: []instance.Limit{{Name: instance.LimitSignInAccount, Rate: 1.0 / 3600, Burst: 7}},
		Ready: []server.Check{{Name: "switch", Check: func(context.Context) error {
			if a.unready.Load() {
				return authdash.Errorf(authdash.CodeUnavailable, "switched off by the test")
			}
			return nil
		}}},
	})
	a.url = srv.URL
	return a
}

// spec is the OpenAPI document loaded and checked by kin-openapi.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

func mustSpec(t *testing.T) *spec {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Spec())
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi.json is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	r, err := legacyrouter.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &spec{doc: doc, router: r}
}

// reqValidity says whether the spec must accept the request as sent.
type reqValidity int

const (
	specAccepts reqValidity = iota // a request the spec describes as valid
	specRejects                    // a request the spec already rules out
	specSilent                     // outside what OpenAPI can express (e.g. an unknown query parameter)
)

// exchange is one request of a scenario and what must come of it.
type exchange struct {
	name       string
	method     string
	path       string // {task}, {session} … are replaced from the scenario's vars
	body       string
	header     map[string]string
	as         string // user whose access token to send
	cookie     string // var holding a refresh cookie to send
	wantStatus int
	req        reqValidity
	capture    func(t *testing.T, s *scenario, resp *http.Response, body []byte)
}

// scenario runs exchanges against the real server, validating each request
// and response against the spec, and records which (operation, status)
// pairs it exercised.
type scenario struct {
	api    *api
	spec   *spec
	tokens map[string]string
	vars   map[string]string
	seen   map[string]map[int]bool // operationId → statuses validated
}

func (s *scenario) expand(p string) string {
	for k, v := range s.vars {
		p = strings.ReplaceAll(p, "{"+k+"}", v)
	}
	return p
}

func (s *scenario) newRequest(t *testing.T, x exchange) *http.Request {
	t.Helper()
	var body io.Reader
	if x.body != "" {
		body = strings.NewReader(s.expand(x.body))
	}
	req, err := http.NewRequest(x.method, s.api.url+s.expand(x.path), body)
	if err != nil {
		t.Fatal(err)
	}
	if x.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range x.header {
		req.Header.Set(k, s.expand(v))
	}
	if x.as != "" {
		tok := s.tokens[x.as]
		if tok == "" {
			t.Fatalf("no token for %q", x.as)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if x.cookie != "" {
		req.Header.Set("Cookie", s.vars[x.cookie])
	}
	return req
}

// authenticate is how kin-openapi checks security requirements: a bearer
// requirement is met by an Authorization: Bearer header, a cookie one by the
// cookie's presence.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "bearerAuth":
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			return nil
		}
	case "refreshCookie":
		if _, err := r.Cookie(in.SecurityScheme.Name); err == nil {
			return nil
		}
		if _, err := r.Cookie("authdash_refresh"); err == nil {
			return nil
		}
	}
	return openapi3filter.ErrAuthenticationServiceMissing
}

func (s *scenario) run(t *testing.T, xs []exchange) {
	t.Helper()
	for _, x := range xs {
		if t.Failed() {
			return // later steps depend on earlier ones
		}
		t.Run(x.name, func(t *testing.T) { s.exchange(t, x) })
	}
}

func (s *scenario) exchange(t *testing.T, x exchange) {
	ctx := context.Background()
	// Validate a twin of the request: validation consumes the body.
	twin := s.newRequest(t, x)
	route, params, err := s.spec.router.FindRoute(twin)
	if err != nil {
		t.Fatalf("%s %s is not in the spec: %v", x.method, x.path, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: twin, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: authenticate, MultiError: true},
	}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	switch {
	case x.req == specAccepts && reqErr != nil:
		t.Errorf("the spec refuses a request the test means as valid: %v", reqErr)
	case x.req == specRejects && reqErr == nil:
		t.Errorf("the spec accepts a request the server must refuse")
	}

	resp, err := s.api.client.Do(s.newRequest(t, x))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != x.wantStatus {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, x.wantStatus, body)
	}
	// The response is checked against the operation as if the request had
	// been valid: a refused request still gets a documented answer.
	in.Options = &openapi3filter.Options{AuthenticationFunc: authenticate, IncludeResponseStatus: true, MultiError: true}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                in.Options,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("response does not match the spec: %v\nbody: %s", err, body)
	}
	op := route.Operation.OperationID
	if s.seen[op] == nil {
		s.seen[op] = map[int]bool{}
	}
	s.seen[op][resp.StatusCode] = true
	if x.capture != nil {
		x.capture(t, s, resp, body)
	}
}

func mustDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// grantOf keeps the tokens of a register, login or refresh answer.
func grantOf(user string) func(t *testing.T, s *scenario, resp *http.Response, body []byte) {
	return func(t *testing.T, s *scenario, resp *http.Response, body []byte) {
		var g wire.Grant
		mustDecode(t, body, &g)
		s.tokens[user] = g.AccessToken
		if g.RefreshToken != "" {
			s.vars[user+".refresh.old"] = s.vars[user+".refresh"]
			s.vars[user+".refresh"] = g.RefreshToken
		}
		for _, c := range resp.Cookies() {
			if strings.HasSuffix(c.Name, "authdash_refresh") && c.Value != "" {
				s.vars[user+".cookie"] = c.Name + "=" + c.Value
			}
		}
	}
}

// mailedToken keeps, as var, the token of the link to path in the newest message to addr
// about subject.
func mailedToken(a *api, name, addr, subject, path string) func(*testing.T, *scenario, *http.Response, []byte) {
	return func(t *testing.T, s *scenario, _ *http.Response, _ []byte) {
		t.Helper()
		link, err := a.mail.Last(t, addr, subject, 20*time.Second).Link(path)
		if err != nil {
			t.Fatal(err)
		}
		s.vars[name] = link.Query().Get("token")
	}
}

// authorize is the browser's trip through the identity provider after a
// start (302, or a link's {url}): the provider signs who in (spoiled as
// asked, or denying); the binding cookie and the callback's path and query
// are kept as name.cookie and name.callback.
func (a *api) authorize(name string, who oidctest.Person, spoil oidctest.Spoil, deny bool) func(*testing.T, *scenario, *http.Response, []byte) {
	return func(t *testing.T, s *scenario, resp *http.Response, body []byte) {
		t.Helper()
		a.idp.SignIn(who, spoil)
		if deny {
			a.idp.Deny()
		}
		to := resp.Header.Get("Location")
		if to == "" {
			var r wire.OIDCRedirect
			mustDecode(t, body, &r)
			to = r.URL
		}
		for _, c := range resp.Cookies() {
			if strings.HasSuffix(c.Name, "authdash_oidc") {
				s.vars[name+".cookie"] = c.Name + "=" + c.Value
			}
		}
		ar, err := a.client.Get(to)
		if err != nil {
			t.Fatal(err)
		}
		ar.Body.Close()
		back, err := url.Parse(ar.Header.Get("Location"))
		if err != nil || ar.StatusCode != http.StatusFound {
			t.Fatalf("provider: %d %q", ar.StatusCode, ar.Header.Get("Location"))
		}
		s.vars[name+".callback"] = back.Path + "?" + back.RawQuery
	}
}
