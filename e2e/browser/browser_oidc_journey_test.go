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
	w := mustBuildWebapp(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.addr = l.Addr().String()
	l.Close()
	w.env = append(w.env, "APP_URL=http://"+w.addr,
		"OIDC_PROVIDERS=google=Google|"+p.Issuer()+"|"+p.ClientID+"|"+p.ClientSecret)
	w.start()
	browser := mustBrowser(t)
	b := newTab(t, browser, true)
	axe := ""
	if src, err := os.ReadFile(axeScript); err == nil {
		axe = string(src)
	}
	shots := os.Getenv("E2E_SCREENSHOTS")
	// picture takes screen at both sizes, light and dark, when asked to.
	picture := func(screen, ready string) {
		t.Helper()
		if axe != "" {
			b.checkA11y(axe, screen)
		}
		if shots == "" {
			return
		}
		for _, size := range screenSizes {
			for _, theme := range []string{"light", "dark"} {
				b.do("size", chromedp.EmulateViewport(size.w, size.h, size.opts...), colorScheme(theme))
				b.waitJS("laid out", ready)
				b.waitJS("settled", `document.getAnimations().every(a => a.playState !== "running")`)
				png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(shots, screen+"-"+size.name+"-"+theme+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
				if axe != "" {
					b.checkA11y(axe, screen+" "+size.name+" "+theme)
				}
			}
		}
		b.do("back", chromedp.EmulateViewport(1280, 800), colorScheme("light"))
	}

	b.do("sign-in page", chromedp.Navigate(w.url("/signin")), appReady, chromedp.WaitVisible("#oidc-google"))
	if got := eval[string](b, `document.querySelector("#oidc-google").textContent`); got != "Continue with Google" {
		t.Errorf("button %q", got)
	}
	picture("oidc-signin", `!!document.querySelector("#oidc-google")`)
	b.do("sign-up page offers it too", chromedp.Navigate(w.url("/signup")), appReady, chromedp.WaitVisible("#oidc-google"))

	p.SignIn(oidctest.Person{Subject: "g-ada", Email: "ada@gmail.example", EmailVerified: true, Name: "Ada"}, oidctest.SpoilNone)
	b.do("continue with Google", chromedp.Click("#oidc-google"), chromedp.WaitVisible("#hello"))
	b.waitJS("on the dashboard", `location.pathname === "/"`)

	b.do("profile", chromedp.Navigate(w.url("/profile")), appReady, chromedp.WaitVisible("#identity-list li"))
	card := eval[string](b, `document.querySelector("#identities").textContent`)
	for _, want := range []string{"Connected accounts", "Google", "ada@gmail.example", "Connected "} {
		if !strings.Contains(card, want) {
			t.Errorf("the card lacks %q: %s", want, card)
		}
	}
	b.waitJS("the activity names the provider", `(document.querySelector("#activity") || {}).textContent?.includes("identity provider")`)
	eval[chromedp.Void](b, `document.querySelector("#identities").scrollIntoView({block: "start"})`)
	picture("oidc-connected", `!!document.querySelector("#identity-list li")`)
	b.do("disconnect asks first", chromedp.Click(`#identity-list li button`), chromedp.WaitVisible("#identity-disconnect"))
	b.waitJS("the focus on Cancel", `document.activeElement.id === "identity-cancel"`)
	b.do("cancel", chromedp.Click("#identity-cancel"), chromedp.WaitNotPresent("#identity-disconnect"))
	b.do("disconnect the only way in",
		chromedp.Click(`#identity-list li button`), chromedp.WaitVisible("#identity-disconnect"),
		chromedp.Click("#identity-disconnect"))
	b.waitJS("the refusal is shown", `[...document.querySelectorAll("#identities .form-error")].some(e => !e.hidden && e.textContent.length > 0)`)
	if n := eval[int](b, `document.querySelectorAll("#identity-list li").length`); n != 1 {
		t.Errorf("%d identities after a refused disconnect, want 1", n)
	}

	b.do("sign out", chromedp.Click("#signout"), chromedp.WaitVisible("#oidc-google"))
	p.Deny()
	b.do("the provider refuses", chromedp.Click("#oidc-google"), chromedp.WaitVisible("#oidc-error"))
	if got := eval[string](b, `document.querySelector("#oidc-error").textContent`); got != oidcreturn.Message("denied") {
		t.Errorf("says %q, want the denied message", got)
	}
	b.waitJS("the parameters leave the address", `location.search === ""`)
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
	browser := mustBrowser(t)
	b := newTab(t, browser, true)
	const email = "grace@example.com"
	b.do("sign up",
		chromedp.Navigate(w.url("/signup")), appReady, chromedp.WaitVisible("#signup-form"),
		chromedp.SendKeys("#signup-name", "Grace"),
		chromedp.SendKeys("#signup-email", email),
		chromedp.SendKeys("#signup-password", "cobol compiler bugs"),
		chromedp.Click(`#signup-form button[type="submit"]`),
		chromedp.WaitVisible("#hello"))
	b.do("sign out", chromedp.Click("#signout"), chromedp.WaitVisible("#oidc-google"))

	who := oidctest.Person{Subject: "g-grace", Email: email, EmailVerified: true, Name: "Grace"}
	p.SignIn(who, oidctest.SpoilNone)
	b.do("continue with Google", chromedp.Click("#oidc-google"), chromedp.WaitVisible("#oidc-link-sent"))
	if got := eval[string](b, `document.querySelector("#oidc-link-sent").textContent`); !strings.Contains(got, "We sent a link to your email to confirm connecting this account") {
		t.Errorf("says %q", got)
	}
	if eval[bool](b, `!!document.querySelector("#hello")`) {
		t.Fatal("signed in before the owner confirmed")
	}
	openMailedLink(t, b, w, smtp, email, "Connect Google", "/oidc/link")
	b.do("connected and signed in", chromedp.WaitVisible("#hello"))
	b.waitJS("on the dashboard", `location.pathname === "/"`)

	b.do("sign out again", chromedp.Click("#signout"), chromedp.WaitVisible("#oidc-google"))
	p.SignIn(who, oidctest.SpoilNone)
	b.do("Google alone now", chromedp.Click("#oidc-google"), chromedp.WaitVisible("#hello"))
	b.do("profile", chromedp.Navigate(w.url("/profile")), appReady, chromedp.WaitVisible("#identity-list li"))
	if got := eval[string](b, `document.querySelector("#identity-list").textContent`); !strings.Contains(got, "Google") || !strings.Contains(got, email) {
		t.Errorf("connected accounts %q", got)
	}

	// The used link again: the server's reason, and the way back.
	b.do("the link again", chromedp.Navigate(strings.Replace(eval[string](b, `location.href`), "/profile", "/oidc/link?token=spent", 1)),
		appReady, chromedp.WaitVisible("#oidc-link-signin"))
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
	w := mustBuildWebapp(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.addr = l.Addr().String()
	l.Close()
	w.env = append(w.env, "APP_URL=http://"+w.addr,
		"OIDC_PROVIDERS=google=Google|"+p.Issuer()+"|"+p.ClientID+"|"+p.ClientSecret)
	w.start()
	browser := mustBrowser(t)
	b := newTab(t, browser, true)
	const pw = "difference engine gears"
	b.do("sign up",
		chromedp.Navigate(w.url("/signup")), appReady, chromedp.WaitVisible("#signup-form"),
		chromedp.SendKeys("#signup-name", "Mary"),
		chromedp.SendKeys("#signup-email", "mary@example.com"),
		chromedp.SendKeys("#signup-password", pw),
		chromedp.Click(`#signup-form button[type="submit"]`),
		chromedp.WaitVisible("#hello"))

	who := oidctest.Person{Subject: "g-mary", Email: "mary.s@gmail.example", EmailVerified: true}
	p.SignIn(who, oidctest.SpoilNone)
	b.do("connect Google", chromedp.Navigate(w.url("/profile")), appReady, chromedp.WaitVisible("#identity-connect-google"),
		chromedp.Click("#identity-connect-google"), chromedp.WaitVisible("#identity-list li"))
	b.waitJS("back on the profile, told so", `location.pathname === "/profile" && location.search === "" &&
		document.querySelector("#notice")?.textContent.includes("connected")`)
	if got := eval[string](b, `document.querySelector("#identity-list").textContent`); !strings.Contains(got, "mary.s@gmail.example") {
		t.Errorf("connected accounts %q", got)
	}
	if eval[bool](b, `!!document.querySelector("#identity-connect-google")`) {
		t.Error("Connect Google still offered once connected")
	}

	b.do("set up codes", chromedp.SendKeys("#totp-password", pw),
		chromedp.Click(`#totp-begin-form button[type="submit"]`), chromedp.WaitVisible("#totp-secret"))
	secret := strings.TrimSpace(eval[string](b, `document.querySelector("#totp-secret").textContent`))
	code, _ := totp.GenerateCode(secret, time.Now())
	b.do("turn codes on", chromedp.SendKeys("#totp-code", code),
		chromedp.Click(`#totp-confirm-form button[type="submit"]`), chromedp.WaitVisible("#recovery-codes"),
		chromedp.Click("#recovery-saved"), chromedp.WaitVisible("#totp-disable-form"))

	b.do("sign out", chromedp.Click("#signout"), chromedp.WaitVisible("#oidc-google"))
	p.SignIn(who, oidctest.SpoilNone)
	b.do("Google, then the code is asked", chromedp.Click("#oidc-google"), chromedp.WaitVisible("#mfa-form"))
	b.waitJS("the token leaves the address", `location.pathname === "/signin" && location.search === ""`)
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	b.do("the code", chromedp.SendKeys("#mfa-code", next), chromedp.Click(`#mfa-form button[type="submit"]`),
		chromedp.WaitVisible("#hello"))
}
