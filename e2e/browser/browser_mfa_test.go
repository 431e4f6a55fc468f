package browser

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
)

// TestTwoFactorJourney: a person turns two-factor authentication on from the
// profile (the QR code and the key shown, a code from the "app" — computed
// here — confirms it, the recovery codes shown once), signs out, signs in
// again with the password and a code (a wrong one first), sees both in the
// sign-in activity, and turns it off with a recovery code.
func TestTwoFactorJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := kit.Webapp(t)
	w.Start()
	browser := kit.Browser(t)
	a := browsertest.NewTab(t, browser, true)
	const (
		email = "ada@example.com"
		pw    = "analytical engine notes"
	)
	axe := ""
	if src, err := os.ReadFile(axeScript); err == nil {
		axe = string(src)
	}
	// look checks a screen with axe-core (when installed) and keeps a
	// screenshot of it.
	look := func(screen string) {
		t.Helper()
		if axe != "" {
			checkA11y(a, axe, screen)
		}
		a.Screenshot("mfa-" + screen)
	}
	code := func(at time.Time, secret string) string {
		c, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	a.Do("sign up",
		chromedp.Navigate(w.URL("/signup")), browsertest.AppReady, chromedp.WaitVisible("#signup-form"),
		chromedp.SendKeys("#signup-name", "Ada"),
		chromedp.SendKeys("#signup-email", email),
		chromedp.SendKeys("#signup-password", pw),
		chromedp.Click(`#signup-form button[type="submit"]`),
		chromedp.WaitVisible("#hello"))

	a.Do("set up",
		chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#totp-begin-form"),
		chromedp.SendKeys("#totp-password", pw),
		chromedp.Click(`#totp-begin-form button[type="submit"]`),
		chromedp.WaitVisible("#totp-secret"),
		chromedp.WaitVisible("#totp-qr svg"))
	look("setup")
	// Each step's control is gone once it is done: the focus goes on.
	a.WaitJS("focus on the code", browsertest.FocusJS+` === "totp-code"`)
	secret := strings.TrimSpace(browsertest.Eval[string](a, `document.querySelector("#totp-secret").textContent`))
	if len(secret) != 32 {
		t.Fatalf("secret %q", secret)
	}
	a.Do("turn on",
		chromedp.SendKeys("#totp-code", code(time.Now(), secret)),
		chromedp.Click(`#totp-confirm-form button[type="submit"]`),
		chromedp.WaitVisible("#recovery-codes"))
	look("recovery-codes")
	a.WaitJS("focus on the codes", browsertest.FocusJS+` === "recovery-status"`)
	recovery := browsertest.Eval[[]string](a, `[...document.querySelectorAll("#recovery-codes code")].map(e => e.textContent)`)
	if len(recovery) != 10 {
		t.Fatalf("recovery codes %q", recovery)
	}
	a.Do("codes saved", chromedp.Click("#recovery-saved"), chromedp.WaitVisible("#totp-disable-form"))
	a.WaitJS("focus on the status", browsertest.FocusJS+` === "two-factor-status"`)
	if got := browsertest.Eval[string](a, `document.querySelector("#two-factor-status").textContent`); !strings.Contains(got, "10 recovery codes") {
		t.Errorf("status %q", got)
	}
	if browsertest.Eval[bool](a, `!!document.querySelector("#totp-secret")`) {
		t.Error("the secret is still shown after it was confirmed")
	}

	// signInAgain signs out and in with the password, until next shows.
	signInAgain := func(next string) {
		t.Helper()
		a.Do("sign out", chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form"))
		a.Do("password, then "+next,
			chromedp.SendKeys("#signin-email", email),
			chromedp.SendKeys("#signin-password", pw),
			chromedp.Click(`#signin-form button[type="submit"]`),
			chromedp.WaitVisible(next))
	}
	signInAgain("#mfa-form")
	a.WaitJS("the code field has the focus", `document.activeElement.id === "mfa-code"`)
	if browsertest.Eval[bool](a, `!!document.querySelector("#passkey-signin")`) {
		t.Error(`the second step offers "Use a passkey" to an account with no passkey`)
	}
	look("signin-code")
	a.Do("wrong code",
		chromedp.SendKeys("#mfa-code", "000000"),
		chromedp.Click(`#mfa-form button[type="submit"]`),
		chromedp.WaitVisible("#mfa-code-err"))
	if browsertest.Eval[bool](a, `!!document.querySelector("#hello")`) {
		t.Fatal("signed in with a wrong code")
	}
	browsertest.SetField(a, "#mfa-code", "", "input")
	// The next step's code: the one that confirmed is spent.
	a.Do("right code",
		chromedp.SendKeys("#mfa-code", code(time.Now().Add(30*time.Second), secret)),
		chromedp.Click(`#mfa-form button[type="submit"]`),
		chromedp.WaitVisible("#hello"))

	a.Do("activity", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#totp-disable-form"))
	a.WaitJS("the activity lists the sign-ins", `document.querySelectorAll("#activity li").length >= 3`)
	look("profile-on")
	activity := browsertest.Eval[string](a, `document.querySelector("#activity").textContent`)
	for _, want := range []string{"Failed: wrong code", "password and app code", "Signed in", "127.0.0.1"} {
		if !strings.Contains(activity, want) {
			t.Errorf("activity lacks %q: %s", want, activity)
		}
	}

	a.Do("turn off",
		chromedp.SendKeys("#totp-off-password", pw),
		chromedp.SendKeys("#totp-off-code", recovery[0]),
		chromedp.Click(`#totp-disable-form button[type="submit"]`),
		chromedp.WaitVisible("#totp-begin-form"))
	a.WaitJS("focus on the status, off", browsertest.FocusJS+` === "two-factor-status"`)
	signInAgain("#hello") // the password alone
}
