package browser

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
)

// virtualAuthenticator gives the tab Chromium's virtual platform
// authenticator: it keeps discoverable credentials, verifies the user and
// answers at once.
func virtualAuthenticator() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		off := false
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{EnableUI: &off}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		return err
	})
}

// TestPasskeyJourney registers a passkey from the profile, signs out, signs
// in with the passkey alone, renames and deletes it, and is refused with it
// afterwards, in Chromium with a virtual authenticator. The site is served
// as localhost (an IP address cannot be a relying party ID), APP_URL naming
// it so.
func TestPasskeyJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := kit.Webapp(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	w.Addr = "127.0.0.1:" + port
	w.Env = append(w.Env, "APP_URL=http://localhost:"+port)
	w.Start()
	url := func(p string) string { return "http://localhost:" + port + p }
	browser := kit.Browser(t)
	a := browsertest.NewTab(t, browser, true)
	const (
		email = "grace@example.com"
		pw    = "compiler debugging moth"
	)

	a.Do("sign-in page", chromedp.Navigate(url("/signin")), browsertest.AppReady, chromedp.WaitVisible("#signin-form"), virtualAuthenticator())
	if got := browsertest.Eval[string](a, `document.querySelector("#signin-email").getAttribute("autocomplete")`); got != "username webauthn" {
		t.Errorf("email autocomplete %q, want the passkeys offered in the autofill", got)
	}
	a.Do("sign up",
		chromedp.Navigate(url("/signup")), browsertest.AppReady, chromedp.WaitVisible("#signup-form"),
		chromedp.SendKeys("#signup-name", "Grace"),
		chromedp.SendKeys("#signup-email", email),
		chromedp.SendKeys("#signup-password", pw),
		chromedp.Click(`#signup-form button[type="submit"]`),
		chromedp.WaitVisible("#hello"))

	a.Do("add a passkey",
		chromedp.Navigate(url("/profile")), browsertest.AppReady, chromedp.WaitVisible("#passkey-add-form"),
		chromedp.WaitVisible("#passkeys-none"),
		chromedp.SendKeys("#passkey-name", "Test laptop"),
		chromedp.Click("#passkey-add"),
		chromedp.WaitVisible("#passkey-list li"))
	a.Screenshot("passkey-added")
	if got := browsertest.Eval[string](a, `document.querySelector("#passkey-list .passkey-name").textContent`); got != "Test laptop" {
		t.Fatalf("passkey named %q", got)
	}

	// Signed out, the sign-in page offers the passkey in the autofill
	// (conditional mediation), which Chromium's virtual authenticator
	// picks at once: signed in without a browsertest.Click.
	a.Do("sign out, and in through the autofill", chromedp.Click("#signout"), chromedp.WaitVisible("#hello"))

	a.Do("activity and rename",
		chromedp.Navigate(url("/profile")), browsertest.AppReady, chromedp.WaitVisible("#passkey-list li"))
	a.WaitJS("the activity shows the passkey sign-in", `(document.querySelector("#activity") || {}).textContent?.includes("passkey")`)
	if got := browsertest.Eval[string](a, `document.querySelector("#passkey-list li").textContent`); !strings.Contains(got, "Last used") {
		t.Errorf("passkey row %q does not say when it was last used", got)
	}
	browsertest.SetField(a, "#passkey-rename-0", "Grace's laptop", "input")
	a.Do("rename", chromedp.Click(`#passkey-list li button[type="submit"]`))
	a.WaitJS("renamed", `document.querySelector("#passkey-list .passkey-name").textContent === "Grace's laptop"`)

	a.Do("delete", chromedp.Click(`#passkey-list li button.danger`), chromedp.WaitVisible("#passkeys-none"))

	// The authenticator still holds the key; the account no longer knows it.
	a.Do("sign out again", chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form"))
	a.WaitJS("the autofill's passkey is refused", `document.querySelector(".passkey-signin .form-error")?.textContent.includes("not accepted")`)
	a.Do("the button's too", chromedp.Click("#passkey-signin"))
	a.WaitJS("the refusal is shown", `!document.querySelector("#passkey-signin").disabled &&
		document.querySelector(".passkey-signin .form-error")?.textContent.includes("not accepted")`)
	if browsertest.Eval[bool](a, `!!document.querySelector("#hello")`) {
		t.Fatal("signed in with a deleted passkey")
	}
}
