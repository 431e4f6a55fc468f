package frontend_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/authdash/authdash/app"
	"github.com/authdash/authdash/app/frontend"
)

func mustSite(t *testing.T, wasm string) *frontend.Site {
	t.Helper()
	app.Register()
	now := time.Now()
	site, err := frontend.New(frontend.Options{
		Version: "v1",
		Build: fstest.MapFS{
			"app.wasm":    {Data: []byte(wasm), ModTime: now},
			"app.wasm.br": {Data: []byte("BR:" + wasm), ModTime: now},
			"app.wasm.gz": {Data: []byte("GZ:" + wasm), ModTime: now.Add(-time.Hour)}, // stale: rebuilt here
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return site
}

func get(t *testing.T, h http.Handler, path, acceptEncoding string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if acceptEncoding != "" {
		r.Header.Set("Accept-Encoding", acceptEncoding)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServesHashedPrecompressedAssets(t *testing.T) {
	site := mustSite(t, "wasm bytes")
	wasmURL := site.Resolve("/web/app.wasm")
	if !strings.HasPrefix(wasmURL, "/web/app.") || !strings.HasSuffix(wasmURL, ".wasm") || wasmURL == "/web/app.wasm" {
		t.Fatalf("Resolve = %q, want a content-hashed name", wasmURL)
	}
	tests := []struct {
		name, path, accept string
		status             int
		encoding, cache    string
		body               string
	}{
		{"Brotli", wasmURL, "gzip, br", 200, "br", "public, max-age=31536000, immutable", "BR:wasm bytes"},
		{"StaleGzipRemade", wasmURL, "gzip", 200, "gzip", "public, max-age=31536000, immutable", ""},
		{"Identity", wasmURL, "", 200, "", "public, max-age=31536000, immutable", "wasm bytes"},
		{"BrotliRefused", wasmURL, "br;q=0", 200, "", "public, max-age=31536000, immutable", "wasm bytes"},
		{"UnhashedRevalidates", "/web/icon.svg", "", 200, "", "no-cache", ""},
		{"UnknownHash", "/web/app.0000000000000000.wasm", "", 404, "", "", ""},
		{"RobotsServedHere", "/robots.txt", "", 200, "", "no-cache", "User-agent: *\nAllow: /\n"},
		{"NoProxyFetch", "/sitemap.xml", "", 404, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, site, tt.path, tt.accept)
			b := body(t, res)
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Content-Encoding"); got != tt.encoding {
				t.Errorf("Content-Encoding = %q, want %q", got, tt.encoding)
			}
			if tt.status == 200 && res.Header.Get("Cache-Control") != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", res.Header.Get("Cache-Control"), tt.cache)
			}
			if tt.body != "" && b != tt.body {
				t.Errorf("body = %q, want %q", b, tt.body)
			}
			if tt.encoding == "gzip" && strings.HasPrefix(b, "GZ:") {
				t.Error("served a gzip file older than app.wasm")
			}
		})
	}
}

// The shell refers to the hashed names, and the service worker changes
// exactly when the build does.
func TestShellAndWorkerFollowTheBuild(t *testing.T) {
	a, b := mustSite(t, "build one"), mustSite(t, "build two")
	js := body(t, get(t, a, "/app.js", ""))
	if !strings.Contains(js, a.Resolve("/web/app.wasm")) {
		t.Error("app.js does not load the hashed app.wasm")
	}
	wa, wb := body(t, get(t, a, "/app-worker.js", "")), body(t, get(t, b, "/app-worker.js", ""))
	if wa == wb {
		t.Error("the service worker is the same for two builds: clients would not update")
	}
	if again := body(t, get(t, mustSite(t, "build one"), "/app-worker.js", "")); again != wa {
		t.Error("the same build gave two service workers: every replica would trigger an update")
	}
	for _, path := range []string{"/", "/signin", "/signup", "/profile"} {
		page := body(t, get(t, a, path, ""))
		if strings.Contains(page, "<script>") || strings.Contains(page, "style=") {
			t.Errorf("%s has an inline script or style, which the CSP forbids", path)
		}
		if !strings.Contains(page, a.Resolve("/web/app.css")) {
			t.Errorf("%s does not link the hashed stylesheet", path)
		}
	}
	if !strings.Contains(wa, `"/signin"`) {
		t.Error("the service worker does not cache the pages for offline use")
	}
}
