package browser

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
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
			t.Run("CompleteAndUndoInEveryTab", d.completeAndUndo)
			t.Run("CompleteRefusedReverts", d.completeRefusedReverts)
			t.Run("DeleteAndUndoInEveryTab", d.deleteAndUndo)
			t.Run("EnterTwiceOnDeleteDeletesNothing", d.enterTwiceOnDelete)
			t.Run("EditorDialogKeepsAndReturnsFocus", d.editorDialogFocus)
			t.Run("URLIsTheView", d.urlIsTheView)
			t.Run("SharedLinkAndBadParameter", d.sharedLink)
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
	b.email = email
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

// device signs b's person in from another browser context (another
// device: cookies, session and socket of its own) and opens the dashboard
// there.
func (d *dash) device(t *testing.T, b *tab, n int) *tab {
	t.Helper()
	c := newTab(t, d.browser, true)
	c.email = b.email
	c.do("viewport", chromedp.EmulateViewport(d.size.w, d.size.h, d.size.opts...))
	signInByAPI(t, c, d.w, b.email)
	d.open(c, n)
	return c
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

// openFilters shows the filters: on a phone they fold behind a button.
func openFilters(b *tab) {
	b.t.Helper()
	if eval[bool](b, `getComputedStyle(document.querySelector("#filters-toggle")).display !== "none" &&
		document.querySelector("#filters-toggle").getAttribute("aria-expanded") !== "true"`) {
		click(b, "#filters-toggle")
	}
	b.do("filters shown", chromedp.WaitVisible("#filter-status"))
}

// listErrorJS is a predicate: the list shows no error.
const listErrorJS = `[...document.querySelectorAll(".list-wrap .form-error")].every(e => e.hidden || e.textContent === "")`

// FilterBackToAny: a filter set back to "Any" lists everything again, and
// the toolbar keeps working after it (the "Any" option once sent
// status=Any, which the API refuses, and jammed every later query).
func (d *dash) filterBackToAny(t *testing.T) {
	a := d.person(t, `{"title": "Open task", "priority": "low"}`, `{"title": "Finished task", "status": "done", "priority": "high"}`)
	openFilters(a)
	for _, f := range []struct{ sel, pick string }{{"#filter-status", "Done"}, {"#filter-priority", "High"}} {
		choose(a, f.sel, f.pick)
		a.waitJS(f.sel+" filters", countJS(1)+" && "+taskJS("Finished task")+
			` && document.querySelector("#filters-toggle").textContent === "Filters (1)"`)
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
	b := d.device(t, a, 1)
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
	b := d.device(t, a, 1)
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
	// The failure is the message, not the enabled button: the button is
	// enabled in the DOM too between the click and the render that
	// disables it, and a click then is rightly ignored as a double click.
	a.waitJS("the create fails", `window.__createKeys.length === 1 && !document.querySelector("#create-submit").disabled &&
		document.querySelector("#create-error").textContent.includes("Not added")`)
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

// checkJS is a predicate: the task's checkbox is (un)checked.
func checkJS(title string, checked bool) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#task-list > li")].some(li =>
		li.querySelector(".task-title")?.textContent === %s && li.querySelector(".check-box").checked === %v)`, strconv.Quote(title), checked)
}

// CompleteAndUndoInEveryTab: one click on the checkbox completes the task
// (the other tab sees it done), and the toast's Undo puts it back as it
// was (in progress), in both tabs.
func (d *dash) completeAndUndo(t *testing.T) {
	a := d.person(t, `{"title": "Tick me", "status": "in_progress"}`)
	b := d.sibling(t, a, 1)
	c := d.device(t, a, 1)
	clickInTask(a, "Tick me", ".check-box")
	for name, tb := range map[string]*tab{"A": a, "B": b, "C (another device)": c} {
		tb.waitJS("done in "+name, checkJS("Tick me", true)+" && "+taskWithJS("Tick me", ".task.status-done"))
	}
	a.waitJS("undo offered", `[...document.querySelectorAll("#toasts .toast")].some(t => t.textContent.includes("marked done") && t.querySelector(".undo"))`)
	if live := eval[string](a, `document.querySelector("#toasts").getAttribute("aria-live")`); live != "polite" {
		t.Errorf("toasts aria-live = %q", live)
	}
	click(a, "#toasts .undo")
	for name, tb := range map[string]*tab{"A": a, "B": b, "C (another device)": c} {
		tb.waitJS("undone in "+name, checkJS("Tick me", false)+" && "+taskWithJS("Tick me", ".task.status-in_progress"))
	}
	a.waitJS("toast gone", `!document.querySelector("#toasts .undo")`)
}

// CompleteRefusedReverts: the server cannot be reached; the checkbox goes
// back and a message says the change was not saved.
func (d *dash) completeRefusedReverts(t *testing.T) {
	a := d.person(t, `{"title": "Cannot tick"}`, `{"title": "Cannot untick", "status": "done"}`)
	// The server refuses: the change is sent for a task it does not have,
	// so it answers 404 (as after a deletion the page has not heard of).
	eval[chromedp.Void](a, `(() => { const orig = window.fetch; window.fetch = function(url, opts) {
		if (opts && opts.method === "PATCH") url = String(url).replace(/\/api\/tasks\/[^/?]+/, "/api/tasks/no-such-task");
		return orig.call(this, url, opts); }; })()`)
	for _, c := range []struct {
		title string
		was   bool
	}{{"Cannot tick", false}, {"Cannot untick", true}} {
		clickInTask(a, c.title, ".check-box")
		a.waitJS(c.title+": reverted with a message", checkJS(c.title, c.was)+
			` && [...document.querySelectorAll("#toasts .toast.error")].some(t => t.textContent.includes("Task not found."))`)
		// A refusal is final: nothing to retry.
		if eval[bool](a, `document.querySelector("#toasts .retry") !== null`) {
			t.Errorf("%s: a refused change offers Retry", c.title)
		}
		eval[chromedp.Void](a, `document.querySelectorAll("#toasts .toast.error .ghost").forEach(b => b.click())`)
		a.waitJS("toasts dismissed", `document.querySelector("#toasts .toast.error") === null`)
	}
}

// DeleteAndUndoInEveryTab: deleting (after the confirmation) removes the
// task in both tabs; Undo brings the same task back (same id, fields and
// tags) in both.
func (d *dash) deleteAndUndo(t *testing.T) {
	a := d.person(t, `{"title": "Keep me", "description": "with notes", "tags": ["home", "urgent"], "priority": "high"}`, `{"title": "Other"}`)
	b := d.sibling(t, a, 2)
	c := d.device(t, a, 2)
	id := eval[string](a, `[...document.querySelectorAll("#task-list > li")].find(li => li.querySelector(".task-title").textContent === "Keep me").dataset.id`)
	clickInTask(a, "Keep me", `button[aria-label^="Delete"]`)
	clickInTask(a, "Keep me", `.confirm .btn.danger`)
	for name, tb := range map[string]*tab{"A": a, "B": b, "C (another device)": c} {
		tb.waitJS("deleted in "+name, "!"+taskJS("Keep me")+" && "+countJS(1))
	}
	a.waitJS("undo offered", `[...document.querySelectorAll("#toasts .toast")].some(t => t.textContent.includes("deleted"))`)
	click(a, "#toasts .undo")
	for name, tb := range map[string]*tab{"A": a, "B": b, "C (another device)": c} {
		tb.waitJS("back in "+name, countJS(2)+` && (() => { const li = document.querySelector("#task-`+id+`");
			return li && li.querySelector(".task-title").textContent === "Keep me" && li.textContent.includes("with notes") &&
				li.textContent.includes("#home") && li.textContent.includes("#urgent") && li.querySelector(".prio-high"); })()`)
	}
}

// EnterTwiceOnDeleteDeletesNothing: Enter on Delete asks, with the focus
// on Cancel, so a second Enter cancels; the focus is back on Delete.
func (d *dash) enterTwiceOnDelete(t *testing.T) {
	a := d.person(t, `{"title": "Precious"}`)
	focusInTask(a, "Precious", `[data-ctl="delete"]`)
	a.do("enter", chromedp.KeyEvent("\r"))
	a.waitJS("asked, Cancel focused", `document.activeElement && document.activeElement.dataset.ctl === "cancel-delete"`)
	a.do("enter again", chromedp.KeyEvent("\r"))
	a.waitJS("cancelled, Delete focused", `!document.querySelector(".confirm") && document.activeElement && document.activeElement.dataset.ctl === "delete"`)
	d.open(a, 1)
}

// EditorDialogKeepsAndReturnsFocus: the editor is a modal dialog that
// keeps Tab inside it, closes on Esc, and gives the focus back to the
// Edit button that opened it.
func (d *dash) editorDialogFocus(t *testing.T) {
	a := d.person(t, `{"title": "Focus me"}`)
	focusInTask(a, "Focus me", `[data-ctl="edit"]`)
	a.do("open", chromedp.KeyEvent("\r"), chromedp.WaitVisible("#edit-form"))
	a.waitJS("title focused", `document.activeElement && document.activeElement.id === "edit-title"`)
	for i := range 15 {
		a.do("tab", chromedp.KeyEvent("\t"))
		if !eval[bool](a, `!!document.activeElement && !!document.activeElement.closest("#editor")`) {
			t.Fatalf("Tab %d left the dialog for %s", i+1, eval[string](a, `document.activeElement ? document.activeElement.outerHTML.slice(0, 80) : "nothing"`))
		}
	}
	a.do("escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent("#edit-form"))
	a.waitJS("focus back on Edit", `document.activeElement && document.activeElement.dataset.ctl === "edit"`)
}

// focusInTask focuses the element matching sel inside the task titled
// title.
func focusInTask(b *tab, title, sel string) {
	b.t.Helper()
	b.waitJS("find "+title, fmt.Sprintf(`[...document.querySelectorAll("#task-list > li")].some(li =>
		li.querySelector(".task-title")?.textContent === %s && li.querySelector(%s))`, strconv.Quote(title), strconv.Quote(sel)))
	eval[chromedp.Void](b, fmt.Sprintf(`[...document.querySelectorAll("#task-list > li")].find(li =>
		li.querySelector(".task-title")?.textContent === %s).querySelector(%s).focus()`, strconv.Quote(title), strconv.Quote(sel)))
}

// URLIsTheView: a filter and a sort go into the address; a reload shows
// the same view, Back the one before, Forward the one after.
func (d *dash) urlIsTheView(t *testing.T) {
	a := d.person(t, `{"title": "Alpha", "status": "done"}`, `{"title": "Beta"}`, `{"title": "Gamma", "status": "done"}`)
	openFilters(a)
	choose(a, "#filter-status", "Done")
	a.waitJS("filtered", countJS(2)+` && location.search === "?status=done"`)
	choose(a, "#sort", "Title")
	choose(a, "#order", "Ascending")
	const sorted = `[...document.querySelectorAll("#task-list .task-title")].map(e => e.textContent).join("|") === "Alpha|Gamma"`
	a.waitJS("sorted", sorted+` && location.search === "?status=done&sort=title&order=asc"`)

	a.do("reload", chromedp.Reload(), appReady, chromedp.WaitVisible("#hello"))
	a.waitJS("same view after reload", sorted+` && document.querySelector("#filter-status").value === "done"`)

	a.do("back", chromedp.NavigateBack())
	a.do("back", chromedp.NavigateBack())
	a.waitJS("back to the status filter alone", `location.search === "?status=done" && `+countJS(2)+
		` && document.querySelector("#sort").value === "created"`)
	a.do("back", chromedp.NavigateBack())
	a.waitJS("back to everything", `location.search === "" && `+countJS(3))
	a.do("forward", chromedp.NavigateForward())
	a.waitJS("forward again", `location.search === "?status=done" && `+countJS(2))
}

// SharedLinkAndBadParameter: a link opens its view (the tag filter takes
// "#home" for "home"); a parameter that is not valid is dropped with a
// notice, the rest applies, and the list works.
func (d *dash) sharedLink(t *testing.T) {
	a := d.person(t, `{"title": "Buy milk", "tags": ["home"]}`, `{"title": "Buy milk at work", "tags": ["work"]}`, `{"title": "Water plants", "tags": ["home"]}`)
	a.do("shared link", chromedp.Navigate(d.w.url("/?q=milk&tag=%23home")), appReady, chromedp.WaitVisible("#hello"))
	a.waitJS("link's view", countJS(1)+" && "+taskJS("Buy milk")+` && document.querySelector("#search").value === "milk" &&
		document.querySelector("#filters-toggle").textContent === "Filters (1)"`)

	a.do("bad link", chromedp.Navigate(d.w.url("/?status=Any&sort=colour&tag=home")), appReady, chromedp.WaitVisible("#hello"))
	a.waitJS("notice, and the rest applied", countJS(2)+" && "+listErrorJS+` &&
		document.querySelector("#notice") && document.querySelector("#notice").textContent.includes("status") &&
		document.querySelector("#notice").textContent.includes("sort") && location.search === "?tag=home"`)
	a.do("search still works", chromedp.SendKeys("#search", "water"))
	a.waitJS("searched", countJS(1)+" && "+taskJS("Water plants"))
}
