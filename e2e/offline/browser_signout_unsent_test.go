package offline

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/dashtest"
)

// TestSignOutAsksBeforeDiscarding: signing out clears the device, the
// changes made offline with it, so while some wait to be sent the sign-out
// asks first. Staying keeps them and they are sent when the network is
// back; signing out without any waiting asks nothing; signing out anyway
// discards them, and the server never gets them.
func TestSignOutAsksBeforeDiscarding(t *testing.T) {
	d := dashtest.Start(t, &kit)
	w := d.W
	a := d.Person(t, `{"title": "Already there"}`)
	a.WaitJS("live", dashtest.LiveJS)
	waitKept(a, 1)
	a.WaitJS("service worker in control", `navigator.serviceWorker.controller !== null`)
	token := dashtest.APIAs(t, w, a.Email)
	const dialog = `document.querySelector("#signout-unsent-dialog").open`

	dashtest.SetOffline(a, true)
	a.Do("add offline", chromedp.SendKeys("#new-title", "Kept through a sign-out"+kb.Enter))
	a.WaitJS("kept, not sent", dashtest.PendingJS(1))
	browsertest.Click(a, "#signout")
	a.WaitJS("asked", dialog+` && document.querySelector("#signout-unsent-what").textContent.startsWith("1 change ")`)
	if got := browsertest.Eval[string](a, `document.activeElement.id`); got != "signout-unsent-cancel" {
		t.Errorf("the focus is on %q, want the button that keeps the changes", got)
	}
	browsertest.Click(a, "#signout-unsent-cancel")
	a.WaitJS("still signed in, the change kept", "!"+dialog+" && "+dashtest.PendingJS(1)+` && document.querySelector("#signout") !== null`)

	dashtest.SetOffline(a, false)
	a.WaitJS("sent once online", dashtest.PendingJS(0)+" && "+browsertest.TaskJS("Kept through a sign-out"))
	if _, ok := byTitle(t, w, token)["Kept through a sign-out"]; !ok {
		t.Fatal("the change kept through the sign-out's question is not on the server")
	}

	// Signing out anyway discards.
	a.WaitJS("live again", dashtest.LiveJS)
	dashtest.SetOffline(a, true)
	a.Do("add offline again", chromedp.SendKeys("#new-title", "Discarded on purpose"+kb.Enter))
	a.WaitJS("kept again", dashtest.PendingJS(1))
	browsertest.Click(a, "#signout")
	a.WaitJS("asked again", dialog)
	browsertest.Click(a, "#signout-unsent-confirm")
	a.Do("signed out", chromedp.WaitVisible("#signin-form"))
	if k := browsertest.Eval[int](a, keptJS); k != 0 {
		t.Errorf("%d tasks kept after sign-out", k)
	}
	dashtest.SetOffline(a, false)
	// The discarded change is never sent. Before the replay ran in the
	// session's context, its next attempt (at most the reconnection
	// backoff's 1.5 s away) sent it once the network was back: watch for
	// twice that.
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if _, ok := byTitle(t, w, token)["Discarded on purpose"]; ok {
			t.Fatal("the change discarded by signing out reached the server")
		}
	}

	// Signed in again with nothing waiting, Sign out asks nothing.
	b := d.Device(t, a, 2)
	b.WaitJS("live", dashtest.LiveJS)
	browsertest.Click(b, "#signout")
	b.Do("signed out without a question", chromedp.WaitVisible("#signin-form"))
}
