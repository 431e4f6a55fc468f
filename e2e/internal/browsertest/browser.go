package browser

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/authdash/authdash/e2e/internal/binaries"
	"github.com/authdash/authdash/internal/testkit"
)

// chromiumPath is Debian's Chromium, which `make tools` installs.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds each browser step; a step that waits longer has
// failed (the app never showed what it should).
const browserTimeout = 30 * time.Second

// webapp is the real server binary with a freshly built app.wasm, run as a
// subprocess from a directory of its own.
type webapp struct {
	t       testing.TB
	dir     string // working directory: build/web/app.wasm and the data
	bin     string
	addr    string // host:port, fixed after the first start
	cmd     *exec.Cmd
	waitErr chan error
	logs    *testkit.Logs
	env     []string // set before start: more of the server's environment
}

// mustBuildWebapp gives the test a directory of its own with the server
// binary and app.wasm of this test run (built once, by builds) and room
// for its data.
func mustBuildWebapp(t testing.TB) *webapp {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no Chromium at %s (make tools installs it)", chromiumPath)
	}
	bin := builds.Server(t)
	wasm := builds.AppWasm(t)
	dir := t.TempDir()
	web := filepath.Join(dir, "build", "web")
	if err := os.MkdirAll(web, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := binaries.LinkOrCopy(wasm, filepath.Join(web, "app.wasm")); err != nil {
		t.Fatal(err)
	}
	return &webapp{t: t, dir: dir, bin: bin, addr: "127.0.0.1:0", logs: &testkit.Logs{}}
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)|"msg":"listening","addr":"([^"]+)"`)

// start runs the server and waits until it listens. A restart reuses the
// address, as a server coming back after an outage would.
func (w *webapp) start() {
	t := w.t
	t.Helper()
	cmd := exec.Command(w.bin)
	cmd.Dir = w.dir
	cmd.Env = append(os.Environ(), "ADDR="+w.addr, "DATA_DIR="+filepath.Join(w.dir, "data"))
	cmd.Env = append(cmd.Env, w.env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.cmd = cmd
	w.waitErr = make(chan error, 1)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(w.logs, line)
			if m := listeningRE.FindStringSubmatch(line); m != nil && !found {
				found = true
				addr <- m[1] + m[2]
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { w.waitErr <- cmd.Wait() }()
	select {
	case a := <-addr:
		w.addr = a
	case err := <-w.waitErr:
		t.Fatalf("server exited: %v\n%s", err, w.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not listen in time\n%s", w.logs)
	}
	t.Cleanup(w.stop)
}

// stop ends the server gracefully; it is safe to call twice.
func (w *webapp) stop() {
	if w.cmd == nil {
		return
	}
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.waitErr:
	case <-time.After(15 * time.Second):
		w.cmd.Process.Kill()
		<-w.waitErr
	}
	w.cmd = nil
}

func (w *webapp) url(path string) string { return "http://" + w.addr + path }

// mustBrowser gives the test a browser of its own: a new browser context
// (its own cookies, storage, cache and service workers, as a fresh
// profile has) in the Chromium of this test run (chromium), which
// starts once instead of once a test. Tabs opened from it without
// isolation share its cookies, as tabs of one profile do. A benchmark
// gets a Chromium of its own (mustOwnBrowser), as before, so that what it
// measures (a first visit, a repeat visit from the disk cache) stays
// comparable.
func mustBrowser(t testing.TB) context.Context {
	t.Helper()
	if _, bench := t.(*testing.B); bench {
		return mustOwnBrowser(t)
	}
	root := chromium.get(t)
	bctx, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("open a browser context: %v", err)
	}
	return bctx
}

// mustOwnBrowser starts a Chromium of the test's own, with a fresh profile
// on disk. A test needs it for what a browser context of mustBrowser does
// not have: every context that CDP creates is off the record, like an
// incognito window, and Chromium offers no installation there.
func mustOwnBrowser(t testing.TB) context.Context {
	t.Helper()
	bctx, cancel, err := startChromium(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return bctx
}

// startChromium starts a headless Chromium with a fresh profile in dir; it
// runs until cancel is called.
func startChromium(dir string) (_ context.Context, cancel func(), _ error) {
	opts := append([]chromedp.ExecAllocatorOption{},
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
	)
	// E2E_HEADFUL=1 shows the window (on $DISPLAY, e.g. under xvfb-run),
	// to watch one test: docs/DEVELOPING.md.
	if os.Getenv("E2E_HEADFUL") == "" {
		opts = append(opts, chromedp.Headless)
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	cancel = func() { cancelB(); cancelA() }
	if err := chromedp.Do(bctx); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("start Chromium: %w", err)
	}
	return bctx, cancel, nil
}

// tab is one page in a browser context of its own (its own cookies and
// storage), with every console message recorded.
type tab struct {
	t   testing.TB
	ctx context.Context
	// email is the person's, when a test signed one up (dash.person).
	email string
	mu    sync.Mutex
	log   []chromedp.ConsoleMessage
	// logged is signalled (without blocking) on every message.
	logged chan struct{}
	// workers are the service workers setOffline attached to.
	workers map[target.ID]context.Context
}

// newTab opens a tab; isolated means in a new browser context (another
// "person"), else in the browser's default context (another tab of the same
// person, sharing cookies).
func newTab(t testing.TB, browser context.Context, isolated bool) *tab {
	t.Helper()
	var opts []chromedp.ContextOption
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(browser, opts...)
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, logged: make(chan struct{}, 1)}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.log = append(tb.log, m)
			tb.mu.Unlock()
			select {
			case tb.logged <- struct{}{}:
			default:
			}
		}
	}()
	return tb
}

// appReady waits until the app runs: the server's prerendered page is only
// the shell, and what is typed into it before the app starts is lost.
var appReady = chromedp.WaitVisible(`.page[data-ready="true"]`)

// do runs steps with the step timeout and fails the test on error.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot("failed-" + strings.NewReplacer("/", "-", " ", "-").Replace(b.t.Name()))
		b.t.Fatalf("%s: %v\nconsole:\n%s", what, err, b.console())
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// waitJS waits until a JavaScript predicate holds. It checks at an
// interval rather than on DOM mutations: go-app changes text by setting a
// text node's value, which the mutation mode does not watch.
func (b *tab) waitJS(what, expr string) {
	b.t.Helper()
	b.do(what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(browserTimeout), chromedp.WithPollingInterval(50*time.Millisecond)))
}

func (b *tab) console() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s strings.Builder
	for _, m := range b.log {
		fmt.Fprintf(&s, "  [%s %s] %s\n", m.Type, m.Source, m.Text)
	}
	return s.String()
}

// cspViolations returns the Content-Security-Policy violations the page
// reported.
func (b *tab) cspViolations() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.log {
		if strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to") {
			out = append(out, m.Text)
		}
	}
	return out
}

// waitConsole waits until a console message contains text.
func (b *tab) waitConsole(text string) bool {
	deadline := time.After(browserTimeout)
	for {
		b.mu.Lock()
		found := slices.ContainsFunc(b.log, func(m chromedp.ConsoleMessage) bool { return strings.Contains(m.Text, text) })
		b.mu.Unlock()
		if found {
			return true
		}
		select {
		case <-b.logged:
		case <-deadline:
			return false
		}
	}
}

// artifacts is e2e/artifacts, where failed steps leave screenshots, seen
// from this package's directory.
const artifacts = "../artifacts"

// screenshot saves a full-page screenshot under e2e/artifacts.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifacts, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
