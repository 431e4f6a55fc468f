package browser

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
)

// BenchmarkBrowserLoad measures the time from navigation start until the
// task list shows, as the page's own clock (performance.now) reads it:
//
//   - cold: a new browser context (empty HTTP cache, no service worker),
//     signed in, opening the dashboard for the first time;
//   - warm: the same context loading it again (app.wasm from the immutable
//     HTTP cache or the service worker).
//
// Run: go test -run '^$' -bench BrowserLoad -benchtime 5x ./e2e/
func BenchmarkBrowserLoad(b *testing.B) {
	w := kit.Webapp(b)
	w.Start()
	browser := kit.Browser(b)
	setup := browsertest.NewTab(b, browser, true)
	browsertest.SignUpByAPI(b, setup, w, "bench@example.com")
	for i := range 30 {
		browsertest.Eval[any](setup, fmt.Sprintf(`fetch("/api/tasks", {method: "POST", headers: {"Content-Type": "application/json",
			"Authorization": "Bearer " + window.__token}, body: JSON.stringify({title: "Task %d"})}).then(r => r.status)`, i))
	}

	var cold, warm []float64
	for b.Loop() {
		tb := browsertest.NewTab(b, browser, true)
		browsertest.SignInByAPI(b, tb, w, "bench@example.com")
		cold = append(cold, timeToList(b, tb, w))
		warm = append(warm, timeToList(b, tb, w))
	}
	b.ReportMetric(median(cold), "cold-ms")
	b.ReportMetric(median(warm), "warm-ms")
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

func timeToList(tb testing.TB, b *browsertest.Tab, w *browsertest.Webapp) float64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, browsertest.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(w.URL("/"))); err != nil {
		tb.Fatal(err)
	}
	ms, err := chromedp.Run(ctx, chromedp.Poll[float64](
		`document.querySelectorAll("#task-list > li").length > 0 && performance.now()`,
		chromedp.WithPollingInterval(5*time.Millisecond), chromedp.WithPollingTimeout(browsertest.Timeout)))
	if err != nil {
		tb.Fatalf("task list: %v\n%s", err, b.Console())
	}
	return ms
}

// BenchmarkReconnect measures how browsertest.Soon a signed-in dashboard is live again
// after its server comes back from an outage: the server is stopped, the
// page notices (its live indicator leaves "Live"), the server starts again
// on the same address, and the clock runs from the moment it listens until
// the indicator says "Live" (a new socket signed in and resumed).
//
// Run: go test -run '^$' -bench Reconnect -benchtime 5x ./e2e/
func BenchmarkReconnect(b *testing.B) {
	w := kit.Webapp(b)
	w.Start()
	browser := kit.Browser(b)
	tb := browsertest.NewTab(b, browser, true)
	browsertest.SignUpByAPI(b, tb, w, "reconnect@example.com")
	tb.Do("dashboard", chromedp.Navigate(w.URL("/")), browsertest.AppReady, chromedp.WaitVisible("#hello"))
	const live = `document.querySelector("#live").textContent.includes("Live")`
	tb.WaitJS("live", live)

	var ms []float64
	for b.Loop() {
		w.Stop()
		tb.WaitJS("outage noticed", "!("+live+")")
		w.Start()
		start := time.Now()
		ctx, cancel := context.WithTimeout(tb.Ctx, browsertest.Timeout)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](live,
			chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(browsertest.Timeout)))
		cancel()
		if err != nil {
			b.Fatalf("live again: %v\n%s", err, tb.Console())
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
	}
	sort.Float64s(ms)
	b.ReportMetric(median(ms), "median-ms")
	b.ReportMetric(ms[len(ms)-1], "max-ms")
}
