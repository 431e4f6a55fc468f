//go:build !js

package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
)

// oidcContract answers the OIDC routes as the API contract fixes them
// (the server's side is built on the oidc branch) and sends every other
// request to the real server at real, so the client signs in for real.
// When the routes land on main, TestOIDCClient runs against them instead.
type oidcContract struct {
	real      *httputil.ReverseProxy
	providers []api.OIDCProvider
	mu        sync.Mutex
	ids       []api.Identity
}

func (o *oidcContract) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	problem := func(status int, code, detail string) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "code": code, "detail": detail})
	}
	signedIn := strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ")
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case r.Method == "GET" && r.URL.Path == "/api/auth/oidc/providers":
		_ = json.NewEncoder(w).Encode(o.providers)
	case r.Method == "POST" && r.URL.Path == "/api/auth/oidc/link":
		var b struct{ Token string }
		_ = json.NewDecoder(r.Body).Decode(&b)
		if b.Token != "good" {
			problem(400, "invalid", "This link has expired or was used. Sign in again to connect the account.")
			return
		}
		// The grant a login gives, from the real server.
		r.URL.Path, r.Body, r.ContentLength = "/api/auth/login", nopBody(`{"email":"ann@example.com","password":"`+strongPassword+`"}`), -1
		o.real.ServeHTTP(w, r)
	case !strings.HasPrefix(r.URL.Path, "/api/me/identities"):
		o.real.ServeHTTP(w, r)
	case !signedIn:
		problem(401, "unauthorized", "Sign in first.")
	case r.Method == "GET" && r.URL.Path == "/api/me/identities":
		_ = json.NewEncoder(w).Encode(map[string]any{"items": o.ids})
	case r.Method == "DELETE":
		id := strings.TrimPrefix(r.URL.Path, "/api/me/identities/")
		if len(o.ids) == 1 && o.ids[0].ID == id {
			problem(409, "conflict", "This is the only way to sign in to your account: set a password first.")
			return
		}
		for i, x := range o.ids {
			if x.ID == id {
				o.ids = append(o.ids[:i], o.ids[i+1:]...)
				w.WriteHeader(204)
				return
			}
		}
		problem(404, "not_found", "No such connected account.")
	case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/link"):
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/me/identities/"), "/link")
		_ = json.NewEncoder(w).Encode(map[string]string{"url": "https://idp.example/authorize?client=" + url.QueryEscape(name)})
	default:
		problem(404, "not_found", "No such route.")
	}
}

func nopBody(s string) *readCloser { return &readCloser{strings.NewReader(s)} }

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func TestOIDCClient(t *testing.T) {
	realURL, err := url.Parse(mustServer(t))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	o := &oidcContract{real: httputil.NewSingleHostReverseProxy(realURL), providers: []api.OIDCProvider{}}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	ctx := t.Context()
	c := newClient(t, srv.URL, "tabA", nil)

	t.Run("ProvidersNone", func(t *testing.T) {
		l, err := c.OIDCProviders(ctx)
		if err != nil || l == nil || len(l) != 0 {
			t.Fatalf("providers %#v, %v; want an empty list", l, err)
		}
	})
	t.Run("Providers", func(t *testing.T) {
		o.providers = []api.OIDCProvider{{Name: "google", DisplayName: "Google", StartURL: "/api/auth/oidc/google/start"}}
		l, err := c.OIDCProviders(ctx)
		if err != nil || len(l) != 1 || l[0] != o.providers[0] {
			t.Fatalf("providers %+v, %v", l, err)
		}
	})

	if _, err := c.Register(ctx, authdash.Registration{Email: "ann@example.com", Password: strongPassword, Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	o.ids = []api.Identity{{ID: "i1", Provider: "google", Email: "ann@gmail.example", CreatedAt: at, LastUsedAt: &at},
		{ID: "i2", Provider: "github", Email: "ann@example.com", CreatedAt: at}}

	t.Run("Identities", func(t *testing.T) {
		l, err := c.Identities(ctx)
		if err != nil || len(l) != 2 || l[0].LastUsedAt == nil || !l[0].LastUsedAt.Equal(at) || l[1].LastUsedAt != nil {
			t.Fatalf("identities %+v, %v", l, err)
		}
	})
	t.Run("Disconnect", func(t *testing.T) {
		for _, x := range []struct {
			name, id string
			want     authdash.ErrorCode
		}{
			{"OK", "i2", ""},
			{"ErrGone", "i2", authdash.CodeNotFound},
			{"ErrOnlyWayToSignIn", "i1", authdash.CodeConflict},
		} {
			t.Run(x.name, func(t *testing.T) {
				err := c.DeleteIdentity(ctx, x.id)
				if authdash.ErrorCodeOf(err) != x.want {
					t.Fatalf("delete %s: %v, want %q", x.id, err, x.want)
				}
				if x.want == authdash.CodeConflict && !strings.Contains(authdash.ErrorMessageOf(err), "only way") {
					t.Errorf("message %q, want the server's", authdash.ErrorMessageOf(err))
				}
			})
		}
	})
	t.Run("Connect", func(t *testing.T) {
		u, err := c.ConnectIdentity(ctx, "google")
		if err != nil || u != "https://idp.example/authorize?client=google" {
			t.Fatalf("connect: %q, %v", u, err)
		}
	})
	t.Run("IdentitiesSignedOut", func(t *testing.T) {
		other := newClient(t, srv.URL, "tabB", nil)
		_, err := other.Identities(ctx)
		if authdash.ErrorCodeOf(err) != authdash.CodeUnauthorized {
			t.Fatalf("signed out: %v, want unauthorized", err)
		}
	})
	t.Run("Link", func(t *testing.T) {
		other := newClient(t, srv.URL, "tabC", nil)
		_, err := other.OIDCLink(ctx, "expired")
		if authdash.ErrorCodeOf(err) != authdash.CodeInvalid || !strings.Contains(authdash.ErrorMessageOf(err), "expired") || other.SignedIn() {
			t.Fatalf("bad token: %v", err)
		}
		u, err := other.OIDCLink(ctx, "good")
		if err != nil || u.Email != "ann@example.com" || !other.SignedIn() {
			t.Fatalf("link: %+v, %v", u, err)
		}
	})
}
