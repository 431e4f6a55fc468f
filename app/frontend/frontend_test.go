package frontend_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
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

// TestVaryOnce: a precompressed asset says Vary: Accept-Encoding once,
// served alone (from a CDN's origin) or behind the API server's
// compression, which says it for every response.
func TestVaryOnce(t *testing.T) {
	site := mustSite(t, "wasm bytes")
	path := site.Resolve("/web/app.wasm")
	compressed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		site.ServeHTTP(w, r)
	})
	for name, h := range map[string]http.Handler{"Alone": site, "BehindCompression": compressed} {
		t.Run(name, func(t *testing.T) {
			res := get(t, h, path, "gzip, br")
			if got := res.Header.Values("Vary"); len(got) != 1 || got[0] != "Accept-Encoding" {
				t.Errorf("Vary = %q, want Accept-Encoding once", got)
			}
		})
	}
}

// The shell refers to the hashed names, and the service worker changes
// exactly when the build does.
func TestShellAndWorkerFollowTheBuild(t *testing.T) {
	a, b := mustSite(t, "build one"), mustSite(t, "build two")
	js := body(t, get(t, a, "/app.js", ""))
	// app.wasm is compiled in the worker, straight from fetch, which the
	// service worker keeps for offline use.
	compiler := a.Resolve("/web/compile.js")
	if want := fmt.Sprintf(`authdashInstantiate(%q, %q,`, a.Resolve("/web/app.wasm"), compiler); !strings.Contains(js, want) {
		t.Errorf("app.js does not compile the hashed app.wasm in the worker: no %s", want)
	}
	if res := get(t, a, compiler, ""); res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(body(t, res), "WebAssembly.compileStreaming(fetch(e.data))") {
		t.Errorf("%s: %d %s, not the worker compiling app.wasm from fetch", compiler, res.StatusCode, res.Header.Get("Content-Type"))
	}
	// boot.js reads where a visitor without a session may not stay.
	if want := `"AUTHDASH_SESSION_ROUTES":"` + strings.Join(app.SessionRoutes(), ",") + `"`; !strings.Contains(js, want) {
		t.Errorf("app.js's env lacks %s", want)
	}
	if strings.Contains(js, `fetchWithProgress("`) {
		t.Error("app.js compiles app.wasm from go-app's progress stream, whose compiled code the browser cannot keep")
	}
	if res := get(t, a, "/app.js", ""); res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("Content-Type") != "application/javascript" {
		t.Errorf("app.js served with Cache-Control %q, Content-Type %q", res.Header.Get("Cache-Control"), res.Header.Get("Content-Type"))
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
	for _, js := range []string{"/web/boot.js", "/web/compile.js"} {
		if !strings.Contains(wa, a.Resolve(js)) {
			t.Errorf("the service worker does not cache %s", js)
		}
	}
	if !strings.Contains(wa, `"/signin"`) {
		t.Error("the service worker does not cache the pages for offline use")
	}
}

// Pages come as go-app prerenders them, less what it gets wrong.
func TestPrerenderedPages(t *testing.T) {
	site := mustSite(t, "wasm bytes")
	for _, path := range app.Routes() {
		t.Run(path, func(t *testing.T) {
			res := get(t, site, path, "")
			page := body(t, res)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if n, _ := strconv.Atoi(res.Header.Get("Content-Length")); n != len(page) {
				t.Errorf("Content-Length %d, body %d bytes", n, len(page))
			}
			// Any value of a boolean attribute means true in HTML.
			if m := regexp.MustCompile(` [a-z]+="false"`).FindString(page); m != "" {
				t.Errorf("a boolean attribute written as false reads as true: %q", m)
			}
			if strings.Contains(page, `"og:url"`) || strings.Contains(page, `"og:image"`) {
				t.Error("og:url or og:image without a domain to name")
			}
			if boot := `src="` + site.Resolve("/web/boot.js") + `"`; !regexp.MustCompile(`<script [^>]*` + regexp.QuoteMeta(boot)).MatchString(page) {
				t.Errorf("boot.js (%s) is not loaded", boot)
			}
		})
	}
	for _, path := range []string{"/signin", "/signup"} {
		// Submitted before the app runs, a GET form would put the password
		// in the URL.
		if page := body(t, get(t, site, path, "")); !regexp.MustCompile(`<form [^>]*method="post"`).MatchString(page) {
			t.Errorf("%s: the form does not post", path)
		}
	}
	signin := body(t, get(t, site, "/signin", ""))
	if !regexp.MustCompile(`<button type="submit"[^>]*>Sign in</button>|<button[^>]*type="submit"[^>]*>Sign in</button>`).MatchString(signin) ||
		regexp.MustCompile(`<button[^>]* disabled[ >=][^>]*>Sign in`).MatchString(signin) {
		t.Errorf("the prerendered Sign in button is missing or disabled:\n%s", signin)
	}
}

func TestFixPage(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<button type="submit" disabled="false">Go</button>`, `<button type="submit">Go</button>`},
		{`<button disabled>Go</button>`, `<button disabled>Go</button>`},
		{`<option value="a" selected="false">A</option><option selected>B</option>`, `<option value="a">A</option><option selected>B</option>`},
		{`<div hidden="false" data-x="false">`, `<div data-x="false">`},
		{`<p>disabled="false" in text</p>`, `<p>disabled="false" in text</p>`},
		{"<head>\n    <meta property=\"og:url\" content=\"https:///signin\">\n    <meta content=\"https://\" property=\"og:image\">\n    <title>", "<head>\n    <title>"},
	}
	for _, tt := range tests {
		if got := string(frontend.FixPage([]byte(tt.in))); got != tt.want {
			t.Errorf("FixPage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A browser opening a page for signed-in users without the session hint
// is sent to the sign-in page at once; everything else gets the page.
func TestSignedOutNavigation(t *testing.T) {
	site := mustSite(t, "wasm bytes")
	static, err := frontend.New(frontend.Options{Version: "v1", APIURL: "https://api.example.com",
		Build: fstest.MapFS{"app.wasm": {Data: []byte("wasm")}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path   string
		site         http.Handler
		navigate     bool
		cookie       string
		wantLocation string
	}{
		{"DashboardSignedOut", "/", site, true, "", "/signin"},
		{"ProfileSignedOut", "/profile", site, true, "other=1", "/signin"},
		{"DashboardWithHint", "/", site, true, "authdash_session=1", ""},
		{"SignInPage", "/signin", site, true, "", ""},
		{"NotANavigation", "/", site, false, "", ""}, // the service worker's copy
		{"APIElsewhere", "/", static, true, "", ""},  // its hint is not ours to see
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.navigate {
				r.Header.Set("Sec-Fetch-Mode", "navigate")
			}
			if tt.cookie != "" {
				r.Header.Set("Cookie", tt.cookie)
			}
			w := httptest.NewRecorder()
			tt.site.ServeHTTP(w, r)
			if tt.wantLocation == "" {
				if w.Code != 200 {
					t.Errorf("status %d, want the page", w.Code)
				}
				return
			}
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != tt.wantLocation || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("status %d Location %q Cache-Control %q, want 303 to %s, not stored", w.Code,
					w.Header().Get("Location"), w.Header().Get("Cache-Control"), tt.wantLocation)
			}
		})
	}
}
