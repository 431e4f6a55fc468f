package browser

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
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
	w := kit.Webapp(t)
	w.Start()
	// Its own Chromium: SessionSurvivesReload checks that the app is
	// installable, which Chromium offers only in a profile on disk.
	browser := browsertest.MustOwnBrowser(t)
	a := browsertest.NewTab(t, browser, false)
	var b *browsertest.Tab
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
		a.T = t
		a.Do("open the app", chromedp.Navigate(w.URL("/")), browsertest.AppReady, chromedp.WaitVisible("#signin-form"))
		a.Screenshot("signin-desktop")
		a.Do("phone width", chromedp.EmulateViewport(360, 780))
		a.Screenshot("signin-360")
		a.Do("desktop width", chromedp.EmulateViewport(1280, 900))
		a.Do("go to sign-up", chromedp.Click(`a[href="/signup"]`), chromedp.WaitVisible("#signup-form"))
		// Field-level validation messages, before anything is sent.
		a.Do("submit a bad form",
			chromedp.SendKeys("#signup-email", "not-an-email"),
			chromedp.Click(`#signup-form button[type="submit"]`),
			chromedp.WaitVisible("#signup-email-err"),
			chromedp.WaitVisible("#signup-name-err"))
		a.Screenshot("signup-errors-desktop")
		browsertest.SetField(a, "#signup-email", "", "input")
		a.Do("fill the form",
			chromedp.SendKeys("#signup-name", name),
			chromedp.SendKeys("#signup-email", email),
			chromedp.SendKeys("#signup-password", pw),
			chromedp.Click(`#signup-form button[type="submit"]`),
			chromedp.WaitVisible("#hello"))
		if got := browsertest.Eval[string](a, `document.querySelector("#hello").textContent`); got != "Hello, "+name {
			t.Errorf("greeting = %q", got)
		}
		a.WaitJS("live indicator", `document.querySelector("#live").textContent.includes("Live")`)
	})

	run("CreateEditDelete", func(t *testing.T) {
		a.T = t
		for _, title := range []string{"Write report", "Buy milk", "Alpha task"} {
			browsertest.CreateTask(a, title, "work")
		}
		a.WaitJS("stats", `document.querySelector("#stat-total").textContent === "3"`)

		browsertest.ClickInTask(a, "Buy milk", `button[aria-label^="Edit"]`)
		a.Do("edit", chromedp.WaitVisible("#edit-form"))
		browsertest.SetField(a, "#edit-title", "Buy oat milk", "input")
		browsertest.SetField(a, "#edit-status", "done", "change")
		a.Do("save", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
		a.WaitJS("edited task", browsertest.TaskJS("Buy oat milk")+` && document.querySelector("#task-list .status-done .task-title").textContent === "Buy oat milk"`)
		a.WaitJS("done count", `document.querySelector("#stat-done").textContent === "1"`)

		browsertest.ClickInTask(a, "Alpha task", `button[aria-label^="Delete"]`)
		browsertest.ClickInTask(a, "Alpha task", `.confirm .btn.danger`)
		a.WaitJS("deleted task gone", "!"+browsertest.TaskJS("Alpha task"))
		a.WaitJS("stats after delete", `document.querySelector("#stat-total").textContent === "2"`)
	})

	run("SearchAndFilter", func(t *testing.T) {
		a.T = t
		a.Do("search", chromedp.SendKeys("#search", "REPORT"))
		a.WaitJS("search result", browsertest.CountJS(1)+" && "+browsertest.TaskJS("Write report"))
		browsertest.SetField(a, "#search", "", "input")
		a.WaitJS("search cleared", browsertest.CountJS(2))
		browsertest.SetField(a, "#filter-status", "done", "change")
		a.WaitJS("status filter", browsertest.CountJS(1)+" && "+browsertest.TaskJS("Buy oat milk"))
		browsertest.SetField(a, "#filter-status", "", "change")
		a.WaitJS("filter cleared", browsertest.CountJS(2))
		browsertest.SetField(a, "#sort", "title", "change")
		browsertest.SetField(a, "#order", "asc", "change")
		a.WaitJS("sorted by title", `[...document.querySelectorAll("#task-list .task-title")].map(e => e.textContent).join("|") === "Buy oat milk|Write report"`)
		a.Screenshot("dashboard-desktop")
		a.Do("phone width", chromedp.EmulateViewport(360, 780))
		a.Screenshot("dashboard-360")
		a.Do("desktop width", chromedp.EmulateViewport(1280, 900))
	})

	run("LiveFromAnotherBrowser", func(t *testing.T) {
		a.T = t
		b = browsertest.NewTab(top, browser, true)
		b.T = t
		b.Do("sign in elsewhere",
			chromedp.Navigate(w.URL("/signin")),
			browsertest.AppReady,
			chromedp.WaitVisible("#signin-form"),
			chromedp.SendKeys("#signin-email", email),
			chromedp.SendKeys("#signin-password", pw),
			chromedp.Click(`#signin-form button[type="submit"]`),
			chromedp.WaitVisible("#hello"))
		b.WaitJS("b live", `document.querySelector("#live").textContent.includes("Live")`)
		browsertest.CreateTask(b, "Made in the other browser", "")
		// No reload in a: the change arrives over the socket.
		a.WaitJS("live create", browsertest.TaskJS("Made in the other browser"))
		browsertest.ClickInTask(b, "Write report", `button[aria-label^="Edit"]`)
		b.Do("edit elsewhere", chromedp.WaitVisible("#edit-form"))
		browsertest.SetField(b, "#edit-title", "Write the report", "input")
		b.Do("save elsewhere", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
		a.WaitJS("live update", browsertest.TaskJS("Write the report")+" && !"+browsertest.TaskJS("Write report"))
		a.WaitJS("live stats", `document.querySelector("#stat-total").textContent === "3"`)
	})

	run("EditConflict", func(t *testing.T) {
		a.T, b.T = t, t
		// a opens the editor, b saves a change first: a's save is refused
		// (412) and a chooses.
		browsertest.ClickInTask(a, "Write the report", `button[aria-label^="Edit"]`)
		a.Do("editor", chromedp.WaitVisible("#edit-form"))
		browsertest.ClickInTask(b, "Write the report", `button[aria-label^="Edit"]`)
		b.Do("editor elsewhere", chromedp.WaitVisible("#edit-form"))
		browsertest.SetField(b, "#edit-title", "Report by B", "input")
		b.Do("b saves first", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
		browsertest.SetField(a, "#edit-title", "Report by A", "input")
		a.Do("a saves on the old version", chromedp.Click("#edit-save"), chromedp.WaitVisible("#conflict"))
		if got := browsertest.Eval[string](a, `document.querySelector("#conflict").textContent`); !strings.Contains(got, "Report by B") || !strings.Contains(got, "Report by A") {
			t.Errorf("conflict panel does not show both versions: %q", got)
		}
		a.Screenshot("conflict-desktop")
		a.Do("keep mine", chromedp.Click("#keep-mine"), chromedp.WaitNotPresent("#conflict"))
		a.WaitJS("mine saved", browsertest.TaskJS("Report by A")+" && !"+browsertest.TaskJS("Report by B"))
		b.WaitJS("mine seen elsewhere", browsertest.TaskJS("Report by A"))
	})

	run("KeyboardOnlyCreate", func(t *testing.T) {
		a.T = t
		a.Do("start from the top", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
		for i := 0; ; i++ {
			if i == 40 {
				t.Fatal("Tab never reached the title field")
			}
			a.Do("tab", chromedp.KeyEvent("\t"))
			if browsertest.Eval[string](a, `document.activeElement ? document.activeElement.id : ""`) == "new-title" {
				break
			}
		}
		if outline := browsertest.Eval[string](a, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
			t.Error("the focused field shows no focus outline")
		}
		a.Do("type and press Enter", chromedp.KeyEvent("Typed without a mouse"), chromedp.KeyEvent("\r"))
		a.WaitJS("keyboard task", browsertest.TaskJS("Typed without a mouse"))
	})

	run("SessionSurvivesReload", func(t *testing.T) {
		a.T = t
		a.Do("reload", chromedp.Reload(), browsertest.AppReady, chromedp.WaitVisible("#hello"))
		a.WaitJS("tasks after reload", browsertest.TaskJS("Typed without a mouse"))
		// Chromium offers installation only when the manifest, icons and
		// service worker meet its criteria; go-app keeps the prompt.
		a.WaitJS("installable", `deferredPrompt !== null`)
	})

	run("Profile", func(t *testing.T) {
		a.T, b.T = t, t
		browsertest.Click(a, `.topnav a[href="/profile"]`)
		a.Do("open profile", chromedp.WaitVisible("#profile-form"))
		a.WaitJS("sessions listed", `document.querySelectorAll("#sessions li").length === 2`)
		a.Screenshot("profile-desktop")
		a.Do("phone width", chromedp.EmulateViewport(360, 780))
		a.Screenshot("profile-360")
		a.Do("desktop width", chromedp.EmulateViewport(1280, 900))
		browsertest.SetField(a, "#profile-name", "Ada King", "input")
		a.Do("save profile", chromedp.Click(`#profile-form button[type="submit"]`))
		a.WaitJS("saved", `document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("Profile saved")`)
		// The other browser hears of it live.
		b.WaitJS("live profile", `document.querySelector("#hello").textContent === "Hello, Ada King"`)
		browsertest.Click(a, `.topnav a[href="/"]`)
		a.Do("back to the dashboard", chromedp.WaitVisible("#hello"))
	})

	run("PasswordChange", func(t *testing.T) {
		a.T, b.T = t, t
		browsertest.Click(a, `.topnav a[href="/profile"]`)
		a.Do("open profile", chromedp.WaitVisible("#password-form"))
		// A wrong current password is the field's error; this browser
		// stays signed in and the other one too.
		browsertest.SetField(a, "#current-password", "not my password", "input")
		browsertest.SetField(a, "#new-password", "a brand new passphrase", "input")
		a.Do("change with a wrong password", chromedp.Click(`#password-form button[type="submit"]`),
			chromedp.WaitVisible("#current-password-err"))
		if got := browsertest.Eval[string](a, `document.querySelector("#current-password-err").textContent`); got != "Password is incorrect." {
			t.Errorf("field error %q", got)
		}
		a.Screenshot("password-wrong-desktop")
		if browsertest.Eval[bool](a, `document.querySelector("#signin-form") !== null`) {
			t.Fatal("a wrong current password signed this browser out")
		}
		browsertest.SetField(a, "#current-password", pw, "input")
		a.Do("change", chromedp.Click(`#password-form button[type="submit"]`))
		// Said by the form, where the eyes and the focus are.
		a.WaitJS("changed", `!document.querySelector("#password-changed").hidden && document.querySelector("#password-changed").textContent.includes("Password changed")`)
		a.WaitJS("focus on it", browsertest.FocusJS+` === "password-changed"`)
		// The other browser's session ended: it is signed out, and its
		// access token no longer works even before it expires.
		b.Do("the other browser is signed out", chromedp.WaitVisible("#signin-form"))
		b.WaitJS("and told why", `document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("signed out")`)
		a.WaitJS("one session left", `document.querySelectorAll("#sessions li").length === 1`)
		browsertest.Click(a, `.topnav a[href="/"]`)
		a.Do("back to the dashboard", chromedp.WaitVisible("#hello"))
	})

	run("OfflineShell", func(t *testing.T) {
		a.T = t
		a.WaitJS("service worker in control", `navigator.serviceWorker.controller !== null`)
		w.Stop()
		a.Do("reload with the server gone", chromedp.Reload(), browsertest.AppReady, chromedp.WaitVisible("#offline-banner"))
		a.WaitJS("last tasks shown", browsertest.TaskJS("Typed without a mouse"))
		// Offline, changes are taken and kept on this device (issue 17;
		// TestOfflineEdits sends them), and the banner says so.
		if n := browsertest.Eval[int](a, `document.querySelectorAll("#create-form").length`); n != 1 {
			t.Errorf("offline view offers %d quick-add bars; want one (changes are kept offline)", n)
		}
		if got := browsertest.Eval[string](a, `document.querySelector("#offline-banner").textContent`); !strings.Contains(got, "kept here") {
			t.Errorf("offline banner %q does not say that changes are kept", got)
		}
		a.Screenshot("offline-desktop")
		a.Do("phone width", chromedp.EmulateViewport(360, 780))
		a.Screenshot("offline-360")
		a.Do("desktop width", chromedp.EmulateViewport(1280, 900))
		w.Start()
		a.WaitJS("back online", `document.querySelector("#offline-banner").hidden && document.querySelector("#live").textContent.includes("Live")`)
	})

	run("SignOutClears", func(t *testing.T) {
		a.T = t
		browsertest.Click(a, "#signout")
		a.Do("sign out", chromedp.WaitVisible("#signin-form"))
		if n := browsertest.Eval[int](a, `localStorage.length + sessionStorage.length`); n != 0 {
			t.Errorf("%d items left in web storage after sign-out", n)
		}
		if browsertest.Eval[bool](a, `document.body.textContent.includes("Typed without a mouse")`) {
			t.Error("a task is still on the page after sign-out")
		}
		a.Do("reload", chromedp.Reload(), browsertest.AppReady, chromedp.WaitVisible("#signin-form"))
	})

	run("DeleteAccount", func(t *testing.T) {
		c := browsertest.NewTab(t, browser, true)
		c.Do("sign up another person",
			chromedp.Navigate(w.URL("/signup")), browsertest.AppReady, chromedp.WaitVisible("#signup-form"),
			chromedp.SendKeys("#signup-name", "Grace"),
			chromedp.SendKeys("#signup-email", "grace@example.com"),
			chromedp.SendKeys("#signup-password", pw),
			chromedp.Click(`#signup-form button[type="submit"]`),
			chromedp.WaitVisible("#hello"))
		browsertest.CreateTask(c, "Doomed task", "")
		browsertest.Click(c, `.topnav a[href="/profile"]`)
		c.Do("open profile", chromedp.WaitVisible("#delete-start"))
		browsertest.Click(c, "#delete-start")
		c.Do("confirm form", chromedp.WaitVisible("#delete-form"))
		browsertest.SetField(c, "#delete-password", "not my password", "input")
		c.Do("delete with a wrong password", chromedp.Click(`#delete-form button[type="submit"]`),
			chromedp.WaitVisible("#delete-password-err"))
		if got := browsertest.Eval[string](c, `document.querySelector("#delete-password-err").textContent`); got != "Password is incorrect." {
			t.Errorf("field error %q", got)
		}
		browsertest.SetField(c, "#delete-password", pw, "input")
		c.Do("delete", chromedp.Click(`#delete-form button[type="submit"]`), chromedp.WaitVisible("#signin-form"))
		c.WaitJS("told", `document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("deleted")`)
		if n := browsertest.Eval[int](c, `localStorage.length + sessionStorage.length`); n != 0 {
			t.Errorf("%d items left in web storage after deletion", n)
		}
		// The account is gone: signing in again fails like any wrong password.
		c.Do("sign in to the deleted account",
			chromedp.SendKeys("#signin-email", "grace@example.com"),
			chromedp.SendKeys("#signin-password", pw),
			chromedp.Click(`#signin-form button[type="submit"]`))
		c.WaitJS("refused", `document.querySelector("#signin-form") && document.querySelector("#signin-form").textContent.includes("incorrect")`)
	})

	t.Run("NoCSPViolations", func(t *testing.T) {
		// First show that the policy is enforced and that a violation would
		// be caught: an inline style is refused and reported.
		c := browsertest.NewTab(t, browser, true)
		c.Do("open", chromedp.Navigate(w.URL("/signin")), browsertest.AppReady)
		directive := browsertest.Eval[string](c, `new Promise(r => {
			document.addEventListener("securitypolicyviolation", e => r(e.violatedDirective), {once: true});
			document.body.appendChild(document.createElement("div")).setAttribute("style", "color: red");
		})`)
		if directive != "style-src-attr" {
			t.Errorf("inline style violated %q, want style-src-attr", directive)
		}
		if !c.WaitConsole("Content Security Policy") {
			t.Errorf("the console collector missed a CSP violation:\n%s", c.Console())
		}
		for name, tb := range map[string]*browsertest.Tab{"first": a, "second": b} {
			if tb == nil {
				continue
			}
			for _, v := range tb.CSPViolations() {
				t.Errorf("%s browser: %s", name, v)
			}
		}
	})
}
