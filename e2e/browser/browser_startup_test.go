package browser

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
)

// TestFirstVisit opens the site as a new visitor would: / leads to the
// prerendered sign-in page before the app runs, and nothing is logged as
// an error on the way (no session check that can only fail).
func TestFirstVisit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := kit.Webapp(t)
	w.Start()
	browser := kit.Browser(t)
	b := browsertest.NewTab(t, browser, true)
	b.Do("open /", chromedp.Navigate(w.URL("/")), browsertest.AppReady, chromedp.WaitVisible("#signin-form"))
	if path := browsertest.Eval[string](b, `location.pathname`); path != "/signin" {
		t.Errorf("at %s, want /signin", path)
	}
	// app.wasm was compiled by the worker, which fetched it: the page
	// fetched the worker's script and not app.wasm (as it does when it
	// falls back to compiling on its own thread).
	fetched := browsertest.Eval[[]string](b, `performance.getEntriesByType("resource").map(e => new URL(e.name).pathname)`)
	if !slices.ContainsFunc(fetched, func(p string) bool { return strings.HasPrefix(p, "/web/compile.") }) ||
		slices.ContainsFunc(fetched, func(p string) bool { return strings.HasSuffix(p, ".wasm") }) {
		t.Errorf("app.wasm not compiled in the worker: the page fetched %v", fetched)
	}
	// The app started, and whatever it logs comes before this.
	b.WaitJS("service worker in control", `navigator.serviceWorker.controller !== null`)
	b.Mu.Lock()
	for _, m := range b.Log {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || strings.Contains(m.Text, "401") {
			t.Errorf("console: [%s %s] %s", m.Type, m.Source, m.Text)
		}
	}
	b.Mu.Unlock()

	// Again, now that the service worker answers / from its copy: the
	// visitor still lands on the sign-in page by a page load, not after
	// the app has started and moved there (which keeps the document's URL).
	b.Do("open / again", chromedp.Navigate(w.URL("/")), chromedp.WaitVisible("#signin-form"))
	b.WaitJS("at /signin", `location.pathname === "/signin"`)
	if doc := browsertest.Eval[string](b, `new URL(performance.getEntriesByType("navigation")[0].name).pathname`); doc != "/signin" {
		t.Errorf("the sign-in page is the app's move from %s, not a page of its own", doc)
	}
}

// wasmHold is a proxy in front of a webapp that holds every request for
// app.wasm until released, so a test can act on the prerendered page
// before the app runs. A proxy, not CDP's request interception: that sees
// the page's requests, and app.wasm is fetched by a worker (web/compile.js).
type wasmHold struct {
	url       string        // the proxy's origin, to open pages from
	requested chan struct{} // closed once app.wasm has been asked for
	release   func()
}

func holdWasm(t *testing.T, w *browsertest.Webapp) *wasmHold {
	t.Helper()
	released, requested := make(chan struct{}), make(chan struct{})
	h := &wasmHold{requested: requested, release: sync.OnceFunc(func() { close(released) })}
	asked := sync.OnceFunc(func() { close(requested) })
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: w.Addr})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".wasm") {
			asked()
			select {
			case <-released:
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(h.release)
	h.url = srv.URL
	return h
}

// waitRequested waits until the page has asked for app.wasm.
func (h *wasmHold) waitRequested(t *testing.T) {
	t.Helper()
	select {
	case <-h.requested:
	case <-time.After(browsertest.Timeout):
		t.Fatal("app.wasm was never requested")
	}
}

// register creates an account through the API.
func register(t *testing.T, w *browsertest.Webapp, email, password string) {
	t.Helper()
	res, err := http.Post(w.URL("/api/auth/register"), "application/json",
		strings.NewReader(fmt.Sprintf(`{"email": %q, "password": %q, "name": "Early Bird"}`, email, password)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d", res.StatusCode)
	}
}

// TestPrerenderHandoff types into the prerendered sign-in form while
// app.wasm is held back: the form shows and takes input before the app
// runs, and when the app takes over, no frame shows it without what was
// typed, the focus stays in the field, and a submit pressed early signs in.
func TestPrerenderHandoff(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := kit.Webapp(t)
	w.Start()
	const pw = "correct horse battery"
	register(t, w, "early@example.com", pw)
	browser := kit.Browser(t)

	// watchJS notes, in every frame from now on, whether the field lost
	// its value.
	watchJS := func(id, want string) string {
		return fmt.Sprintf(`(() => { window.__lost = ""; const f = () => {
			const e = document.getElementById(%q);
			if (!e || e.value !== %q) window.__lost = e ? "value " + JSON.stringify(e.value) : "no field";
			requestAnimationFrame(f); }; requestAnimationFrame(f); })()`, id, want)
	}

	t.Run("TypingContinues", func(t *testing.T) {
		b := browsertest.NewTab(t, browser, true)
		hold := holdWasm(t, w)
		b.Do("open the sign-in page", chromedp.Navigate(hold.url+"/signin"), chromedp.WaitVisible("#signin-form"))
		hold.waitRequested(t)
		if browsertest.Eval[bool](b, `document.querySelector('.page[data-ready="true"]') !== null`) {
			t.Fatal("the app runs although app.wasm is held")
		}
		b.Do("type before the app runs",
			chromedp.SendKeys("#signin-email", "early@example.com"),
			chromedp.SendKeys("#signin-password", "correct horse"))
		browsertest.Eval[chromedp.Void](b, watchJS("signin-password", "correct horse"))
		hold.release()
		b.Do("the app takes over", browsertest.AppReady)
		b.WaitJS("some frames drawn", `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
		if lost := browsertest.Eval[string](b, `window.__lost`); lost != "" {
			t.Errorf("a frame showed the password field without what was typed: %s", lost)
		}
		if got := browsertest.Eval[string](b, `document.getElementById("signin-email").value`); got != "early@example.com" {
			t.Errorf("email = %q after the app took over", got)
		}
		if got := browsertest.Eval[string](b, `document.activeElement ? document.activeElement.id : ""`); got != "signin-password" {
			t.Errorf("focus on %q, want signin-password", got)
		}
		// Typing goes on where it was, and the app has what was typed.
		b.Do("finish typing and submit", chromedp.KeyEvent(" battery\r"), chromedp.WaitVisible("#hello"))
	})

	t.Run("EarlySubmit", func(t *testing.T) {
		b := browsertest.NewTab(t, browser, true)
		hold := holdWasm(t, w)
		b.Do("open /", chromedp.Navigate(hold.url+"/"), chromedp.WaitVisible("#signin-form"))
		b.Do("type and press Enter before the app runs",
			chromedp.SendKeys("#signin-email", "early@example.com"),
			chromedp.SendKeys("#signin-password", pw+"\r"))
		b.WaitJS("the submit waits", `document.getElementById("signin-form").getAttribute("aria-busy") === "true"`)
		if loc := browsertest.Eval[string](b, `location.pathname + location.search`); loc != "/signin" {
			t.Fatalf("the form was submitted natively: at %s", loc)
		}
		hold.release()
		b.Do("signed in once the app runs", chromedp.WaitVisible("#hello"))
	})
}
