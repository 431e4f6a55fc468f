package browser

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// kill ends the server at once, as a crash or a lost network would: no
// goodbye on the sockets.
func (w *webapp) kill() {
	w.t.Helper()
	if w.cmd == nil {
		return
	}
	w.cmd.Process.Kill()
	<-w.waitErr
	w.cmd = nil
}

// liveJS is a predicate: the page is live again (the badge says so and
// the outage banner is gone).
const liveJS = `document.querySelector("#live.live-live") !== null && document.querySelector("#offline-banner").hidden`

// outageJS is a predicate: the outage banner is up.
const outageJS = `!document.querySelector("#offline-banner").hidden`

// TestOutage: with the server gone, a banner says so and stays in view
// (sticky, role=status, in view after scrolling); a task added meanwhile
// stays in the quick-add bar with its error and is added by pressing Add
// again once the server is back, a deletion leaves the task in the list
// with a Retry that deletes it then, and so does marking a task done or
// not done (the row shows what the server has, a toast keeps the change
// with Retry); the page goes live again by itself.
func TestOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := mustBuildWebapp(t)
	w.start()
	browser := mustBrowser(t)
	d := &dash{w: w, browser: browser}
	d.size = screenSizes[0]
	tasks := []string{`{"title": "Tick me"}`, `{"title": "Untick me", "status": "done"}`}
	for range 12 {
		tasks = append(tasks, `{"title": "Something to do"}`)
	}
	b := d.person(t, tasks...)
	b.waitJS("live", liveJS)

	w.kill()
	b.waitJS("outage banner", outageJS)
	if got := eval[string](b, `document.querySelector("#offline-banner").getAttribute("role")`); got != "status" && got != "alert" {
		t.Errorf("outage banner role %q, want status or alert", got)
	}
	eval[chromedp.Void](b, `window.scrollTo(0, document.body.scrollHeight)`)
	if !eval[bool](b, `(() => { const r = document.querySelector("#offline-banner").getBoundingClientRect();
		return r.bottom > 0 && r.top < innerHeight; })()`) {
		t.Error("the outage banner scrolled out of view")
	}

	b.do("add while the server is gone", chromedp.SendKeys("#new-title", "Written offline"+kb.Enter))
	b.waitJS("not added, said so", `!document.querySelector("#create-error").hidden`)
	if got := eval[string](b, `document.querySelector("#new-title").value`); got != "Written offline" {
		t.Fatalf("the quick-add bar holds %q after the failed add, want the title kept", got)
	}

	// A deletion that cannot be sent: the task stays, with a Retry.
	n := eval[int](b, `document.querySelectorAll("#task-list > li").length`)
	clickInTask(b, "Something to do", `[data-ctl="delete"]`)
	clickInTask(b, "Something to do", `[data-ctl="confirm-delete"]`)
	b.waitJS("deletion refused, Retry offered", retryJS("Not deleted"))
	b.waitJS("the task is back", countJS(n))

	// Marking done and not done that cannot be sent: the row shows what
	// the server has, the toast keeps the change with a Retry.
	for _, c := range []struct {
		title string
		was   bool
	}{{"Tick me", false}, {"Untick me", true}} {
		clickInTask(b, c.title, ".check-box")
		b.waitJS(c.title+": not sent, Retry offered", retryJS(c.title))
		b.waitJS(c.title+": the row as the server has it", checkJS(c.title, c.was))
	}

	w.start()
	b.waitJS("live again", liveJS)
	clickRetry(b, "Not deleted")
	b.waitJS("deleted on retry", countJS(n-1))
	clickRetry(b, "Tick me")
	b.waitJS("marked done on retry", checkJS("Tick me", true))
	clickRetry(b, "Untick me")
	b.waitJS("marked not done on retry", checkJS("Untick me", false))
	if eval[bool](b, `document.querySelector("#toasts .retry") !== null`) {
		t.Error("a Retry is still offered after every change was sent")
	}
	click(b, "#create-submit")
	b.waitJS("added on retry", taskJS("Written offline"))
	b.waitJS("bar cleared", `document.querySelector("#new-title").value === ""`)

	// Kept by the server, not only shown.
	d.open(b, n)
	b.waitJS("done after a reload", checkJS("Tick me", true)+" && "+checkJS("Untick me", false))
}

// retryJS is a predicate: a toast whose text holds text offers Retry.
func retryJS(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#toasts .toast")].some(t => t.textContent.includes(%s) && t.querySelector(".retry"))`, strconv.Quote(text))
}

// clickRetry presses Retry on the toast whose text holds text.
func clickRetry(b *tab, text string) {
	b.t.Helper()
	b.waitJS("Retry on "+text, retryJS(text))
	eval[chromedp.Void](b, fmt.Sprintf(`[...document.querySelectorAll("#toasts .toast")].find(t => t.textContent.includes(%s)).querySelector(".retry").click()`, strconv.Quote(text)))
}

// BenchmarkReconnectAfterCrash is BenchmarkReconnect with the server
// killed (no close frame on the sockets) and down long enough (3 s) for
// the page's backoff to reach its cap: from the restarted server
// listening to the live badge with no outage banner.
//
// Run: go test -run '^$' -bench ReconnectAfterCrash -benchtime 5x ./e2e/
func BenchmarkReconnectAfterCrash(bm *testing.B) {
	w := mustBuildWebapp(bm)
	w.start()
	browser := mustBrowser(bm)
	b := newTab(bm, browser, true)
	signUpByAPI(bm, b, w, "reconnect@example.com")
	b.do("dashboard", chromedp.Navigate(w.url("/")), appReady, chromedp.WaitVisible("#hello"))
	b.waitJS("live", liveJS)
	var total time.Duration
	var worst time.Duration
	bm.ResetTimer()
	for range bm.N {
		bm.StopTimer()
		w.kill()
		b.waitJS("outage banner", outageJS)
		// The client's backoff has grown to its cap meanwhile.
		time.Sleep(3 * time.Second)
		w.start()
		start := time.Now()
		bm.StartTimer()
		b.waitJS("live again", liveJS)
		took := time.Since(start)
		total += took
		worst = max(worst, took)
	}
	bm.ReportMetric(float64(total.Milliseconds())/float64(bm.N), "mean-ms")
	bm.ReportMetric(float64(worst.Milliseconds()), "worst-ms")
}
