package browser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
	"github.com/authdash/authdash/e2e/internal/rawapi"
)

// TestOneSocketPerDevice (issue 17): ten tabs of one signed-in person in
// one browser profile hold one socket on the server between them; a change
// made through the API reaches every tab; when the tab holding the socket
// closes another takes it over, and the changes made right after the
// close, while no tab held a socket, reach every remaining tab (the new
// leader resumed from the last point the old leader's socket confirmed, synced).
func TestOneSocketPerDevice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	w := kit.Webapp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin := ln.Addr().String()
	ln.Close()
	w.Env = append(w.Env, "METRICS_ADDR="+admin)
	w.Start()
	sockets := func() float64 { return rawapi.Metric(t, "http://"+admin, "authdash_ws_connections") }
	browser := kit.Browser(t)

	// home is a page of the app's origin that does not run the app: the
	// tabs are opened from it, so closing one closes no other.
	home := browsertest.NewTab(t, browser, true)
	const email = "tabs@example.com"
	browsertest.SignUpByAPI(t, home, w, email)
	api := apiSession(t, w, email)

	const n = 10
	var tabs []*browsertest.Tab
	open := func() *browsertest.Tab {
		b := browsertest.NewTab(t, home.Ctx, false)
		b.Do("dashboard", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(w.URL("/")), browsertest.AppReady, chromedp.WaitVisible("#hello"))
		b.WaitJS(fmt.Sprintf("tab %d live", len(tabs)), `document.querySelector("#live.live-live") !== null`)
		return b
	}
	tabs = append(tabs, open())
	waitMetric(t, "the first tab's socket", sockets, 1)
	for len(tabs) < n {
		tabs = append(tabs, open())
	}
	for i, b := range tabs {
		b.WaitJS(fmt.Sprintf("tab %d live", i), `document.querySelector("#live.live-live") !== null`)
	}
	if got := sockets(); got != 1 {
		t.Fatalf("%d tabs open, the server holds %v sockets, want 1", n, got)
	}
	t.Logf("%d tabs, server sockets: %v", n, sockets())
	// The first tab, alone when it opened, holds the socket; the others
	// wait for the lock.
	held := `navigator.locks.query().then(s => s.held.filter(l => l.name.startsWith("authdash-live:")).length + "/" + s.pending.filter(l => l.name.startsWith("authdash-live:")).length)`
	if got := browsertest.Eval[string](tabs[0], held); got != fmt.Sprintf("1/%d", n-1) {
		t.Errorf("locks held/waiting %s, want 1/%d", got, n-1)
	}

	api.create(t, "made through the API")
	for i, b := range tabs {
		b.WaitJS(fmt.Sprintf("tab %d shows the change", i), browsertest.CountJS(1))
	}

	// The leader closes; changes are made at once, while the others may
	// still be taking over.
	start := time.Now()
	tabs[0].Close()
	tabs = tabs[1:]
	for i := range 5 {
		api.create(t, fmt.Sprintf("right after the close %d", i))
	}
	tabs[0].WaitJS("a new leader", fmt.Sprintf(`%s.then(s => s === "1/%d")`, held, len(tabs)-1))
	took := time.Since(start)
	for i, b := range tabs {
		b.WaitJS(fmt.Sprintf("tab %d shows every change", i), browsertest.CountJS(6))
		b.WaitJS(fmt.Sprintf("tab %d live", i), `document.querySelector("#live.live-live") !== null`)
	}
	api.create(t, "after the takeover")
	for i, b := range tabs {
		b.WaitJS(fmt.Sprintf("tab %d shows the change after the takeover", i), browsertest.CountJS(7))
	}
	waitMetric(t, "one socket after the takeover", sockets, 1)
	t.Logf("leader closed: the lock changed hands within %v; %d tabs, server sockets: %v", took.Round(time.Millisecond), len(tabs), sockets())

	// Signing out in a tab that does not hold the socket ends the
	// session in every tab, and the socket closes.
	last := tabs[len(tabs)-1]
	browsertest.Click(last, "#signout")
	for i, b := range tabs {
		b.Do(fmt.Sprintf("tab %d signed out", i), chromedp.WaitVisible("#signin-form"))
	}
	waitMetric(t, "no socket after sign-out", sockets, 0)
}

// waitMetric waits until a metric reads want (the server counts a closed
// socket once its goroutines end).
func waitMetric(t *testing.T, what string, read func() float64, want float64) {
	t.Helper()
	deadline := time.Now().Add(browsertest.Timeout)
	for {
		got := read()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiClient makes changes as another device of the person would, over the
// API with a bearer token.
type apiClient struct {
	w     *browsertest.Webapp
	token string
}

func apiSession(t *testing.T, w *browsertest.Webapp, email string) *apiClient {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": "benchmark password"})
	resp, err := http.Post(w.URL("/api/auth/login"), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	return &apiClient{w: w, token: out.AccessToken}
}

func (a *apiClient) create(t *testing.T, title string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"title": title})
	req, _ := http.NewRequest("POST", a.w.URL("/api/tasks"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create %q: %d", title, resp.StatusCode)
	}
}
