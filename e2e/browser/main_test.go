package browser

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/authdash/authdash/e2e/internal/binaries"
)

// builds are the server and app.wasm of this test run, and chromium the
// one Chromium every browser test opens its browser contexts in (it used
// to be one a test: with the builds, 11-19 s before a test's first step).
// Package state, but only for this test binary: TestMain owns it and
// removes it at the end.
var (
	builds   binaries.Builds
	chromium sharedChromium
)

func TestMain(m *testing.M) {
	code := m.Run()
	chromium.stop()
	builds.Remove()
	os.Exit(code)
}

// sharedChromium is the running Chromium (nil before the first browser
// test).
type sharedChromium struct {
	mu      sync.Mutex
	browser context.Context
	cancel  func()
}

// get returns the Chromium of this test run, started on first use and
// again if it has gone (crashed), so that one lost browser does not fail
// every later test.
func (c *sharedChromium) get(t testing.TB) context.Context {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.browser != nil && c.browser.Err() == nil {
		return c.browser
	}
	if c.cancel != nil {
		c.cancel()
	}
	profile, err := builds.TempDir("chromium-")
	if err != nil {
		t.Fatal(err)
	}
	c.browser, c.cancel, err = startChromium(profile)
	if err != nil {
		t.Fatal(err)
	}
	return c.browser
}

func (c *sharedChromium) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}
