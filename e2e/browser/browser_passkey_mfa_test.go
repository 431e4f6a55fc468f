package browser

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
)

// authenticatorIn gives the tab a virtual platform authenticator, as
// virtualAuthenticator does, with or without user verification, holding
// creds, and keeps its ID in id.
func authenticatorIn(id *webauthn.AuthenticatorID, verifies bool, creds ...*webauthn.Credential) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		off := false
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{EnableUI: &off}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: verifies, IsUserVerified: verifies, AutomaticPresenceSimulation: true,
			},
		})
		if err != nil {
			return err
		}
		*id = res.AuthenticatorID
		for _, c := range creds {
			// Only what makes the key: cdproto always sends
			// generateCmtgKeyOnNextOperation, which an authenticator
			// without CMTG refuses even when false.
			p := addCredential{AuthenticatorID: *id, Credential: map[string]any{"credentialId": c.CredentialID,
				"isResidentCredential": c.IsResidentCredential, "rpId": c.RpID, "privateKey": c.PrivateKey,
				"userHandle": c.UserHandle, "signCount": c.SignCount}}
			add := cdp.Command[addCredential, cdp.Empty]{Method: webauthn.CommandAddCredential}
			if _, err := cdp.Call(ctx, t, add, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// addCredential is WebAuthn.addCredential's parameters, the credential
// with only the fields set.
type addCredential struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      map[string]any           `json:"credential"`
}

// credentialsOf reads what the tab's authenticator id holds.
func credentialsOf(id *webauthn.AuthenticatorID, out *[]*webauthn.Credential) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: *id})
		*out = res.Credentials
		return err
	})
}

// TestPasskeySecondFactorJourney: an account with two-factor codes AND a
// passkey signs in with its password on another device, which the second
// step offers "Use a passkey", and finishes the sign-in with the passkey.
// The other device's authenticator holds a copy of the passkey but cannot
// verify the person: a passkey alone (which requires that) would be
// refused, so being signed in shows the passkey answered the second factor
// (POST /api/auth/mfa), not a sign-in of its own.
func TestPasskeySecondFactorJourney(t *testing.T) {
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
	const (
		email = "hedy@example.com"
		pw    = "frequency hopping spread"
	)

	// The first device: sign up, add a passkey, turn two-factor codes on.
	a := browsertest.NewTab(t, browser, true)
	var laptop webauthn.AuthenticatorID
	a.Do("sign up",
		chromedp.Navigate(url("/signup")), browsertest.AppReady, chromedp.WaitVisible("#signup-form"),
		authenticatorIn(&laptop, true),
		chromedp.SendKeys("#signup-name", "Hedy"),
		chromedp.SendKeys("#signup-email", email),
		chromedp.SendKeys("#signup-password", pw),
		chromedp.Click(`#signup-form button[type="submit"]`),
		chromedp.WaitVisible("#hello"))
	a.Do("add a passkey",
		chromedp.Navigate(url("/profile")), browsertest.AppReady, chromedp.WaitVisible("#passkey-add-form"),
		chromedp.SendKeys("#passkey-name", "Laptop"),
		chromedp.Click("#passkey-add"),
		chromedp.WaitVisible("#passkey-list li"))
	a.Do("set up codes",
		chromedp.SendKeys("#totp-password", pw),
		chromedp.Click(`#totp-begin-form button[type="submit"]`),
		chromedp.WaitVisible("#totp-secret"))
	secret := strings.TrimSpace(browsertest.Eval[string](a, `document.querySelector("#totp-secret").textContent`))
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a.Do("turn codes on",
		chromedp.SendKeys("#totp-code", code),
		chromedp.Click(`#totp-confirm-form button[type="submit"]`),
		chromedp.WaitVisible("#recovery-codes"),
		chromedp.Click("#recovery-saved"), chromedp.WaitVisible("#totp-disable-form"))
	var creds []*webauthn.Credential
	a.Do("the passkey's copy", credentialsOf(&laptop, &creds))
	if len(creds) != 1 {
		t.Fatalf("the authenticator holds %d credentials, want the one passkey", len(creds))
	}

	// The second device: the password, then the passkey.
	b := browsertest.NewTab(t, browser, true)
	b.Do("password",
		chromedp.Navigate(url("/signin")), browsertest.AppReady, chromedp.WaitVisible("#signin-form"),
		chromedp.SendKeys("#signin-email", email),
		chromedp.SendKeys("#signin-password", pw),
		chromedp.Click(`#signin-form button[type="submit"]`),
		chromedp.WaitVisible("#mfa-form"),
		chromedp.WaitVisible("#passkey-signin"))
	if got := browsertest.Eval[string](b, `document.querySelector("#passkey-signin").textContent`); got != "Use a passkey" {
		t.Errorf("the second step offers %q, want Use a passkey", got)
	}
	if src, err := os.ReadFile(axeScript); err == nil {
		checkA11y(b, string(src), "second step with a passkey")
	}
	b.Screenshot("mfa-passkey-offered")
	var phone webauthn.AuthenticatorID
	b.Do("use the passkey",
		authenticatorIn(&phone, false, creds...),
		chromedp.Click("#passkey-signin"),
		chromedp.WaitVisible("#hello"))
	b.Do("activity", chromedp.Navigate(url("/profile")), browsertest.AppReady, chromedp.WaitVisible("#activity li"))
	b.WaitJS("the activity names the passkey", `document.querySelector("#activity li")?.textContent.includes("passkey")`)
}
