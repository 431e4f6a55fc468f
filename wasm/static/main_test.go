//go:build !wasm

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The static pages get the same fixes as the served ones.
func TestStaticPagesFixed(t *testing.T) {
	build, out := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(build, "app.wasm"), []byte("wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-out", out, "-build", build, "-api", "https://api.example.com"}); err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join(out, "app.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `authdashInstantiate("/web/app.`) || strings.Contains(string(js), `fetchWithProgress("/web/app.`) {
		t.Error("the static app.js is go-app's own, which compiles app.wasm on the page from a stream of its making")
	}
	// The worker that compiles app.wasm is on the site.
	if m, _ := filepath.Glob(filepath.Join(out, "web", "compile.*.js")); len(m) != 1 {
		t.Errorf("web/compile.*.js: %v, want the compiling worker", m)
	}
	for _, name := range []string{"index.html", "signin.html", "signup.html", "profile.html"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if s := string(b); strings.Contains(s, `disabled="false"`) || strings.Contains(s, `og:url`) {
			t.Errorf("%s is not fixed", name)
		}
	}
}
