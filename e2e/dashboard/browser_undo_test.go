package dashboard

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/undo"
	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/dashtest"
)

// TestUndoAndLoadMoreByKeyboard: what the keyboard alone reaches in time.
// Ctrl+Z undoes a deletion while its toast shows, on a Russian layout
// too; a toast holding the focus does not go, so its Undo can be reached
// by Tab however long that takes, nor does a message's toast held by the
// focus or the pointer; Load more gives the focus to the first row it
// loaded.
func TestUndoAndLoadMoreByKeyboard(t *testing.T) {
	d := startDash(t)
	t.Run("CtrlZUndoesDeletion", d.ctrlZUndoesDeletion)
	t.Run("FocusHoldsUndoToast", d.focusHoldsUndoToast)
	t.Run("FocusAndPointerHoldMessageToasts", d.holdMessageToasts)
	t.Run("LoadMoreFocusesFirstNewRow", d.loadMoreFocusesFirstNewRow)
	t.Run("ReloadKeepsLoadedPages", d.reloadKeepsLoadedPages)
}

func (d *dash) ctrlZUndoesDeletion(t *testing.T) {
	b := d.Person(t, `{"title": "Slip"}`, `{"title": "Neighbour"}`)
	dashtest.DeleteByKey(b, "Slip")
	if got := browsertest.Eval[string](b, rowOfFocusJS); got != "Neighbour" {
		t.Fatalf("after Delete the focus is on %q (%s), want the next task", got, browsertest.Eval[string](b, browsertest.FocusJS))
	}
	b.Do("Ctrl+Z", chromedp.KeyEvent("z", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	b.WaitJS("back", browsertest.TaskJS("Slip")+` && `+browsertest.CountJS(2)+` && !document.querySelector("#toasts .undo")`)
	// On the server too: a fresh page lists it.
	d.Open(b, 2)
	if !browsertest.Eval[bool](b, browsertest.TaskJS("Slip")) {
		t.Error("after a reload the undone deletion is not listed")
	}
	// Nothing to undo: Ctrl+Z does nothing (and is not cancelled).
	dashtest.FocusInTask(b, "Slip", `[data-ctl="check"]`)
	b.Do("Ctrl+Z again", chromedp.KeyEvent("z", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	if !browsertest.Soon(b, browsertest.CountJS(2)+` && `+rowOfFocusJS+` === "Slip"`) {
		t.Error("Ctrl+Z with nothing to undo changed the list or the focus")
	}
	// On a Russian layout the Z key types "я": it is Ctrl+Z by its code.
	dashtest.DeleteByKey(b, "Slip")
	b.Do("Ctrl+Я", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			ev := input.DispatchKeyEventParams{Type: typ, Key: "я", Code: "KeyZ", WindowsVirtualKeyCode: 90, Modifiers: int64(chromedp.ModifierCtrl)}
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, ev); err != nil {
				return err
			}
		}
		return nil
	}))
	b.WaitJS("back again", browsertest.TaskJS("Slip")+` && `+browsertest.CountJS(2)+` && !document.querySelector("#toasts .undo")`)
}

func (d *dash) focusHoldsUndoToast(t *testing.T) {
	b := d.Person(t, `{"title": "Far away"}`, `{"title": "Other"}`)
	dashtest.DeleteByKey(b, "Far away")
	browsertest.Eval[chromedp.Void](b, `document.querySelector("#toasts .undo").focus()`)
	// Longer than an unattended toast lasts.
	time.Sleep(undo.Window + 1500*time.Millisecond)
	if !browsertest.Eval[bool](b, `document.activeElement?.classList.contains("undo") && document.activeElement.closest("#toasts") !== null`) {
		t.Fatalf("%v after the deletion, with the focus on Undo, the toast is gone (focus on %s)", undo.Window+1500*time.Millisecond,
			browsertest.Eval[string](b, browsertest.FocusJS))
	}
	b.Do("Enter", chromedp.KeyEvent(kb.Enter))
	b.WaitJS("back", browsertest.TaskJS("Far away")+` && `+browsertest.CountJS(2))
	if !browsertest.Soon(b, rowOfFocusJS+` === "Far away"`) {
		t.Errorf("after Undo the focus is on %s, want the task's row", browsertest.Eval[string](b, browsertest.FocusJS))
	}
	// Once the focus leaves, the toast goes in its own time.
	dashtest.DeleteByKey(b, "Other")
	browsertest.Eval[chromedp.Void](b, `document.querySelector("#toasts .undo").focus()`)
	time.Sleep(time.Second)
	dashtest.FocusInTask(b, "Far away", `[data-ctl="check"]`)
	b.WaitJS("toast gone", `!document.querySelector("#toasts .undo")`)
}

// holdMessageToasts: the toasts of messages (here errors: the server
// refuses two changes) stay, like the offers', while the focus is in one
// and the pointer over the other, however long past their time, and go in
// their own time once let go.
func (d *dash) holdMessageToasts(t *testing.T) {
	b := d.Person(t, `{"title": "Focused"}`, `{"title": "Pointed at"}`)
	// The server refuses: each change is sent with a status it does not
	// know (400). Not a 404: that says the task was deleted elsewhere, and
	// its row goes (5d2b61e).
	browsertest.Eval[chromedp.Void](b, `(() => { const orig = window.fetch; window.fetch = function(url, opts) {
		if (opts && opts.method === "PATCH") opts = {...opts, body: JSON.stringify({status: "nope"})};
		return orig.call(this, url, opts); }; })()`)
	errors := `[...document.querySelectorAll("#toasts .toast.error")]`
	for i, title := range []string{"Focused", "Pointed at"} {
		browsertest.ClickInTask(b, title, ".check-box")
		b.WaitJS(title+": refused", fmt.Sprintf(`%s.length === %d`, errors, i+1))
	}
	ids := browsertest.Eval[[]string](b, errors+`.map(t => t.id)`)
	browsertest.Eval[chromedp.Void](b, errors+`[0].querySelector(".ghost").focus()`)
	// The pointer on the middle of the second, where nothing covers it.
	at := browsertest.Eval[[]float64](b, `(() => { const r = `+errors+`[1].getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	b.Do("pointer on the toast", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, at[0], at[1]))
	if !browsertest.Eval[bool](b, fmt.Sprintf(`document.elementFromPoint(%v, %v)?.closest("#%s") !== null`, at[0], at[1], ids[1])) {
		t.Fatalf("the pointer is not over the second toast (%s)", ids[1])
	}
	// Longer than an unattended error's toast lasts.
	life := 2*undo.Window + 1500*time.Millisecond
	time.Sleep(life)
	held := fmt.Sprintf(`[document.querySelector("#%s") !== null, document.querySelector("#%s") !== null,
		document.activeElement?.closest("#%s") !== null]`, ids[0], ids[1], ids[0])
	if got := browsertest.Eval[[]bool](b, held); !slices.Equal(got, []bool{true, true, true}) {
		t.Fatalf("%v after the refusals, the toast with the focus is there: %v, the one under the pointer: %v, the focus in the first: %v (on %s)",
			life, got[0], got[1], got[2], browsertest.Eval[string](b, browsertest.FocusJS))
	}
	// Let go, they go in their own time.
	b.Do("pointer away", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 1, 1))
	dashtest.FocusInTask(b, "Focused", `[data-ctl="check"]`)
	b.WaitJS("toasts gone", `document.querySelector("#toasts .toast.error") === null`)
}

func (d *dash) loadMoreFocusesFirstNewRow(t *testing.T) {
	n := authdash.DefaultPageSize + 5
	b := d.SignedUp(t, numbered(n)...)
	d.Open(b, authdash.DefaultPageSize)
	// On Load more once the page is settled: the stream's start reloads
	// the list, which disables the button for a moment, and a disabled
	// button loses the focus.
	settled := dashtest.LiveJS + ` && document.querySelector(".list-wrap").getAttribute("aria-busy") === "false" && document.querySelector("#load-more") !== null`
	for i := 0; ; i++ {
		b.WaitJS("settled", settled)
		browsertest.Eval[chromedp.Void](b, `document.querySelector("#load-more").focus()`)
		time.Sleep(300 * time.Millisecond)
		if browsertest.Eval[bool](b, settled+` && document.activeElement?.id === "load-more"`) {
			break
		}
		if i == 10 {
			t.Fatalf("the focus does not stay on Load more (on %s)", browsertest.Eval[string](b, browsertest.FocusJS))
		}
	}
	b.Do("Enter", chromedp.KeyEvent(kb.Enter))
	b.WaitJS("all listed", browsertest.CountJS(n))
	firstNew := fmt.Sprintf(`document.querySelectorAll("#task-list > li")[%d]`, authdash.DefaultPageSize)
	if !browsertest.Soon(b, `(`+firstNew+`?.contains(document.activeElement) ?? false)`) {
		t.Errorf("after Load more the focus is on %s (row %q), want the first new row (%q)", browsertest.Eval[string](b, browsertest.FocusJS),
			browsertest.Eval[string](b, rowOfFocusJS), browsertest.Eval[string](b, `(`+firstNew+`?.querySelector(".task-title").textContent ?? "")`))
	}
}

// reloadKeepsLoadedPages: the list is loaded again when the connection
// comes back (as on a resync, and on the live connection's first ready);
// the pages Load more added stay listed.
func (d *dash) reloadKeepsLoadedPages(t *testing.T) {
	n := 2*authdash.DefaultPageSize + 5
	b := d.SignedUp(t, numbered(n)...)
	d.Open(b, authdash.DefaultPageSize)
	settled := dashtest.LiveJS + ` && document.querySelector(".list-wrap").getAttribute("aria-busy") === "false"`
	b.WaitJS("live", settled)
	for _, want := range []int{2 * authdash.DefaultPageSize, n} {
		browsertest.Click(b, "#load-more")
		b.WaitJS(fmt.Sprintf("%d listed", want), browsertest.CountJS(want))
	}
	// A change made offline, sent when the network is back, after which
	// the list is loaded again.
	dashtest.SetOffline(b, true)
	browsertest.ClickInTask(b, "Task 44", ".check-box")
	b.WaitJS("kept offline", dashtest.PendingJS(1))
	dashtest.SetOffline(b, false)
	b.WaitJS("sent", dashtest.PendingJS(0)+" && "+settled)
	time.Sleep(time.Second) // a reload that dropped the pages would show by now
	if got := browsertest.Eval[int](b, `document.querySelectorAll("#task-list > li").length`); got != n {
		t.Errorf("after the connection came back %d tasks listed, want the %d loaded", got, n)
	}
}

// numbered returns n tasks' JSON bodies, titled Task 00 onwards.
func numbered(n int) []string {
	tasks := make([]string, n)
	for i := range tasks {
		tasks[i] = fmt.Sprintf(`{"title": "Task %02d"}`, i)
	}
	return tasks
}
