package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// setOffline cuts the tab off the network (its page and its service
// worker; navigator.onLine and the offline event follow) or restores it.
func setOffline(b *tab, offline bool) {
	b.t.Helper()
	b.do(fmt.Sprintf("offline %v", offline), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		sw := offline
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &sw,
			MatchedNetworkConditions:    []*network.Conditions{{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}},
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: offline, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

// keptJS is a JavaScript promise of the number of tasks the app keeps in
// IndexedDB for offline use.
const keptJS = `new Promise((ok, fail) => { const r = indexedDB.open("authdash");
	r.onerror = () => fail(r.error);
	r.onsuccess = () => { const db = r.result;
		if (!db.objectStoreNames.contains("tasks")) { db.close(); ok(0); return; }
		const c = db.transaction("tasks").objectStore("tasks").count();
		c.onsuccess = () => { db.close(); ok(c.result); }; c.onerror = () => fail(c.error); }; })`

// waitKept waits until the app keeps n tasks for offline use.
func waitKept(b *tab, n int) {
	b.t.Helper()
	b.do(fmt.Sprintf("%d tasks kept offline", n), chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`(%s).then(k => k === %d)`, keptJS, n),
		chromedp.WithPollingTimeout(browserTimeout), chromedp.WithPollingInterval(100*time.Millisecond)))
}

// TestOfflineWholeList: a reload without a network shows every task, not
// only the first page: kept in IndexedDB, current with a change made
// elsewhere while the page was open, searched, filtered and paged offline
// with the server's rules; signing out leaves nothing of it.
func TestOfflineWholeList(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := mustBuildWebapp(t)
	w.start()
	d := &dash{w: w, browser: mustBrowser(t)}
	d.size = screenSizes[0]
	b := newTab(t, d.browser, true)
	b.email = "whole-list@example.com"
	signUpByAPI(t, b, w, b.email)
	const n = 45
	for i := 1; i <= n; i++ {
		status := "todo"
		if i%3 == 0 {
			status = "done"
		}
		body := fmt.Sprintf(`{"title": "Task %02d", "status": %q}`, i, status)
		if st := eval[int](b, fmt.Sprintf(`fetch("/api/tasks", {method: "POST", headers: {"Content-Type": "application/json",
			"Authorization": "Bearer " + window.__token}, body: %q}).then(r => r.status)`, body)); st != 201 {
			t.Fatalf("create %s: %d", body, st)
		}
	}
	d.open(b, 20)
	b.waitJS("live", liveJS)
	waitKept(b, n)
	// A change elsewhere reaches the kept list through the live stream.
	other := d.device(t, b, 20)
	clickInTask(other, "Task 45", `[data-ctl="delete"]`)
	clickInTask(other, "Task 45", `[data-ctl="confirm-delete"]`)
	waitKept(b, n-1)
	b.waitJS("service worker in control", `navigator.serviceWorker.controller !== null`)

	setOffline(b, true)
	b.do("reload offline", chromedp.Reload(), appReady, chromedp.WaitVisible("#offline-banner"))
	b.waitJS("first page from the kept list", countJS(20)+" && "+taskJS("Task 44")+" && !"+taskJS("Task 45"))
	click(b, "#load-more")
	b.waitJS("second page", countJS(40))
	click(b, "#load-more")
	b.waitJS("the whole list", countJS(n-1)+` && document.querySelector("#load-more") === null`)
	if got := eval[string](b, `document.querySelector("#stat-total").textContent`); got != fmt.Sprint(n-1) {
		t.Errorf("total offline %s, want %d", got, n-1)
	}
	// Search, filter and sort over the kept list.
	b.do("search", chromedp.SendKeys("#search", "task 1"))
	b.waitJS("searched", countJS(10)+" && "+taskJS("Task 10")+" && "+taskJS("Task 19"))
	openFilters(b)
	choose(b, "#filter-status", "Done")
	b.waitJS("searched and filtered", countJS(3)+" && "+taskJS("Task 12")+" && "+taskJS("Task 15")+" && "+taskJS("Task 18"))
	choose(b, "#sort", "Title")
	choose(b, "#order", "Ascending")
	b.waitJS("sorted by title", `[...document.querySelectorAll("#task-list .task-title")].map(e => e.textContent).join() === "Task 12,Task 15,Task 18"`)

	setOffline(b, false)
	b.waitJS("back online", liveJS)
	click(b, "#signout")
	b.do("sign out", chromedp.WaitVisible("#signin-form"))
	if k := eval[int](b, keptJS); k != 0 {
		t.Errorf("%d tasks kept after sign-out", k)
	}
}
