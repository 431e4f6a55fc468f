package app

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/oidcreturn"
)

var google = api.OIDCProvider{Name: "google", DisplayName: "Google", StartURL: "/api/auth/oidc/google/start"}

// wantHTML checks that ui's HTML holds each of want and none of not.
func wantHTML(t *testing.T, ui app.UI, want, not []string) {
	t.Helper()
	if ui == nil {
		t.Fatal("nothing rendered")
	}
	h := app.HTMLString(ui)
	for _, w := range want {
		if !strings.Contains(h, w) {
			t.Errorf("lacks %q:\n%s", w, h)
		}
	}
	for _, n := range not {
		if strings.Contains(h, n) {
			t.Errorf("has %q:\n%s", n, h)
		}
	}
}

func TestOIDCButtons(t *testing.T) {
	for _, c := range []struct {
		name      string
		view      oidcProvidersView
		want, not []string
	}{
		{"HiddenWhileLoading", oidcProvidersView{}, []string{`class="oidc-providers"`, "hidden"}, []string{"Continue with"}},
		{"HiddenWhenNone", oidcProvidersView{Loaded: true, Items: []api.OIDCProvider{}}, []string{"hidden"}, []string{"Continue with"}},
		{"OnePerProvider", oidcProvidersView{Loaded: true, Items: []api.OIDCProvider{google, {Name: "gitlab", DisplayName: "GitLab", StartURL: "/s"}}},
			[]string{`id="oidc-google"`, "Continue with Google", `id="oidc-gitlab"`, "Continue with GitLab"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) { wantHTML(t, (&oidcButtons{view: c.view}).Render(), c.want, c.not) })
	}
}

func TestOIDCReturnNote(t *testing.T) {
	for _, c := range []struct {
		name, query string
		want        []string
	}{
		{"FailedIsAnAlert", "oidcError=denied", []string{`id="oidc-error"`, `role="alert"`, oidcreturn.Message("denied")}},
		{"FailedUnknownSlug", "oidcError=weird", []string{`role="alert"`, oidcreturn.Message("weird")}},
		{"LinkSentIsAStatus", "oidc=link-sent", []string{`id="oidc-link-sent"`, `role="status"`, "We sent a link to your email to confirm connecting this account"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, _ := url.ParseQuery(c.query)
			wantHTML(t, oidcReturnNote(oidcreturn.Parse(q)), c.want, nil)
		})
	}
	if oidcReturnNote(oidcreturn.Outcome{}) != nil {
		t.Error("a page not opened by a provider shows a note")
	}
}

func TestIdentitiesCard(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ann := api.Identity{ID: "i1", Provider: "google", Email: "ann@gmail.example", CreatedAt: at, LastUsedAt: &at}
	providers := oidcProvidersView{Loaded: true, Items: []api.OIDCProvider{google}}
	for _, c := range []struct {
		name      string
		card      identitiesCard
		want, not []string
	}{
		{"NoneAndNoProviders", identitiesCard{view: identitiesView{Loaded: true}}, []string{`id="identities"`, "hidden"}, []string{"Connected accounts"}},
		{"NoneConnectGoogle", identitiesCard{view: identitiesView{Loaded: true}, providers: providers},
			[]string{"Connected accounts", `id="identities-none"`, `id="identity-connect-google"`, "Connect Google"}, nil},
		{"Connected", identitiesCard{view: identitiesView{Loaded: true, Items: []api.Identity{ann}}, providers: providers},
			[]string{"Google", "ann@gmail.example", "Last used", `aria-label="Disconnect Google (ann@gmail.example)…"`},
			[]string{"identity-connect-google", "identities-none", `id="identity-disconnect"`}},
		{"ProviderNoLongerListed", identitiesCard{view: identitiesView{Loaded: true, Items: []api.Identity{{ID: "i2", Provider: "gitlab", Email: "a@b.c", CreatedAt: at}}}},
			[]string{"Gitlab", "Never used to sign in"}, nil},
		{"DisconnectAsksFirst", identitiesCard{view: identitiesView{Loaded: true, Items: []api.Identity{ann}}, confirm: "i1"},
			[]string{`id="identity-disconnect"`, `id="identity-cancel"`, "Disconnect Google? You will no longer sign in with it."}, []string{"Disconnect…"}},
		{"ServerRefusal", identitiesCard{view: identitiesView{Loaded: true, Items: []api.Identity{ann}}, form: formState{Err: "This is the only way to sign in to your account."}},
			[]string{`role="alert"`, "This is the only way to sign in"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) { wantHTML(t, c.card.Render(), c.want, c.not) })
	}
}

// TestMethodLabel: each way of signing in is named as it was, not as a
// password (a sign-in through a provider read "password" before).
func TestMethodLabel(t *testing.T) {
	for m, want := range map[authdash.SignInMethod]string{
		authdash.SignInPassword: "password",
		authdash.SignInTOTP:     "password and app code",
		authdash.SignInRecovery: "password and recovery code",
		authdash.SignInPasskey:  "passkey",
		authdash.SignInOIDC:     "identity provider",
	} {
		if got := methodLabel(m); got != want {
			t.Errorf("%s: %q, want %q", m, got, want)
		}
	}
}
