package browsertest

// Steps and page predicates that tests in both browser packages take.

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TaskJS is a predicate: a task with this title is listed.
func TaskJS(title string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#task-list .task-title")].some(e => e.textContent === %s)`, strconv.Quote(title))
}

// CountJS is a predicate: exactly n tasks are listed.
func CountJS(n int) string {
	return fmt.Sprintf(`document.querySelectorAll("#task-list > li").length === %d`, n)
}

// CreateTask adds a task from the quick-add form, or with tags from the
// full form in the editor dialog, and waits until it is listed.
func CreateTask(b *Tab, title, tags string) {
	b.T.Helper()
	if tags == "" {
		b.Do("create "+title, chromedp.WaitVisible("#create-form"), chromedp.SendKeys("#new-title", title))
		b.Do("submit", chromedp.Click("#create-submit"))
		b.WaitJS("created "+title, TaskJS(title)+` && document.querySelector("#new-title").value === ""`)
		return
	}
	// With tags: the full form, in the editor dialog.
	b.Do("create "+title, chromedp.WaitVisible("#create-form"))
	Click(b, "#create-more")
	b.Do("full form", chromedp.WaitVisible("#edit-form"), chromedp.SendKeys("#edit-title", title), chromedp.SendKeys("#edit-tags", tags))
	b.Do("submit", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
	b.WaitJS("created "+title, TaskJS(title))
}

// ClickInTask clicks the element matching sel inside the task titled title.
func ClickInTask(b *Tab, title, sel string) {
	b.T.Helper()
	b.WaitJS("find "+title, fmt.Sprintf(`[...document.querySelectorAll("#task-list > li")].some(li =>
		li.querySelector(".task-title")?.textContent === %s && li.querySelector(%s))`, strconv.Quote(title), strconv.Quote(sel)))
	Eval[chromedp.Void](b, fmt.Sprintf(`[...document.querySelectorAll("#task-list > li")].find(li =>
		li.querySelector(".task-title")?.textContent === %s).querySelector(%s).click()`, strconv.Quote(title), strconv.Quote(sel)))
}

// Click clicks an element through the DOM, immune to layout shifts between
// finding it and pressing the mouse.
func Click(b *Tab, sel string) {
	b.T.Helper()
	b.Do("find "+sel, chromedp.WaitVisible(sel))
	Eval[chromedp.Void](b, fmt.Sprintf(`document.querySelector(%s).click()`, strconv.Quote(sel)))
}

// SetField sets a control's value and fires the event the app listens to.
func SetField(b *Tab, sel, value, event string) {
	b.T.Helper()
	Eval[chromedp.Void](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = %s;
		e.dispatchEvent(new Event(%s, {bubbles: true})); })()`, strconv.Quote(sel), strconv.Quote(value), strconv.Quote(event)))
}

// SignUpByAPI creates an account from a page of the app's origin that does
// not load the app (robots.txt), and keeps the access token in the page.
func SignUpByAPI(tb testing.TB, b *Tab, w *Webapp, email string) {
	tb.Helper()
	b.Do("blank page", chromedp.Navigate(w.URL("/robots.txt")))
	Eval[any](b, fmt.Sprintf(`fetch("/api/auth/register", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({email: %q, password: "benchmark password", name: "Bench"})}).then(r => r.json()).then(j => window.__token = j.accessToken)`, email))
}

// SignInByAPI signs in from a page that does not load the app, so the
// refresh cookie is set but nothing of the app is cached.
func SignInByAPI(tb testing.TB, b *Tab, w *Webapp, email string) {
	tb.Helper()
	b.Do("blank page", chromedp.Navigate(w.URL("/robots.txt")))
	status := Eval[int](b, fmt.Sprintf(`fetch("/api/auth/login", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({email: %q, password: "benchmark password"})}).then(r => r.status)`, email))
	if status != 200 {
		tb.Fatalf("login: %d", status)
	}
}

// Soon reports whether a JavaScript predicate holds within a second: for
// what should follow at once, where WaitJS would wait its long timeout.
func Soon(b *Tab, expr string) bool {
	for range 20 {
		if Eval[bool](b, expr) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// FocusJS is the id of the element holding the focus ("BODY" for none).
const FocusJS = `document.activeElement ? (document.activeElement.id || document.activeElement.tagName) : "BODY"`

// ScreenSize is a viewport a screen is checked at.
type ScreenSize struct {
	Name string
	W, H int64
	Opts []chromedp.EmulateViewportOption
}

// ScreenSizes are the sizes every screen is checked and pictured at: a
// laptop and a phone.
var ScreenSizes = []ScreenSize{
	{"1280x800", 1280, 800, nil},
	{"390x844", 390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateMobile}},
}
