package browser

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/authdash/authdash/app/oidcreturn"
	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/internal/oidctest"
)

// TestOIDCJourney signs in with an identity provider in Chromium: a real
// OpenID provider runs in the test process (internal/oidctest), the server
// is started with it in OIDC_PROVIDERS. "Continue with Google" goes to the
// provider and back, signed in on the dashboard with a new account; the
// profile's Connected accounts card lists it and, asked to disconnect the
// only way in, shows the server's refusal; a sign-in the provider refuses
// comes back to the sign-in page with its message. With E2E_SCREENSHOTS
// set it pictures the sign-in page and the card at both sizes, light and
// dark.
func TestOIDCJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	p := oidctest.Start()
	t.Cleanup(p.Close)
	w := kit.Webapp(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.Addr = l.Addr().String()
	l.Close()
	w.Env = append(w.Env, "APP_URL=http://"+w.Addr,
		"OIDC_PROVIDERS=google=Google|"+p.Issuer()+"|"+p.ClientID+"|"+p.ClientSecret)
	w.Start()
	browser := kit.Browser(t)
	b := browsertest.NewTab(t, browser, true)
	axe := ""
	if src, err := os.ReadFile(axeScript); err == nil {
		axe = string(src)
	}
	shots := os.Getenv("E2E_SCREENSHOTS")
	// picture takes screen at both sizes, light and dark, when asked to.
	picture := func(screen, ready string) {
		t.Helper()
		if axe != "" {
			checkA11y(b, axe, screen)
		}
		if shots == "" {
			return
		}
		for _, size := range browsertest.ScreenSizes {
			for _, theme := range []string{"light", "dark"} {
				b.Do("size", chromedp.EmulateViewport(size.W, size.H, size.Opts...), colorScheme(theme))
				b.WaitJS("laid out", ready)
				b.WaitJS("settled", `document.getAnimations().every(a => a.playState !== "running")`)
				png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(shots, screen+"-"+size.Name+"-"+theme+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
				if axe != "" {
					checkA11y(b, axe, screen+" "+size.Name+" "+theme)
				}
			}
		}
		b.Do("back", chromedp.EmulateViewport(1280, 800), colorScheme("light"))
	}

	b.Do("sign-in page", chromedp.Navigate(w.URL("/signin")), browsertest.AppReady, chromedp.WaitVisible("#oidc-google"))
	if got := browsertest.Eval[string](b, `document.querySelector("#oidc-google").textContent`); got != "Continue with Google" {
		t.Errorf("button %q", got)
	}
	picture("oidc-signin", `!!document.querySelector("#oidc-google")`)
	b.Do("sign-up page offers it too", chromedp.Navigate(w.URL("/signup")), browsertest.AppReady, chromedp.WaitVisible("#oidc-google"))

	p.SignIn(oidctest.Person{Subject: "g-ada", Email: "ada@gmail.example", EmailVerified: true, Name: "Ada"}, oidctest.SpoilNone)
	b.Do("continue with Google", chromedp.Click("#oidc-google"), chromedp.WaitVisible("#hello"))
	b.WaitJS("on the dashboard", `location.pathname === "/"`)

	b.Do("profile", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#identity-list li"))
	card := browsertest.Eval[string](b, `document.querySelector("#identities").textContent`)
	for _, want := range []string{"Connected accounts", "Google", "ada@gmail.example", "Connected "} {
		if !strings.Contains(card, want) {
			t.Errorf("the card lacks %q: %s", want, card)
		}
	}
	b.WaitJS("the activity names the provider", `(document.querySelector("#activity") || {}).textContent?.includes("identity provider")`)
	browsertest.Eval[chromedp.Void](b, `document.querySelector("#identities").scrollIntoView({block: "start"})`)
	picture("oidc-connected", `!!document.querySelector("#identity-list li")`)
	b.Do("disconnect asks first", chromedp.Click(`#identity-list li button`), chromedp.WaitVisible("#identity-disconnect"))
	b.WaitJS("the focus on Cancel", `document.activeElement.id === "identity-cancel"`)
	b.Do("cancel", chromedp.Click("#identity-cancel"), chromedp.WaitNotPresent("#identity-disconnect"))
	b.Do("disconnect the only way in",
		chromedp.Click(`#identity-list li button`), chromedp.WaitVisible("#identity-disconnect"),
		chromedp.Click("#identity-disconnect"))
	b.WaitJS("the refusal is shown", `[...document.querySelectorAll("#identities .form-error")].some(e => !e.hidden && e.textContent.length > 0)`)
	if n := browsertest.Eval[int](b, `document.querySelectorAll("#identity-list li").length`); n != 1 {
		t.Errorf("%d identities after a refused disconnect, want 1", n)
	}

	b.Do("sign out", chromedp.Click("#signout"), chromedp.WaitVisible("#oidc-google"))
	p.Deny()
	b.Do("the provider refuses", chromedp.Click("#oidc-google"), chromedp.WaitVisible("#oidc-error"))
	if got := browsertest.Eval[string](b, `document.querySelector("#oidc-error").textContent`); got != oidcreturn.Message("denied") {
		t.Errorf("says %q, want the denied message", got)
	}
	b.WaitJS("the parameters leave the address", `location.search === ""`)
}

// TestOIDCLinkByMail: a provider's account whose verified address is an
// existing account's is connected only after the owner confirms: the
// sign-in page says a link was mailed; the link (from a real SMTP server's
// inbox) connects and signs in to the dashboard; from then on "Continue
// with Google" signs in directly, and the profile lists the connection.
func TestOIDCLinkByMail(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	p := oidctest.Start()
	t.Cleanup(p.Close)
	w, smtp := mustMailWebapp(t, "OIDC_PROVIDERS=google=Google|"+p.Issuer()+"|"+p.ClientID+"|"+p.ClientSecret)
	browser := kit.Browser(t)
	b := browsertest.NewTab(t, browser, true)
	const email = "grace@example.com"
	b.Do("sign up",
		chromedp.Navigate(w.URL("/signup")), browsertest.AppReady, chromedp.WaitVisible("#signup-form"),
		chromedp.SendKeys("#signup-name", "Grace"),
		chromedp.SendKeys("#signup-email", email),
		chromedp.SendKeys("#signup-password", "cobol compiler bugs"),
		chromedp.Click(`#signup-form button[type="submit"]`),
		chromedp.WaitVisible("#hello"))
	b.Do("sign out", chromedp.Click("#signout"), chromedp.WaitVisible("#oidc-google"))

	who := oidctest.Person{Subject: "g-grace", Email: email, EmailVerified: true, Name: "Grace"}
	p.SignIn(who, oidctest.SpoilNone)
	b.Do("continue with Google", chromedp.Click("#oidc-google"), chromedp.WaitVisible("#oidc-link-sent"))
	if got := browsertest.Eval[string](b, `document.querySelector("#oidc-link-sent").textContent`); !strings.Contains(got, "We sent a link to your email to confirm connecting this account") {
		t.Errorf("says %q", got)
	}
	if browsertest.Eval[bool](b, `!!document.querySelector("#hello")`) {
		t.Fatal("signed in before the owner confirmed")
	}
	openMailedLink(t, b, w, smtp, email, "Connect Google", "/oidc/link")
	b.Do("connected and signed in", chromedp.WaitVisible("#hello"))
	b.WaitJS("on the dashboard", `location.pathname === "/"`)

	b.Do("sign out again", chromedp.Click("#signout"), chromedp.WaitVisible("#oidc-google"))
	p.SignIn(who, oidctest.SpoilNone)
	b.Do("Google alone now", chromedp.Click("#oidc-google"), chromedp.WaitVisible("#hello"))
	b.Do("profile", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#identity-list li"))
	if got := browsertest.Eval[string](b, `document.querySelector("#identity-list").textContent`); !strings.Contains(got, "Google") || !strings.Contains(got, email) {
		t.Errorf("connected accounts %q", got)
	}

	// The used link again: the server's reason, and the way back.
	b.Do("the link again", chromedp.Navigate(strings.Replace(browsertest.Eval[string](b, `location.href`), "/profile", "/oidc/link?token=spent", 1)),
		browsertest.AppReady, chromedp.WaitVisible("#oidc-link-signin"))
}

// TestOIDCConnectAndSecondFactor: a password account connects Google from
// the profile (to the provider and back to the profile, which says so and
// lists it), turns two-factor codes on, and then a sign-in with Google asks
// for the code (the server's redirect to /signin?mfaToken=…), which signs in.
func TestOIDCConnectAndSecondFactor(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	p := oidctest.Start()
	t.Cleanup(p.Close)
	w := kit.Webapp(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.Addr = l.Addr().String()
	l.Close()
	w.Env = append(w.Env, "APP_URL=http://"+w.Addr,
		"OIDC_PROVIDERS=google=Google|"+p.Issuer()+"|"+p.ClientID+"|"+p.ClientSecret)
	w.Start()
	browser := kit.Browser(t)
	b := browsertest.NewTab(t, browser, true)
	const pw = "difference engine gears"
	b.Do("sign up",
		chromedp.Navigate(w.URL("/signup")), browsertest.AppReady, chromedp.WaitVisible("#signup-form"),
		chromedp.SendKeys("#signup-name", "Mary"),
		chromedp.SendKeys("#signup-email", "mary@example.com"),
		chromedp.SendKeys("#signup-password", pw),
		chromedp.Click(`#signup-form button[type="submit"]`),
		chromedp.WaitVisible("#hello"))

	who := oidctest.Person{Subject: "g-mary", Email: "mary.s@gmail.example", EmailVerified: true}
	p.SignIn(who, oidctest.SpoilNone)
	b.Do("connect Google", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#identity-connect-google"),
		chromedp.Click("#identity-connect-google"), chromedp.WaitVisible("#identity-list li"))
	b.WaitJS("back on the profile, told so", `location.pathname === "/profile" && location.search === "" &&
		document.querySelector("#notice")?.textContent.includes("connected")`)
	if got := browsertest.Eval[string](b, `document.querySelector("#identity-list").textContent`); !strings.Contains(got, "mary.s@gmail.example") {
		t.Errorf("connected accounts %q", got)
	}
	if browsertest.Eval[bool](b, `!!document.querySelector("#identity-connect-google")`) {
		t.Error("Connect Google still offered once connected")
	}

	b.Do("set up codes", chromedp.SendKeys("#totp-password", pw),
		chromedp.Click(`#totp-begin-form button[type="submit"]`), chromedp.WaitVisible("#totp-secret"))
	secret := strings.TrimSpace(browsertest.Eval[string](b, `document.querySelector("#totp-secret").textContent`))
	code, _ := totp.GenerateCode(secret, time.Now())
	b.Do("turn codes on", chromedp.SendKeys("#totp-code", code),
		chromedp.Click(`#totp-confirm-form button[type="submit"]`), chromedp.WaitVisible("#recovery-codes"),
		chromedp.Click("#recovery-saved"), chromedp.WaitVisible("#totp-disable-form"))

	b.Do("sign out", chromedp.Click("#signout"), chromedp.WaitVisible("#oidc-google"))
	p.SignIn(who, oidctest.SpoilNone)
	b.Do("Google, then the code is asked", chromedp.Click("#oidc-google"), chromedp.WaitVisible("#mfa-form"))
	b.WaitJS("the token leaves the address", `location.pathname === "/signin" && location.search === ""`)
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	b.Do("the code", chromedp.SendKeys("#mfa-code", next), chromedp.Click(`#mfa-form button[type="submit"]`),
		chromedp.WaitVisible("#hello"))
}
