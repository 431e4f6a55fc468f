package frontend

import (
	"bytes"
	"net/http"
	"regexp"
	"strconv"

	"github.com/authdash/authdash/app"
)

// falseBoolean matches a boolean attribute that go-app's server rendering
// wrote as attr="false". go-app v10.1.11 encodes Disabled(false),
// Hidden(false), Selected(false)… that way, and HTML reads any value of a
// boolean attribute as true: the prerendered sign-in button came out
// disabled, and every option of a select selected. In the browser go-app
// sets the property instead, which is right.
var falseBoolean = regexp.MustCompile(` (?:allowfullscreen|async|autofocus|autoplay|checked|controls|default|defer|disabled|formnovalidate|hidden|inert|ismap|loop|multiple|muted|nomodule|novalidate|open|readonly|required|reversed|selected)="false"`)

// emptyOpenGraph matches the og:url and og:image tags go-app writes without
// a Handler.Domain ("https:///signin", "https://"): wrong is worse than
// none, and the product has no canonical domain to name.
var emptyOpenGraph = regexp.MustCompile(`\s*<meta [^>]*property="og:(?:url|image)"[^>]*>`)

// FixPage corrects a page as go-app prerendered it (see falseBoolean and
// emptyOpenGraph). The server applies it to every page it serves; the
// static-site generator to every page it writes.
func FixPage(page []byte) []byte {
	page = falseBoolean.ReplaceAll(page, nil)
	return emptyOpenGraph.ReplaceAll(page, nil)
}

// pageRecorder holds go-app's answer so a page can be fixed before it is
// sent. go-app's answers are small (pages, app.js, the worker).
type pageRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *pageRecorder) Header() http.Header         { return r.header }
func (r *pageRecorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *pageRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// servePage serves a go-app answer, fixing it when it is a page.
func (s *Site) servePage(w http.ResponseWriter, r *http.Request) {
	rec := &pageRecorder{header: w.Header()}
	s.handler.ServeHTTP(rec, r)
	if rec.status == http.StatusNotFound && r.Method == http.MethodGet {
		// go-app answers an address it has no route for in plain text:
		// the app's own page says so instead (the app in the browser
		// shows the same, app.NotFound), still with status 404.
		r2 := r.Clone(r.Context())
		r2.URL.Path = app.NotFoundRoute
		for k := range rec.header {
			delete(rec.header, k)
		}
		rec = &pageRecorder{header: w.Header()}
		s.handler.ServeHTTP(rec, r2)
		rec.status = http.StatusNotFound
	}
	body := rec.body.Bytes()
	if ct := rec.header.Get("Content-Type"); len(body) > 0 && len(ct) >= 9 && ct[:9] == "text/html" {
		body = FixPage(body)
		rec.header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	if rec.status != 0 {
		w.WriteHeader(rec.status)
	}
	w.Write(body)
}
