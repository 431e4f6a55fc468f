package browser

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
	w := mustBuildWebapp(b)
	w.start()
	browser := mustBrowser(b)
	setup := newTab(b, browser, true)
	signUpByAPI(b, setup, w, "bench@example.com")
	for i := range 30 {
		eval[any](setup, fmt.Sprintf(`fetch("/api/tasks", {method: "POST", headers: {"Content-Type": "application/json",
			"Authorization": "Bearer " + window.__token}, body: JSON.stringify({title: "Task %d"})}).then(r => r.status)`, i))
	}

	var cold, warm []float64
	for b.Loop() {
		tb := newTab(b, browser, true)
		signInByAPI(b, tb, w, "bench@example.com")
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

// signUpByAPI creates an account from a page of the app's origin that does
// not load the app (robots.txt), and keeps the access token in the page.
func signUpByAPI(tb testing.TB, b *tab, w *webapp, email string) {
	tb.Helper()
	b.do("blank page", chromedp.Navigate(w.url("/robots.txt")))
	eval[any](b, fmt.Sprintf(`fetch("/api/auth/register", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({email: %q, password: "benchmark password", name: "Bench"})}).then(r => r.json()).then(j => window.__token = j.accessToken)`, email))
}

// signInByAPI signs in from a page that does not load the app, so the
// refresh cookie is set but nothing of the app is cached.
func signInByAPI(tb testing.TB, b *tab, w *webapp, email string) {
	tb.Helper()
	b.do("blank page", chromedp.Navigate(w.url("/robots.txt")))
	status := eval[int](b, fmt.Sprintf(`fetch("/api/auth/login", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({email: %q, password: "benchmark password"})}).then(r => r.status)`, email))
	if status != 200 {
		tb.Fatalf("login: %d", status)
	}
}

func timeToList(tb testing.TB, b *tab, w *webapp) float64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(w.url("/"))); err != nil {
		tb.Fatal(err)
	}
	ms, err := chromedp.Run(ctx, chromedp.Poll[float64](
		`document.querySelectorAll("#task-list > li").length > 0 && performance.now()`,
		chromedp.WithPollingInterval(5*time.Millisecond), chromedp.WithPollingTimeout(browserTimeout)))
	if err != nil {
		tb.Fatalf("task list: %v\n%s", err, b.console())
	}
	return ms
}

// BenchmarkReconnect measures how soon a signed-in dashboard is live again
// after its server comes back from an outage: the server is stopped, the
// page notices (its live indicator leaves "Live"), the server starts again
// on the same address, and the clock runs from the moment it listens until
// the indicator says "Live" (a new socket signed in and resumed).
//
// Run: go test -run '^$' -bench Reconnect -benchtime 5x ./e2e/
func BenchmarkReconnect(b *testing.B) {
	w := mustBuildWebapp(b)
	w.start()
	browser := mustBrowser(b)
	tb := newTab(b, browser, true)
	signUpByAPI(b, tb, w, "reconnect@example.com")
	tb.do("dashboard", chromedp.Navigate(w.url("/")), appReady, chromedp.WaitVisible("#hello"))
	const live = `document.querySelector("#live").textContent.includes("Live")`
	tb.waitJS("live", live)

	var ms []float64
	for b.Loop() {
		w.stop()
		tb.waitJS("outage noticed", "!("+live+")")
		w.start()
		start := time.Now()
		ctx, cancel := context.WithTimeout(tb.ctx, browserTimeout)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](live,
			chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(browserTimeout)))
		cancel()
		if err != nil {
			b.Fatalf("live again: %v\n%s", err, tb.console())
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
	}
	sort.Float64s(ms)
	b.ReportMetric(median(ms), "median-ms")
	b.ReportMetric(ms[len(ms)-1], "max-ms")
}
