// Package browsertest drives the real server binary and app.wasm in headless
// Chromium for the browser tests (e2e/browser, e2e/dashboard,
// e2e/offline): the server as a subprocess (Webapp), tabs in browser
// contexts of one shared Chromium (Tab) with their console recorded, and
// the steps and page predicates several tests take (page.go).
package browsertest

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

// Kit is what one test binary's browser tests share: the server and
// app.wasm built once (e2e/internal/binaries) and one Chromium, in which
// every test opens browser contexts of its own (it used to be one Chromium
// and one build a test: 11-19 s before each test's first step). The
// package's TestMain owns its Kit and closes it at the end.
type Kit struct {
	builds binaries.Builds

	mu      sync.Mutex
	browser context.Context // the running Chromium; nil before the first test
	cancel  func()
}

// chromium returns the Chromium of this test run, started on first use and
// again if it has gone (crashed), so that one lost browser does not fail
// every later test.
func (k *Kit) chromium(t testing.TB) context.Context {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.browser != nil && k.browser.Err() == nil {
		return k.browser
	}
	if k.cancel != nil {
		k.cancel()
	}
	profile, err := k.builds.TempDir("chromium-")
	if err != nil {
		t.Fatal(err)
	}
	k.browser, k.cancel, err = startChromium(profile)
	if err != nil {
		t.Fatal(err)
	}
	return k.browser
}

// Close ends the Chromium and removes the builds.
func (k *Kit) Close() {
	k.mu.Lock()
	if k.cancel != nil {
		k.cancel()
	}
	k.mu.Unlock()
	k.builds.Remove()
}

// ChromiumPath is Debian's Chromium, which `make tools` installs.
const ChromiumPath = "/usr/bin/chromium"

// Timeout bounds each browser step; a step that waits longer has
// failed (the app never showed what it should).
const Timeout = 30 * time.Second

// Webapp is the real server binary with a freshly built app.wasm, run as a
// subprocess from a directory of its own.
type Webapp struct {
	T       testing.TB
	Dir     string // working directory: build/web/app.wasm and the data
	bin     string
	Addr    string // host:port, fixed after the first start
	cmd     *exec.Cmd
	waitErr chan error
	Logs    *testkit.Logs
	Env     []string // set before start: more of the server's environment
}

// Webapp gives the test a directory of its own with the server
// binary and app.wasm of this test run (built once, by the Kit) and room
// for its data.
func (k *Kit) Webapp(t testing.TB) *Webapp {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Skipf("no Chromium at %s (make tools installs it)", ChromiumPath)
	}
	bin := k.builds.Server(t)
	wasm := k.builds.AppWasm(t)
	dir := t.TempDir()
	web := filepath.Join(dir, "build", "web")
	if err := os.MkdirAll(web, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := binaries.LinkOrCopy(wasm, filepath.Join(web, "app.wasm")); err != nil {
		t.Fatal(err)
	}
	return &Webapp{T: t, Dir: dir, bin: bin, Addr: "127.0.0.1:0", Logs: &testkit.Logs{}}
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)|"msg":"listening","addr":"([^"]+)"`)

// Start runs the server and waits until it listens. A restart reuses the
// address, as a server coming back after an outage would.
func (w *Webapp) Start() {
	t := w.T
	t.Helper()
	cmd := exec.Command(w.bin)
	cmd.Dir = w.Dir
	cmd.Env = append(os.Environ(), "ADDR="+w.Addr, "DATA_DIR="+filepath.Join(w.Dir, "data"))
	cmd.Env = append(cmd.Env, w.Env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w.Logs
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
			fmt.Fprintln(w.Logs, line)
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
		w.Addr = a
	case err := <-w.waitErr:
		t.Fatalf("server exited: %v\n%s", err, w.Logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not listen in time\n%s", w.Logs)
	}
	t.Cleanup(w.Stop)
}

// Stop ends the server gracefully; it is safe to call twice.
func (w *Webapp) Stop() {
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

// Kill ends the server at once, as a crash or a lost network would: no
// goodbye on the sockets.
func (w *Webapp) Kill() {
	w.T.Helper()
	if w.cmd == nil {
		return
	}
	w.cmd.Process.Kill()
	<-w.waitErr
	w.cmd = nil
}

func (w *Webapp) URL(path string) string { return "http://" + w.Addr + path }

// Browser gives the test a browser of its own: a new browser context
// (its own cookies, storage, cache and service workers, as a fresh
// profile has) in the Chromium of this test run (the Kit's), which
// starts once instead of once a test. Tabs opened from it without
// isolation share its cookies, as tabs of one profile do. A benchmark
// gets a Chromium of its own (MustOwnBrowser), as before, so that what it
// measures (a first visit, a repeat visit from the disk cache) stays
// comparable.
func (k *Kit) Browser(t testing.TB) context.Context {
	t.Helper()
	if _, bench := t.(*testing.B); bench {
		return MustOwnBrowser(t)
	}
	root := k.chromium(t)
	bctx, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("open a browser context: %v", err)
	}
	return bctx
}

// MustOwnBrowser starts a Chromium of the test's own, with a fresh profile
// on disk. A test needs it for what a browser context of Kit.Browser does
// not have: every context that CDP creates is off the record, like an
// incognito window, and Chromium offers no installation there.
func MustOwnBrowser(t testing.TB) context.Context {
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
		chromedp.ExecPath(ChromiumPath),
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

// Tab is one page in a browser context of its own (its own cookies and
// storage), with every console message recorded.
type Tab struct {
	T   testing.TB
	Ctx context.Context
	// Email is the person's, when a test signed one up (dashtest.Dash.Person).
	Email string
	Mu    sync.Mutex
	Log   []chromedp.ConsoleMessage
	// Logged is signalled (without blocking) on every message.
	Logged chan struct{}
	// Workers are the service workers dashtest.SetOffline attached to.
	Workers map[target.ID]context.Context
	// close ends the tab (NewTab's context).
	close context.CancelFunc
}

// Close closes the tab as a person does, before the test ends (the test's
// cleanup closes it otherwise).
func (b *Tab) Close() { b.close() }

// NewTab opens a tab; isolated means in a new browser context (another
// "person"), else in the browser's default context (another tab of the same
// person, sharing cookies).
func NewTab(t testing.TB, browser context.Context, isolated bool) *Tab {
	t.Helper()
	var opts []chromedp.ContextOption
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(browser, opts...)
	t.Cleanup(cancel)
	tb := &Tab{T: t, Ctx: ctx, Logged: make(chan struct{}, 1), close: cancel}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			tb.Mu.Lock()
			tb.Log = append(tb.Log, m)
			tb.Mu.Unlock()
			select {
			case tb.Logged <- struct{}{}:
			default:
			}
		}
	}()
	return tb
}

// AppReady waits until the app runs: the server's prerendered page is only
// the shell, and what is typed into it before the app starts is lost.
var AppReady = chromedp.WaitVisible(`.page[data-ready="true"]`)

// Do runs steps with the step timeout and fails the test on error.
func (b *Tab) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.Screenshot("failed-" + strings.NewReplacer("/", "-", " ", "-").Replace(b.T.Name()))
		b.T.Fatalf("%s: %v\nconsole:\n%s", what, err, b.Console())
	}
}

// Eval evaluates a JavaScript expression.
func Eval[T any](b *Tab, expr string) T {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.T.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// WaitJS waits until a JavaScript predicate holds. It checks at an
// interval rather than on DOM mutations: go-app changes text by setting a
// text node's value, which the mutation mode does not watch.
func (b *Tab) WaitJS(what, expr string) {
	b.T.Helper()
	b.Do(what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(Timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
}

func (b *Tab) Console() string {
	b.Mu.Lock()
	defer b.Mu.Unlock()
	var s strings.Builder
	for _, m := range b.Log {
		fmt.Fprintf(&s, "  [%s %s] %s\n", m.Type, m.Source, m.Text)
	}
	return s.String()
}

// CSPViolations returns the Content-Security-Policy violations the page
// reported.
func (b *Tab) CSPViolations() []string {
	b.Mu.Lock()
	defer b.Mu.Unlock()
	var out []string
	for _, m := range b.Log {
		if strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to") {
			out = append(out, m.Text)
		}
	}
	return out
}

// WaitConsole waits until a console message contains text.
func (b *Tab) WaitConsole(text string) bool {
	deadline := time.After(Timeout)
	for {
		b.Mu.Lock()
		found := slices.ContainsFunc(b.Log, func(m chromedp.ConsoleMessage) bool { return strings.Contains(m.Text, text) })
		b.Mu.Unlock()
		if found {
			return true
		}
		select {
		case <-b.Logged:
		case <-deadline:
			return false
		}
	}
}

// artifacts is e2e/artifacts, where failed steps leave screenshots, seen
// from this package's directory.
const artifacts = "../artifacts"

// Screenshot saves a full-page screenshot under e2e/artifacts.
func (b *Tab) Screenshot(name string) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.T.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		b.T.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifacts, name+".png"), png, 0o644); err != nil {
		b.T.Fatal(err)
	}
}
