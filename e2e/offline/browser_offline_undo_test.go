package offline

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/dashtest"
)

// outboxKindsJS is a JavaScript promise of the kinds of the changes the
// outbox keeps in IndexedDB, in order, joined by commas. An entry with no
// kind is not a change: the marker of a replay under way (one attempted
// offline fails, and removes it, within moments).
const outboxKindsJS = `new Promise((ok, fail) => { const r = indexedDB.open("authdash");
	r.onerror = () => fail(r.error);
	r.onsuccess = () => { const db = r.result;
		const all = db.transaction("outbox").objectStore("outbox").getAll();
		all.onsuccess = () => { db.close(); ok(all.result.map(v => JSON.parse(typeof v === "string" ? v : new TextDecoder().decode(v)).kind).filter(k => k).join()); };
		all.onerror = () => fail(all.error); }; })`

// TestOfflineUndoDelete: a task deleted offline is offered back, as online:
// the toast's Undo takes the deletion out of the outbox before it is ever
// sent, and the task comes back as the person had it, with the edit they
// made offline before deleting it, still to be sent; Ctrl+Z takes a
// deletion back too, as online. Back online, the server has the task,
// edited. Before, a deletion kept offline had no Undo. One screen size:
// what differs is the outbox, not the layout.
func TestOfflineUndoDelete(t *testing.T) {
	d := dashtest.Start(t, &kit)
	w := d.W
	a := d.Person(t, `{"title": "Keep me"}`, `{"title": "Deleted by mistake"}`)
	a.WaitJS("live", dashtest.LiveJS)
	waitKept(a, 2)
	token := dashtest.APIAs(t, w, a.Email)

	dashtest.SetOffline(a, true)
	browsertest.Eval[chromedp.Void](a, countOfflineWritesJS)
	// Alone: Undo leaves nothing to send.
	browsertest.ClickInTask(a, "Keep me", `[data-ctl="delete"]`)
	browsertest.ClickInTask(a, "Keep me", `[data-ctl="confirm-delete"]`)
	a.WaitJS("deleted offline", "!"+browsertest.TaskJS("Keep me")+" && "+browsertest.CountJS(1))
	undoKeep := undoOfJS("Keep me")
	a.WaitJS("its undo offered", undoKeep+" != null")
	if got := browsertest.Eval[string](a, outboxKindsJS); got != "delete" {
		t.Fatalf("the outbox keeps %q, want the deletion", got)
	}
	browsertest.Eval[chromedp.Void](a, undoKeep+".click()")
	a.WaitJS("back, nothing to send", browsertest.CountJS(2)+" && "+browsertest.TaskJS("Keep me")+" && "+dashtest.PendingJS(0)+` && !document.querySelector("#toasts .undo")`)
	if got := browsertest.Eval[string](a, outboxKindsJS); got != "" {
		t.Errorf("the outbox keeps %q after Undo, want nothing", got)
	}
	// Still the kept list, offline: the server's cannot be loaded.
	if browsertest.Soon(a, `document.querySelector("main").innerText.includes("cannot be reached")`) {
		t.Errorf("with nothing left to send offline, the page tried the server's list: %q", browsertest.Eval[string](a, `document.querySelector("main").innerText`))
	}

	const edited = "Edited, then deleted"
	editTask(a, "Deleted by mistake", "#edit-title", edited, "input")
	a.WaitJS("edit kept", dashtest.PendingJS(1)+" && "+browsertest.TaskJS(edited))
	browsertest.ClickInTask(a, edited, `[data-ctl="delete"]`)
	browsertest.ClickInTask(a, edited, `[data-ctl="confirm-delete"]`)
	a.WaitJS("gone offline", "!"+browsertest.TaskJS(edited)+" && "+browsertest.CountJS(1))
	undoJS := undoOfJS(edited)
	a.WaitJS("undo offered offline", undoJS+" != null")
	if got := browsertest.Eval[string](a, outboxKindsJS); got != "delete" {
		t.Fatalf("the outbox keeps %q before Undo, want the deletion alone (it replaced the edit)", got)
	}
	browsertest.Eval[chromedp.Void](a, undoJS+".click()")
	a.WaitJS("back, edited, its edit still to be sent", browsertest.CountJS(2)+" && "+dashtest.PendingJS(1)+" && "+
		rowJS(edited, `li.querySelector(".badge.pending")`)+` && !document.querySelector("#toasts .undo")`)
	if got := browsertest.Eval[string](a, outboxKindsJS); got != "update" {
		t.Errorf("the outbox keeps %q after Undo, want the edit alone (no deletion)", got)
	}

	// By the keyboard, as online (TestUndoAndLoadMoreByKeyboard): Delete
	// on the row, then Ctrl+Z while its toast shows.
	dashtest.DeleteByKey(a, "Keep me")
	if got := browsertest.Eval[string](a, outboxKindsJS); got != "update,delete" {
		t.Fatalf("the outbox keeps %q before Ctrl+Z, want the edit, then the deletion", got)
	}
	a.Do("Ctrl+Z", chromedp.KeyEvent("z", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	a.WaitJS("back by Ctrl+Z, nothing more to send", browsertest.CountJS(2)+" && "+browsertest.TaskJS("Keep me")+" && "+
		dashtest.PendingJS(1)+` && !document.querySelector("#toasts .undo")`)
	if got := browsertest.Eval[string](a, outboxKindsJS); got != "update" {
		t.Errorf("the outbox keeps %q after Ctrl+Z, want the edit alone (no deletion)", got)
	}

	// While the browser said the network was gone, no replay was tried: a
	// try fails without reaching the server, but marks the change it sends
	// in the outbox first, and a deletion made meanwhile kept the edit it
	// replaces ("update,delete" above, now and then, before).
	if n := browsertest.Eval[int](a, "window.offlineWrites"); n != 0 {
		t.Errorf("%d task writes were tried while the browser said it was offline, want none", n)
	}
	dashtest.SetOffline(a, false)
	a.WaitJS("sent", dashtest.LiveJS+" && "+dashtest.PendingJS(0)+" && "+browsertest.CountJS(2)+" && "+browsertest.TaskJS(edited))
	got := byTitle(t, w, token)
	if _, ok := got[edited]; !ok || len(got) != 2 {
		t.Errorf("the server holds %v, want %q and \"Keep me\"", got, edited)
	}
}

// countOfflineWritesJS counts in window.offlineWrites the task writes
// (not GETs) the page tries while the browser says it is offline. Go's
// net/http calls window.fetch afresh for each request, so the count sees
// every one.
const countOfflineWritesJS = `(() => { window.offlineWrites = 0; const f = window.fetch;
	window.fetch = function (url, opt) {
		if (!navigator.onLine && String(url).includes("/api/tasks") && opt && opt.method && opt.method !== "GET") window.offlineWrites++;
		return f.apply(this, arguments);
	}; })()`

// undoOfJS is an expression: the Undo button of the toast about title,
// or undefined.
func undoOfJS(title string) string {
	return `[...document.querySelectorAll("#toasts .toast")].find(t => t.textContent.includes(` + strconv.Quote(title) + `))?.querySelector(".undo")`
}
