package browser

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/authdash/authdash/app/oidcreturn"
	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/wire"
)

// apiCall sends one JSON request to the API in token mode (as a client
// without cookies) and decodes the answer into out.
func apiCall(t *testing.T, w *browsertest.Webapp, method, path, token string, in, out any) int {
	t.Helper()
	b, _ := json.Marshal(in)
	req, err := http.NewRequest(method, w.URL(path), bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.HeaderAuthMode, wire.AuthModeToken)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

// TestOIDCReturn: what an identity provider's round trip leaves in the
// sign-in page's address, as the server's redirects set it (the API
// contract): a failure is said in words as an alert, a mailed link in a
// status, a second factor's token opens the second step for it, which a
// code finishes; each time the parameters leave the address. With no
// provider configured there are no "Continue with …" buttons and no
// Connected accounts card; a link page with a token the server refuses
// says so and leads back to sign-in. The round trips through a real
// provider are TestOIDCJourney, TestOIDCLinkByMail and
// TestOIDCConnectAndSecondFactor.
func TestOIDCReturn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := kit.Webapp(t)
	w.Start()
	browser := kit.Browser(t)
	b := browsertest.NewTab(t, browser, true)
	axe := ""
	if src, err := os.ReadFile(axeScript); err == nil {
		axe = string(src)
	}

	for _, c := range []struct {
		name, query, sel, role, want string
	}{
		{"Denied", "oidcError=denied", "#oidc-error", "alert", oidcreturn.Message("denied")},
		{"State", "oidcError=state", "#oidc-error", "alert", oidcreturn.Message("state")},
		{"UnknownSlug", "oidcError=martian", "#oidc-error", "alert", oidcreturn.Message("martian")},
		{"LinkSent", "oidc=link-sent", "#oidc-link-sent", "status", "We sent a link to your email to confirm connecting this account"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b.Do("the redirect", chromedp.Navigate(w.URL("/signin?"+c.query)), browsertest.AppReady, chromedp.WaitVisible(c.sel))
			el := `document.querySelector(` + strconv.Quote(c.sel) + `)`
			if got := browsertest.Eval[string](b, el+`.getAttribute("role")`); got != c.role {
				t.Errorf("role %q, want %q", got, c.role)
			}
			if got := browsertest.Eval[string](b, el+`.textContent`); !strings.Contains(got, c.want) {
				t.Errorf("says %q, want %q", got, c.want)
			}
			b.WaitJS("the parameters leave the address", `location.pathname === "/signin" && location.search === ""`)
			if axe != "" {
				checkA11y(b, axe, "sign-in "+c.name)
			}
		})
	}

	t.Run("NoProvidersNoButtons", func(t *testing.T) {
		for _, page := range []string{"/signin", "/signup"} {
			b.Do(page, chromedp.Navigate(w.URL(page)), browsertest.AppReady)
			b.WaitJS("the list came", `!!document.querySelector(".oidc-providers")`)
			if browsertest.Eval[bool](b, `!!document.querySelector(".oidc-providers button")`) {
				t.Errorf("%s offers a provider the server does not have", page)
			}
		}
	})

	t.Run("BadLink", func(t *testing.T) {
		b.Do("the link page", chromedp.Navigate(w.URL("/oidc/link?token=not-a-token")), browsertest.AppReady,
			chromedp.WaitVisible("#oidc-link-signin"))
		if got := browsertest.Eval[string](b, `[...document.querySelectorAll(".form-error")].map(e => e.textContent).join("")`); got == "" {
			t.Error("a refused link says nothing")
		}
		b.Do("back to sign-in", chromedp.Click("#oidc-link-signin"), chromedp.WaitVisible("#signin-form"))
	})

	t.Run("SecondFactor", func(t *testing.T) {
		// An account with codes on, and the token a right password gets:
		// the server's redirect carries the same.
		const email, pw = "katherine@example.com", "orbital trajectory sums"
		var g wire.Grant
		if st := apiCall(t, w, "POST", "/api/auth/register", "", map[string]string{"email": email, "password": pw, "name": "Katherine"}, &g); st != 201 {
			t.Fatalf("register: %d", st)
		}
		var setup wire.TOTPSetup
		if st := apiCall(t, w, "POST", "/api/me/mfa/totp", g.AccessToken, map[string]string{"password": pw}, &setup); st != 200 {
			t.Fatalf("totp: %d", st)
		}
		code, _ := totp.GenerateCode(setup.Secret, time.Now())
		if st := apiCall(t, w, "POST", "/api/me/mfa/totp/confirm", g.AccessToken, map[string]string{"code": code}, nil); st != 200 {
			t.Fatalf("confirm: %d", st)
		}
		var ch wire.MFAChallenge
		if st := apiCall(t, w, "POST", "/api/auth/login", "", map[string]string{"email": email, "password": pw}, &ch); st != 200 || ch.MFAToken == "" {
			t.Fatalf("login: %d %+v", st, ch)
		}

		b.Do("the redirect", chromedp.Navigate(w.URL("/signin?mfaToken="+ch.MFAToken+"&methods=totp")), browsertest.AppReady,
			chromedp.WaitVisible("#mfa-form"))
		b.WaitJS("the token leaves the address", `location.search === ""`)
		if browsertest.Eval[bool](b, `!!document.querySelector("#passkey-signin")`) {
			t.Error(`"Use a passkey" offered though methods does not list it`)
		}
		// The next step's code: the confirming one is spent.
		next, _ := totp.GenerateCode(setup.Secret, time.Now().Add(30*time.Second))
		b.Do("the code", chromedp.SendKeys("#mfa-code", next), chromedp.Click(`#mfa-form button[type="submit"]`),
			chromedp.WaitVisible("#hello"))

		b.Do("profile", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#passkeys"))
		b.WaitJS("the card is there", `!!document.querySelector("#identities")`)
		if browsertest.Eval[bool](b, `!document.querySelector("#identities").hidden`) {
			t.Error("a Connected accounts card with no provider to connect and nothing connected")
		}
	})
}
