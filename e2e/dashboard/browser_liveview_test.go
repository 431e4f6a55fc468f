package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/dashtest"
	"github.com/authdash/authdash/e2e/internal/rawapi"
)

// TestLiveFilteredViews is issue 17's live filtered view in the browser:
// three tabs show the same searched, filtered and sorted view — two tabs of
// one browser (one holds the socket, the other hears through it) and a
// tab on another device — while changes made through the API make tasks
// enter the view in their sorted place, leave it, move within it, or stay
// out because they sort past the end of the loaded page. After every
// change each tab must show exactly the first tasks of a fresh query of
// the server with that view, as many as it had plus what entered.
func TestLiveFilteredViews(t *testing.T) {
	d := startDash(t)
	w := d.W

	a := browsertest.NewTab(t, d.Browser, true)
	a.Do("viewport", chromedp.EmulateViewport(d.Size.W, d.Size.H, d.Size.Opts...))
	a.Email = "live-view@example.com"
	browsertest.SignUpByAPI(t, a, w, a.Email)
	token := dashtest.APIAs(t, w, a.Email)
	base := "http://" + w.Addr
	day := func(n int) string { return time.Now().UTC().AddDate(0, 0, n).Format("2006-01-02T15:00:00Z") }
	ids := map[string]authdash.TaskID{}
	create := func(title, status, due, desc string) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"title": title, "status": status, "dueDate": due, "description": desc})
		var task authdash.Task
		if err := rawapi.Call(context.Background(), base, token, http.MethodPost, "/api/tasks", string(body), &task); err != nil {
			t.Fatal(err)
		}
		ids[title] = task.ID
	}
	// 24 matching tasks due one day apart: the view's first page holds 20.
	for i := 1; i <= 24; i++ {
		create(fmt.Sprintf("Report %02d", i), "todo", day(i), "")
	}
	create("Groceries", "todo", day(5), "")                      // no match: not about a report
	create("Old report", "done", day(2), "")                     // no match: done
	create("Notes", "todo", day(30), "for the quarterly REPORT") // matches by its description, past the page

	const view = "/?q=report&status=todo&sort=due&order=asc"
	q := url.Values{"q": {"report"}, "status": {"todo"}, "sort": {"due"}, "order": {"asc"}, "limit": {"100"}}
	open := func(b *browsertest.Tab) {
		t.Helper()
		b.Do("the view", chromedp.Navigate(w.URL(view)), browsertest.AppReady, chromedp.WaitVisible("#hello"))
		b.WaitJS("first page of the view", browsertest.CountJS(20))
		b.WaitJS("live", dashtest.LiveJS)
	}
	open(a)
	a2 := browsertest.NewTab(t, a.Ctx, false) // same browser: the socket is a's, shared
	a2.Do("viewport", chromedp.EmulateViewport(d.Size.W, d.Size.H, d.Size.Opts...))
	open(a2)
	c := browsertest.NewTab(t, d.Browser, true) // another device: a socket of its own
	c.Do("viewport", chromedp.EmulateViewport(d.Size.W, d.Size.H, d.Size.Opts...))
	browsertest.SignInByAPI(t, c, w, a.Email)
	open(c)
	tabs := map[string]*browsertest.Tab{"first tab": a, "second tab": a2, "other device": c}

	// expect waits until every tab lists the first n tasks of a fresh
	// query of the view, in the server's order. A tab may once load its
	// list again (a page loads it at once and again after its socket's
	// first ready, which comes after the live badge; on a loaded machine
	// a change falls between the two), which leaves it a fresh first page
	// of 20; from then on it must list
	// as many more or fewer than n as it did then. Any other count, or any
	// list that is not the start of the server's, fails.
	const pageSize = 20
	offset := map[string]int{}
	reloaded := map[string]bool{}
	expect := func(step string, n int) {
		t.Helper()
		var page authdash.TaskPage
		if err := rawapi.Call(context.Background(), base, token, http.MethodGet, "/api/tasks?"+q.Encode(), "", &page); err != nil {
			t.Fatal(err)
		}
		var server []string
		for _, task := range page.Items {
			server = append(server, task.Title)
		}
		prefix := func(k int) string {
			if k > len(server) {
				return "(more than the server has)"
			}
			return strings.Join(server[:k], "|")
		}
		for name, b := range tabs {
			want, fresh := prefix(n+offset[name]), prefix(pageSize)
			const js = `[...document.querySelectorAll("#task-list .task-title")].map(e => e.textContent).join("|")`
			ok := browsertest.Eval[bool](b, fmt.Sprintf(`new Promise(ok => { const end = Date.now() + %d;
				(function poll() { const l = %s; if (l === %q || (%t && l === %q)) ok(true); else if (Date.now() > end) ok(false); else setTimeout(poll, 50); })(); })`,
				(browsertest.Timeout-time.Second).Milliseconds(), js, want, !reloaded[name], fresh))
			got := browsertest.Eval[string](b, js)
			if !ok {
				b.Screenshot("failed-" + strings.ReplaceAll(name, " ", "-"))
				t.Fatalf("%s: the %s lists\n  %s\nwant the server's first %d\n  %s\nconsole:\n%s", step, name, got, n+offset[name], want, b.Console())
			}
			if got != want {
				reloaded[name], offset[name] = true, pageSize-n
				t.Logf("%s: the %s loaded its list again (a fresh first page)", step, name)
			}
		}
	}
	patch := func(title, body string) {
		t.Helper()
		if err := rawapi.Call(context.Background(), base, token, http.MethodPatch, "/api/tasks/"+string(ids[title]), body, nil); err != nil {
			t.Fatal(err)
		}
	}

	steps := []struct {
		name   string
		change func()
		n      int // tasks each tab lists afterwards
	}{
		{"a new match due before all enters at the top", func() { create("Report early", "todo", day(0), "") }, 21},
		{"a new match past the page's end stays out", func() { create("Report late", "todo", day(40), "") }, 21},
		{"a new task that does not match stays out", func() { create("Dentist", "todo", day(3), "") }, 21},
		{"a task whose description comes to match enters", func() { patch("Dentist", `{"description":"bring the X-ray Report"}`) }, 22},
		{"a task renamed to match enters in its place", func() { patch("Groceries", `{"title":"Groceries REPORT"}`) }, 23},
		{"a task done leaves", func() { patch("Report 03", `{"status":"done"}`) }, 22},
		{"a task due earlier moves up", func() { patch("Report 10", fmt.Sprintf(`{"dueDate":%q}`, day(-1))) }, 22},
		{"a task renamed not to match leaves", func() { patch("Report 02", `{"title":"Memo 02"}`) }, 21},
		{"a task reopened enters", func() { patch("Old report", `{"status":"todo"}`) }, 22},
		{"a task due later than the page's end leaves", func() { patch("Report 05", fmt.Sprintf(`{"dueDate":%q}`, day(60))) }, 21},
	}
	for _, s := range steps {
		s.change()
		expect(s.name, s.n)
	}
	// A deletion, from the other device's own list.
	browsertest.ClickInTask(c, "Report 04", `[data-ctl="delete"]`)
	browsertest.ClickInTask(c, "Report 04", `[data-ctl="confirm-delete"]`)
	// The deletion reaches the server once its undo has passed; the
	// fresh query must come after it.
	for deadline := time.Now().Add(browsertest.Timeout); ; time.Sleep(100 * time.Millisecond) {
		err := rawapi.Call(context.Background(), base, token, http.MethodGet, "/api/tasks/"+string(ids["Report 04"]), "", nil)
		if err != nil && strings.Contains(err.Error(), ": 404 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deletion never reached the server: %v", err)
		}
	}
	expect("a task deleted on the other device leaves", 20)
}
