package browser

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
)

// startupProbe runs in every document before the page's own scripts and
// notes, by the page's clock (ms since navigation start), the first frame
// in which the sign-in form is
//   - visible: its email field is laid out and is what a browsertest.Click at its
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

// The 10 Mbit/s link of Lighthouse's desktop preset: 10,240 kbit/s each
// way, 40 ms round trip.
const (
	linkRate = 10240 * 1024 / 8 // bytes per second
	linkRTT  = 40 * time.Millisecond
)

// BenchmarkStartup measures how browsertest.Soon a new visitor opening / can use the
// sign-in form, in headless Chromium against the real binary serving the
// brotli-compressed app.wasm:
//
//   - first: a new browser profile (empty HTTP cache, no service worker);
//   - first-10mbit: the same over a 10 Mbit/s link with 40 ms RTT
//     (slowLink: a proxy between Chromium and the server, so the page's,
//     its workers' and the service worker's requests share it);
//   - repeat: the first visit's profile opening / again once its service
//     worker is active.
//
// For each, visible-ms is when the form shows and can be typed into, and
// usable-ms when the app runs too (see startupProbe). Medians over the
// iterations.
//
// Run: go test -run '^$' -bench Startup -benchtime 5x ./e2e/
func BenchmarkStartup(b *testing.B) {
	w := kit.Webapp(b)
	compressWasm(b, w)
	w.Start()
	browser := kit.Browser(b)

	res := map[string][]float64{}
	note := func(name string, st startupTimes) {
		res[name+"-visible-ms"] = append(res[name+"-visible-ms"], st.Visible)
		res[name+"-usable-ms"] = append(res[name+"-usable-ms"], st.Usable)
	}
	slow := startSlowLink(b, w.Addr, linkRate, linkRTT)
	for b.Loop() {
		tb := browsertest.NewTab(b, browser, true)
		note("first", visitStartup(b, tb, w.URL("/")))
		tb.WaitJS("service worker active", `navigator.serviceWorker.controller !== null`)
		note("repeat", visitStartup(b, tb, w.URL("/")))

		tb = browsertest.NewTab(b, browser, true)
		note("first-10mbit", visitStartup(b, tb, "http://"+slow+"/"))
	}
	for name, v := range res {
		b.ReportMetric(median(v), name)
	}
}

// visitStartup opens url in b and returns when the sign-in form became
// visible and usable.
func visitStartup(tb testing.TB, b *browsertest.Tab, url string) startupTimes {
	tb.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 2*browsertest.Timeout)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: startupProbe})
		return err
	}), chromedp.Navigate(url))
	if err != nil {
		tb.Fatal(err)
	}
	st, err := chromedp.Run(ctx, chromedp.Poll[startupTimes](`window.__startup && window.__startup.usable > 0 && window.__startup`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(2*browsertest.Timeout)))
	if err != nil {
		tb.Fatalf("sign-in form: %v\n%s", err, b.Console())
	}
	return st
}

// startSlowLink starts a TCP proxy to addr that gives all its connections
// one link of rate bytes/s each way and rtt of round trip (half each way,
// and one for each new connection, its handshake), and returns the
// proxy's address. Not CDP's network emulation: that applies to the page
// alone, and app.wasm is fetched by a worker (web/compile.js).
func startSlowLink(tb testing.TB, addr string, rate float64, rtt time.Duration) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	down, up := &pacer{rate: rate}, &pacer{rate: rate}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer s.Close()
				time.Sleep(rtt)
				done := make(chan struct{}, 2)
				go func() { slowCopy(s, c, up, rtt/2); done <- struct{}{} }()
				go func() { slowCopy(c, s, down, rtt/2); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	return ln.Addr().String()
}

// pacer serialises the bytes of every connection one way through a link.
type pacer struct {
	mu   sync.Mutex
	rate float64   // bytes per second
	free time.Time // when the link has sent what it was given
}

// send returns when n bytes given now have gone through the link.
func (p *pacer) send(n int) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); p.free.Before(now) {
		p.free = now
	}
	p.free = p.free.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	return p.free
}

// slowCopy copies src to dst through the link p, each chunk arriving delay
// after it has gone through. It reads ahead, so src is never held back: the
// link, not the sender, sets the pace.
func slowCopy(dst io.WriteCloser, src io.Reader, p *pacer, delay time.Duration) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	chunks := make(chan chunk, 4096)
	go func() {
		defer close(chunks)
		for {
			b := make([]byte, 8192)
			n, err := src.Read(b)
			if n > 0 {
				chunks <- chunk{b[:n], p.send(n).Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	dst.Close()
	for range chunks {
	}
}

// compressWasm writes app.wasm.br beside the test server's app.wasm, as
// `make wasm` does, so the benchmark downloads what production serves.
// Without the brotli command the server falls back to gzip.
func compressWasm(tb testing.TB, w *browsertest.Webapp) {
	tb.Helper()
	if _, err := exec.LookPath("brotli"); err != nil {
		tb.Log("no brotli (make tools): app.wasm is served gzipped")
		return
	}
	wasm := filepath.Join(w.Dir, "build", "web", "app.wasm")
	if out, err := exec.Command("brotli", "-q", "11", "-f", "-o", wasm+".br", wasm).CombinedOutput(); err != nil {
		tb.Fatalf("brotli: %v\n%s", err, out)
	}
	if _, err := os.Stat(wasm + ".br"); err != nil {
		tb.Fatal(err)
	}
}
