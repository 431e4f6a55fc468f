// Package binaries builds what the cross-process and browser tests run, the
// server (cmd/authdash) and app.wasm, once per test binary and with the
// flags of the Makefile. Each test used to link its own pair: 11-19 s
// before its first step on a busy two-core machine, with twenty tests a
// large share of a package's run. Built lazily, so that a package or a
// -run that needs no app.wasm builds none.
package binaries

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Builds are one test binary's builds. The package's TestMain owns its
// Builds and calls Remove at the end.
type Builds struct {
	mu     sync.Mutex
	dir    string
	server artifact
	wasm   artifact
}

// artifact is one built file; a failed build is remembered, so that every
// later test reports the same error instead of building again.
type artifact struct {
	path string
	err  error
	done bool
}

// Server returns the path of cmd/authdash, built with the flags of
// `make build` and version "e2e".
func (s *Builds) Server(t testing.TB) string {
	t.Helper()
	return s.get(t, &s.server, "authdash", nil, "-ldflags", "-X main.version=e2e", "./cmd/authdash")
}

// AppWasm returns the path of app.wasm, built as `make wasm` does.
func (s *Builds) AppWasm(t testing.TB) string {
	t.Helper()
	return s.get(t, &s.wasm, "app.wasm", []string{"GOOS=js", "GOARCH=wasm"}, "-ldflags", "-s -w", "./wasm")
}

func (s *Builds) get(t testing.TB, a *artifact, name string, env []string, args ...string) string {
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

// TempDir returns a directory a new one is made in for this test binary's
// run, removed with the builds (a shared Chromium's profile goes there).
func (s *Builds) TempDir(pattern string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mkdir(); err != nil {
		return "", err
	}
	return os.MkdirTemp(s.dir, pattern)
}

func (s *Builds) mkdir() error {
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

func (s *Builds) build(name string, env []string, args ...string) (string, error) {
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

// Remove deletes what was built.
func (s *Builds) Remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// goBuild runs go build at the module root with the flags of the Makefile
// and the Dockerfile (no cgo, -trimpath). Building every binary the same
// way lets the test builds and the Dockerfile check share one build cache:
// on a cold cache each other combination compiles every dependency again
// (two minutes and more on two cores).
func goBuild(env []string, args ...string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	cmd := exec.Command("go", append([]string{"build", "-trimpath"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v: %w\n%s", args, err, out)
	}
	return nil
}

// ModuleRoot returns the directory of go.mod above the working directory,
// which is the package's own while its tests run: the tests of every
// package below e2e find the repository's scripts and files from there.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// LinkOrCopy puts src at dst: a hard link where it can (the same file
// system), else a copy. Not a symbolic link: a test may write beside it
// (app.wasm.br) and the server must see a regular file in its own tree.
func LinkOrCopy(src, dst string) error {
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
