package e2e

import (
	"strings"
	"testing"

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
	defer b.mu.Unlock()
	for _, m := range b.log {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || strings.Contains(m.Text, "401") {
			t.Errorf("console: [%s %s] %s", m.Type, m.Source, m.Text)
		}
	}
}
