// Package openapi holds the machine-readable description of the product's
// interfaces and serves it: openapi.json (OpenAPI 3.1) for the HTTP API and
// realtime.schema.json (JSON Schema 2020-12) for the WebSocket frames. Tests
// in this package replay real requests, responses and socket frames of the
// real server against both, so the documents cannot drift from the code.
package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

//go:embed openapi.json realtime.schema.json
var files embed.FS

// Paths where WithDocs serves the documents.
const (
	SpecPath           = "/api/openapi.json"
	RealtimeSchemaPath = "/api/realtime.schema.json"
)

// Spec returns the OpenAPI document.
func Spec() []byte { return mustRead("openapi.json") }

// RealtimeSchema returns the JSON Schema of the WebSocket frames.
func RealtimeSchema() []byte { return mustRead("realtime.schema.json") }

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	return b
}

// WithDocs returns a handler that answers GET (and HEAD) on SpecPath and
// RealtimeSchemaPath itself and passes every other request to api.
func WithDocs(api http.Handler) http.Handler {
	docs := map[string]*document{
		SpecPath:           newDocument(Spec(), "application/json"),
		RealtimeSchemaPath: newDocument(RealtimeSchema(), "application/schema+json"),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := docs[r.URL.Path]
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			api.ServeHTTP(w, r)
			return
		}
		d.ServeHTTP(w, r)
	})
}

// document is one static JSON document with its gzip form and a strong
// ETag, so a client revalidates cheaply and a new deployment is seen at
// once.
type document struct {
	plain, gzipped []byte
	contentType    string
	etag           string
}

func newDocument(b []byte, contentType string) *document {
	sum := sha256.Sum256(b)
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return &document{
		plain:       b,
		gzipped:     z.Bytes(),
		contentType: contentType,
		etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
	}
}

func (d *document) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", d.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	body, etag := d.plain, d.etag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		// A different representation needs its own validator.
		body, etag = d.gzipped, strings.TrimSuffix(d.etag, `"`)+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding list allows gzip.
func acceptsGzip(ae string) bool {
	for part := range strings.SplitSeq(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
