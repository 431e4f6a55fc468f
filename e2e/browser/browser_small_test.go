package browser

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/authdash/authdash/e2e/internal/browsertest"
)

// TestSmallThings: a branded page for an unknown address, the focus after signing in and out, "Sign out
// everywhere" asking first, one "Password is incorrect.", notices that go
// by themselves.
func TestSmallThings(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := kit.Webapp(t)
	w.Start()
	browser := kit.Browser(t)
	browsertest.SignUpByAPI(t, browsertest.NewTab(t, browser, true), w, "small@example.com")
	b := browsertest.NewTab(t, browser, true)

	// An address the app does not have: its own page, the way back, once
	// the app runs too (the server's prerendered page is ours either way).
	for _, path := range []string{"/no-such-page", "/some/old/link"} {
		b.Do("unknown page "+path, chromedp.Navigate(w.URL(path)), browsertest.AppReady, chromedp.WaitVisible("#notfound-title"))
		if got := browsertest.Eval[int](b, `fetch("`+path+`").then(r => r.status)`); got != 404 {
			t.Errorf("unknown page %s: status %d, want 404", path, got)
		}
		if !browsertest.Eval[bool](b, `document.querySelector("#notfound-home")?.getAttribute("href") === "/" && document.querySelector(".brand") !== null`) {
			t.Errorf("the not-found page of %s has no way home or is not in the app's frame", path)
		}
	}

	// Sign in with the keyboard: the focus lands on the dashboard's heading.
	b.Do("sign-in page", chromedp.Navigate(w.URL("/signin")), browsertest.AppReady)
	b.WaitJS("focus on the email field", browsertest.FocusJS+` === "signin-email"`)
	b.Do("sign in", chromedp.SendKeys("#signin-email", "small@example.com"),
		chromedp.SendKeys("#signin-password", "benchmark password"+kb.Enter), chromedp.WaitVisible("#hello"))
	b.WaitJS("focus on the heading after signing in", browsertest.FocusJS+` === "hello"`)

	// The full form of a new task starts from the defaults each time, not
	// from the last task's priority and status.
	for i, title := range []string{"Urgent and started", "Plain"} {
		browsertest.Click(b, "#create-more")
		b.Do("full form", chromedp.WaitVisible("#edit-form"))
		if got := browsertest.Eval[string](b, `document.querySelector("#edit-priority").value + "/" + document.querySelector("#edit-status").value`); got != "medium/todo" {
			t.Errorf("new task form %d starts with priority/status %s, want medium/todo", i+1, got)
		}
		browsertest.SetField(b, "#edit-title", title, "input")
		browsertest.SetField(b, "#edit-priority", "high", "change")
		browsertest.SetField(b, "#edit-status", "in_progress", "change")
		b.Do("add", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
		b.WaitJS("added "+title, browsertest.TaskJS(title))
	}

	// A wrong current password is said once.
	b.Do("profile", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#password-form"))
	b.Do("wrong password", chromedp.SendKeys("#current-password", "not my password"),
		chromedp.SendKeys("#new-password", "a much better passphrase"+kb.Enter))
	b.WaitJS("refused", `document.body.innerText.includes("Password is incorrect.")`)
	if n := browsertest.Eval[int](b, `document.body.innerText.split("Password is incorrect.").length - 1`); n != 1 {
		t.Errorf(`"Password is incorrect." shown %d times, want once`, n)
	}

	// Every form asking for the password without the address carries the
	// address, hidden, for password managers: the password's, the
	// address's, two-factor's, and the deletion's once opened.
	browsertest.Click(b, "#delete-start")
	b.Do("deletion form", chromedp.WaitVisible("#delete-form"))
	b.WaitJS("focus on its password", browsertest.FocusJS+` === "delete-password"`)
	const lacking = `[...document.querySelectorAll("form")].filter(f => f.querySelector("input[type=password]")).
		filter(f => f.querySelector("input[autocomplete=username]")?.value !== "small@example.com").map(f => f.id)`
	if got := browsertest.Eval[[]string](b, lacking); len(got) != 0 {
		t.Errorf("password forms without the account's address: %q", got)
	}
	if got := browsertest.Eval[int](b, `document.querySelectorAll("form input[type=password]").length`); got < 5 {
		t.Errorf("%d password fields on the profile, want the five forms' at least", got)
	}
	browsertest.Click(b, "#delete-cancel")
	b.Do("deletion cancelled", chromedp.WaitNotPresent("#delete-form"))
	b.WaitJS("focus back on its button", browsertest.FocusJS+` === "delete-start"`)

	// Notices go by themselves.
	b.Do("save the profile", chromedp.SendKeys("#profile-name", " Lovelace"+kb.Enter))
	b.WaitJS("notice shown", `document.querySelector("#notice") !== null`)
	b.WaitJS("notice gone", `document.querySelector("#notice") === null`)

	// Sign out everywhere asks first; Cancel (where the focus starts) and
	// Esc sign nobody out.
	browsertest.Click(b, "#signout-all")
	b.WaitJS("asked", `document.querySelector("#signout-all-dialog").open`)
	b.WaitJS("focus on Cancel", browsertest.FocusJS+` === "signout-all-cancel"`)
	b.Do("Enter on Cancel", chromedp.KeyEvent(kb.Enter))
	b.WaitJS("closed", `!document.querySelector("#signout-all-dialog").open`)
	if browsertest.Eval[string](b, `location.pathname`) != "/profile" {
		t.Fatal("Cancel signed out")
	}
	b.WaitJS("focus back on the button", browsertest.FocusJS+` === "signout-all"`)
	browsertest.Click(b, "#signout-all")
	b.WaitJS("asked again", `document.querySelector("#signout-all-dialog").open`)
	browsertest.Click(b, "#signout-all-confirm")
	b.Do("signed out", chromedp.WaitVisible("#signin-form"))
	b.WaitJS("focus on the email field after signing out", browsertest.FocusJS+` === "signin-email"`)
}
