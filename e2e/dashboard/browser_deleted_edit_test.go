package dashboard

import (
	"context"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
)

// holdLiveJS is run in a page before the app: window.__holdLive(true)
// makes its WebSockets keep the messages they receive from the app, and
// __holdLive(false) hands them over, in order. With it a device can be
// slower to hear of a change than to save its own: the deletion reaches
// it only after its save met the server's 404.
const holdLiveJS = `(() => {
	const Real = window.WebSocket, sockets = [];
	let held = false;
	window.WebSocket = class extends Real {
		constructor(...args) {
			super(...args);
			this.__held = [];
			sockets.push(this);
			// First listener on the socket: it can stop the app's.
			this.addEventListener("message", e => {
				if (held && !e.__replay) { e.stopImmediatePropagation(); this.__held.push(e.data); }
			});
		}
	};
	window.__holdLive = on => {
		held = on;
		if (on) return;
		for (const s of sockets) {
			for (const data of s.__held.splice(0)) {
				const e = new MessageEvent("message", {data});
				e.__replay = true;
				s.dispatchEvent(e);
			}
		}
	};
})()`

// deviceHoldingLive is Device, with holdLiveJS in the dashboard's page.
func (d *dash) deviceHoldingLive(t *testing.T, b *browsertest.Tab, n int) *browsertest.Tab {
	t.Helper()
	return d.DeviceWith(t, b, n, func(c *browsertest.Tab) {
		c.Do("hold live", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: holdLiveJS})
			return err
		}))
	})
}

// deleteTask deletes the task titled title in a, confirming, and waits
// until it has left a's list.
func deleteTask(a *browsertest.Tab, title string, left int) {
	a.T.Helper()
	browsertest.ClickInTask(a, title, `button[aria-label^="Delete"]`)
	browsertest.ClickInTask(a, title, `.confirm .btn.danger`)
	a.WaitJS("deleted in A", "!"+browsertest.TaskJS(title)+" && "+browsertest.CountJS(left))
}

// Predicates on the editor of a task deleted elsewhere: it says so, keeps
// the edit, offers to save it as a new task, and shows no error of its
// own.
const (
	deletedNoticeJS = `!document.querySelector("#edit-elsewhere").hidden &&
		document.querySelector("#edit-elsewhere").textContent.includes("deleted elsewhere") &&
		document.querySelector("#edit-save").textContent === "Save as new task" &&
		[...document.querySelectorAll("#edit-form .form-error")].every(e => e.hidden || e.textContent === "")`
	editNoticeGoneJS = `document.querySelector("#edit-elsewhere").hidden &&
		document.querySelector("#edit-save").textContent === "Save"`
)

func titleIsJS(v string) string {
	return `document.querySelector("#edit-title").value === ` + strconv.Quote(v)
}

// EditOfDeletedTaskIsKept is D3: B edits a task A deletes. B's editor says
// so at once (the deletion arrives live) or when its save is refused
// (404: B had not heard yet), keeps B's text either way and offers to save
// it as a new task; when A's Undo brings the task back, the notice goes
// and B's save is an ordinary edit again. Before, B was told nothing, and
// its save showed a bare "Task not found." that stayed after the restore.
func (d *dash) editOfDeletedTaskIsKept(t *testing.T) {
	a := d.Person(t, `{"title": "Doomed", "priority": "high"}`)
	b := d.deviceHoldingLive(t, a, 1)
	id := browsertest.Eval[string](a, `document.querySelector("#task-list > li").dataset.id`)

	// The deletion arrives while B edits.
	browsertest.ClickInTask(b, "Doomed", `button[aria-label^="Edit"]`)
	b.Do("editor in B", chromedp.WaitVisible("#edit-form"))
	browsertest.SetField(b, "#edit-title", "Doomed, edited by B", "input")
	deleteTask(a, "Doomed", 0)
	b.WaitJS("B told of the deletion, edit kept", deletedNoticeJS+" && "+titleIsJS("Doomed, edited by B"))
	b.Screenshot("edit-deleted-elsewhere-" + d.Size.Name)
	if !browsertest.Eval[bool](b, `(() => { const r = document.querySelector("#edit-save").getBoundingClientRect();
		return r.width > 0 && r.right <= innerWidth && document.querySelector("#edit-save").scrollWidth <= Math.ceil(r.width); })()`) {
		t.Error("Save as new task does not fit the screen")
	}

	// A's Undo restores it: the notice goes and B's save edits it.
	a.WaitJS("undo offered", `[...document.querySelectorAll("#toasts .toast")].some(t => t.textContent.includes("deleted"))`)
	browsertest.Click(a, "#toasts .undo")
	b.WaitJS("B's notice gone after the restore", editNoticeGoneJS+" && "+titleIsJS("Doomed, edited by B"))
	b.Do("B saves", chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
	for name, tb := range map[string]*browsertest.Tab{"A": a, "B": b} {
		tb.WaitJS("B's edit of the restored task in "+name, browsertest.CountJS(1)+" && "+
			`document.querySelector("#task-`+id+`")?.querySelector(".task-title")?.textContent === "Doomed, edited by B"`)
	}

	// B has not heard of the deletion when it saves: the 404 leads to
	// the same editor, and Save as new task keeps B's text.
	browsertest.ClickInTask(b, "Doomed, edited by B", `button[aria-label^="Edit"]`)
	b.Do("editor in B again", chromedp.WaitVisible("#edit-form"))
	browsertest.SetField(b, "#edit-title", "Kept as new", "input")
	browsertest.Eval[chromedp.Void](b, `window.__holdLive(true)`)
	deleteTask(a, "Doomed, edited by B", 0)
	browsertest.Click(b, "#edit-save")
	b.WaitJS("B's refused save kept the edit", deletedNoticeJS+" && "+titleIsJS("Kept as new"))
	b.Screenshot("edit-deleted-404-" + d.Size.Name)
	browsertest.Eval[chromedp.Void](b, `window.__holdLive(false)`)
	browsertest.Click(b, "#edit-save")
	b.Do("B's editor closes", chromedp.WaitNotPresent("#edit-form"))
	for name, tb := range map[string]*browsertest.Tab{"A": a, "B": b} {
		tb.WaitJS("kept as a new task in "+name, browsertest.CountJS(1)+" && "+browsertest.TaskJS("Kept as new")+
			` && !document.querySelector("#task-`+id+`")`)
	}
}
