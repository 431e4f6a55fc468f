package browser

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/mail/mailtest"
)

// mailWait bounds the wait for a message: the outbox worker sends at once
// when woken, but the machine may be loaded.
const mailWait = 60 * time.Second

// mustMailWebapp is the real server binary sending its mail over SMTP
// (STARTTLS, trusted through SSL_CERT_FILE) to a real SMTP server in this
// test, with links on its own address (APP_URL); env is more of its
// environment.
func mustMailWebapp(t *testing.T, env ...string) (*browsertest.Webapp, *mailtest.Server) {
	t.Helper()
	w := kit.Webapp(t)
	smtp := mailtest.Start(t, mailtest.Options{})
	certs := filepath.Join(t.TempDir(), "mailtest.pem")
	if err := os.WriteFile(certs, smtp.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	// APP_URL needs the address before the server starts: take a free one.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.Addr = ln.Addr().String()
	ln.Close()
	u := smtp.URL()
	u.Host = "localhost:" + u.Port() // the certificate names localhost
	w.Env = []string{"SMTP_URL=" + u.String(), "MAIL_FROM=Authdash <no-reply@authdash.test>",
		"APP_URL=" + w.URL(""), "SSL_CERT_FILE=" + certs}
	w.Env = append(w.Env, env...)
	w.Start()
	return w, smtp
}

// openMailedLink waits for the newest message to addr about subject and
// opens its link to path in b, checking it points at the app.
func openMailedLink(t *testing.T, b *browsertest.Tab, w *browsertest.Webapp, smtp *mailtest.Server, addr, subject, path string) {
	t.Helper()
	m := smtp.Last(t, addr, subject, mailWait)
	link, err := m.Link(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link.String(), w.URL(path)+"?token=") {
		t.Fatalf("link %s does not open %s on the app", link, path)
	}
	if !strings.Contains(m.HTML, link.String()) && !strings.Contains(m.HTML, strings.ReplaceAll(link.String(), "&", "&amp;")) {
		t.Errorf("the HTML part lacks the link %s", link)
	}
	b.Do("open "+path+" from the mail", chromedp.Navigate(link.String()), browsertest.AppReady)
}

// TestAccountJourney: a person signs up, confirms the address from the mail
// the SMTP server received, forgets the password and resets it from the mail,
// then changes the address (confirmed from the new inbox) and undoes it from
// the old one. Every screen is also checked with axe-core when it is
// installed, in both themes.
func TestAccountJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w, smtp := mustMailWebapp(t)
	browser := kit.Browser(t)
	a := browsertest.NewTab(t, browser, true)
	axe := ""
	if src, err := os.ReadFile(axeScript); err == nil {
		axe = string(src)
	}
	const (
		name     = "Grace Hopper"
		email    = "grace@example.com"
		newEmail = "grace.h@example.net"
		pw       = "correct horse battery"
		pw2      = "cobol compiles quietly at dawn"
	)
	// check looks at a screen as a person would: axe-core in the light and
	// the dark theme, and a screenshot of each at the current size.
	check := func(screen string) {
		a.T.Helper()
		t := a.T
		for _, theme := range []string{"light", "dark"} {
			a.Do(theme, colorScheme(theme))
			if axe != "" {
				checkA11y(a, axe, screen+" "+theme)
			}
			a.Screenshot("account-" + screen + "-1280-" + theme)
			a.Do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
			a.Screenshot("account-" + screen + "-390-" + theme)
			if cut := browsertest.Eval[[]string](a, clippedButtons); len(cut) > 0 {
				t.Errorf("%s at 390 px: buttons whose text does not fit: %q", screen, cut)
			}
			a.Do("laptop", chromedp.EmulateViewport(1280, 900))
		}
		a.Do("light", colorScheme("light"))
	}

	failed := false
	run := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			if failed {
				t.Skip("an earlier step failed")
			}
			a.T = t
			f(t)
		})
		failed = failed || t.Failed()
	}

	run("SignUpThenVerify", func(t *testing.T) {
		a.Do("sign up",
			chromedp.Navigate(w.URL("/signup")), browsertest.AppReady, chromedp.WaitVisible("#signup-form"),
			chromedp.SendKeys("#signup-name", name),
			chromedp.SendKeys("#signup-email", email),
			chromedp.SendKeys("#signup-password", pw),
			chromedp.Click(`#signup-form button[type="submit"]`),
			chromedp.WaitVisible("#hello"),
			chromedp.WaitVisible("#verify-banner"))
		if got := browsertest.Eval[string](a, `document.querySelector("#verify-banner").textContent`); !strings.Contains(got, email) {
			t.Errorf("banner %q does not name %s", got, email)
		}
		check("banner")
		openMailedLink(t, a, w, smtp, email, "Confirm your email address", "/verify-email")
		a.Do("verified", chromedp.WaitVisible("#verify-done"))
		a.WaitJS("focus on the result", `document.activeElement.id === "verify-done-title"`)
		check("verified")
		a.Do("dashboard", chromedp.Click("#next-step"), chromedp.WaitVisible("#hello"))
		a.WaitJS("banner gone", `document.querySelector("#verify-banner").hidden`)
	})

	// Forgetting and resetting is done with the keyboard only.
	run("ForgotThenReset", func(t *testing.T) {
		a.Do("sign out", chromedp.Click("#signout"), chromedp.WaitVisible("#signin-form"))
		tabTo(a, "forgot-link")
		a.Do("forgot", chromedp.KeyEvent("\r"), chromedp.WaitVisible("#forgot-form"))
		check("forgot")
		tabTo(a, "forgot-email")
		a.Do("ask for a link", chromedp.KeyEvent(strings.ToUpper(email)), chromedp.KeyEvent("\r"), chromedp.WaitVisible("#forgot-done"))
		a.WaitJS("focus on the result", `document.activeElement.id === "forgot-done-title"`)
		a.Do("tab on", chromedp.KeyEvent("\t"))
		if got := browsertest.Eval[string](a, `document.activeElement.getAttribute("href")`); got != "/signin" {
			t.Errorf("Tab after the result went to %q, want the way back to sign in", got)
		}
		openMailedLink(t, a, w, smtp, email, "Reset your Authdash password", "/reset-password")
		a.Do("reset form", chromedp.WaitVisible("#reset-form"))
		check("reset")
		// A weak password is refused, with the field saying why.
		tabTo(a, "reset-password")
		a.Do("weak password", chromedp.KeyEvent("short"), chromedp.KeyEvent("\r"), chromedp.WaitVisible("#reset-password-err"))
		if got := browsertest.Eval[string](a, `document.querySelector("#reset-password").getAttribute("aria-describedby")`); !strings.Contains(got, "reset-password-err") {
			t.Errorf("the field's error is not linked to it: aria-describedby=%q", got)
		}
		browsertest.SetField(a, "#reset-password", "", "input")
		tabTo(a, "reset-password")
		a.Do("new password", chromedp.KeyEvent(pw2), chromedp.KeyEvent("\r"), chromedp.WaitVisible("#reset-done"))
		smtp.Last(t, email, "Your Authdash password was changed", mailWait)
		a.Do("sign in with it",
			chromedp.Click("#reset-signin"), chromedp.WaitVisible("#signin-form"),
			chromedp.SendKeys("#signin-email", email),
			chromedp.SendKeys("#signin-password", pw2),
			chromedp.Click(`#signin-form button[type="submit"]`),
			chromedp.WaitVisible("#hello"))
	})

	run("ChangeEmailThenUndo", func(t *testing.T) {
		a.Do("profile", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#email-form"))
		check("email-change")
		a.Do("ask to change",
			chromedp.SendKeys("#email-new", newEmail),
			chromedp.SendKeys("#email-password", pw2),
			chromedp.Click(`#email-form button[type="submit"]`),
			chromedp.WaitVisible("#email-sent"))
		openMailedLink(t, a, w, smtp, newEmail, "Confirm your new email address", "/confirm-email")
		a.Do("confirm", chromedp.WaitVisible("#confirm-form"))
		check("confirm-email")
		a.Do("use the new address", chromedp.Click("#confirm-email"), chromedp.WaitVisible("#confirm-done"))
		a.Do("profile again", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#email-form"))
		a.WaitJS("the new address", `document.querySelector("#email-current").textContent.includes("`+newEmail+`")`)

		openMailedLink(t, a, w, smtp, email, "The email address of your Authdash account was changed", "/revert-email")
		a.Do("undo", chromedp.WaitVisible("#revert-form"))
		check("revert-email")
		a.Do("undo the change", chromedp.Click("#revert-email"), chromedp.WaitVisible("#revert-done"))
		// Every session ended, this tab's too.
		a.WaitJS("signed out", `!document.querySelector("#signout")`)
		a.Do("sign in at the old address",
			chromedp.Navigate(w.URL("/signin")), browsertest.AppReady, chromedp.WaitVisible("#signin-form"),
			chromedp.SendKeys("#signin-email", email),
			chromedp.SendKeys("#signin-password", pw2),
			chromedp.Click(`#signin-form button[type="submit"]`),
			chromedp.WaitVisible("#hello"))
	})

	run("UsedLinkSaysSo", func(t *testing.T) {
		openMailedLink(t, a, w, smtp, email, "Confirm your email address", "/verify-email")
		a.WaitJS("already used", `document.querySelector(".form-error").textContent.includes("already used")`)
		check("link-used")
	})

	// A reset link already used says so as it opens, before a password is typed.
	// Its own account, so it runs alone too.
	run("UsedResetLinkSaysSo", func(t *testing.T) {
		const ada = "ada@example.com"
		if code := apiCall(t, w, "POST", "/api/auth/register", "", map[string]string{"email": ada, "password": pw, "name": "Ada"}, nil); code != 201 {
			t.Fatalf("register: %d", code)
		}
		if code := apiCall(t, w, "POST", "/api/auth/password/forgot", "", map[string]string{"email": ada}, nil); code != 202 {
			t.Fatalf("forgot: %d", code)
		}
		link, err := smtp.Last(t, ada, "Reset your Authdash password", mailWait).Link("/reset-password")
		if err != nil {
			t.Fatal(err)
		}
		if code := apiCall(t, w, "POST", "/api/auth/password/reset", "", map[string]string{"token": link.Query().Get("token"), "newPassword": pw2}, nil); code != 204 {
			t.Fatalf("reset: %d", code)
		}
		openMailedLink(t, a, w, smtp, ada, "Reset your Authdash password", "/reset-password")
		a.Do("says so", chromedp.WaitVisible("#reset-bad"), chromedp.WaitVisible("#reset-new-link"))
		a.WaitJS("focus on the result", `document.activeElement.id === "reset-bad-title"`)
		if got := browsertest.Eval[string](a, `document.querySelector("#reset-bad").textContent`); !strings.Contains(got, "already used") || !strings.Contains(got, "30 minutes") {
			t.Errorf("the page says %q, want why and for how long links work", got)
		}
		if got := browsertest.Eval[string](a, `document.querySelector("#reset-new-link").textContent`); got != "Ask for a new link" {
			t.Errorf("primary action %q", got)
		}
		if browsertest.Eval[bool](a, `document.querySelector('input[type="password"]') !== null`) {
			t.Error("a password field shows for a link that cannot set one")
		}
		check("reset-link-used")
	})
}

// tabTo presses Tab from the top of the page until the element with id has
// the focus, failing if it never does: it is reachable by keyboard.
func tabTo(b *browsertest.Tab, id string) {
	b.T.Helper()
	b.Do("start from the top", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	for i := 0; i < 40; i++ {
		b.Do("tab", chromedp.KeyEvent("\t"))
		if browsertest.Eval[string](b, `document.activeElement ? document.activeElement.id : ""`) == id {
			return
		}
	}
	b.T.Fatalf("Tab never reached #%s", id)
}

// clippedButtons lists the visible buttons whose text is wider than they are,
// or that reach out of the page.
const clippedButtons = `[...document.querySelectorAll(".btn")].filter(b => b.offsetParent !== null &&
	(b.scrollWidth > b.clientWidth + 1 || b.getBoundingClientRect().right > document.documentElement.clientWidth)).map(b => b.textContent)`
