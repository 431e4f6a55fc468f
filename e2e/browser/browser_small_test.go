package browser

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focusJS is the id of the element holding the focus ("BODY" for none).
const focusJS = `document.activeElement ? (document.activeElement.id || document.activeElement.tagName) : "BODY"`

// TestSmallThings: a branded page for an unknown address, the focus after signing in and out, "Sign out
// everywhere" asking first, one "Password is incorrect.", notices that go
// by themselves.
func TestSmallThings(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := mustBuildWebapp(t)
	w.start()
	browser := mustBrowser(t)
	signUpByAPI(t, newTab(t, browser, true), w, "small@example.com")
	b := newTab(t, browser, true)

	// An address the app does not have: its own page, the way back.
	b.do("unknown page", chromedp.Navigate(w.url("/no-such-page")), chromedp.WaitVisible("#notfound-title"))
	if got := eval[int](b, `fetch("/no-such-page").then(r => r.status)`); got != 404 {
		t.Errorf("unknown page: status %d, want 404", got)
	}
	if !eval[bool](b, `document.querySelector("#notfound-home")?.getAttribute("href") === "/" && document.querySelector(".brand") !== null`) {
		t.Error("the not-found page has no way home or is not in the app's frame")
	}

	// Sign in with the keyboard: the focus lands on the dashboard's heading.
	b.do("sign-in page", chromedp.Navigate(w.url("/signin")), appReady)
	b.waitJS("focus on the email field", focusJS+` === "signin-email"`)
	b.do("sign in", chromedp.SendKeys("#signin-email", "small@example.com"),
		chromedp.SendKeys("#signin-password", "benchmark password"+kb.Enter), chromedp.WaitVisible("#hello"))
	b.waitJS("focus on the heading after signing in", focusJS+` === "hello"`)

	// The full form of a new task starts from the defaults each time, not
	// from the last task's priority and status.
	for i, title := range []string{"Urgent and started", "Plain"} {
		click(b, "#create-more")
		b.do("full form", chromedp.WaitVisible("#edit-form"))
		if got := eval[string](b, `document.querySelector("#edit-priority").value + "/" + document.querySelector("#edit-status").value`); got != "medium/todo" {
			t.Errorf("new task form %d starts with priority/status %s, want medium/todo", i+1, got)
		}
		setField(b, "#edit-title", title, "input")
		setField(b, "#edit-priority", "high", "change")
		setField(b, "#edit-status", "in_progress", "change")
		b.do("add", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
		b.waitJS("added "+title, taskJS(title))
	}

	// A wrong current password is said once.
	b.do("profile", chromedp.Navigate(w.url("/profile")), appReady, chromedp.WaitVisible("#password-form"))
	b.do("wrong password", chromedp.SendKeys("#current-password", "not my password"),
		chromedp.SendKeys("#new-password", "a much better passphrase"+kb.Enter))
	b.waitJS("refused", `document.body.innerText.includes("Password is incorrect.")`)
	if n := eval[int](b, `document.body.innerText.split("Password is incorrect.").length - 1`); n != 1 {
		t.Errorf(`"Password is incorrect." shown %d times, want once`, n)
	}

	// Notices go by themselves.
	b.do("save the profile", chromedp.SendKeys("#profile-name", " Lovelace"+kb.Enter))
	b.waitJS("notice shown", `document.querySelector("#notice") !== null`)
	b.waitJS("notice gone", `document.querySelector("#notice") === null`)

	// Sign out everywhere asks first; Cancel (where the focus starts) and
	// Esc sign nobody out.
	click(b, "#signout-all")
	b.waitJS("asked", `document.querySelector("#signout-all-dialog").open`)
	b.waitJS("focus on Cancel", focusJS+` === "signout-all-cancel"`)
	b.do("Enter on Cancel", chromedp.KeyEvent(kb.Enter))
	b.waitJS("closed", `!document.querySelector("#signout-all-dialog").open`)
	if eval[string](b, `location.pathname`) != "/profile" {
		t.Fatal("Cancel signed out")
	}
	b.waitJS("focus back on the button", focusJS+` === "signout-all"`)
	click(b, "#signout-all")
	b.waitJS("asked again", `document.querySelector("#signout-all-dialog").open`)
	click(b, "#signout-all-confirm")
	b.do("signed out", chromedp.WaitVisible("#signin-form"))
	b.waitJS("focus on the email field after signing out", focusJS+` === "signin-email"`)
}
