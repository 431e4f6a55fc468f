package browser

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser drives the real app in headless Chromium against the real
// server: one person's journey from sign-up to sign-out, a second browser
// showing their changes live, a reload, a network cut and keyboard-only
// use. The steps share the server and build on each other, so they run in
// order as subtests.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	top := t
	w := mustBuildWebapp(t)
	w.start()
	// Its own Chromium: SessionSurvivesReload checks that the app is
	// installable, which Chromium offers only in a profile on disk.
	browser := mustOwnBrowser(t)
	a := newTab(t, browser, false)
	var b *tab
	const (
		name  = "Ada Lovelace"
		email = "ada@example.com"
		pw    = "correct horse battery"
	)

	// The steps build on each other: after a failure the rest would only
	// time out one by one.
	failed := false
	run := func(name string, f func(t *testing.T)) {
		t.Run(name, func(t *testing.T) {
			if failed {
				t.Skip("an earlier step failed")
			}
			f(t)
		})
		failed = failed || t.Failed()
	}

	run("SignUp", func(t *testing.T) {
		a.t = t
		a.do("open the app", chromedp.Navigate(w.url("/")), appReady, chromedp.WaitVisible("#signin-form"))
		a.screenshot("signin-desktop")
		a.do("phone width", chromedp.EmulateViewport(360, 780))
		a.screenshot("signin-360")
		a.do("desktop width", chromedp.EmulateViewport(1280, 900))
		a.do("go to sign-up", chromedp.Click(`a[href="/signup"]`), chromedp.WaitVisible("#signup-form"))
		// Field-level validation messages, before anything is sent.
		a.do("submit a bad form",
			chromedp.SendKeys("#signup-email", "not-an-email"),
			chromedp.Click(`#signup-form button[type="submit"]`),
			chromedp.WaitVisible("#signup-email-err"),
			chromedp.WaitVisible("#signup-name-err"))
		a.screenshot("signup-errors-desktop")
		setField(a, "#signup-email", "", "input")
		a.do("fill the form",
			chromedp.SendKeys("#signup-name", name),
			chromedp.SendKeys("#signup-email", email),
			chromedp.SendKeys("#signup-password", pw),
			chromedp.Click(`#signup-form button[type="submit"]`),
			chromedp.WaitVisible("#hello"))
		if got := eval[string](a, `document.querySelector("#hello").textContent`); got != "Hello, "+name {
			t.Errorf("greeting = %q", got)
		}
		a.waitJS("live indicator", `document.querySelector("#live").textContent.includes("Live")`)
	})

	run("CreateEditDelete", func(t *testing.T) {
		a.t = t
		for _, title := range []string{"Write report", "Buy milk", "Alpha task"} {
			createTask(a, title, "work")
		}
		a.waitJS("stats", `document.querySelector("#stat-total").textContent === "3"`)

		clickInTask(a, "Buy milk", `button[aria-label^="Edit"]`)
		a.do("edit", chromedp.WaitVisible("#edit-form"))
		setField(a, "#edit-title", "Buy oat milk", "input")
		setField(a, "#edit-status", "done", "change")
		a.do("save", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
		a.waitJS("edited task", taskJS("Buy oat milk")+` && document.querySelector("#task-list .status-done .task-title").textContent === "Buy oat milk"`)
		a.waitJS("done count", `document.querySelector("#stat-done").textContent === "1"`)

		clickInTask(a, "Alpha task", `button[aria-label^="Delete"]`)
		clickInTask(a, "Alpha task", `.confirm .btn.danger`)
		a.waitJS("deleted task gone", "!"+taskJS("Alpha task"))
		a.waitJS("stats after delete", `document.querySelector("#stat-total").textContent === "2"`)
	})

	run("SearchAndFilter", func(t *testing.T) {
		a.t = t
		a.do("search", chromedp.SendKeys("#search", "REPORT"))
		a.waitJS("search result", countJS(1)+" && "+taskJS("Write report"))
		setField(a, "#search", "", "input")
		a.waitJS("search cleared", countJS(2))
		setField(a, "#filter-status", "done", "change")
		a.waitJS("status filter", countJS(1)+" && "+taskJS("Buy oat milk"))
		setField(a, "#filter-status", "", "change")
		a.waitJS("filter cleared", countJS(2))
		setField(a, "#sort", "title", "change")
		setField(a, "#order", "asc", "change")
		a.waitJS("sorted by title", `[...document.querySelectorAll("#task-list .task-title")].map(e => e.textContent).join("|") === "Buy oat milk|Write report"`)
		a.screenshot("dashboard-desktop")
		a.do("phone width", chromedp.EmulateViewport(360, 780))
		a.screenshot("dashboard-360")
		a.do("desktop width", chromedp.EmulateViewport(1280, 900))
	})

	run("LiveFromAnotherBrowser", func(t *testing.T) {
		a.t = t
		b = newTab(top, browser, true)
		b.t = t
		b.do("sign in elsewhere",
			chromedp.Navigate(w.url("/signin")),
			appReady,
			chromedp.WaitVisible("#signin-form"),
			chromedp.SendKeys("#signin-email", email),
			chromedp.SendKeys("#signin-password", pw),
			chromedp.Click(`#signin-form button[type="submit"]`),
			chromedp.WaitVisible("#hello"))
		b.waitJS("b live", `document.querySelector("#live").textContent.includes("Live")`)
		createTask(b, "Made in the other browser", "")
		// No reload in a: the change arrives over the socket.
		a.waitJS("live create", taskJS("Made in the other browser"))
		clickInTask(b, "Write report", `button[aria-label^="Edit"]`)
		b.do("edit elsewhere", chromedp.WaitVisible("#edit-form"))
		setField(b, "#edit-title", "Write the report", "input")
		b.do("save elsewhere", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
		a.waitJS("live update", taskJS("Write the report")+" && !"+taskJS("Write report"))
		a.waitJS("live stats", `document.querySelector("#stat-total").textContent === "3"`)
	})

	run("EditConflict", func(t *testing.T) {
		a.t, b.t = t, t
		// a opens the editor, b saves a change first: a's save is refused
		// (412) and a chooses.
		clickInTask(a, "Write the report", `button[aria-label^="Edit"]`)
		a.do("editor", chromedp.WaitVisible("#edit-form"))
		clickInTask(b, "Write the report", `button[aria-label^="Edit"]`)
		b.do("editor elsewhere", chromedp.WaitVisible("#edit-form"))
		setField(b, "#edit-title", "Report by B", "input")
		b.do("b saves first", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
		setField(a, "#edit-title", "Report by A", "input")
		a.do("a saves on the old version", chromedp.Click("#edit-save"), chromedp.WaitVisible("#conflict"))
		if got := eval[string](a, `document.querySelector("#conflict").textContent`); !strings.Contains(got, "Report by B") || !strings.Contains(got, "Report by A") {
			t.Errorf("conflict panel does not show both versions: %q", got)
		}
		a.screenshot("conflict-desktop")
		a.do("keep mine", chromedp.Click("#keep-mine"), chromedp.WaitNotPresent("#conflict"))
		a.waitJS("mine saved", taskJS("Report by A")+" && !"+taskJS("Report by B"))
		b.waitJS("mine seen elsewhere", taskJS("Report by A"))
	})

	run("KeyboardOnlyCreate", func(t *testing.T) {
		a.t = t
		a.do("start from the top", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
		for i := 0; ; i++ {
			if i == 40 {
				t.Fatal("Tab never reached the title field")
			}
			a.do("tab", chromedp.KeyEvent("\t"))
			if eval[string](a, `document.activeElement ? document.activeElement.id : ""`) == "new-title" {
				break
			}
		}
		if outline := eval[string](a, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
			t.Error("the focused field shows no focus outline")
		}
		a.do("type and press Enter", chromedp.KeyEvent("Typed without a mouse"), chromedp.KeyEvent("\r"))
		a.waitJS("keyboard task", taskJS("Typed without a mouse"))
	})

	run("SessionSurvivesReload", func(t *testing.T) {
		a.t = t
		a.do("reload", chromedp.Reload(), appReady, chromedp.WaitVisible("#hello"))
		a.waitJS("tasks after reload", taskJS("Typed without a mouse"))
		// Chromium offers installation only when the manifest, icons and
		// service worker meet its criteria; go-app keeps the prompt.
		a.waitJS("installable", `deferredPrompt !== null`)
	})

	run("Profile", func(t *testing.T) {
		a.t, b.t = t, t
		click(a, `.topnav a[href="/profile"]`)
		a.do("open profile", chromedp.WaitVisible("#profile-form"))
		a.waitJS("sessions listed", `document.querySelectorAll("#sessions li").length === 2`)
		a.screenshot("profile-desktop")
		a.do("phone width", chromedp.EmulateViewport(360, 780))
		a.screenshot("profile-360")
		a.do("desktop width", chromedp.EmulateViewport(1280, 900))
		setField(a, "#profile-name", "Ada King", "input")
		a.do("save profile", chromedp.Click(`#profile-form button[type="submit"]`))
		a.waitJS("saved", `document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("Profile saved")`)
		// The other browser hears of it live.
		b.waitJS("live profile", `document.querySelector("#hello").textContent === "Hello, Ada King"`)
		click(a, `.topnav a[href="/"]`)
		a.do("back to the dashboard", chromedp.WaitVisible("#hello"))
	})

	run("PasswordChange", func(t *testing.T) {
		a.t, b.t = t, t
		click(a, `.topnav a[href="/profile"]`)
		a.do("open profile", chromedp.WaitVisible("#password-form"))
		// A wrong current password is the field's error; this browser
		// stays signed in and the other one too.
		setField(a, "#current-password", "not my password", "input")
		setField(a, "#new-password", "a brand new passphrase", "input")
		a.do("change with a wrong password", chromedp.Click(`#password-form button[type="submit"]`),
			chromedp.WaitVisible("#current-password-err"))
		if got := eval[string](a, `document.querySelector("#current-password-err").textContent`); got != "Password is incorrect." {
			t.Errorf("field error %q", got)
		}
		a.screenshot("password-wrong-desktop")
		if eval[bool](a, `document.querySelector("#signin-form") !== null`) {
			t.Fatal("a wrong current password signed this browser out")
		}
		setField(a, "#current-password", pw, "input")
		a.do("change", chromedp.Click(`#password-form button[type="submit"]`))
		a.waitJS("changed", `document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("Password changed")`)
		// The other browser's session ended: it is signed out, and its
		// access token no longer works even before it expires.
		b.do("the other browser is signed out", chromedp.WaitVisible("#signin-form"))
		b.waitJS("and told why", `document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("signed out")`)
		a.waitJS("one session left", `document.querySelectorAll("#sessions li").length === 1`)
		click(a, `.topnav a[href="/"]`)
		a.do("back to the dashboard", chromedp.WaitVisible("#hello"))
	})

	run("OfflineShell", func(t *testing.T) {
		a.t = t
		a.waitJS("service worker in control", `navigator.serviceWorker.controller !== null`)
		w.stop()
		a.do("reload with the server gone", chromedp.Reload(), appReady, chromedp.WaitVisible("#offline-banner"))
		a.waitJS("last tasks shown", taskJS("Typed without a mouse"))
		// Offline, changes are taken and kept on this device (issue 17;
		// TestOfflineEdits sends them), and the banner says so.
		if n := eval[int](a, `document.querySelectorAll("#create-form").length`); n != 1 {
			t.Errorf("offline view offers %d quick-add bars; want one (changes are kept offline)", n)
		}
		if got := eval[string](a, `document.querySelector("#offline-banner").textContent`); !strings.Contains(got, "kept here") {
			t.Errorf("offline banner %q does not say that changes are kept", got)
		}
		a.screenshot("offline-desktop")
		a.do("phone width", chromedp.EmulateViewport(360, 780))
		a.screenshot("offline-360")
		a.do("desktop width", chromedp.EmulateViewport(1280, 900))
		w.start()
		a.waitJS("back online", `document.querySelector("#offline-banner").hidden && document.querySelector("#live").textContent.includes("Live")`)
	})

	run("SignOutClears", func(t *testing.T) {
		a.t = t
		click(a, "#signout")
		a.do("sign out", chromedp.WaitVisible("#signin-form"))
		if n := eval[int](a, `localStorage.length + sessionStorage.length`); n != 0 {
			t.Errorf("%d items left in web storage after sign-out", n)
		}
		if eval[bool](a, `document.body.textContent.includes("Typed without a mouse")`) {
			t.Error("a task is still on the page after sign-out")
		}
		a.do("reload", chromedp.Reload(), appReady, chromedp.WaitVisible("#signin-form"))
	})

	run("DeleteAccount", func(t *testing.T) {
		c := newTab(t, browser, true)
		c.do("sign up another person",
			chromedp.Navigate(w.url("/signup")), appReady, chromedp.WaitVisible("#signup-form"),
			chromedp.SendKeys("#signup-name", "Grace"),
			chromedp.SendKeys("#signup-email", "grace@example.com"),
			chromedp.SendKeys("#signup-password", pw),
			chromedp.Click(`#signup-form button[type="submit"]`),
			chromedp.WaitVisible("#hello"))
		createTask(c, "Doomed task", "")
		click(c, `.topnav a[href="/profile"]`)
		c.do("open profile", chromedp.WaitVisible("#delete-start"))
		click(c, "#delete-start")
		c.do("confirm form", chromedp.WaitVisible("#delete-form"))
		setField(c, "#delete-password", "not my password", "input")
		c.do("delete with a wrong password", chromedp.Click(`#delete-form button[type="submit"]`),
			chromedp.WaitVisible("#delete-password-err"))
		if got := eval[string](c, `document.querySelector("#delete-password-err").textContent`); got != "Password is incorrect." {
			t.Errorf("field error %q", got)
		}
		setField(c, "#delete-password", pw, "input")
		c.do("delete", chromedp.Click(`#delete-form button[type="submit"]`), chromedp.WaitVisible("#signin-form"))
		c.waitJS("told", `document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("deleted")`)
		if n := eval[int](c, `localStorage.length + sessionStorage.length`); n != 0 {
			t.Errorf("%d items left in web storage after deletion", n)
		}
		// The account is gone: signing in again fails like any wrong password.
		c.do("sign in to the deleted account",
			chromedp.SendKeys("#signin-email", "grace@example.com"),
			chromedp.SendKeys("#signin-password", pw),
			chromedp.Click(`#signin-form button[type="submit"]`))
		c.waitJS("refused", `document.querySelector("#signin-form") && document.querySelector("#signin-form").textContent.includes("incorrect")`)
	})

	t.Run("NoCSPViolations", func(t *testing.T) {
		// First show that the policy is enforced and that a violation would
		// be caught: an inline style is refused and reported.
		c := newTab(t, browser, true)
		c.do("open", chromedp.Navigate(w.url("/signin")), appReady)
		directive := eval[string](c, `new Promise(r => {
			document.addEventListener("securitypolicyviolation", e => r(e.violatedDirective), {once: true});
			document.body.appendChild(document.createElement("div")).setAttribute("style", "color: red");
		})`)
		if directive != "style-src-attr" {
			t.Errorf("inline style violated %q, want style-src-attr", directive)
		}
		if !c.waitConsole("Content Security Policy") {
			t.Errorf("the console collector missed a CSP violation:\n%s", c.console())
		}
		for name, tb := range map[string]*tab{"first": a, "second": b} {
			if tb == nil {
				continue
			}
			for _, v := range tb.cspViolations() {
				t.Errorf("%s browser: %s", name, v)
			}
		}
	})
}

// taskJS is a predicate: a task with this title is listed.
func taskJS(title string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#task-list .task-title")].some(e => e.textContent === %s)`, strconv.Quote(title))
}

// countJS is a predicate: exactly n tasks are listed.
func countJS(n int) string {
	return fmt.Sprintf(`document.querySelectorAll("#task-list > li").length === %d`, n)
}

func createTask(b *tab, title, tags string) {
	b.t.Helper()
	if tags == "" {
		b.do("create "+title, chromedp.WaitVisible("#create-form"), chromedp.SendKeys("#new-title", title))
		b.do("submit", chromedp.Click("#create-submit"))
		b.waitJS("created "+title, taskJS(title)+` && document.querySelector("#new-title").value === ""`)
		return
	}
	// With tags: the full form, in the editor dialog.
	b.do("create "+title, chromedp.WaitVisible("#create-form"))
	click(b, "#create-more")
	b.do("full form", chromedp.WaitVisible("#edit-form"), chromedp.SendKeys("#edit-title", title), chromedp.SendKeys("#edit-tags", tags))
	b.do("submit", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
	b.waitJS("created "+title, taskJS(title))
}

// clickInTask clicks the element matching sel inside the task titled title.
func clickInTask(b *tab, title, sel string) {
	b.t.Helper()
	b.waitJS("find "+title, fmt.Sprintf(`[...document.querySelectorAll("#task-list > li")].some(li =>
		li.querySelector(".task-title")?.textContent === %s && li.querySelector(%s))`, strconv.Quote(title), strconv.Quote(sel)))
	eval[chromedp.Void](b, fmt.Sprintf(`[...document.querySelectorAll("#task-list > li")].find(li =>
		li.querySelector(".task-title")?.textContent === %s).querySelector(%s).click()`, strconv.Quote(title), strconv.Quote(sel)))
}

// click clicks an element through the DOM, immune to layout shifts between
// finding it and pressing the mouse.
func click(b *tab, sel string) {
	b.t.Helper()
	b.do("find "+sel, chromedp.WaitVisible(sel))
	eval[chromedp.Void](b, fmt.Sprintf(`document.querySelector(%s).click()`, strconv.Quote(sel)))
}

// setField sets a control's value and fires the event the app listens to.
func setField(b *tab, sel, value, event string) {
	b.t.Helper()
	eval[chromedp.Void](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = %s;
		e.dispatchEvent(new Event(%s, {bubbles: true})); })()`, strconv.Quote(sel), strconv.Quote(value), strconv.Quote(event)))
}
