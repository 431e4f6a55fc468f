package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// TestFirstVisit opens the site as a new visitor would: / leads to the
// prerendered sign-in page before the app runs, and nothing is logged as
// an error on the way (no session check that can only fail).
func TestFirstVisit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := mustBuildWebapp(t)
	w.start()
	browser := mustBrowser(t)
	b := newTab(t, browser, true)
	b.do("open /", chromedp.Navigate(w.url("/")), appReady, chromedp.WaitVisible("#signin-form"))
	if path := eval[string](b, `location.pathname`); path != "/signin" {
		t.Errorf("at %s, want /signin", path)
	}
	// The app started, and whatever it logs comes before this.
	b.waitJS("service worker in control", `navigator.serviceWorker.controller !== null`)
	b.mu.Lock()
	for _, m := range b.log {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || strings.Contains(m.Text, "401") {
			t.Errorf("console: [%s %s] %s", m.Type, m.Source, m.Text)
		}
	}
	b.mu.Unlock()

	// Again, now that the service worker answers / from its copy: the
	// visitor still lands on the sign-in page by a page load, not after
	// the app has started and moved there (which keeps the document's URL).
	b.do("open / again", chromedp.Navigate(w.url("/")), chromedp.WaitVisible("#signin-form"))
	b.waitJS("at /signin", `location.pathname === "/signin"`)
	if doc := eval[string](b, `new URL(performance.getEntriesByType("navigation")[0].name).pathname`); doc != "/signin" {
		t.Errorf("the sign-in page is the app's move from %s, not a page of its own", doc)
	}
}

// holdWasm pauses b's requests for app.wasm until the returned release is
// called, so a test can act on the prerendered page before the app runs.
func holdWasm(t *testing.T, b *tab) (release func()) {
	t.Helper()
	paused := make(chan fetch.RequestID, 4)
	go func() {
		for ev, err := range chromedp.Events(b.ctx, fetch.RequestPaused) {
			if err != nil {
				return
			}
			paused <- ev.RequestID
		}
	}()
	b.do("hold app.wasm", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*.wasm"}}})
		return err
	}))
	released := make(chan struct{})
	go func() {
		<-released
		for {
			select {
			case id := <-paused:
				chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
			case <-b.ctx.Done():
				return
			}
		}
	}()
	return sync.OnceFunc(func() { close(released) })
}

// register creates an account through the API.
func register(t *testing.T, w *webapp, email, password string) {
	t.Helper()
	res, err := http.Post(w.url("/api/auth/register"), "application/json",
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
	w := mustBuildWebapp(t)
	w.start()
	const pw = "correct horse battery"
	register(t, w, "early@example.com", pw)
	browser := mustBrowser(t)

	// watchJS notes, in every frame from now on, whether the field lost
	// its value.
	watchJS := func(id, want string) string {
		return fmt.Sprintf(`(() => { window.__lost = ""; const f = () => {
			const e = document.getElementById(%q);
			if (!e || e.value !== %q) window.__lost = e ? "value " + JSON.stringify(e.value) : "no field";
			requestAnimationFrame(f); }; requestAnimationFrame(f); })()`, id, want)
	}

	t.Run("TypingContinues", func(t *testing.T) {
		b := newTab(t, browser, true)
		release := holdWasm(t, b)
		defer release()
		b.do("open the sign-in page", chromedp.Navigate(w.url("/signin")), chromedp.WaitVisible("#signin-form"))
		if eval[bool](b, `document.querySelector('.page[data-ready="true"]') !== null`) {
			t.Fatal("the app runs although app.wasm is held")
		}
		b.do("type before the app runs",
			chromedp.SendKeys("#signin-email", "early@example.com"),
			chromedp.SendKeys("#signin-password", "correct horse"))
		eval[chromedp.Void](b, watchJS("signin-password", "correct horse"))
		release()
		b.do("the app takes over", appReady)
		b.waitJS("some frames drawn", `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
		if lost := eval[string](b, `window.__lost`); lost != "" {
			t.Errorf("a frame showed the password field without what was typed: %s", lost)
		}
		if got := eval[string](b, `document.getElementById("signin-email").value`); got != "early@example.com" {
			t.Errorf("email = %q after the app took over", got)
		}
		if got := eval[string](b, `document.activeElement ? document.activeElement.id : ""`); got != "signin-password" {
			t.Errorf("focus on %q, want signin-password", got)
		}
		// Typing goes on where it was, and the app has what was typed.
		b.do("finish typing and submit", chromedp.KeyEvent(" battery\r"), chromedp.WaitVisible("#hello"))
	})

	t.Run("EarlySubmit", func(t *testing.T) {
		b := newTab(t, browser, true)
		release := holdWasm(t, b)
		defer release()
		b.do("open /", chromedp.Navigate(w.url("/")), chromedp.WaitVisible("#signin-form"))
		b.do("type and press Enter before the app runs",
			chromedp.SendKeys("#signin-email", "early@example.com"),
			chromedp.SendKeys("#signin-password", pw+"\r"))
		b.waitJS("the submit waits", `document.getElementById("signin-form").getAttribute("aria-busy") === "true"`)
		if loc := eval[string](b, `location.pathname + location.search`); loc != "/signin" {
			t.Fatalf("the form was submitted natively: at %s", loc)
		}
		release()
		b.do("signed in once the app runs", chromedp.WaitVisible("#hello"))
	})
}
