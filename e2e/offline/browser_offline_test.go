package offline

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/dashtest"
	"github.com/authdash/authdash/e2e/internal/rawapi"
)

// keptJS is a JavaScript promise of the number of tasks the app keeps in
// IndexedDB for offline use.
const keptJS = `new Promise((ok, fail) => { const r = indexedDB.open("authdash");
	r.onerror = () => fail(r.error);
	r.onsuccess = () => { const db = r.result;
		if (!db.objectStoreNames.contains("tasks")) { db.close(); ok(0); return; }
		const c = db.transaction("tasks").objectStore("tasks").count();
		c.onsuccess = () => { db.close(); ok(c.result); }; c.onerror = () => fail(c.error); }; })`

// waitKept waits until the app keeps n tasks for offline use.
func waitKept(b *browsertest.Tab, n int) {
	b.T.Helper()
	b.Do(fmt.Sprintf("%d tasks kept offline", n), chromedp.Poll[chromedp.Void](
		fmt.Sprintf(`(%s).then(k => k === %d)`, keptJS, n),
		chromedp.WithPollingTimeout(browsertest.Timeout), chromedp.WithPollingInterval(100*time.Millisecond)))
}

// TestOfflineWholeList: a reload without a network shows every task, not
// only the first page: kept in IndexedDB, current with a change made
// elsewhere while the page was open, searched, filtered and paged offline
// with the server's rules; signing out leaves nothing of it.
func TestOfflineWholeList(t *testing.T) {
	d := dashtest.Start(t, &kit)
	w := d.W
	b := browsertest.NewTab(t, d.Browser, true)
	b.Email = "whole-list@example.com"
	browsertest.SignUpByAPI(t, b, w, b.Email)
	const n = 45
	for i := 1; i <= n; i++ {
		status := "todo"
		if i%3 == 0 {
			status = "done"
		}
		body := fmt.Sprintf(`{"title": "Task %02d", "status": %q}`, i, status)
		if st := browsertest.Eval[int](b, fmt.Sprintf(`fetch("/api/tasks", {method: "POST", headers: {"Content-Type": "application/json",
			"Authorization": "Bearer " + window.__token}, body: %q}).then(r => r.status)`, body)); st != 201 {
			t.Fatalf("create %s: %d", body, st)
		}
	}
	d.Open(b, 20)
	b.WaitJS("live", dashtest.LiveJS)
	waitKept(b, n)
	// A change elsewhere reaches the kept list through the live stream.
	other := d.Device(t, b, 20)
	browsertest.ClickInTask(other, "Task 45", `[data-ctl="delete"]`)
	browsertest.ClickInTask(other, "Task 45", `[data-ctl="confirm-delete"]`)
	waitKept(b, n-1)
	b.WaitJS("service worker in control", `navigator.serviceWorker.controller !== null`)

	dashtest.SetOffline(b, true)
	b.Do("reload offline", chromedp.Reload(), browsertest.AppReady, chromedp.WaitVisible("#offline-banner"))
	b.WaitJS("first page from the kept list", browsertest.CountJS(20)+" && "+browsertest.TaskJS("Task 44")+" && !"+browsertest.TaskJS("Task 45"))
	browsertest.Click(b, "#load-more")
	b.WaitJS("second page", browsertest.CountJS(40))
	browsertest.Click(b, "#load-more")
	b.WaitJS("the whole list", browsertest.CountJS(n-1)+` && document.querySelector("#load-more") === null`)
	if got := browsertest.Eval[string](b, `document.querySelector("#stat-total").textContent`); got != fmt.Sprint(n-1) {
		t.Errorf("total offline %s, want %d", got, n-1)
	}
	// Search, filter and sort over the kept list.
	b.Do("search", chromedp.SendKeys("#search", "task 1"))
	b.WaitJS("searched", browsertest.CountJS(10)+" && "+browsertest.TaskJS("Task 10")+" && "+browsertest.TaskJS("Task 19"))
	dashtest.OpenFilters(b)
	dashtest.Choose(b, "#filter-status", "Done")
	b.WaitJS("searched and filtered", browsertest.CountJS(3)+" && "+browsertest.TaskJS("Task 12")+" && "+browsertest.TaskJS("Task 15")+" && "+browsertest.TaskJS("Task 18"))
	dashtest.Choose(b, "#sort", "Title")
	dashtest.Choose(b, "#order", "Ascending")
	b.WaitJS("sorted by title", `[...document.querySelectorAll("#task-list .task-title")].map(e => e.textContent).join() === "Task 12,Task 15,Task 18"`)

	dashtest.SetOffline(b, false)
	b.WaitJS("back online", dashtest.LiveJS)
	browsertest.Click(b, "#signout")
	b.Do("sign out", chromedp.WaitVisible("#signin-form"))
	if k := browsertest.Eval[int](b, keptJS); k != 0 {
		t.Errorf("%d tasks kept after sign-out", k)
	}
}

// byTitle returns the person's tasks by title, failing on a title twice.
func byTitle(t *testing.T, w *browsertest.Webapp, token string) map[string]authdash.Task {
	t.Helper()
	all, err := rawapi.ListAll(context.Background(), "http://"+w.Addr, token)
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

// rowJS is a predicate on the row titled title: js, with li bound to it.
func rowJS(title, js string) string {
	return fmt.Sprintf(`(li => !!li && (%s))([...document.querySelectorAll("#task-list > li")].find(li =>
		li.querySelector(".task-title")?.textContent === %s))`, js, strconv.Quote(title))
}

// editTask opens a task's editor, sets one field and saves.
func editTask(b *browsertest.Tab, title, sel, value, event string) {
	b.T.Helper()
	browsertest.ClickInTask(b, title, `button[aria-label^="Edit"]`)
	b.Do("editor of "+title, chromedp.WaitVisible("#edit-form"))
	browsertest.SetField(b, sel, value, event)
	b.Do("save "+title, chromedp.Click("#edit-save"), chromedp.WaitNotPresent("#edit-form"))
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
	d := dashtest.Start(t, &kit)
	w := d.W
	titles := []string{"Rename me", "Describe me", "Prioritise me", "Finish me", "Finish me too", "Remove me", "Remove me too"}
	var bodies []string
	for _, ti := range titles {
		bodies = append(bodies, fmt.Sprintf(`{"title": %q, "description": "as it was"}`, ti))
	}
	a := d.Person(t, bodies...)
	b := d.Device(t, a, len(titles))
	a.WaitJS("live", dashtest.LiveJS)
	waitKept(a, len(titles))
	a.WaitJS("service worker in control", `navigator.serviceWorker.controller !== null`)
	token := dashtest.APIAs(t, w, a.Email)
	before := byTitle(t, w, token)

	dashtest.SetOffline(a, true)
	// 1-2: two new tasks.
	a.Do("add offline", chromedp.SendKeys("#new-title", "Made offline"+kb.Enter))
	a.WaitJS("kept, shown as not sent", rowJS("Made offline", `li.querySelector(".badge.pending")`))
	a.Do("add another", chromedp.SendKeys("#new-title", "Made offline too"+kb.Enter))
	a.WaitJS("both kept", rowJS("Made offline too", `li.querySelector(".badge.pending")`))
	// 3-5: edits; 3 and 4 will conflict, 5 will merge.
	editTask(a, "Rename me", "#edit-title", "Renamed offline", "input")
	editTask(a, "Describe me", "#edit-description", "offline words", "input")
	editTask(a, "Prioritise me", "#edit-priority", "high", "change")
	a.WaitJS("edits shown as not sent", dashtest.PendingJS(5))

	a.Do("reload offline", chromedp.Reload(), browsertest.AppReady, chromedp.WaitVisible("#offline-banner"))
	a.WaitJS("the five changes survive the reload", dashtest.PendingJS(5)+" && "+browsertest.TaskJS("Renamed offline")+" && "+browsertest.TaskJS("Made offline too")+
		" && "+rowJS("Prioritise me", `li.querySelector(".badge.prio-high")`)+" && "+rowJS("Describe me", `li.textContent.includes("offline words")`))
	// 6-7: completions; 7 will merge with a priority set meanwhile.
	browsertest.ClickInTask(a, "Finish me", ".check-box")
	a.WaitJS("done offline", dashtest.CheckJS("Finish me", true))
	browsertest.ClickInTask(a, "Finish me too", ".check-box")
	a.WaitJS("done offline too", dashtest.CheckJS("Finish me too", true))
	// 8-9: deletions.
	for _, ti := range []string{"Remove me", "Remove me too"} {
		browsertest.ClickInTask(a, ti, `[data-ctl="delete"]`)
		browsertest.ClickInTask(a, ti, `[data-ctl="confirm-delete"]`)
		a.WaitJS(ti+" gone offline", "!"+browsertest.TaskJS(ti))
	}
	// 10: a change to a task that exists only on this device so far.
	browsertest.ClickInTask(a, "Made offline too", ".check-box")
	a.WaitJS("a task made offline, done offline", dashtest.CheckJS("Made offline too", true))

	a.Do("reload offline again", chromedp.Reload(), browsertest.AppReady, chromedp.WaitVisible("#offline-banner"))
	a.WaitJS("the ten changes survive", dashtest.PendingJS(7)+" && "+browsertest.CountJS(7)+" && !"+browsertest.TaskJS("Remove me")+" && "+dashtest.CheckJS("Made offline too", true)+
		" && "+dashtest.CheckJS("Finish me", true))

	// Meanwhile, elsewhere: two changes that conflict with this tab's and
	// two that do not.
	for _, c := range []struct{ title, patch string }{
		{"Rename me", `{"title": "Renamed online"}`},
		{"Describe me", `{"description": "online words"}`},
		{"Prioritise me", `{"title": "Prioritised online"}`},
		{"Finish me too", `{"priority": "low"}`},
	} {
		if err := rawapi.Call(context.Background(), "http://"+w.Addr, token, http.MethodPatch, "/api/tasks/"+string(before[c.title].ID), c.patch, nil); err != nil {
			t.Fatalf("change %s over the API: %v", c.title, err)
		}
	}
	b.WaitJS("the other device has the API's changes", browsertest.TaskJS("Renamed online")+" && "+browsertest.TaskJS("Prioritised online"))

	dashtest.SetOffline(a, false)
	// Replayed in order: the rename's conflict comes first.
	a.Do("first conflict", chromedp.WaitVisible("#conflict"))
	if got := browsertest.Eval[string](a, `document.querySelector("#conflict").textContent`); !strings.Contains(got, "Renamed online") || !strings.Contains(got, "Renamed offline") {
		t.Fatalf("first conflict shows %q, want both titles", got)
	}
	browsertest.Click(a, "#keep-mine")
	a.WaitJS("second conflict", `document.querySelector("#conflict") !== null && document.querySelector("#conflict").textContent.includes("online words")`)
	browsertest.Click(a, "#take-theirs")
	a.WaitJS("no conflict left", `document.querySelector("#conflict") === null`)

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
	for name, tb := range map[string]*browsertest.Tab{"this tab": a, "the other device": b} {
		for ti, wd := range want {
			js := browsertest.TaskJS(ti) + " && " + dashtest.CheckJS(ti, strings.HasPrefix(wd, "done"))
			if strings.Contains(wd, "high") || strings.Contains(wd, "low") {
				js += " && " + rowJS(ti, `li.querySelector(".badge.prio-`+strings.Fields(wd)[len(strings.Fields(wd))-1]+`")`)
			}
			tb.WaitJS(name+": "+ti, js)
		}
		tb.WaitJS(name+": seven tasks, nothing pending", browsertest.CountJS(len(want))+" && "+dashtest.PendingJS(0))
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
