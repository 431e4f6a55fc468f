package server

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// minCompressSize is the smallest body worth compressing: below about a
// kilobyte the gzip framing and CPU cost more than the bytes saved.
const minCompressSize = 1024

// gzipLevel is BestSpeed: profiles of the list endpoint under load showed
// level 5 spending 29% of server CPU in deflate for a few per cent of ratio;
// level 1 measured 15-30% more requests/s at a lower p99 (docs/BENCHMARKS-HISTORY.md).
// The encoder is klauspost/compress's (already in the build through the
// MongoDB driver), a drop-in for compress/gzip: with the standard library's
// BestSpeed, deflate still took 14% of the list endpoint's CPU.
const gzipLevel = gzip.BestSpeed

// compressor gzips compressible responses of clients that accept it. It
// leaves alone responses that already have a Content-Encoding (the
// frontend's precompressed app.wasm), bodies under minCompressSize,
// bodiless statuses and HEAD requests, and it is never mounted in front of
// the WebSocket endpoint.
type compressor struct {
	pool sync.Pool // of *gzip.Writer
}

func newCompressor() *compressor {
	c := &compressor{}
	c.pool.New = func() any {
		w, _ := gzip.NewWriterLevel(nil, gzipLevel)
		return w
	}
	return c
}

func (c *compressor) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if r.Method == http.MethodHead || !acceptsGzip(r.Header.Values("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		gw := &gzipWriter{ResponseWriter: w, c: c}
		next.ServeHTTP(gw, r)
		// Not deferred: after a panic, what was held back is dropped so the
		// recoverer can still answer with a clean 500.
		gw.finish()
	})
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip, taking
// "gzip;q=0" as a refusal.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.TrimSpace(name)
			if !strings.EqualFold(name, "gzip") && name != "*" {
				continue
			}
			q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
			if !ok {
				return true
			}
			if f, err := strconv.ParseFloat(q, 64); err != nil || f > 0 {
				return true
			}
		}
	}
	return false
}

// compressibleType reports whether a Content-Type is text-like enough to
// gain from gzip. Images, fonts and archives are already compressed.
func compressibleType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch {
	case strings.HasPrefix(mt, "text/"),
		strings.HasSuffix(mt, "+json"),
		strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/wasm", "application/xml":
		return true
	}
	return false
}

type gzipMode int8

const (
	modeUndecided gzipMode = iota // header not yet sent; body buffered
	modePlain                     // passing through untouched
	modeGzip                      // compressing
)

// gzipWriter decides per response whether to compress. When the handler
// declares a Content-Length, the decision is made at WriteHeader; otherwise
// the first minCompressSize bytes are held back until the body proves
// large enough (or ends).
type gzipWriter struct {
	http.ResponseWriter
	c           *compressor
	gz          *gzip.Writer
	mode        gzipMode
	status      int
	headerSeen  bool // WriteHeader called (or implied) by the handler
	buf         []byte
	hijacked    bool
	wroteHeader bool // sent downstream
}

func (g *gzipWriter) WriteHeader(code int) {
	if code < 200 && code != http.StatusSwitchingProtocols {
		g.ResponseWriter.WriteHeader(code) // informational: pass on
		return
	}
	if g.headerSeen {
		return
	}
	g.headerSeen, g.status = true, code
	h := g.Header()
	switch {
	case code == http.StatusNoContent || code == http.StatusNotModified || code < 200,
		h.Get("Content-Encoding") != "",
		h.Get("Content-Range") != "",
		!compressibleType(h.Get("Content-Type")):
		g.startPlain()
	case h.Get("Content-Length") != "":
		if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err != nil || n < minCompressSize {
			g.startPlain()
		} else {
			g.startGzip()
		}
	}
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.headerSeen {
		if g.Header().Get("Content-Type") == "" {
			// net/http would sniff the first bytes; do it on the plain ones.
			g.Header().Set("Content-Type", http.DetectContentType(b))
		}
		g.WriteHeader(http.StatusOK)
	}
	switch g.mode {
	case modePlain:
		return g.ResponseWriter.Write(b)
	case modeGzip:
		return g.gz.Write(b)
	}
	g.buf = append(g.buf, b...)
	if len(g.buf) >= minCompressSize {
		g.startGzip()
	}
	return len(b), nil
}

func (g *gzipWriter) startPlain() {
	g.mode = modePlain
	g.sendHeader()
	if len(g.buf) > 0 {
		g.ResponseWriter.Write(g.buf)
		g.buf = nil
	}
}

func (g *gzipWriter) startGzip() {
	g.mode = modeGzip
	h := g.Header()
	h.Del("Content-Length")
	h.Set("Content-Encoding", "gzip")
	g.sendHeader()
	g.gz = g.c.pool.Get().(*gzip.Writer)
	g.gz.Reset(g.ResponseWriter)
	if len(g.buf) > 0 {
		g.gz.Write(g.buf)
		g.buf = nil
	}
}

func (g *gzipWriter) sendHeader() {
	if !g.wroteHeader {
		g.wroteHeader = true
		g.ResponseWriter.WriteHeader(g.status)
	}
}

// finish sends what is still held back and returns the gzip writer.
func (g *gzipWriter) finish() {
	switch {
	case g.hijacked:
	case g.mode == modeGzip:
		g.gz.Close()
		g.gz.Reset(nil)
		g.c.pool.Put(g.gz)
		g.gz = nil
	case g.mode == modeUndecided && g.headerSeen:
		g.startPlain()
	}
}

// Flush commits to the current decision: a streaming response that flushes
// before it reached minCompressSize goes out plain, since holding data back
// would defeat the flush.
func (g *gzipWriter) Flush() {
	if !g.headerSeen {
		g.WriteHeader(http.StatusOK)
	}
	switch g.mode {
	case modeUndecided:
		g.startPlain()
	case modeGzip:
		g.gz.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (g *gzipWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := g.ResponseWriter.(http.Hijacker)
	if !ok || g.headerSeen {
		return nil, nil, errors.New("server: connection cannot be hijacked")
	}
	g.hijacked = true
	return h.Hijack()
}

func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }
