package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// startupProbe runs in every document before the page's own scripts and
// notes, by the page's clock (ms since navigation start), the first frame
// in which the sign-in form is
//   - visible: its email field is laid out and is what a click at its
//     centre would hit (nothing, such as a loading screen, covers it);
//   - usable: visible, and the app runs (data-ready), so what is typed is
//     kept and Sign in signs in.
//
// go-app navigates without reloading, so a visit to / that ends on
// /signin is timed from the first navigation.
const startupProbe = `(() => {
	const s = window.__startup = {visible: 0, usable: 0};
	const frame = () => {
		const f = document.getElementById("signin-email");
		if (f && !s.visible) {
			const r = f.getBoundingClientRect();
			if (r.width > 0 && document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) === f) {
				s.visible = performance.now();
			}
		}
		if (s.visible && !s.usable && f && document.querySelector('.page[data-ready="true"]')) {
			s.usable = performance.now();
		}
		if (!s.usable) requestAnimationFrame(frame);
	};
	requestAnimationFrame(frame);
})()`

// startupTimes is what startupProbe noted.
type startupTimes struct {
	Visible float64 `json:"visible"`
	Usable  float64 `json:"usable"`
}

// Throttled is the 10 Mbit/s link of Lighthouse's desktop preset: 40 ms
// round trip, 10,240 kbit/s each way.
var throttled = network.Conditions{Latency: 40, DownloadThroughput: 10240 * 1024 / 8, UploadThroughput: 10240 * 1024 / 8}

// BenchmarkStartup measures how soon a new visitor opening / can use the
// sign-in form, in headless Chromium against the real binary serving the
// brotli-compressed app.wasm:
//
//   - first: a new browser profile (empty HTTP cache, no service worker);
//   - first-10mbit: the same over a link emulated at 10 Mbit/s and 40 ms
//     RTT (CDP network emulation; the service worker's own fetches are not
//     throttled);
//   - repeat: the first visit's profile opening / again once its service
//     worker is active.
//
// For each, visible-ms is when the form shows and can be typed into, and
// usable-ms when the app runs too (see startupProbe). Medians over the
// iterations.
//
// Run: go test -run '^$' -bench Startup -benchtime 5x ./e2e/
func BenchmarkStartup(b *testing.B) {
	w := mustBuildWebapp(b)
	compressWasm(b, w)
	w.start()
	browser := mustBrowser(b)

	res := map[string][]float64{}
	note := func(name string, st startupTimes) {
		res[name+"-visible-ms"] = append(res[name+"-visible-ms"], st.Visible)
		res[name+"-usable-ms"] = append(res[name+"-usable-ms"], st.Usable)
	}
	for b.Loop() {
		tb := newTab(b, browser, true)
		note("first", visitStartup(b, tb, w, nil))
		tb.waitJS("service worker active", `navigator.serviceWorker.controller !== null`)
		note("repeat", visitStartup(b, tb, w, nil))

		tb = newTab(b, browser, true)
		note("first-10mbit", visitStartup(b, tb, w, &throttled))
	}
	for name, v := range res {
		b.ReportMetric(median(v), name)
	}
}

// visitStartup opens / in b, over the link given (nil: unthrottled), and
// returns when the sign-in form became visible and usable.
func visitStartup(tb testing.TB, b *tab, w *webapp, link *network.Conditions) startupTimes {
	tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*browserTimeout)
	defer cancel()
	conds := []*network.Conditions{}
	if link != nil {
		conds = append(conds, link)
	}
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule,
			network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conds}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: startupProbe})
		return err
	}), chromedp.Navigate(w.url("/")))
	if err != nil {
		tb.Fatal(err)
	}
	st, err := chromedp.Run(ctx, chromedp.Poll[startupTimes](`window.__startup && window.__startup.usable > 0 && window.__startup`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(2*browserTimeout)))
	if err != nil {
		tb.Fatalf("sign-in form: %v\n%s", err, b.console())
	}
	return st
}

// compressWasm writes app.wasm.br beside the test server's app.wasm, as
// `make wasm` does, so the benchmark downloads what production serves.
// Without the brotli command the server falls back to gzip.
func compressWasm(tb testing.TB, w *webapp) {
	tb.Helper()
	if _, err := exec.LookPath("brotli"); err != nil {
		tb.Log("no brotli (make tools): app.wasm is served gzipped")
		return
	}
	wasm := filepath.Join(w.dir, "build", "web", "app.wasm")
	if out, err := exec.Command("brotli", "-q", "11", "-f", "-o", wasm+".br", wasm).CombinedOutput(); err != nil {
		tb.Fatalf("brotli: %v\n%s", err, out)
	}
	if _, err := os.Stat(wasm + ".br"); err != nil {
		tb.Fatal(err)
	}
}
