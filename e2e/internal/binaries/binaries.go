package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// builds are what every test runs: the server and app.wasm, built once
// per `go test` run, and one Chromium. Each test used to link its own pair
// and start its own Chromium, 11-19 s before its first step on a busy
// two-core machine: with twenty tests a large share of the package's run.
// Made lazily, so that `-run TestCluster` builds no app.wasm and starts no
// browser. Package state, but only for this test binary: TestMain owns it
// and removes it at the end.
var builds sharedBuilds

func TestMain(m *testing.M) {
	code := m.Run()
	builds.remove()
	os.Exit(code)
}

type sharedBuilds struct {
	mu     sync.Mutex
	dir    string
	server artifact
	wasm   artifact
	// browser is the running Chromium (nil before the first browser test);
	// a test opens browser contexts in it (mustBrowser).
	browser       context.Context
	cancelBrowser func()
}

// artifact is one built file; a failed build is remembered, so that every
// later test reports the same error instead of building again.
type artifact struct {
	path string
	err  error
	done bool
}

// serverBin returns the path of cmd/authdash, built with the flags of
// `make build` and version "e2e".
func (s *sharedBuilds) serverBin(t testing.TB) string {
	t.Helper()
	return s.get(t, &s.server, "authdash", nil, "-ldflags", "-X main.version=e2e", "./cmd/authdash")
}

// appWasm returns the path of app.wasm, built as `make wasm` does.
func (s *sharedBuilds) appWasm(t testing.TB) string {
	t.Helper()
	return s.get(t, &s.wasm, "app.wasm", []string{"GOOS=js", "GOARCH=wasm"}, "-ldflags", "-s -w", "./wasm")
}

func (s *sharedBuilds) get(t testing.TB, a *artifact, name string, env []string, args ...string) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !a.done {
		a.done = true
		a.path, a.err = s.build(name, env, args...)
	}
	if a.err != nil {
		t.Fatal(a.err)
	}
	return a.path
}

// chromium returns the Chromium of this test run, started on first use
// and again if it has gone (crashed), so that one lost browser does not
// fail every later test.
func (s *sharedBuilds) chromium(t testing.TB) context.Context {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.browser != nil && s.browser.Err() == nil {
		return s.browser
	}
	if s.cancelBrowser != nil {
		s.cancelBrowser()
	}
	if err := s.mkdir(); err != nil {
		t.Fatal(err)
	}
	profile, err := os.MkdirTemp(s.dir, "chromium-")
	if err != nil {
		t.Fatal(err)
	}
	s.browser, s.cancelBrowser, err = startChromium(profile)
	if err != nil {
		t.Fatal(err)
	}
	return s.browser
}

func (s *sharedBuilds) mkdir() error {
	if s.dir != "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "authdash-e2e-")
	if err != nil {
		return err
	}
	s.dir = dir
	return nil
}

func (s *sharedBuilds) build(name string, env []string, args ...string) (string, error) {
	if err := s.mkdir(); err != nil {
		return "", err
	}
	out := filepath.Join(s.dir, name)
	// The package path comes last in args: -o goes before it.
	last := len(args) - 1
	full := append(append(append([]string{}, args[:last]...), "-o", out), args[last])
	if err := goBuild(env, full...); err != nil {
		return "", err
	}
	return out, nil
}

func (s *sharedBuilds) remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelBrowser != nil {
		s.cancelBrowser()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// linkOrCopy puts src at dst: a hard link where it can (the same file
// system), else a copy. Not a symbolic link: a test may write beside it
// (app.wasm.br) and the server must see a regular file in its own tree.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}
