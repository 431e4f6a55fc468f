// Package frontend serves the dashboard's web app from the server: the
// go-app shell (pages, app.js, service worker, manifest) and the static
// assets, with app.wasm precompressed and every asset under a content-hashed
// name cached for a year.
//
// Hashed names make caching safe: a new build has new URLs, and the service
// worker (whose script lists them) changes with them, so each installed
// client updates exactly once per release and never mixes two builds.
package frontend

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"

	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash/app"
	"github.com/authdash/authdash/wire"
)

// source holds the hand-written assets: styles, icons and boot.js.
//
//go:embed web
var source embed.FS

// Options configure the frontend.
type Options struct {
	// Build holds the compiled app.wasm and, made by `make wasm`, its
	// app.wasm.br and app.wasm.gz. Nil means the build embedded with
	// -tags embedweb, or else the directory build/web.
	Build fs.FS
	// Version is the release (the commit, from -ldflags).
	Version string
	// APIURL and WSURL locate the API when it is on another origin.
	APIURL, WSURL string
}

// DefaultBuildDir is where `make wasm` writes app.wasm.
const DefaultBuildDir = "build/web"

// immutable is the caching of a content-hashed asset.
const immutable = "public, max-age=31536000, immutable"

// asset is one file under /web/.
type asset struct {
	name  string // e.g. "app.css"
	typ   string
	body  []byte
	br    []byte // precompressed forms, if any
	gz    []byte
	hash  string // first 16 hex digits of the SHA-256 of body
	etag  string
	mtime time.Time
}

// hashedName is the name the asset is served under: app.css → app.1a2b….css.
func (a *asset) hashedName() string {
	ext := path.Ext(a.name)
	return strings.TrimSuffix(a.name, ext) + "." + a.hash + ext
}

// Site is the set of assets and the go-app handler built over them.
type Site struct {
	assets  map[string]*asset // by plain name
	byHash  map[string]*asset // by hashed name
	handler *goapp.Handler
	// sameOriginAPI is whether the API (and so its session hint cookie)
	// is on the pages' origin.
	sameOriginAPI bool
	// appJS is go-app's app.js, loading app.wasm straight from fetch.
	appJS []byte
	// Version is what go-app's service worker is keyed by: the release and
	// the hash of app.wasm, so a rebuild without a new commit (dev) still
	// updates clients, and two replicas of one release agree.
	Version string
}

// New loads the assets and returns the site. It fails if app.wasm is
// missing, since the app cannot start without it.
func New(o Options) (*Site, error) {
	build := o.Build
	if build == nil {
		build = embeddedBuild()
	}
	if build == nil {
		build = os.DirFS(DefaultBuildDir)
	}
	s := &Site{assets: map[string]*asset{}, byHash: map[string]*asset{}, sameOriginAPI: o.APIURL == ""}
	src, _ := fs.Sub(source, "web")
	for _, name := range []string{"app.css", "boot.js", "compile.js", "icon.svg", "icon-192.png", "icon-512.png", "robots.txt"} {
		if err := s.add(src, name, false); err != nil {
			return nil, err
		}
	}
	if err := s.add(build, "app.wasm", true); err != nil {
		return nil, fmt.Errorf("frontend: %w (run `make wasm`)", err)
	}
	wasm := s.assets["app.wasm"]
	s.Version = o.Version + "-" + wasm.hash[:8]
	s.handler = app.Handler(app.Config{
		Version:   s.Version,
		APIURL:    o.APIURL,
		WSURL:     o.WSURL,
		Resources: s,
		WasmSize:  strconv.Itoa(len(wasm.body)),
	})
	// app.js compiles app.wasm in this worker (makeAppJS), which must be
	// there offline too. Before makeAppJS: go-app's first answer fixes
	// what the service worker caches.
	s.handler.CacheableResources = append(s.handler.CacheableResources, "/web/compile.js")
	appJS, err := s.makeAppJS()
	if err != nil {
		return nil, err
	}
	s.appJS = appJS
	return s, nil
}

// add loads one asset, with its precompressed forms when wanted. A
// compressed file older than the original is stale (app.wasm was rebuilt
// without them) and ignored; gzip is then made here. Seconds only: the
// brotli CLI copies the mtime at that precision.
func (s *Site) add(fsys fs.FS, name string, compressed bool) error {
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	a := &asset{name: name, typ: contentType(name), body: body}
	if fi, err := fs.Stat(fsys, name); err == nil {
		a.mtime = fi.ModTime()
	}
	sum := sha256.Sum256(body)
	a.hash = hex.EncodeToString(sum[:8])
	a.etag = `"` + a.hash + `"`
	if compressed {
		a.br = fresh(fsys, name+".br", a.mtime)
		a.gz = fresh(fsys, name+".gz", a.mtime)
		if a.gz == nil {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			zw.Write(body)
			zw.Close()
			a.gz = b.Bytes()
		}
	}
	s.assets[name] = a
	s.byHash[a.hashedName()] = a
	return nil
}

func fresh(fsys fs.FS, name string, than time.Time) []byte {
	fi, err := fs.Stat(fsys, name)
	if err != nil || fi.ModTime().Before(than.Truncate(time.Second)) {
		return nil
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil
	}
	return b
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// Resolve implements go-app's ResourceResolver: known assets resolve to
// their hashed names, which is what go-app writes into the pages, app.js
// and the service worker's cache list.
func (s *Site) Resolve(p string) string {
	if p == "" || p == "/" {
		return "/"
	}
	if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		return p
	}
	name, ok := strings.CutPrefix(p, "/web/")
	if !ok {
		name, ok = strings.CutPrefix(p, "web/")
	}
	if !ok {
		if p == "/web" || p == "web" {
			return "/web"
		}
		return p
	}
	if a, ok := s.assets[name]; ok {
		return "/web/" + a.hashedName()
	}
	return "/web/" + name
}

// Handler returns the go-app handler (for the static-site generator).
func (s *Site) Handler() *goapp.Handler { return s.handler }

// Assets lists the served files by hashed name, with their bodies and
// precompressed forms, for the static-site generator.
func (s *Site) Assets(yield func(name string, body, br, gz []byte) error) error {
	for name, a := range s.byHash {
		if err := yield(name, a.body, a.br, a.gz); err != nil {
			return err
		}
	}
	return nil
}

// ServeHTTP serves /web/ assets itself and everything else through go-app.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/robots.txt":
		s.serve(w, r, s.assets["robots.txt"], "no-cache")
		return
	case "/sitemap.xml", "/ads.txt":
		// go-app would fetch these from http://<Host header>/web/…, a
		// request the client steers and whose answer it caches for
		// everyone. We have neither file.
		http.NotFound(w, r)
		return
	}
	switch r.URL.Path {
	case "/app.js", "/goapp.js":
		s.serveAppJS(w, r)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/web/")
	if !ok {
		if s.toSignIn(r) {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, app.SignInRoute, http.StatusSeeOther)
			return
		}
		s.servePage(w, r)
		return
	}
	if a, ok := s.byHash[name]; ok {
		s.serve(w, r, a, immutable)
		return
	}
	if a, ok := s.assets[name]; ok {
		// Unhashed (e.g. the favicon link, which go-app does not resolve):
		// revalidate each time, the ETag makes that cheap.
		s.serve(w, r, a, "no-cache")
		return
	}
	http.NotFound(w, r)
}

func (s *Site) serve(w http.ResponseWriter, r *http.Request, a *asset, cache string) {
	h := w.Header()
	h.Set("Cache-Control", cache)
	h.Set("ETag", a.etag)
	h.Set("Content-Type", a.typ)
	h.Set("X-Content-Type-Options", "nosniff")
	// Once: the API server's compression in front of the site may have
	// said it already.
	if (a.br != nil || a.gz != nil) && !slices.Contains(h.Values("Vary"), "Accept-Encoding") {
		h.Add("Vary", "Accept-Encoding")
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	switch enc := acceptEncoding(r.Header.Get("Accept-Encoding")); {
	case enc["br"] && a.br != nil:
		body = a.br
		h.Set("Content-Encoding", "br")
	case enc["gzip"] && a.gz != nil:
		body = a.gz
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Write(body)
}

// acceptEncoding lists the codings a client accepts (q=0 excluded).
func acceptEncoding(v string) map[string]bool {
	out := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.ReplaceAll(strings.TrimSpace(params), " ", "") == "q=0" {
			continue
		}
		out[strings.ToLower(strings.TrimSpace(name))] = true
	}
	return out
}

// toSignIn reports whether r is a browser opening a page for signed-in
// users with no session hint (wire.SessionHintCookie): the visitor is sent
// to the sign-in page at once, prerendered, rather than shown the
// dashboard's frame until the app has started and found nobody signed in.
// Only navigations: the service worker's fetch of "/" for its offline copy
// must get the page.
func (s *Site) toSignIn(r *http.Request) bool {
	if !s.sameOriginAPI || r.Header.Get("Sec-Fetch-Mode") != "navigate" ||
		(r.Method != http.MethodGet && r.Method != http.MethodHead) || !slices.Contains(app.SessionRoutes(), r.URL.Path) {
		return false
	}
	_, err := r.Cookie(wire.SessionHintCookie)
	return err != nil
}

// makeAppJS is go-app's app.js with app.wasm compiled in a worker
// (web/compile.js) from the fetch's own answer, then instantiated and run
// on the page (instantiateJS).
//
// In a worker, because V8 takes a streamed module in on the thread that
// compiles it: on the page that is long tasks while app.wasm downloads,
// which delay input and which Lighthouse counts as blocking time. From the
// fetch's own answer, because go-app feeds the compiler a stream of its own
// making, to count progress, and such an answer has no URL: the browser
// then cannot keep the compiled code, and compiles all of app.wasm again on
// every visit.
func (s *Site) makeAppJS() ([]byte, error) {
	rec := &pageRecorder{header: http.Header{}}
	req, err := http.NewRequest(http.MethodGet, "/app.js", nil)
	if err != nil {
		return nil, err
	}
	s.handler.ServeHTTP(rec, req)
	wasm := s.Resolve("/web/app.wasm")
	old := regexp.MustCompile(`instantiateStreaming\(\s*fetchWithProgress\("` + regexp.QuoteMeta(wasm) + `", showProgress\),\s*go\.importObject\s*\)`)
	js := rec.body.Bytes()
	if len(old.FindAllIndex(js, -1)) != 1 {
		return nil, fmt.Errorf("frontend: go-app's app.js no longer loads app.wasm with %s", old)
	}
	call := fmt.Sprintf(`authdashInstantiate(%q, %q, go.importObject, instantiateStreaming)`, wasm, s.Resolve("/web/compile.js"))
	js = old.ReplaceAllLiteral(js, []byte(call))
	return append(js, instantiateJS...), nil
}

// instantiateJS is appended to go-app's app.js: app.wasm compiled by the
// worker and instantiated on the page, or, where there is no worker or it
// failed, compiled on the page as before. A module posted from a worker
// shares its compiled code: it is not compiled twice.
const instantiateJS = `
// Authdash: app.wasm compiled in a worker (see app/frontend's makeAppJS).
function authdashInstantiate(wasm, compiler, imports, instantiateStreaming) {
  const here = () => instantiateStreaming(fetch(wasm), imports);
  let worker;
  try {
    worker = new Worker(compiler);
  } catch {
    return here();
  }
  return new Promise((resolve) => {
    const done = (next) => {
      worker.terminate();
      resolve(next());
    };
    worker.onmessage = (e) => done(e.data instanceof WebAssembly.Module
      ? async () => ({ instance: await WebAssembly.instantiate(e.data, imports) })
      : here);
    worker.onerror = () => done(here);
    worker.onmessageerror = () => done(here);
    worker.postMessage(new URL(wasm, location.href).href);
  });
}
`

// AppJS is the app.js the site serves, for the static-site generator.
func (s *Site) AppJS() []byte { return s.appJS }

// serveAppJS serves app.js as go-app would: revalidated every time (the
// service worker keeps its own copy per version).
func (s *Site) serveAppJS(w http.ResponseWriter, r *http.Request) {
	etag := `"` + s.Version + `"`
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/javascript")
	h.Set("Content-Length", strconv.Itoa(len(s.appJS)))
	w.Write(s.appJS)
}
