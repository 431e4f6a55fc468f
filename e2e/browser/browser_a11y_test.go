package browser

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// axeScript is axe-core as `make tools` installs it; e2e/npm's lock file
// pins the version.
const axeScript = "../../build/npm/node_modules/axe-core/axe.min.js"

// mustAxe returns axe-core's source.
func mustAxe(t testing.TB) string {
	t.Helper()
	src, err := os.ReadFile(axeScript)
	if err != nil {
		t.Skipf("no axe-core at %s (make tools installs it)", axeScript)
	}
	return string(src)
}

// axeViolation is one failed axe rule with the elements that fail it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&s, "\n    %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return s.String()
}

// axeViolations runs axe-core's default rules (WCAG 2.x A and AA and its
// best practices) on the page as it is now.
func (b *tab) axeViolations(axe string) []axeViolation {
	b.t.Helper()
	if !eval[bool](b, `typeof axe !== "undefined"`) {
		// Through the protocol, which the page's Content-Security-Policy
		// does not govern.
		eval[chromedp.Void](b, axe)
	}
	return eval[[]axeViolation](b, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`)
}

// checkA11y fails the test for every axe-core violation on the page, and
// keeps a screenshot of a page that has some.
func (b *tab) checkA11y(axe, where string) {
	b.t.Helper()
	vs := b.axeViolations(axe)
	for _, v := range vs {
		b.t.Errorf("%s: %s", where, v)
	}
	if len(vs) > 0 {
		b.screenshot("axe-" + strings.NewReplacer("/", "-", " ", "-").Replace(b.t.Name()+"-"+where))
	}
}

// colorScheme emulates the system's light or dark preference.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// screenSizes are the sizes every screen is checked and pictured at: a
// laptop and a phone.
var screenSizes = []struct {
	name string
	w, h int64
	opts []chromedp.EmulateViewportOption
}{
	{"1280x800", 1280, 800, nil},
	{"390x844", 390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateMobile}},
}

// tourScreens drives a new person through the main screens in b and calls
// visit on each once it has settled, in the light theme and then the dark
// one: the sign-in page, the dashboard with a few tasks, the task editor
// open, and the profile. The tab is left in the light theme.
func tourScreens(t *testing.T, b *tab, w *webapp, email string, visit func(screen, theme string)) {
	t.Helper()
	both := func(screen string) {
		visit(screen, "light")
		b.do("dark", colorScheme("dark"))
		visit(screen, "dark")
		b.do("light", colorScheme("light"))
	}
	b.do("sign-in page", chromedp.Navigate(w.url("/signin")), appReady, chromedp.WaitVisible("#signin-form"))
	both("signin")

	signUpByAPI(t, b, w, email)
	day := func(n int) string { return time.Now().AddDate(0, 0, n).UTC().Format("2006-01-02T15:00:00Z") }
	for _, body := range []string{
		`{"title": "Write the quarterly report", "priority": "high", "tags": ["work"], "dueDate": "` + day(-2) + `"}`,
		`{"title": "Book the train to Lyon", "status": "in_progress", "tags": ["travel"], "dueDate": "` + day(0) + `"}`,
		`{"title": "Buy milk", "status": "done", "priority": "low", "tags": ["home"]}`,
		`{"title": "Call the plumber", "tags": ["home"], "dueDate": "` + day(1) + `"}`,
		`{"title": "Plan the team offsite", "description": "Three venues to compare.", "tags": ["work"], "dueDate": "` + day(9) + `"}`,
	} {
		if st := eval[int](b, fmt.Sprintf(`fetch("/api/tasks", {method: "POST", headers: {"Content-Type": "application/json",
			"Authorization": "Bearer " + window.__token}, body: %q}).then(r => r.status)`, body)); st != 201 {
			t.Fatalf("create task: %d", st)
		}
	}
	b.do("dashboard", chromedp.Navigate(w.url("/")), appReady)
	b.waitJS("tasks listed", countJS(5))
	both("dashboard")

	clickInTask(b, "Write the quarterly report", `button[aria-label^="Edit"]`)
	b.do("editor", chromedp.WaitVisible("#edit-form"))
	eval[chromedp.Void](b, `document.querySelector("#edit-form").scrollIntoView({block: "center"})`)
	both("editor")

	b.do("profile", chromedp.Navigate(w.url("/profile")), appReady, chromedp.WaitVisible("#profile-form"))
	b.waitJS("sessions listed", `document.querySelectorAll("#sessions li").length > 0`)
	both("profile")
}

// TestAccessibility runs axe-core on every main screen at both sizes, in
// the light and the dark theme. Any violation fails.
func TestAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	axe := mustAxe(t)
	w := mustBuildWebapp(t)
	w.start()
	browser := mustBrowser(t)

	t.Run("CanFail", func(t *testing.T) {
		b := newTab(t, browser, true)
		b.do("sign-in page", chromedp.Navigate(w.url("/signin")), appReady)
		eval[chromedp.Void](b, `document.querySelector("main").appendChild(document.createElement("img"))`)
		if vs := b.axeViolations(axe); len(vs) != 1 || vs[0].ID != "image-alt" {
			t.Errorf("axe on an image without alt found %v, want image-alt", vs)
		}
	})
	t.Run("ThemeToggle", func(t *testing.T) { themeToggle(t, browser, w, axe) })
	for _, size := range screenSizes {
		t.Run(size.name, func(t *testing.T) {
			b := newTab(t, browser, true)
			b.do("viewport", chromedp.EmulateViewport(size.w, size.h, size.opts...))
			tourScreens(t, b, w, "axe-"+size.name+"@example.com", func(screen, theme string) {
				b.checkA11y(axe, screen+" "+theme)
			})
		})
	}
}

// pageIsDarkJS is a predicate: the page is painted in the dark theme (its
// background is dark), whatever the system prefers.
const pageIsDarkJS = `(() => { const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
	return r + g + b < 150; })()`

// themeToggle: the header's button overrides the system's theme, both
// ways, with no axe violation in the theme it forces; the choice outlives
// a reload and signing out (which clears the rest of the browser's
// storage).
func themeToggle(t *testing.T, browser context.Context, w *webapp, axe string) {
	b := newTab(t, browser, true)
	signUpByAPI(t, b, w, "axe-theme@example.com")
	eval[chromedp.Void](b, `fetch("/api/tasks", {method: "POST", headers: {"Content-Type": "application/json",
		"Authorization": "Bearer " + window.__token}, body: JSON.stringify({title: "Water the plants", tags: ["home"]})})`)
	b.do("light system", colorScheme("light"))
	b.do("dashboard", chromedp.Navigate(w.url("/")), appReady)
	b.waitJS("task listed", countJS(1))
	if eval[bool](b, pageIsDarkJS) {
		t.Fatal("the page is dark with nothing chosen and a light system")
	}
	press := func(want string) {
		t.Helper()
		click(b, "#theme-toggle")
		b.waitJS("theme "+want, fmt.Sprintf(`(document.documentElement.dataset.theme || "") === %q`, want))
	}
	press("light") // system → light
	press("dark")  // light → dark
	if !eval[bool](b, pageIsDarkJS) {
		t.Fatal("dark chosen on a light system: the page is not dark")
	}
	b.checkA11y(axe, "dashboard dark chosen")

	b.do("reload", chromedp.Reload(), appReady)
	b.waitJS("task listed", countJS(1))
	if !eval[bool](b, pageIsDarkJS) {
		t.Fatal("the dark theme was not remembered over a reload")
	}
	click(b, "#signout")
	b.do("signed out", chromedp.WaitVisible("#signin-form"))
	if got := eval[string](b, `localStorage.getItem("authdash.theme")`); got != "dark" {
		t.Errorf("after signing out the stored theme is %q, want dark", got)
	}
	if !eval[bool](b, pageIsDarkJS) {
		t.Error("the sign-in page after signing out is not dark")
	}
	b.checkA11y(axe, "sign-in dark chosen")

	b.do("dark system", colorScheme("dark"))
	press("") // dark → the system's, which is dark
	if !eval[bool](b, pageIsDarkJS) {
		t.Error("the system's theme on a dark system is not dark")
	}
	press("light")
	if eval[bool](b, pageIsDarkJS) {
		t.Fatal("light chosen on a dark system: the page is dark")
	}
	b.checkA11y(axe, "sign-in light chosen on a dark system")
	b.do("light system", colorScheme("light"))
}
