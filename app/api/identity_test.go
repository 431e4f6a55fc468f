//go:build !js

package api_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/auth/idp"
	"github.com/authdash/authdash/e2e/apitest"
	"github.com/authdash/authdash/internal/oidctest"
)

// TestOIDCClient lists the providers, connects a provider's account to a
// signed-in one through a real OpenID provider in the test (the browser's
// round trip done by the client's own cookie jar), lists and disconnects
// it, and is refused a link token that is no link's, against the real API.
func TestOIDCClient(t *testing.T) {
	ctx := t.Context()
	t.Run("ProvidersNone", func(t *testing.T) {
		c := newClient(t, mustServer(t), "tab0", nil)
		l, err := c.OIDCProviders(ctx)
		if err != nil || l == nil || len(l) != 0 {
			t.Fatalf("providers %#v, %v; want an empty list", l, err)
		}
	})

	p := oidctest.Start()
	t.Cleanup(p.Close)
	// The site's one origin (APP_URL, where the provider sends the browser
	// back) is a proxy to the API started after it.
	var api0 http.Handler
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { api0.ServeHTTP(w, r) }))
	t.Cleanup(front.Close)
	site, _ := url.Parse(front.URL)
	srv := apitest.Start(t, apitest.Options{AppURL: site, OIDCRedirectBase: front.URL,
		OIDCProviders: []idp.Config{{Name: "google", DisplayName: "Google", Issuer: p.Issuer(), ClientID: p.ClientID, ClientSecret: p.ClientSecret}}})
	apiURL, _ := url.Parse(srv.URL)
	api0 = httputil.NewSingleHostReverseProxy(apiURL)
	// A browser: cookies kept, redirects followed until one leaves the API
	// for the app's pages.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		r.Header.Set("Accept", via[0].Header.Get("Accept"))
		if r.URL.Host == site.Host && !strings.HasPrefix(r.URL.Path, "/api/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	c := api.New(api.Config{BaseURL: front.URL, ClientID: "tabA", HTTP: browser})

	l, err := c.OIDCProviders(ctx)
	if err != nil || len(l) != 1 || l[0] != (api.OIDCProvider{Name: "google", DisplayName: "Google", StartURL: "/api/auth/oidc/google/start"}) {
		t.Fatalf("providers %+v, %v", l, err)
	}
	if _, err := c.Register(ctx, authdash.Registration{Email: "ann@example.com", Password: strongPassword, Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	if ids, err := c.Identities(ctx); err != nil || ids == nil || len(ids) != 0 {
		t.Fatalf("identities %#v, %v; want an empty list", ids, err)
	}
	_, err = c.ConnectIdentity(ctx, "nope", "/profile")
	wantCode(t, err, authdash.CodeNotFound)

	to, err := c.ConnectIdentity(ctx, "google", "/profile")
	if err != nil || !strings.HasPrefix(to, p.Issuer()+"/authorize?") {
		t.Fatalf("connect: %q, %v", to, err)
	}
	p.SignIn(oidctest.Person{Subject: "g-1", Email: "ann@gmail.example", EmailVerified: true}, oidctest.SpoilNone)
	req, _ := http.NewRequestWithContext(ctx, "GET", to, nil)
	req.Header.Set("Accept", "text/html") // a navigation: the server redirects it
	res, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if back := res.Header.Get("Location"); back != front.URL+"/profile?oidc=linked" {
		t.Fatalf("came back to %q (%d), want the profile with oidc=linked", back, res.StatusCode)
	}

	ids, err := c.Identities(ctx)
	if err != nil || len(ids) != 1 || ids[0].Provider != "google" || ids[0].Email != "ann@gmail.example" || ids[0].ID == "" || ids[0].CreatedAt.IsZero() {
		t.Fatalf("identities %+v, %v", ids, err)
	}
	wantCode(t, c.DeleteIdentity(ctx, "no-such-id"), authdash.CodeNotFound)
	if err := c.DeleteIdentity(ctx, ids[0].ID); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	if ids, err := c.Identities(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("after disconnecting: %+v, %v", ids, err)
	}

	other := newClient(t, front.URL, "tabB", nil)
	_, err = other.Identities(ctx)
	wantCode(t, err, authdash.CodeUnauthorized)
	_, err = other.OIDCLink(ctx, "not-a-link-token")
	if authdash.ErrorCodeOf(err) == "" || authdash.ErrorMessageOf(err) == "" || other.SignedIn() {
		t.Fatalf("a token that is no link's: %v", err)
	}
}
