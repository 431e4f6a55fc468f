package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// rowOfFocusJS is the title of the task whose row holds the focus ("" for
// none).
const rowOfFocusJS = `(document.activeElement?.closest("#task-list > li")?.querySelector(".task-title")?.textContent || "")`

// TestKeyboardAndLists drives the dashboard with the keyboard only, and
// checks the list's words: relative due dates, overdue rows, tag chips
// that filter, and the two empty states.
func TestKeyboardAndLists(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := mustBuildWebapp(t)
	w.start()
	d := &dash{w: w, browser: mustBrowser(t)}
	d.size = screenSizes[0]
	t.Run("Shortcuts", d.shortcuts)
	t.Run("DatesAndTags", d.datesAndTags)
	t.Run("EmptyStates", d.emptyStates)
}

func (d *dash) shortcuts(t *testing.T) {
	b := d.person(t, `{"title": "Third"}`, `{"title": "Second"}`, `{"title": "First"}`)
	// A shortcut's keydown, sent to what has the focus. Synthetic: the
	// protocol's key events type the character apart from the keydown
	// (so "/" would also land in the search field it focuses), which a
	// person's key press cancelled by the app does not.
	key := func(k string) {
		t.Helper()
		if k == kb.Escape {
			b.do("key Escape", chromedp.KeyEvent(k)) // the browser's own: it closes dialogs
			return
		}
		eval[chromedp.Void](b, fmt.Sprintf(`(document.activeElement || document.body).dispatchEvent(
			new KeyboardEvent("keydown", {key: %q, bubbles: true, cancelable: true}))`, k))
	}
	blur := func() { eval[chromedp.Void](b, `document.activeElement.blur()`) }

	key("?")
	b.waitJS("shortcuts shown", `document.querySelector("#shortcuts").open`)
	key(kb.Escape)
	b.waitJS("shortcuts closed", `!document.querySelector("#shortcuts").open`)

	blur()
	key("n")
	b.waitJS("n: the quick-add bar", focusJS+` === "new-title"`)
	// Typing in a field types: no shortcut fires. (Focused and emptied
	// here: the protocol's key event types its character apart from the
	// keydown the app cancels, so "n" may have landed in the field.)
	eval[chromedp.Void](b, `document.querySelector("#new-title").value = ""; document.querySelector("#new-title").focus()`)
	b.do("type", chromedp.KeyEvent("jkx?e/n"))
	if got := eval[string](b, `document.querySelector("#new-title").value`); got != "jkx?e/n" {
		t.Errorf("typed %q into the quick-add bar, want jkx?e/n", got)
	}
	if eval[bool](b, `document.querySelector("#shortcuts").open || document.querySelector("#editor").open`) ||
		eval[string](b, focusJS) != "new-title" || eval[int](b, `document.querySelectorAll("#task-list input:checked").length`) != 0 {
		t.Fatal("a shortcut fired while typing")
	}
	eval[chromedp.Void](b, `document.querySelector("#new-title").value = ""`)

	blur()
	key("/")
	b.waitJS("/: search", focusJS+` === "search"`)
	blur()
	key("j")
	b.waitJS("j: the first task", rowOfFocusJS+` === "First"`)
	key("j")
	b.waitJS("j: the second task", rowOfFocusJS+` === "Second"`)
	key("k")
	b.waitJS("k: back to the first", rowOfFocusJS+` === "First"`)

	key("x")
	b.waitJS("x: done", checkJS("First", true))
	b.waitJS("undo offered", `document.querySelector("#toasts .undo") !== null`)
	if !soon(b, rowOfFocusJS+` === "First"`) {
		t.Errorf("after x the focus is on %q (%s), want the same task", eval[string](b, rowOfFocusJS), eval[string](b, focusJS))
		focusInTask(b, "First", `[data-ctl="check"]`)
	}

	key("j")
	b.waitJS("on the second", rowOfFocusJS+` === "Second"`)
	key("Delete")
	b.waitJS("Delete: gone", `!(`+taskJS("Second")+`)`)
	if !soon(b, rowOfFocusJS+` === "Third"`) {
		got := eval[string](b, rowOfFocusJS)
		t.Errorf("after Delete the focus is on %q (%s), want the next task", got, eval[string](b, focusJS))
	}
	b.waitJS("undo of the deletion offered", `[...document.querySelectorAll("#toasts .toast")].some(t => t.textContent.includes("Second"))`)
	// Undo itself and the editor's return of the focus: TestDashboard.
}

func (d *dash) datesAndTags(t *testing.T) {
	day := func(n int) string { return time.Now().AddDate(0, 0, n).Format(time.DateOnly) + "T12:00:00Z" }
	b := d.person(t,
		`{"title": "Late", "tags": ["work"], "dueDate": "`+day(-3)+`"}`,
		`{"title": "Now", "tags": ["home"], "dueDate": "`+day(0)+`"}`,
		`{"title": "Soon", "tags": ["home"], "dueDate": "`+day(1)+`"}`)
	due := func(title string) string {
		return eval[string](b, fmt.Sprintf(`[...document.querySelectorAll("#task-list > li")].find(li =>
			li.querySelector(".task-title").textContent === %s).querySelector("time.due")?.textContent || ""`, strconv.Quote(title)))
	}
	for title, want := range map[string]string{"Late": "Overdue · 3 days", "Now": "Today", "Soon": "Tomorrow"} {
		if got := due(title); got != "⚠ Due: "+want && got != "Due: "+want {
			t.Errorf("%s: due %q, want %q", title, got, want)
		}
	}
	// Overdue and due today stand out, and not by colour alone: words, an
	// icon and a mark at the row's edge.
	if !eval[bool](b, taskWithJS("Late", ".due-icon")) {
		t.Error("the overdue row has no icon")
	}
	for _, title := range []string{"Late", "Now"} {
		if eval[string](b, fmt.Sprintf(`getComputedStyle([...document.querySelectorAll("#task-list > li")].find(li =>
			li.querySelector(".task-title").textContent === %s)).boxShadow`, strconv.Quote(title))) == "none" {
			t.Errorf("%s's row does not stand out", title)
		}
	}

	clickInTask(b, "Now", `button.tag`)
	b.waitJS("filtered by the tag", countJS(2))
	if got := eval[string](b, `new URLSearchParams(location.search).get("tag")`); got != "home" {
		t.Errorf("tag chip: URL tag=%q, want home", got)
	}
	if taskOn := eval[bool](b, taskJS("Late")); taskOn {
		t.Error("the work task is listed under #home")
	}
}

func (d *dash) emptyStates(t *testing.T) {
	b := d.person(t)
	b.waitJS("no tasks yet", `document.querySelector("#empty") !== null && document.querySelector("#empty-filtered") === null`)
	// Found and clicked at once: the list's status is rendered again as
	// the live connection's first load lands.
	if !soon(b, `(() => { const e = document.querySelector("#empty-add"); if (!e) return false; e.click(); return true; })()`) {
		t.Fatal("no Add your first task button")
	}
	b.waitJS("the first task is invited", focusJS+` === "new-title"`)
	b.do("add", chromedp.SendKeys("#new-title", "The first"+kb.Enter))
	b.waitJS("listed", countJS(1))

	b.do("a search that finds nothing", chromedp.Navigate(d.w.url("/?q=nothing-like-this")), appReady)
	b.waitJS("no match", `document.querySelector("#empty-filtered") !== null && document.querySelector("#empty") === null`)
	if !soon(b, `(() => { const e = document.querySelector("#empty-clear"); if (!e) return false; e.click(); return true; })()`) {
		t.Fatal("no Clear filters button")
	}
	b.waitJS("filters cleared", countJS(1))
	if got := eval[string](b, `location.search`); got != "" {
		t.Errorf("after Clear filters the URL's query is %q", got)
	}
}

// soon reports whether a JavaScript predicate holds within a second: for
// what should follow at once, where waitJS would wait its long timeout.
func soon(b *tab, expr string) bool {
	for range 20 {
		if eval[bool](b, expr) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
