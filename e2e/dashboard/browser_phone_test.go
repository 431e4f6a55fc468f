package dashboard

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/dashtest"
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
	w := kit.Webapp(t)
	w.Start()
	d := &dash{&dashtest.Dash{W: w, Browser: kit.Browser(t)}}
	d.Size = browsertest.ScreenSizes[1]
	day := func(n int) string { return time.Now().AddDate(0, 0, n).Format("2006-01-02T15:00:00Z") }
	b := d.Person(t,
		`{"title": "Write the quarterly report", "priority": "high", "tags": ["work"], "dueDate": "`+day(-3)+`"}`,
		`{"title": "Book the train to Lyon", "status": "in_progress", "tags": ["travel"], "dueDate": "`+day(0)+`"}`,
		`{"title": "Buy milk", "status": "done", "priority": "low", "tags": ["home"]}`,
		`{"title": "Call the plumber", "tags": ["home"], "dueDate": "`+day(1)+`"}`,
		`{"title": "Plan the team offsite", "description": "Three venues to compare.", "tags": ["work"]}`)

	check := func(where string) {
		t.Helper()
		if sw, iw := browsertest.Eval[int](b, `document.documentElement.scrollWidth`), browsertest.Eval[int](b, `innerWidth`); sw > iw {
			t.Errorf("%s: the page scrolls sideways (scrollWidth %d > innerWidth %d)", where, sw, iw)
		}
		if small := browsertest.Eval[[]string](b, smallTargetsJS); len(small) > 0 {
			t.Errorf("%s: touch targets under 44 × 44 px: %s", where, strings.Join(small, "; "))
		}
	}
	if browsertest.Eval[int](b, `scrollY`) != 0 {
		t.Fatal("the page opened scrolled")
	}
	if !browsertest.Eval[bool](b, `(() => { const r = document.querySelector("#task-list > li").getBoundingClientRect();
		const bar = document.querySelector("#create-form").getBoundingClientRect();
		return r.top >= 0 && r.top + 40 <= Math.min(innerHeight, bar.top); })()`) {
		t.Error("the first task is not in view without scrolling")
	}
	if pos := browsertest.Eval[string](b, `getComputedStyle(document.querySelector("#create-form")).position`); pos != "fixed" && pos != "sticky" {
		t.Errorf("the quick-add bar is %s, want fixed at the bottom", pos)
	}
	if !browsertest.Eval[bool](b, `Math.abs(document.querySelector("#create-form").getBoundingClientRect().bottom - innerHeight) < 2`) {
		t.Error("the quick-add bar is not at the bottom of the screen")
	}
	if browsertest.Eval[bool](b, `document.querySelector("#filter-status").offsetParent !== null`) {
		t.Error("the filters show unfolded on a phone")
	}
	check("dashboard")

	dashtest.OpenFilters(b)
	check("filters open")
	dashtest.Choose(b, "#filter-status", "Done")
	b.WaitJS("one task", browsertest.CountJS(1))
	b.WaitJS("the button counts the filter", `document.querySelector("#filters-toggle").textContent.includes("1")`)
	dashtest.Choose(b, "#filter-priority", "Low")
	b.WaitJS("the button counts two", `document.querySelector("#filters-toggle").textContent.includes("2")`)
	if got := browsertest.Eval[string](b, `document.querySelector("#filters-toggle").getAttribute("aria-expanded")`); got != "true" {
		t.Errorf("filters button aria-expanded %q while open", got)
	}

	browsertest.ClickInTask(b, "Buy milk", `button[aria-label^="Edit"]`)
	b.Do("editor", chromedp.WaitVisible("#edit-form"))
	check("editor")
	b.Do("close", chromedp.KeyEvent(kb.Escape))

	b.Do("profile", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#profile-form"))
	b.WaitJS("sessions listed", `document.querySelectorAll("#sessions li").length > 0`)
	check("profile")

	// The signed-out pages in a browser of their own: signed in, /signin
	// leaves for the dashboard, and which of the two check saw would depend
	// on when the app ran.
	out := browsertest.NewTab(t, d.Browser, true)
	out.Do("viewport", chromedp.EmulateViewport(d.Size.W, d.Size.H, d.Size.Opts...))
	b = out
	for _, p := range []struct{ path, form string }{
		{"/signin", "#signin-form"}, {"/signup", "#signup-form"}, {"/forgot-password", "#forgot-form"},
	} {
		b.Do(p.path, chromedp.Navigate(w.URL(p.path)), browsertest.AppReady, chromedp.WaitVisible(p.form))
		check(p.path)
	}
}
