// Package logging provides the server's slog handler: JSON or text records
// written by one background goroutine, so that no request ever waits on log
// I/O. When the writer falls behind and its bounded queue fills, records are
// dropped and counted instead.
package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
)

// DefaultBuffer is how many records may wait for the writer.
const DefaultBuffer = 8192

// Options configure a Handler.
type Options struct {
	// Format is "json" (the default) or "text".
	Format string
	// Level is the minimum level logged; a *slog.LevelVar changes it at run
	// time. Nil means slog.LevelInfo.
	Level slog.Leveler
	// Buffer is the queue length in records; 0 means DefaultBuffer.
	Buffer int
	// ReplaceAttr, if set, rewrites attributes after the built-in
	// redaction of secrets (see redact).
	ReplaceAttr func(groups []string, a slog.Attr) slog.Attr
}

// Handler is a slog.Handler that never blocks its caller on I/O. Handlers
// derived with WithAttrs and WithGroup share the queue and the writer.
type Handler struct {
	q     *queue
	inner slog.Handler // formats and writes; used only by the writer goroutine
}

type entry struct {
	h   slog.Handler
	ctx context.Context
	r   slog.Record
}

// queue is the part shared by a Handler and everything derived from it.
type queue struct {
	ch      chan entry
	done    chan struct{}
	mu      sync.RWMutex // write-held only by Close, so Handle never sends on a closed channel
	closed  bool
	dropped atomic.Uint64
}

// New returns a Handler writing to w and starts its writer goroutine; call
// Close to flush and stop it.
func New(w io.Writer, o Options) (*Handler, error) {
	replace := redact
	if o.ReplaceAttr != nil {
		replace = func(groups []string, a slog.Attr) slog.Attr { return o.ReplaceAttr(groups, redact(groups, a)) }
	}
	ho := &slog.HandlerOptions{Level: o.Level, ReplaceAttr: replace}
	var inner slog.Handler
	switch strings.ToLower(o.Format) {
	case "", "json":
		inner = slog.NewJSONHandler(w, ho)
	case "text":
		inner = slog.NewTextHandler(w, ho)
	default:
		return nil, fmt.Errorf("logging: unknown format %q (want json or text)", o.Format)
	}
	n := o.Buffer
	if n <= 0 {
		n = DefaultBuffer
	}
	q := &queue{ch: make(chan entry, n), done: make(chan struct{})}
	go q.write()
	return &Handler{q: q, inner: inner}, nil
}

func (q *queue) write() {
	defer close(q.done)
	for e := range q.ch {
		if err := e.h.Handle(e.ctx, e.r); err != nil {
			// The record is lost as surely as a dropped one; the writer
			// has nowhere better to report it.
			q.dropped.Add(1)
		}
	}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

// Handle implements slog.Handler. It queues the record and returns at once;
// if the queue is full, or the handler is closed, the record is dropped and
// counted.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	// The writer formats it later, by which time the caller may reuse the
	// record's attribute storage.
	e := entry{h: h.inner, ctx: context.WithoutCancel(ctx), r: r.Clone()}
	h.q.mu.RLock()
	defer h.q.mu.RUnlock()
	if h.q.closed {
		h.q.dropped.Add(1)
		return nil
	}
	select {
	case h.q.ch <- e:
	default:
		h.q.dropped.Add(1)
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{q: h.q, inner: h.inner.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{q: h.q, inner: h.inner.WithGroup(name)}
}

// Dropped returns how many records were lost: dropped because the queue was
// full or the handler closed, or failed to write.
func (h *Handler) Dropped() uint64 { return h.q.dropped.Load() }

// ErrClosed is returned by a second Close.
var ErrClosed = errors.New("logging: handler already closed")

// Close stops accepting records and waits until the writer has written
// every queued one, or ctx ends. It closes the queue of every handler
// derived from this one too.
func (h *Handler) Close(ctx context.Context) error {
	h.q.mu.Lock()
	if h.q.closed {
		h.q.mu.Unlock()
		return ErrClosed
	}
	h.q.closed = true
	close(h.q.ch)
	h.q.mu.Unlock()
	select {
	case <-h.q.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("logging: flushing: %w", ctx.Err())
	}
}

// isSecret reports whether an attribute key names a value that must never
// reach a log, whatever a caller passes: a last line of defence behind code
// that should not log secrets in the first place.
func isSecret(key string) bool {
	switch strings.ToLower(key) {
	case "password", "currentpassword", "newpassword", "token", "accesstoken", "refreshtoken",
		"authorization", "cookie", "set-cookie", "secret":
		return true
	}
	return false
}

func redact(_ []string, a slog.Attr) slog.Attr {
	if isSecret(a.Key) && a.Value.Kind() != slog.KindGroup {
		return slog.String(a.Key, "[REDACTED]")
	}
	return a
}
