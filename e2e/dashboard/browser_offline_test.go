package browser

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/e2e/internal/rawapi"
	"github.com/authdash/authdash/wire"
)

// setOffline cuts the tab off the network or restores it: the page
// (navigator.onLine and the offline event follow) and its browser
// context's service workers, through which the page's fetches go (network
// emulation of the page alone does not cut those).
func setOffline(b *tab, offline bool) {
	b.t.Helper()
	emulate := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		sw := offline
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &sw,
			MatchedNetworkConditions:    []*network.Conditions{{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}},
		})
		return err
	})
	b.do(fmt.Sprintf("offline %v", offline), emulate, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{
			Offline: offline, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	var bc cdp.BrowserContextID
	me := chromedp.FromContext(b.ctx).Target.TargetID
	for _, ti := range targets {
		if ti.TargetID == me {
			bc = ti.BrowserContextID
		}
	}
	for _, ti := range targets {
		if ti.Type != "service_worker" || ti.BrowserContextID != bc {
			continue
		}
		if b.workers == nil {
			b.workers = map[target.ID]context.Context{}
		}
		wctx, ok := b.workers[ti.TargetID]
		if !ok {
			var cancel context.CancelFunc
			wctx, cancel = chromedp.NewContext(b.ctx, chromedp.WithTargetID(ti.TargetID))
			b.t.Cleanup(cancel)
			// Attached for as long as the tab (the first Run's context).
			if err := chromedp.Do(wctx); err != nil {
				b.t.Fatalf("attach to the service worker: %v", err)
			}
			b.workers[ti.TargetID] = wctx
		}
		ectx, ecancel := context.WithTimeout(wctx, browserTimeout)
		err := chromedp.Do(ectx, emulate)
		ecancel()
		if err != nil {
			b.t.Fatalf("service worker offline %v: %v", offline, err)
		}
	}
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

// apiAs signs the person in over the API (another device, in the test
// process) and returns its access token.
func apiAs(t *testing.T, w *webapp, email string) string {
	t.Helper()
	var g wire.Grant
	body := fmt.Sprintf(`{"email":%q,"password":"benchmark password"}`, email)
	if err := rawapi.Call(context.Background(), "http://"+w.addr, "", http.MethodPost, "/api/auth/login", body, &g); err != nil {
		t.Fatalf("sign in over the API: %v", err)
	}
	return g.AccessToken
}

// byTitle returns the person's tasks by title, failing on a title twice.
func byTitle(t *testing.T, w *webapp, token string) map[string]authdash.Task {
	t.Helper()
	all, err := rawapi.ListAll(context.Background(), "http://"+w.addr, token)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]authdash.Task{}
	for _, tk := range all {
		if _, dup := out[tk.Title]; dup {
			t.Errorf("%q is on the server twice", tk.Title)
		}
		out[tk.Title] = tk
	}
	return out
}

// pendingJS is a predicate: exactly n rows are marked as not sent yet.
func pendingJS(n int) string {
	return fmt.Sprintf(`document.querySelectorAll("#task-list > li.pending .badge.pending").length === %d`, n)
}

// rowJS is a predicate on the row titled title: js, with li bound to it.
func rowJS(title, js string) string {
	return fmt.Sprintf(`(li => !!li && (%s))([...document.querySelectorAll("#task-list > li")].find(li =>
		li.querySelector(".task-title")?.textContent === %s))`, js, strconv.Quote(title))
}

// editTask opens a task's editor, sets one field and saves.
func editTask(b *tab, title, sel, value, event string) {
	b.t.Helper()
	clickInTask(b, title, `button[aria-label^="Edit"]`)
	b.do("editor of "+title, chromedp.WaitVisible("#edit-form"))
	setField(b, sel, value, event)
	b.do("save "+title, chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
}

// TestOfflineEdits is issue 17's journey: a tab goes offline and makes ten
// changes (two creates, edits, completions, deletions, and a change to a
// task created offline), two of which conflict with changes made meanwhile
// through the API and two of which merge with them silently; it is
// reloaded twice while offline (the changes stay, marked as not sent);
// back online the changes are replayed in order, the two conflicts are
// shown and decided, and the server, this tab and another device's tab
// end up with the same merged tasks, none lost or duplicated.
func TestOfflineEdits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := mustBuildWebapp(t)
	w.start()
	d := &dash{w: w, browser: mustBrowser(t)}
	d.size = screenSizes[0]
	titles := []string{"Rename me", "Describe me", "Prioritise me", "Finish me", "Finish me too", "Remove me", "Remove me too"}
	var bodies []string
	for _, ti := range titles {
		bodies = append(bodies, fmt.Sprintf(`{"title": %q, "description": "as it was"}`, ti))
	}
	a := d.person(t, bodies...)
	b := d.device(t, a, len(titles))
	a.waitJS("live", liveJS)
	waitKept(a, len(titles))
	a.waitJS("service worker in control", `navigator.serviceWorker.controller !== null`)
	token := apiAs(t, w, a.email)
	before := byTitle(t, w, token)

	setOffline(a, true)
	// 1-2: two new tasks.
	a.do("add offline", chromedp.SendKeys("#new-title", "Made offline"+kb.Enter))
	a.waitJS("kept, shown as not sent", rowJS("Made offline", `li.querySelector(".badge.pending")`))
	a.do("add another", chromedp.SendKeys("#new-title", "Made offline too"+kb.Enter))
	a.waitJS("both kept", rowJS("Made offline too", `li.querySelector(".badge.pending")`))
	// 3-5: edits; 3 and 4 will conflict, 5 will merge.
	editTask(a, "Rename me", "#edit-title", "Renamed offline", "input")
	editTask(a, "Describe me", "#edit-description", "offline words", "input")
	editTask(a, "Prioritise me", "#edit-priority", "high", "change")
	a.waitJS("edits shown as not sent", pendingJS(5))

	a.do("reload offline", chromedp.Reload(), appReady, chromedp.WaitVisible("#offline-banner"))
	a.waitJS("the five changes survive the reload", pendingJS(5)+" && "+taskJS("Renamed offline")+" && "+taskJS("Made offline too")+
		" && "+rowJS("Prioritise me", `li.querySelector(".badge.prio-high")`)+" && "+rowJS("Describe me", `li.textContent.includes("offline words")`))
	// 6-7: completions; 7 will merge with a priority set meanwhile.
	clickInTask(a, "Finish me", ".check-box")
	a.waitJS("done offline", checkJS("Finish me", true))
	clickInTask(a, "Finish me too", ".check-box")
	a.waitJS("done offline too", checkJS("Finish me too", true))
	// 8-9: deletions.
	for _, ti := range []string{"Remove me", "Remove me too"} {
		clickInTask(a, ti, `[data-ctl="delete"]`)
		clickInTask(a, ti, `[data-ctl="confirm-delete"]`)
		a.waitJS(ti+" gone offline", "!"+taskJS(ti))
	}
	// 10: a change to a task that exists only on this device so far.
	clickInTask(a, "Made offline too", ".check-box")
	a.waitJS("a task made offline, done offline", checkJS("Made offline too", true))

	a.do("reload offline again", chromedp.Reload(), appReady, chromedp.WaitVisible("#offline-banner"))
	a.waitJS("the ten changes survive", pendingJS(7)+" && "+countJS(7)+" && !"+taskJS("Remove me")+" && "+checkJS("Made offline too", true)+
		" && "+checkJS("Finish me", true))

	// Meanwhile, elsewhere: two changes that conflict with this tab's and
	// two that do not.
	for _, c := range []struct{ title, patch string }{
		{"Rename me", `{"title": "Renamed online"}`},
		{"Describe me", `{"description": "online words"}`},
		{"Prioritise me", `{"title": "Prioritised online"}`},
		{"Finish me too", `{"priority": "low"}`},
	} {
		if err := rawapi.Call(context.Background(), "http://"+w.addr, token, http.MethodPatch, "/api/tasks/"+string(before[c.title].ID), c.patch, nil); err != nil {
			t.Fatalf("change %s over the API: %v", c.title, err)
		}
	}
	b.waitJS("the other device has the API's changes", taskJS("Renamed online")+" && "+taskJS("Prioritised online"))

	setOffline(a, false)
	// Replayed in order: the rename's conflict comes first.
	a.do("first conflict", chromedp.WaitVisible("#conflict"))
	if got := eval[string](a, `document.querySelector("#conflict").textContent`); !strings.Contains(got, "Renamed online") || !strings.Contains(got, "Renamed offline") {
		t.Fatalf("first conflict shows %q, want both titles", got)
	}
	click(a, "#keep-mine")
	a.waitJS("second conflict", `document.querySelector("#conflict") !== null && document.querySelector("#conflict").textContent.includes("online words")`)
	click(a, "#take-theirs")
	a.waitJS("no conflict left", `document.querySelector("#conflict") === null`)

	want := map[string]string{ // title → what must hold of it
		"Renamed offline":    "todo",
		"Describe me":        "todo online words",
		"Prioritised online": "todo high",
		"Finish me":          "done",
		"Finish me too":      "done low",
		"Made offline":       "todo",
		"Made offline too":   "done",
	}
	describe := func(tk authdash.Task) string {
		s := string(tk.Status)
		if tk.Description != "as it was" && tk.Description != "" {
			s += " " + tk.Description
		}
		if tk.Priority != authdash.PriorityMedium {
			s += " " + string(tk.Priority)
		}
		return s
	}
	for name, tb := range map[string]*tab{"this tab": a, "the other device": b} {
		for ti, wd := range want {
			js := taskJS(ti) + " && " + checkJS(ti, strings.HasPrefix(wd, "done"))
			if strings.Contains(wd, "high") || strings.Contains(wd, "low") {
				js += " && " + rowJS(ti, `li.querySelector(".badge.prio-`+strings.Fields(wd)[len(strings.Fields(wd))-1]+`")`)
			}
			tb.waitJS(name+": "+ti, js)
		}
		tb.waitJS(name+": seven tasks, nothing pending", countJS(len(want))+" && "+pendingJS(0))
	}
	// Both tabs show it once the replay is over, and so the server has it.
	got := byTitle(t, w, token)
	for ti, wd := range want {
		if g, ok := got[ti]; !ok || describe(g) != wd {
			t.Errorf("server: %q is %q (present %v), want %q", ti, describe(g), ok, wd)
		}
	}
	if len(got) != len(want) {
		t.Errorf("server has %d tasks, want %d: %v", len(got), len(want), got)
	}
}
