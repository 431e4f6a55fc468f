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
	w := mustBuildWebapp(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	w.addr = "127.0.0.1:" + port
	w.env = append(w.env, "APP_URL=http://localhost:"+port)
	w.start()
	url := func(p string) string { return "http://localhost:" + port + p }
	browser := mustBrowser(t)
	a := newTab(t, browser, true)
	const (
		email = "grace@example.com"
		pw    = "compiler debugging moth"
	)

	a.do("sign-in page", chromedp.Navigate(url("/signin")), appReady, chromedp.WaitVisible("#signin-form"), virtualAuthenticator())
	if got := eval[string](a, `document.querySelector("#signin-email").getAttribute("autocomplete")`); got != "username webauthn" {
		t.Errorf("email autocomplete %q, want the passkeys offered in the autofill", got)
	}
	a.do("sign up",
		chromedp.Navigate(url("/signup")), appReady, chromedp.WaitVisible("#signup-form"),
		chromedp.SendKeys("#signup-name", "Grace"),
		chromedp.SendKeys("#signup-email", email),
		chromedp.SendKeys("#signup-password", pw),
		chromedp.Click(`#signup-form button[type="submit"]`),
		chromedp.WaitVisible("#hello"))

	a.do("add a passkey",
		chromedp.Navigate(url("/profile")), appReady, chromedp.WaitVisible("#passkey-add-form"),
		chromedp.WaitVisible("#passkeys-none"),
		chromedp.SendKeys("#passkey-name", "Test laptop"),
		chromedp.Click("#passkey-add"),
		chromedp.WaitVisible("#passkey-list li"))
	a.screenshot("passkey-added")
	if got := eval[string](a, `document.querySelector("#passkey-list .passkey-name").textContent`); got != "Test laptop" {
		t.Fatalf("passkey named %q", got)
	}

	// Signed out, the sign-in page offers the passkey in the autofill
	// (conditional mediation), which Chromium's virtual authenticator
	// picks at once: signed in without a click.
	a.do("sign out, and in through the autofill", chromedp.Click("#signout"), chromedp.WaitVisible("#hello"))

	a.do("activity and rename",
		chromedp.Navigate(url("/profile")), appReady, chromedp.WaitVisible("#passkey-list li"))
	a.waitJS("the activity shows the passkey sign-in", `(document.querySelector("#activity") || {}).textContent?.includes("passkey")`)
	if got := eval[string](a, `document.querySelector("#passkey-list li").textContent`); !strings.Contains(got, "Last used") {
		t.Errorf("passkey row %q does not say when it was last used", got)
	}
	setField(a, "#passkey-rename-0", "Grace's laptop", "input")
	a.do("rename", chromedp.Click(`#passkey-list li button[type="submit"]`))
	a.waitJS("renamed", `document.querySelector("#passkey-list .passkey-name").textContent === "Grace's laptop"`)

	a.do("delete", chromedp.Click(`#passkey-list li button.danger`), chromedp.WaitVisible("#passkeys-none"))

	// The authenticator still holds the key; the account no longer knows it.
	a.do("sign out again", chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form"))
	a.waitJS("the autofill's passkey is refused", `document.querySelector(".passkey-signin .form-error")?.textContent.includes("not accepted")`)
	a.do("the button's too", chromedp.Click("#passkey-signin"))
	a.waitJS("the refusal is shown", `!document.querySelector("#passkey-signin").disabled &&
		document.querySelector(".passkey-signin .form-error")?.textContent.includes("not accepted")`)
	if eval[bool](a, `!!document.querySelector("#hello")`) {
		t.Fatal("signed in with a deleted passkey")
	}
}
