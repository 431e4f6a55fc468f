package offline

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/dashtest"
)

// TestOutage: with the server gone, a banner says so and stays in view
// (sticky, role=status, in view after scrolling); a task added meanwhile
// stays in the quick-add bar with its error and is added by pressing Add
// again once the server is back, a deletion leaves the task in the list
// with a Retry that deletes it then, and so does marking a task done or
// not done (the row shows what the server has, a toast keeps the change
// with Retry); the page goes live again by itself.
func TestOutage(t *testing.T) {
	d := dashtest.Start(t, &kit)
	w := d.W
	tasks := []string{`{"title": "Tick me"}`, `{"title": "Untick me", "status": "done"}`}
	for range 12 {
		tasks = append(tasks, `{"title": "Something to do"}`)
	}
	b := d.Person(t, tasks...)
	b.WaitJS("live", dashtest.LiveJS)

	w.Kill()
	b.WaitJS("outage banner", dashtest.OutageJS)
	if got := browsertest.Eval[string](b, `document.querySelector("#offline-banner").getAttribute("role")`); got != "status" && got != "alert" {
		t.Errorf("outage banner role %q, want status or alert", got)
	}
	browsertest.Eval[chromedp.Void](b, `window.scrollTo(0, document.body.scrollHeight)`)
	if !browsertest.Eval[bool](b, `(() => { const r = document.querySelector("#offline-banner").getBoundingClientRect();
		return r.bottom > 0 && r.top < innerHeight; })()`) {
		t.Error("the outage banner scrolled out of view")
	}

	b.Do("add while the server is gone", chromedp.SendKeys("#new-title", "Written offline"+kb.Enter))
	b.WaitJS("not added, said so", `!document.querySelector("#create-error").hidden`)
	if got := browsertest.Eval[string](b, `document.querySelector("#new-title").value`); got != "Written offline" {
		t.Fatalf("the quick-add bar holds %q after the failed add, want the title kept", got)
	}

	// A deletion that cannot be sent: the task stays, with a Retry.
	n := browsertest.Eval[int](b, `document.querySelectorAll("#task-list > li").length`)
	browsertest.ClickInTask(b, "Something to do", `[data-ctl="delete"]`)
	browsertest.ClickInTask(b, "Something to do", `[data-ctl="confirm-delete"]`)
	b.WaitJS("deletion refused, Retry offered", retryJS("Not deleted"))
	b.WaitJS("the task is back", browsertest.CountJS(n))

	// Marking done and not done that cannot be sent: the row shows what
	// the server has, the toast keeps the change with a Retry.
	for _, c := range []struct {
		title string
		was   bool
	}{{"Tick me", false}, {"Untick me", true}} {
		browsertest.ClickInTask(b, c.title, ".check-box")
		b.WaitJS(c.title+": not sent, Retry offered", retryJS(c.title))
		b.WaitJS(c.title+": the row as the server has it", dashtest.CheckJS(c.title, c.was))
	}

	w.Start()
	b.WaitJS("live again", dashtest.LiveJS)
	clickRetry(b, "Not deleted")
	b.WaitJS("deleted on retry", browsertest.CountJS(n-1))
	clickRetry(b, "Tick me")
	b.WaitJS("marked done on retry", dashtest.CheckJS("Tick me", true))
	clickRetry(b, "Untick me")
	b.WaitJS("marked not done on retry", dashtest.CheckJS("Untick me", false))
	if browsertest.Eval[bool](b, `document.querySelector("#toasts .retry") !== null`) {
		t.Error("a Retry is still offered after every change was sent")
	}
	browsertest.Click(b, "#create-submit")
	b.WaitJS("added on retry", browsertest.TaskJS("Written offline"))
	b.WaitJS("bar cleared", `document.querySelector("#new-title").value === ""`)

	// Kept by the server, not only shown.
	d.Open(b, n)
	b.WaitJS("done after a reload", dashtest.CheckJS("Tick me", true)+" && "+dashtest.CheckJS("Untick me", false))
}

// retryJS is a predicate: a toast whose text holds text offers Retry.
func retryJS(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#toasts .toast")].some(t => t.textContent.includes(%s) && t.querySelector(".retry"))`, strconv.Quote(text))
}

// clickRetry presses Retry on the toast whose text holds text.
func clickRetry(b *browsertest.Tab, text string) {
	b.T.Helper()
	b.WaitJS("Retry on "+text, retryJS(text))
	browsertest.Eval[chromedp.Void](b, fmt.Sprintf(`[...document.querySelectorAll("#toasts .toast")].find(t => t.textContent.includes(%s)).querySelector(".retry").click()`, strconv.Quote(text)))
}

// BenchmarkReconnectAfterCrash is BenchmarkReconnect with the server
// killed (no close frame on the sockets) and down long enough (3 s) for
// the page's backoff to reach its cap: from the restarted server
// listening to the live badge with no outage banner.
//
// Run: go test -run '^$' -bench ReconnectAfterCrash -benchtime 5x ./e2e/offline/
func BenchmarkReconnectAfterCrash(bm *testing.B) {
	w := kit.Webapp(bm)
	w.Start()
	browser := kit.Browser(bm)
	b := browsertest.NewTab(bm, browser, true)
	browsertest.SignUpByAPI(bm, b, w, "reconnect@example.com")
	b.Do("dashboard", chromedp.Navigate(w.URL("/")), browsertest.AppReady, chromedp.WaitVisible("#hello"))
	b.WaitJS("live", dashtest.LiveJS)
	var total time.Duration
	var worst time.Duration
	bm.ResetTimer()
	for range bm.N {
		bm.StopTimer()
		w.Kill()
		b.WaitJS("outage banner", dashtest.OutageJS)
		// The client's backoff has grown to its cap meanwhile.
		time.Sleep(3 * time.Second)
		w.Start()
		start := time.Now()
		bm.StartTimer()
		b.WaitJS("live again", dashtest.LiveJS)
		took := time.Since(start)
		total += took
		worst = max(worst, took)
	}
	bm.ReportMetric(float64(total.Milliseconds())/float64(bm.N), "mean-ms")
	bm.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
}
