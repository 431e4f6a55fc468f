package browser

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// smallTargetsJS lists the visible buttons, links and inputs smaller than
// 44 × 44 px (a checkbox counts by its label, which takes the tap).
const smallTargetsJS = `[...document.querySelectorAll("button, a[href], input, select, textarea, summary")].filter(e => {
	const t = e.type === "checkbox" && e.closest("label") ? e.closest("label") : e;
	const r = t.getBoundingClientRect();
	if (r.width === 0 || r.height === 0 || getComputedStyle(t).visibility === "hidden") return false;
	if (e.classList.contains("skip-link") || e.closest("dialog:not([open])")) return false;
	return r.width < 44 || r.height < 44;
}).map(e => (e.id || e.getAttribute("aria-label") || e.textContent.trim() || e.tagName) + " " +
	Math.round((e.closest("label") || e).getBoundingClientRect().width) + "x" + Math.round((e.closest("label") || e).getBoundingClientRect().height))`

// TestPhone checks the dashboard at 390 × 844 as a phone shows it: the
// first task in view without scrolling, filters folded behind a button
// that counts the active ones, the quick-add bar at the bottom, every
// touch target at least 44 × 44 px, nothing scrolling sideways.
func TestPhone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := mustBuildWebapp(t)
	w.start()
	d := &dash{w: w, browser: mustBrowser(t)}
	d.size = screenSizes[1]
	day := func(n int) string { return time.Now().AddDate(0, 0, n).Format("2006-01-02T15:00:00Z") }
	b := d.person(t,
		`{"title": "Write the quarterly report", "priority": "high", "tags": ["work"], "dueDate": "`+day(-3)+`"}`,
		`{"title": "Book the train to Lyon", "status": "in_progress", "tags": ["travel"], "dueDate": "`+day(0)+`"}`,
		`{"title": "Buy milk", "status": "done", "priority": "low", "tags": ["home"]}`,
		`{"title": "Call the plumber", "tags": ["home"], "dueDate": "`+day(1)+`"}`,
		`{"title": "Plan the team offsite", "description": "Three venues to compare.", "tags": ["work"]}`)

	check := func(where string) {
		t.Helper()
		if sw, iw := eval[int](b, `document.documentElement.scrollWidth`), eval[int](b, `innerWidth`); sw > iw {
			t.Errorf("%s: the page scrolls sideways (scrollWidth %d > innerWidth %d)", where, sw, iw)
		}
		if small := eval[[]string](b, smallTargetsJS); len(small) > 0 {
			t.Errorf("%s: touch targets under 44 × 44 px: %s", where, strings.Join(small, "; "))
		}
	}
	if eval[int](b, `scrollY`) != 0 {
		t.Fatal("the page opened scrolled")
	}
	if !eval[bool](b, `(() => { const r = document.querySelector("#task-list > li").getBoundingClientRect();
		const bar = document.querySelector("#create-form").getBoundingClientRect();
		return r.top >= 0 && r.top + 40 <= Math.min(innerHeight, bar.top); })()`) {
		t.Error("the first task is not in view without scrolling")
	}
	if pos := eval[string](b, `getComputedStyle(document.querySelector("#create-form")).position`); pos != "fixed" && pos != "sticky" {
		t.Errorf("the quick-add bar is %s, want fixed at the bottom", pos)
	}
	if !eval[bool](b, `Math.abs(document.querySelector("#create-form").getBoundingClientRect().bottom - innerHeight) < 2`) {
		t.Error("the quick-add bar is not at the bottom of the screen")
	}
	if eval[bool](b, `document.querySelector("#filter-status").offsetParent !== null`) {
		t.Error("the filters show unfolded on a phone")
	}
	check("dashboard")

	openFilters(b)
	check("filters open")
	choose(b, "#filter-status", "Done")
	b.waitJS("one task", countJS(1))
	b.waitJS("the button counts the filter", `document.querySelector("#filters-toggle").textContent.includes("1")`)
	choose(b, "#filter-priority", "Low")
	b.waitJS("the button counts two", `document.querySelector("#filters-toggle").textContent.includes("2")`)
	if got := eval[string](b, `document.querySelector("#filters-toggle").getAttribute("aria-expanded")`); got != "true" {
		t.Errorf("filters button aria-expanded %q while open", got)
	}

	clickInTask(b, "Buy milk", `button[aria-label^="Edit"]`)
	b.do("editor", chromedp.WaitVisible("#edit-form"))
	check("editor")
	b.do("close", chromedp.KeyEvent(kb.Escape))

	b.do("profile", chromedp.Navigate(w.url("/profile")), appReady, chromedp.WaitVisible("#profile-form"))
	b.waitJS("sessions listed", `document.querySelectorAll("#sessions li").length > 0`)
	check("profile")

	// The signed-out pages in a browser of their own: signed in, /signin
	// leaves for the dashboard, and which of the two check saw would depend
	// on when the app ran.
	out := newTab(t, d.browser, true)
	out.do("viewport", chromedp.EmulateViewport(d.size.w, d.size.h, d.size.opts...))
	b = out
	for _, p := range []struct{ path, form string }{
		{"/signin", "#signin-form"}, {"/signup", "#signup-form"}, {"/forgot-password", "#forgot-form"},
	} {
		b.do(p.path, chromedp.Navigate(w.url(p.path)), appReady, chromedp.WaitVisible(p.form))
		check(p.path)
	}
}
