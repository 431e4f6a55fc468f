package e2e

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDashboard drives the dashboard's task flows in headless Chromium
// against the real server, at a laptop's size and a phone's. One server and
// one browser serve every subtest; each subtest is a person of its own (a
// browser context of its own, an account of its own), so they do not
// depend on each other and a failure stays where it happened.
func TestDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := mustBuildWebapp(t)
	w.start()
	browser := mustBrowser(t)
	d := &dash{w: w, browser: browser}

	for _, size := range screenSizes {
		t.Run(size.name, func(t *testing.T) {
			d.size = size
			t.Run("FilterBackToAny", d.filterBackToAny)
			t.Run("MergeKeepsOtherTabsEdit", d.mergeKeepsOtherTabsEdit)
			t.Run("ConflictSideBySide", d.conflictSideBySide)
			t.Run("DoubleClickAddsOne", d.doubleClickAddsOne)
			t.Run("RetryAfterLostAnswerAddsOne", d.retryAfterLostAnswerAddsOne)
		})
	}
}

// dash is what TestDashboard's subtests share.
type dash struct {
	w       *webapp
	browser context.Context
	size    struct {
		name string
		w, h int64
		opts []chromedp.EmulateViewportOption
	}
	people atomic.Int64
}

// person signs a new person up (by the API, from a page that does not
// load the app), creates their tasks (JSON bodies of POST /api/tasks) and
// opens the dashboard at the subtest's size, with every task listed.
func (d *dash) person(t *testing.T, tasks ...string) *tab {
	t.Helper()
	b := newTab(t, d.browser, true)
	b.do("viewport", chromedp.EmulateViewport(d.size.w, d.size.h, d.size.opts...))
	email := fmt.Sprintf("person%d@example.com", d.people.Add(1))
	signUpByAPI(t, b, d.w, email)
	for _, body := range tasks {
		if st := eval[int](b, fmt.Sprintf(`fetch("/api/tasks", {method: "POST", headers: {"Content-Type": "application/json",
			"Authorization": "Bearer " + window.__token}, body: %q}).then(r => r.status)`, body)); st != 201 {
			t.Fatalf("create task %s: %d", body, st)
		}
	}
	d.open(b, len(tasks))
	return b
}

// open shows the dashboard in b and waits for n tasks.
func (d *dash) open(b *tab, n int) {
	b.t.Helper()
	b.do("dashboard", chromedp.Navigate(d.w.url("/")), appReady, chromedp.WaitVisible("#hello"))
	b.waitJS(fmt.Sprintf("%d tasks listed", n), countJS(n))
}

// sibling opens another tab of b's person (same browser context, so the
// same cookies) on the dashboard.
func (d *dash) sibling(t *testing.T, b *tab, n int) *tab {
	t.Helper()
	s := newTab(t, b.ctx, false)
	s.do("viewport", chromedp.EmulateViewport(d.size.w, d.size.h, d.size.opts...))
	d.open(s, n)
	return s
}

// choose picks the option of a select whose text is label, as a person
// does: the select's value becomes that option's value, whatever it is.
func choose(b *tab, sel, label string) {
	b.t.Helper()
	b.do("find "+sel, chromedp.WaitVisible(sel))
	ok := eval[bool](b, fmt.Sprintf(`(() => { const s = document.querySelector(%s);
		const i = [...s.options].findIndex(o => o.text === %s);
		if (i < 0) return false;
		s.selectedIndex = i; s.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`,
		strconv.Quote(sel), strconv.Quote(label)))
	if !ok {
		b.t.Fatalf("%s has no option %q", sel, label)
	}
}

// listErrorJS is a predicate: the list shows no error.
const listErrorJS = `[...document.querySelectorAll(".list-wrap .form-error")].every(e => e.hidden || e.textContent === "")`

// FilterBackToAny: a filter set back to "Any" lists everything again, and
// the toolbar keeps working after it (the "Any" option once sent
// status=Any, which the API refuses, and jammed every later query).
func (d *dash) filterBackToAny(t *testing.T) {
	a := d.person(t, `{"title": "Open task", "priority": "low"}`, `{"title": "Finished task", "status": "done", "priority": "high"}`)
	for _, f := range []struct{ sel, pick string }{{"#filter-status", "Done"}, {"#filter-priority", "High"}} {
		choose(a, f.sel, f.pick)
		a.waitJS(f.sel+" filters", countJS(1)+" && "+taskJS("Finished task"))
		choose(a, f.sel, "Any")
		a.waitJS(f.sel+" back to any", countJS(2)+" && "+listErrorJS)
	}
	// And later searches still run.
	a.do("search", chromedp.SendKeys("#search", "open"))
	a.waitJS("search after the filters", countJS(1)+" && "+taskJS("Open task")+" && "+listErrorJS)
}

// MergeKeepsOtherTabsEdit is the case: tab A changes only the
// priority, tab B (whose editor was open on the old version) only the
// title. B is told at once that the task changed, and B's save keeps A's
// priority without asking.
func (d *dash) mergeKeepsOtherTabsEdit(t *testing.T) {
	a := d.person(t, `{"title": "Merge me", "priority": "medium"}`)
	b := d.sibling(t, a, 1)
	clickInTask(a, "Merge me", `button[aria-label^="Edit"]`)
	a.do("editor in A", chromedp.WaitVisible("#edit-form"))
	clickInTask(b, "Merge me", `button[aria-label^="Edit"]`)
	b.do("editor in B", chromedp.WaitVisible("#edit-form"))

	setField(a, "#edit-priority", "high", "change")
	a.do("A saves", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))

	// B's open editor says so before B saves.
	b.waitJS("B told of A's change", `!document.querySelector("#edit-elsewhere").hidden &&
		document.querySelector("#edit-elsewhere").textContent.includes("priority")`)
	setField(b, "#edit-title", "Merged title", "input")
	b.do("B saves", chromedp.Click("#edit-save"))
	// Nothing conflicts; should the app ask anyway, B keeps B's change,
	// which is what lost A's priority.
	b.waitJS("B's editor closes", `!document.querySelector("#edit-form") || document.querySelector("#conflict")`)
	if eval[bool](b, `document.querySelector("#conflict") !== null`) {
		t.Error("B was asked to resolve a conflict although A and B changed different fields")
		click(b, "#keep-mine")
	}
	for name, tb := range map[string]*tab{"A": a, "B": b} {
		tb.waitJS("merged in "+name, taskWithJS("Merged title", `.badge.prio-high`))
	}
}

// ConflictSideBySide: both tabs change the title. The second save shows
// just that field, both values side by side; B's other change (the status)
// and A's (the priority) are kept whichever title B keeps.
func (d *dash) conflictSideBySide(t *testing.T) {
	a := d.person(t, `{"title": "Contested"}`)
	b := d.sibling(t, a, 1)
	clickInTask(a, "Contested", `button[aria-label^="Edit"]`)
	a.do("editor in A", chromedp.WaitVisible("#edit-form"))
	clickInTask(b, "Contested", `button[aria-label^="Edit"]`)
	b.do("editor in B", chromedp.WaitVisible("#edit-form"))

	setField(a, "#edit-title", "Title by A", "input")
	setField(a, "#edit-priority", "high", "change")
	a.do("A saves", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))

	setField(b, "#edit-title", "Title by B", "input")
	setField(b, "#edit-status", "done", "change")
	b.waitJS("B told the title conflicts", `document.querySelector("#edit-elsewhere").textContent.includes("both changed title")`)
	b.do("B saves", chromedp.Click("#edit-save"), chromedp.WaitVisible("#conflict"))
	rows := eval[[]string](b, `[...document.querySelectorAll("#conflict tr[data-field]")].map(r => r.dataset.field + "|" +
		r.querySelector(".mine").textContent + "|" + r.querySelector(".theirs").textContent)`)
	if want := "title|Title by B|Title by A"; len(rows) != 1 || rows[0] != want {
		t.Errorf("conflict rows = %q, want [%q]", rows, want)
	}
	b.do("keep mine", chromedp.Click("#keep-mine"), chromedp.WaitNotPresent("#conflict"))
	for name, tb := range map[string]*tab{"A": a, "B": b} {
		tb.waitJS("resolved in "+name, taskWithJS("Title by B", `.badge.prio-high`)+" && "+
			taskWithJS("Title by B", `.task.status-done`))
	}
}

// DoubleClickAddsOne: two clicks on "Add task" before the first answer
// send one request, with an Idempotency-Key, and add one task.
func (d *dash) doubleClickAddsOne(t *testing.T) {
	a := d.person(t)
	recordCreates(a)
	a.do("title", chromedp.WaitVisible("#new-title"), chromedp.SendKeys("#new-title", "Only once"))
	eval[chromedp.Void](a, `(() => { const b = document.querySelector("#create-submit"); b.click(); b.click(); })()`)
	a.waitJS("created", taskJS("Only once")+` && document.querySelector("#new-title").value === ""`)
	keys := eval[[]string](a, `window.__createKeys`)
	if len(keys) != 1 || keys[0] == "" {
		t.Errorf("POST /api/tasks sent %d times with keys %q; want once, with a key", len(keys), keys)
	}
	d.open(a, 1)
}

// RetryAfterLostAnswerAddsOne: the answer to a create is lost (the request
// reached the server); the person presses "Add task" again and still gets
// one task, because the retry carries the same Idempotency-Key.
func (d *dash) retryAfterLostAnswerAddsOne(t *testing.T) {
	a := d.person(t)
	recordCreates(a)
	eval[chromedp.Void](a, `window.__loseNextCreate = true`)
	a.do("title", chromedp.WaitVisible("#new-title"), chromedp.SendKeys("#new-title", "Sent twice"))
	click(a, "#create-submit")
	a.waitJS("the create fails", `window.__createKeys.length === 1 && !document.querySelector("#create-submit").disabled`)
	click(a, "#create-submit")
	a.waitJS("created", taskJS("Sent twice")+` && document.querySelector("#new-title").value === ""`)
	if keys := eval[[]string](a, `window.__createKeys`); len(keys) != 2 || keys[0] != keys[1] || keys[0] == "" {
		t.Errorf("the retry sent keys %q; want the first one again", keys)
	}
	d.open(a, 1)
	if n := eval[int](a, `[...document.querySelectorAll("#task-list .task-title")].filter(e => e.textContent === "Sent twice").length`); n != 1 {
		t.Errorf("%d tasks after a retry, want 1", n)
	}
}

// recordCreates wraps the page's fetch to note the Idempotency-Key of every
// POST /api/tasks in window.__createKeys. With window.__loseNextCreate set,
// the next create reaches the server but its answer is lost, as on a
// dropped connection.
func recordCreates(b *tab) {
	b.t.Helper()
	eval[chromedp.Void](b, `(() => {
		window.__createKeys = [];
		const orig = window.fetch;
		window.fetch = function(url, opts) {
			if (opts && opts.method === "POST" && String(url).endsWith("/api/tasks")) {
				window.__createKeys.push(new Headers(opts.headers).get("Idempotency-Key") || "");
				if (window.__loseNextCreate) {
					window.__loseNextCreate = false;
					return orig.apply(this, arguments).then(() => { throw new TypeError("Failed to fetch"); });
				}
			}
			return orig.apply(this, arguments);
		};
	})()`)
}

// taskWithJS is a predicate: the task titled title is listed and its row
// matches sel (the row itself or an element inside it).
func taskWithJS(title, sel string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#task-list > li")].some(li =>
		li.querySelector(".task-title")?.textContent === %s && (li.matches(%s) || li.querySelector(%s)))`,
		strconv.Quote(title), strconv.Quote(sel), strconv.Quote(sel))
}
