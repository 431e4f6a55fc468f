package dashboard

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/dashtest"
)

// rowOfFocusJS is the title of the task whose row holds the focus ("" for
// none).
const rowOfFocusJS = `(document.activeElement?.closest("#task-list > li")?.querySelector(".task-title")?.textContent || "")`

// TestKeyboardAndLists drives the dashboard with the keyboard only, and
// checks the list's words: relative due dates, overdue rows, tag chips
// that filter, and the two empty states.
func TestKeyboardAndLists(t *testing.T) {
	d := startDash(t)
	t.Run("Shortcuts", d.shortcuts)
	t.Run("ToastFocus", d.toastFocus)
	t.Run("DatesAndTags", d.datesAndTags)
	t.Run("EmptyStates", d.emptyStates)
}

func (d *dash) shortcuts(t *testing.T) {
	b := d.Person(t, `{"title": "Third"}`, `{"title": "Second"}`, `{"title": "First"}`)
	// Real key presses, as the protocol sends a person's: keydown, then
	// the character (keypress and input in the focused field), keyup. A
	// shortcut that focuses a field must cancel its keydown in time, or
	// its character lands in that field.
	key := func(k string) {
		t.Helper()
		b.Do("key "+strconv.Quote(k), chromedp.KeyEvent(k))
	}
	blur := func() { browsertest.Eval[chromedp.Void](b, `document.activeElement.blur()`) }
	noShortcutFired := func(field string) {
		t.Helper()
		if browsertest.Eval[bool](b, `document.querySelector("#shortcuts").open || document.querySelector("#editor").open`) ||
			browsertest.Eval[string](b, browsertest.FocusJS) != field || browsertest.Eval[int](b, `document.querySelectorAll("#task-list input:checked").length`) != 0 ||
			browsertest.Eval[int](b, `document.querySelectorAll("#task-list > li").length`) != 3 {
			t.Fatalf("a shortcut fired while typing in #%s (focus on %s)", field, browsertest.Eval[string](b, browsertest.FocusJS))
		}
	}
	value := func(id string) string { return browsertest.Eval[string](b, `document.getElementById("`+id+`").value`) }

	// However the key's events come: as chromedp sends them (keyDown, then
	// the character as an event of its own), as Chromium makes them from a
	// keyboard (rawKeyDown, then the character), or as one keyDown that
	// carries its text (Puppeteer's).
	for _, shape := range []string{"keyDown+char", "rawKeyDown+char", "keyDown with text"} {
		for _, k := range []struct{ key, code, field string }{{"n", "KeyN", "new-title"}, {"/", "Slash", "search"}} {
			blur()
			b.Do(shape+" "+k.key, pressAs(shape, k.key, k.code))
			b.WaitJS(k.key+": focus on #"+k.field, browsertest.FocusJS+` === "`+k.field+`"`)
			if got := value(k.field); got != "" {
				t.Errorf("%s %q typed %q into #%s, want it empty", shape, k.key, got, k.field)
				browsertest.SetField(b, "#"+k.field, "", "input")
			}
		}
	}
	b.WaitJS("all three listed", browsertest.CountJS(3))

	blur()
	key("?")
	b.WaitJS("shortcuts shown", `document.querySelector("#shortcuts").open`)
	key(kb.Escape)
	b.WaitJS("shortcuts closed", `!document.querySelector("#shortcuts").open`)

	blur()
	key("n")
	b.WaitJS("n: the quick-add bar", browsertest.FocusJS+` === "new-title"`)
	if got := value("new-title"); got != "" {
		t.Errorf("n typed %q into the quick-add bar it focused, want it empty", got)
	}
	// Typing in a field types: no shortcut fires.
	key("nxj/")
	if got := value("new-title"); got != "nxj/" {
		t.Errorf("typed %q into the quick-add bar, want nxj/", got)
	}
	noShortcutFired("new-title")
	browsertest.SetField(b, "#new-title", "", "input")

	blur()
	key("/")
	b.WaitJS("/: search", browsertest.FocusJS+` === "search"`)
	if got := value("search"); got != "" {
		t.Errorf("/ typed %q into the search field it focused, want it empty", got)
	}
	key("nxj/")
	if got := value("search"); got != "nxj/" {
		t.Errorf("typed %q into the search field, want nxj/", got)
	}
	if browsertest.Eval[bool](b, `document.querySelector("#shortcuts").open || document.querySelector("#editor").open`) || browsertest.Eval[string](b, browsertest.FocusJS) != "search" {
		t.Fatal("a shortcut fired while typing in the search field")
	}
	browsertest.SetField(b, "#search", "", "input")
	b.WaitJS("search cleared", browsertest.CountJS(3))

	blur()
	key("j")
	b.WaitJS("j: the first task", rowOfFocusJS+` === "First"`)
	key("j")
	b.WaitJS("j: the second task", rowOfFocusJS+` === "Second"`)
	key("k")
	b.WaitJS("k: back to the first", rowOfFocusJS+` === "First"`)

	key("x")
	b.WaitJS("x: done", dashtest.CheckJS("First", true))
	b.WaitJS("undo offered", `document.querySelector("#toasts .undo") !== null`)
	if !browsertest.Soon(b, rowOfFocusJS+` === "First"`) {
		t.Errorf("after x the focus is on %q (%s), want the same task", browsertest.Eval[string](b, rowOfFocusJS), browsertest.Eval[string](b, browsertest.FocusJS))
		dashtest.FocusInTask(b, "First", `[data-ctl="check"]`)
	}

	key("e")
	b.WaitJS("e: the editor", `document.querySelector("#editor").open && document.querySelector("#edit-title")?.value === "First"`)
	key(kb.Escape)
	// The app gives the focus back to the Edit button that opened it (the
	// browser's own return to the checkbox comes first).
	b.WaitJS("editor closed, focus back on Edit", `!document.querySelector("#editor").open && `+rowOfFocusJS+` === "First" &&
		document.activeElement.dataset.ctl === "edit"`)

	key("j")
	b.WaitJS("on the second", rowOfFocusJS+` === "Second"`)
	key(kb.Delete)
	b.WaitJS("Delete: gone", `!(`+browsertest.TaskJS("Second")+`)`)
	if !browsertest.Soon(b, rowOfFocusJS+` === "Third"`) {
		got := browsertest.Eval[string](b, rowOfFocusJS)
		t.Errorf("after Delete the focus is on %q (%s), want the next task", got, browsertest.Eval[string](b, browsertest.FocusJS))
	}
	b.WaitJS("undo of the deletion offered", `[...document.querySelectorAll("#toasts .toast")].some(t => t.textContent.includes("Second"))`)
	// Backspace deletes too, and does not go back in history.
	key("\b")
	b.WaitJS("Backspace: gone", `!(`+browsertest.TaskJS("Third")+`) && `+browsertest.CountJS(1))
	if got := browsertest.Eval[string](b, `location.pathname`); got != "/" {
		t.Errorf("after the shortcuts the page is %q", got)
	}
	// Undo itself and the editor's return of the focus: TestDashboard.
}

// toastFocus: the focus stays on the Undo button a person is on when an
// earlier toast goes, and when that toast itself goes (dismissed, or
// Undo is pressed; while the focus is in it, it does not expire) the focus
// goes to its task's row, never to <body>.
func (d *dash) toastFocus(t *testing.T) {
	b := d.Person(t, `{"title": "Stays"}`, `{"title": "Later"}`, `{"title": "Earlier"}`)
	toastJS := func(title string) string {
		return fmt.Sprintf(`[...document.querySelectorAll("#toasts .toast")].find(t => t.textContent.includes(%s))`, strconv.Quote(title))
	}
	onUndoOf := func(title string) string {
		return `(document.activeElement?.classList.contains("undo") && ` + toastJS(title) + `?.contains(document.activeElement))`
	}
	browsertest.ClickInTask(b, "Earlier", ".check-box")
	b.WaitJS("the first offer", toastJS("Earlier")+` !== undefined`)
	// Apart, so that the first offer goes well before the second.
	time.Sleep(3 * time.Second)
	browsertest.ClickInTask(b, "Later", ".check-box")
	b.WaitJS("the second offer", toastJS("Later")+` !== undefined`)
	browsertest.Eval[chromedp.Void](b, toastJS("Later")+`.querySelector(".undo").focus()`)
	b.WaitJS("on the second offer's Undo", onUndoOf("Later"))

	b.WaitJS("the first offer gone", toastJS("Earlier")+` === undefined`)
	if !browsertest.Soon(b, onUndoOf("Later")) {
		t.Errorf("when the earlier toast went, the focus moved from Undo to %s", browsertest.Eval[string](b, browsertest.FocusJS))
	}
	browsertest.Eval[chromedp.Void](b, toastJS("Later")+`.querySelector('[data-ctl="dismiss"]').focus()`)
	b.Do("Dismiss", chromedp.KeyEvent(kb.Enter))
	b.WaitJS("the second offer gone", toastJS("Later")+` === undefined`)
	if !browsertest.Soon(b, rowOfFocusJS+` === "Later"`) {
		t.Errorf("when the focused toast went, the focus went to %s, want its task's row", browsertest.Eval[string](b, browsertest.FocusJS))
	}

	// Undo pressed from the keyboard: the toast goes, the focus goes to
	// the row of the task it brought back.
	browsertest.ClickInTask(b, "Stays", ".check-box")
	b.WaitJS("an offer", toastJS("Stays")+` !== undefined`)
	browsertest.Eval[chromedp.Void](b, toastJS("Stays")+`.querySelector(".undo").focus()`)
	b.Do("Undo", chromedp.KeyEvent(kb.Enter))
	b.WaitJS("undone", dashtest.CheckJS("Stays", false)+` && `+toastJS("Stays")+` === undefined`)
	if !browsertest.Soon(b, rowOfFocusJS+` === "Stays"`) {
		t.Errorf("after Undo the focus is on %s, want the task's row", browsertest.Eval[string](b, browsertest.FocusJS))
	}
}

func (d *dash) datesAndTags(t *testing.T) {
	day := func(n int) string { return time.Now().AddDate(0, 0, n).Format(time.DateOnly) + "T12:00:00Z" }
	b := d.Person(t,
		`{"title": "Late", "tags": ["work"], "dueDate": "`+day(-3)+`"}`,
		`{"title": "Now", "tags": ["home"], "dueDate": "`+day(0)+`"}`,
		`{"title": "Soon", "tags": ["home"], "dueDate": "`+day(1)+`"}`)
	due := func(title string) string {
		return browsertest.Eval[string](b, fmt.Sprintf(`[...document.querySelectorAll("#task-list > li")].find(li =>
			li.querySelector(".task-title").textContent === %s).querySelector("time.due")?.textContent || ""`, strconv.Quote(title)))
	}
	for title, want := range map[string]string{"Late": "Overdue · 3 days", "Now": "Today", "Soon": "Tomorrow"} {
		if got := due(title); got != "⚠ Due: "+want && got != "Due: "+want {
			t.Errorf("%s: due %q, want %q", title, got, want)
		}
	}
	// Overdue and due today stand out, and not by colour alone: words, an
	// icon and a mark at the row's edge.
	if !browsertest.Eval[bool](b, taskWithJS("Late", ".due-icon")) {
		t.Error("the overdue row has no icon")
	}
	for _, title := range []string{"Late", "Now"} {
		if browsertest.Eval[string](b, fmt.Sprintf(`getComputedStyle([...document.querySelectorAll("#task-list > li")].find(li =>
			li.querySelector(".task-title").textContent === %s)).boxShadow`, strconv.Quote(title))) == "none" {
			t.Errorf("%s's row does not stand out", title)
		}
	}

	browsertest.ClickInTask(b, "Now", `button.tag`)
	b.WaitJS("filtered by the tag", browsertest.CountJS(2))
	if got := browsertest.Eval[string](b, `new URLSearchParams(location.search).get("tag")`); got != "home" {
		t.Errorf("tag chip: URL tag=%q, want home", got)
	}
	if taskOn := browsertest.Eval[bool](b, browsertest.TaskJS("Late")); taskOn {
		t.Error("the work task is listed under #home")
	}

	// The tag filter takes "#work" as people write it, and "work", typed
	// or in a link.
	for _, typed := range []string{"#work", "work"} {
		if browsertest.Eval[bool](b, `getComputedStyle(document.querySelector("#filters-toggle")).display !== "none" && document.querySelector("#filter-tag").offsetParent === null`) {
			browsertest.Click(b, "#filters-toggle")
		}
		browsertest.SetField(b, "#filter-tag", typed, "change")
		b.WaitJS("filtered by "+typed, browsertest.CountJS(1)+" && "+browsertest.TaskJS("Late"))
		if got := browsertest.Eval[string](b, `new URLSearchParams(location.search).get("tag")`); got != "work" {
			t.Errorf("tag filter %q: URL tag=%q, want work", typed, got)
		}
		browsertest.SetField(b, "#filter-tag", "", "change")
		b.WaitJS("unfiltered", browsertest.CountJS(3))
	}
	b.Do("a link with #work", chromedp.Navigate(d.W.URL("/?tag=%23work")), browsertest.AppReady)
	b.WaitJS("filtered by the link's #work", browsertest.CountJS(1)+" && "+browsertest.TaskJS("Late"))
}

func (d *dash) emptyStates(t *testing.T) {
	b := d.Person(t)
	b.WaitJS("no tasks yet", `document.querySelector("#empty") !== null && document.querySelector("#empty-filtered") === null`)
	// Found and clicked at once: the list's status is rendered again as
	// the live connection's first load lands.
	if !browsertest.Soon(b, `(() => { const e = document.querySelector("#empty-add"); if (!e) return false; e.click(); return true; })()`) {
		t.Fatal("no Add your first task button")
	}
	b.WaitJS("the first task is invited", browsertest.FocusJS+` === "new-title"`)
	b.Do("add", chromedp.SendKeys("#new-title", "The first"+kb.Enter))
	b.WaitJS("listed", browsertest.CountJS(1))

	b.Do("a search that finds nothing", chromedp.Navigate(d.W.URL("/?q=nothing-like-this")), browsertest.AppReady)
	b.WaitJS("no match", `document.querySelector("#empty-filtered") !== null && document.querySelector("#empty") === null`)
	if !browsertest.Soon(b, `(() => { const e = document.querySelector("#empty-clear"); if (!e) return false; e.click(); return true; })()`) {
		t.Fatal("no Clear filters button")
	}
	b.WaitJS("filters cleared", browsertest.CountJS(1))
	if got := browsertest.Eval[string](b, `location.search`); got != "" {
		t.Errorf("after Clear filters the URL's query is %q", got)
	}
}

// pressAs presses a printable key through the DevTools protocol in one of
// the shapes of events a browser gets for it.
func pressAs(shape, key, code string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: key, Code: code}
		char := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeChar, Key: key, Code: code, Text: key, UnmodifiedText: key}
		up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: key, Code: code}
		events := []input.DispatchKeyEventParams{down, char, up}
		switch shape {
		case "rawKeyDown+char":
			events[0].Type = input.DispatchKeyEventTypeRawKeyDown
		case "keyDown with text":
			down.Text, down.UnmodifiedText = key, key
			events = []input.DispatchKeyEventParams{down, up}
		}
		for _, ev := range events {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, ev); err != nil {
				return err
			}
		}
		return nil
	})
}
