package browser

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/browsertest"
)

// TestScreenshots pictures the main screens at both sizes, light and dark,
// into the directory named by E2E_SCREENSHOTS (make screenshots:
// docs/screenshots). Without it there is nothing to write, and it skips.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("E2E_SCREENSHOTS")
	if dir == "" {
		t.Skip("make screenshots sets E2E_SCREENSHOTS")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w := kit.Webapp(t)
	w.Start()
	browser := kit.Browser(t)
	for _, size := range browsertest.ScreenSizes {
		t.Run(size.Name, func(t *testing.T) {
			b := browsertest.NewTab(t, browser, true)
			b.Do("viewport", chromedp.EmulateViewport(size.W, size.H, size.Opts...))
			tourScreens(t, b, w, "ada-"+size.Name+"@example.com", func(screen, theme string) {
				// Live, as a person sees it after the first second (not
				// "Connecting…").
				if screen != "signin" {
					b.WaitJS("live", `document.querySelector("#live.live-live") !== null`)
				}
				// Transitions the theme change started have ended.
				b.WaitJS("settled", `document.getAnimations().every(a => a.playState !== "running")`)
				png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
				if err != nil {
					t.Fatalf("screenshot %s: %v", screen, err)
				}
				name := screen + "-" + size.Name + "-" + theme + ".png"
				if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
					t.Fatal(err)
				}
				// The profile's cards go on below the first screen
				// (two-factor, passkeys, devices, sign-in activity, the
				// account's deletion): the whole page too.
				if screen != "profile" {
					return
				}
				full, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatalf("full screenshot %s: %v", screen, err)
				}
				name = screen + "-full-" + size.Name + "-" + theme + ".png"
				if err := os.WriteFile(filepath.Join(dir, name), full, 0o644); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}
