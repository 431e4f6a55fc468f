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

	"github.com/authdash/authdash/e2e/internal/browsertest"
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
// best practices) on the page as it is now, and Label in Name (WCAG 2.5.3,
// level A), which axe 4.10 ships turned off as experimental and later
// versions run by default.
func axeViolations(b *browsertest.Tab, axe string) []axeViolation {
	b.T.Helper()
	if !browsertest.Eval[bool](b, `typeof axe !== "undefined"`) {
		// Through the protocol, which the page's Content-Security-Policy
		// does not govern.
		browsertest.Eval[chromedp.Void](b, axe)
	}
	return browsertest.Eval[[]axeViolation](b, `axe.run(document, {resultTypes: ["violations"],
		rules: {"label-content-name-mismatch": {enabled: true}}}).then(r => r.violations)`)
}

// checkA11y fails the test for every axe-core violation on the page, and
// keeps a screenshot of a page that has some.
func checkA11y(b *browsertest.Tab, axe, where string) {
	b.T.Helper()
	vs := axeViolations(b, axe)
	for _, v := range vs {
		b.T.Errorf("%s: %s", where, v)
	}
	if len(vs) > 0 {
		b.Screenshot("axe-" + strings.NewReplacer("/", "-", " ", "-").Replace(b.T.Name()+"-"+where))
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

// tourScreens drives a new person through the main screens in b and calls
// visit on each once it has settled, in the light theme and then the dark
// one: the sign-in page, the dashboard with a few tasks, the task editor
// open, and the profile. The tab is left in the light theme.
func tourScreens(t *testing.T, b *browsertest.Tab, w *browsertest.Webapp, email string, visit func(screen, theme string)) {
	t.Helper()
	both := func(screen string) {
		visit(screen, "light")
		b.Do("dark", colorScheme("dark"))
		visit(screen, "dark")
		b.Do("light", colorScheme("light"))
	}
	b.Do("sign-in page", chromedp.Navigate(w.URL("/signin")), browsertest.AppReady, chromedp.WaitVisible("#signin-form"))
	both("signin")

	browsertest.SignUpByAPI(t, b, w, email)
	day := func(n int) string { return time.Now().AddDate(0, 0, n).UTC().Format("2006-01-02T15:00:00Z") }
	for _, body := range []string{
		`{"title": "Write the quarterly report", "priority": "high", "tags": ["work"], "dueDate": "` + day(-2) + `"}`,
		`{"title": "Book the train to Lyon", "status": "in_progress", "tags": ["travel"], "dueDate": "` + day(0) + `"}`,
		`{"title": "Buy milk", "status": "done", "priority": "low", "tags": ["home"]}`,
		`{"title": "Call the plumber", "tags": ["home"], "dueDate": "` + day(1) + `"}`,
		`{"title": "Plan the team offsite", "description": "Three venues to compare.", "tags": ["work"], "dueDate": "` + day(9) + `"}`,
	} {
		if st := browsertest.Eval[int](b, fmt.Sprintf(`fetch("/api/tasks", {method: "POST", headers: {"Content-Type": "application/json",
			"Authorization": "Bearer " + window.__token}, body: %q}).then(r => r.status)`, body)); st != 201 {
			t.Fatalf("create task: %d", st)
		}
	}
	b.Do("dashboard", chromedp.Navigate(w.URL("/")), browsertest.AppReady)
	b.WaitJS("tasks listed", browsertest.CountJS(5))
	both("dashboard")

	browsertest.ClickInTask(b, "Write the quarterly report", `button[aria-label^="Edit"]`)
	b.Do("editor", chromedp.WaitVisible("#edit-form"))
	browsertest.Eval[chromedp.Void](b, `document.querySelector("#edit-form").scrollIntoView({block: "center"})`)
	both("editor")

	b.Do("profile", chromedp.Navigate(w.URL("/profile")), browsertest.AppReady, chromedp.WaitVisible("#profile-form"))
	b.WaitJS("sessions listed", `document.querySelectorAll("#sessions li").length > 0`)
	both("profile")
}

// TestAccessibility runs axe-core on every main screen at both sizes, in
// the light and the dark theme. Any violation fails.
func TestAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and drives Chromium")
	}
	axe := mustAxe(t)
	w := kit.Webapp(t)
	w.Start()
	browser := kit.Browser(t)

	t.Run("CanFail", func(t *testing.T) {
		b := browsertest.NewTab(t, browser, true)
		b.Do("sign-in page", chromedp.Navigate(w.URL("/signin")), browsertest.AppReady)
		browsertest.Eval[chromedp.Void](b, `document.querySelector("main").appendChild(document.createElement("img"))`)
		if vs := axeViolations(b, axe); len(vs) != 1 || vs[0].ID != "image-alt" {
			t.Errorf("axe on an image without alt found %v, want image-alt", vs)
		}
	})
	t.Run("ThemeToggle", func(t *testing.T) { themeToggle(t, browser, w, axe) })
	for _, size := range browsertest.ScreenSizes {
		t.Run(size.Name, func(t *testing.T) {
			b := browsertest.NewTab(t, browser, true)
			b.Do("viewport", chromedp.EmulateViewport(size.W, size.H, size.Opts...))
			tourScreens(t, b, w, "axe-"+size.Name+"@example.com", func(screen, theme string) {
				checkA11y(b, axe, screen+" "+theme)
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
func themeToggle(t *testing.T, browser context.Context, w *browsertest.Webapp, axe string) {
	b := browsertest.NewTab(t, browser, true)
	browsertest.SignUpByAPI(t, b, w, "axe-theme@example.com")
	browsertest.Eval[chromedp.Void](b, `fetch("/api/tasks", {method: "POST", headers: {"Content-Type": "application/json",
		"Authorization": "Bearer " + window.__token}, body: JSON.stringify({title: "Water the plants", tags: ["home"]})})`)
	b.Do("light system", colorScheme("light"))
	b.Do("dashboard", chromedp.Navigate(w.URL("/")), browsertest.AppReady)
	b.WaitJS("task listed", browsertest.CountJS(1))
	if browsertest.Eval[bool](b, pageIsDarkJS) {
		t.Fatal("the page is dark with nothing chosen and a light system")
	}
	press := func(want string) {
		t.Helper()
		browsertest.Click(b, "#theme-toggle")
		b.WaitJS("theme "+want, fmt.Sprintf(`(document.documentElement.dataset.theme || "") === %q`, want))
	}
	press("light") // system → light
	press("dark")  // light → dark
	if !browsertest.Eval[bool](b, pageIsDarkJS) {
		t.Fatal("dark chosen on a light system: the page is not dark")
	}
	checkA11y(b, axe, "dashboard dark chosen")

	b.Do("reload", chromedp.Reload(), browsertest.AppReady)
	b.WaitJS("task listed", browsertest.CountJS(1))
	if !browsertest.Eval[bool](b, pageIsDarkJS) {
		t.Fatal("the dark theme was not remembered over a reload")
	}
	browsertest.Click(b, "#signout")
	b.Do("signed out", chromedp.WaitVisible("#signin-form"))
	if got := browsertest.Eval[string](b, `localStorage.getItem("authdash.theme")`); got != "dark" {
		t.Errorf("after signing out the stored theme is %q, want dark", got)
	}
	if !browsertest.Eval[bool](b, pageIsDarkJS) {
		t.Error("the sign-in page after signing out is not dark")
	}
	checkA11y(b, axe, "sign-in dark chosen")

	b.Do("dark system", colorScheme("dark"))
	press("") // dark → the system's, which is dark
	if !browsertest.Eval[bool](b, pageIsDarkJS) {
		t.Error("the system's theme on a dark system is not dark")
	}
	press("light")
	if browsertest.Eval[bool](b, pageIsDarkJS) {
		t.Fatal("light chosen on a dark system: the page is dark")
	}
	checkA11y(b, axe, "sign-in light chosen on a dark system")
	b.Do("light system", colorScheme("light"))
}
