package offline

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/dashtest"
)

// keepingJS is a predicate: the banner says changes are kept on the
// device, and the live badge does not claim "Live".
const keepingJS = `!document.querySelector("#offline-banner").hidden &&
	document.querySelector("#offline-banner").textContent.includes("kept here and sent when the connection is back") &&
	document.querySelector("#live.live-live") === null`

// TestOfflineWhileOpen: a tab that loses its network while open (its
// socket, which Chromium keeps open, never noticing) says at once that it
// is offline and keeps changes on the device; back online, it is live
// again, sends them once and shows what another device did meanwhile.
// Before, the banner stayed hidden and the badge said "Live" while every
// change was kept silently.
func TestOfflineWhileOpen(t *testing.T) {
	d := dashtest.Start(t, &kit)
	a := d.Person(t, `{"title": "Edit me"}`, `{"title": "Keep me"}`)
	b := d.Device(t, a, 2)
	a.WaitJS("live", dashtest.LiveJS)
	waitKept(a, 2)
	a.WaitJS("service worker in control", `navigator.serviceWorker.controller !== null`)

	dashtest.SetOffline(a, true)
	a.WaitJS("says it is offline", keepingJS)
	a.Do("add offline", chromedp.SendKeys("#new-title", "Added offline"+kb.Enter))
	a.WaitJS("kept, shown as not sent", rowJS("Added offline", `li.querySelector(".badge.pending")`))
	editTask(a, "Edit me", "#edit-title", "Edited offline", "input")
	a.WaitJS("both kept, still saying so", dashtest.PendingJS(2)+" && "+keepingJS)
	browsertest.CreateTask(b, "From elsewhere", "")

	dashtest.SetOffline(a, false)
	a.WaitJS("live again, everything sent", dashtest.LiveJS+" && "+dashtest.PendingJS(0)+" && "+browsertest.CountJS(4)+" && "+browsertest.TaskJS("Added offline")+
		" && "+browsertest.TaskJS("Edited offline")+" && "+browsertest.TaskJS("From elsewhere"))
	b.WaitJS("the other device has them", browsertest.TaskJS("Added offline")+" && "+browsertest.TaskJS("Edited offline"))
	got := byTitle(t, d.W, dashtest.APIAs(t, d.W, a.Email))
	for _, ti := range []string{"Added offline", "Edited offline", "Keep me", "From elsewhere"} {
		if _, ok := got[ti]; !ok {
			t.Errorf("no %q on the server", ti)
		}
	}
	if len(got) != 4 {
		t.Errorf("server has %d tasks, want 4: %v", len(got), got)
	}
}

// TestOfflineOtherTab: a change kept offline by a tab that is then closed
// is sent, once, by another open tab of the device when the network is
// back. Before, the other tab sent only what its own outbox had read at
// start-up, and the change waited for a reload.
func TestOfflineOtherTab(t *testing.T) {
	d := dashtest.Start(t, &kit)
	// The tabs are opened from a page that does not run the app, so that
	// closing one closes no other.
	home := d.SignedUp(t, `{"title": "Already there"}`)
	a1 := d.Sibling(t, home, 1)
	a1.WaitJS("live", dashtest.LiveJS)
	waitKept(a1, 1)
	a1.WaitJS("service worker in control", `navigator.serviceWorker.controller !== null`)
	a2 := d.Sibling(t, home, 1)
	a2.WaitJS("live", dashtest.LiveJS)
	other := d.Device(t, home, 1)

	dashtest.SetOffline(a1, true)
	dashtest.SetOffline(a2, true)
	a1.Do("add offline", chromedp.SendKeys("#new-title", "Orphan"+kb.Enter))
	a1.WaitJS("kept, shown as not sent", rowJS("Orphan", `li.querySelector(".badge.pending")`))
	// A1 leaves the app rather than closing, and its tab takes the shared
	// service worker back online: the worker stays offline for as long as
	// any DevTools session holding it so is attached, and a closed tab's
	// session may linger, failing A2's requests (net::ERR_FAILED).
	a1.Do("leave the app", chromedp.Navigate("about:blank"))
	dashtest.SetOffline(a1, false)

	dashtest.SetOffline(a2, false)
	a2.WaitJS("the other tab sent it", browsertest.TaskJS("Orphan")+" && "+dashtest.PendingJS(0)+" && "+browsertest.CountJS(2))
	other.WaitJS("another device has it", browsertest.TaskJS("Orphan"))
	got := byTitle(t, d.W, dashtest.APIAs(t, d.W, home.Email))
	if _, ok := got["Orphan"]; !ok || len(got) != 2 {
		t.Errorf("server has %v, want Orphan and Already there, once each", got)
	}
}
