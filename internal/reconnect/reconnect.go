// Package reconnect keeps a long-lived connection (a Redis subscription)
// going: Loop runs a session, waits with exponential backoff when it ends,
// and runs it again, until its context ends; Outage logs an outage once
// when it begins and once when it ends, not once per retry.
package reconnect

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Outage tells the log when a dependency becomes unreachable and when it is
// back: the first failure at warn, the retries after it at debug, the
// recovery at info. Safe for concurrent use.
type Outage struct {
	Log  *slog.Logger // nil discards
	Lost string       // the message of a failure
	Back string       // the message of the recovery

	failing atomic.Bool
}

// Failed reports a failure, with attrs (the error, when the next try is).
func (o *Outage) Failed(ctx context.Context, err error, attrs ...slog.Attr) {
	if o.Log == nil {
		return
	}
	level := slog.LevelDebug
	if o.failing.CompareAndSwap(false, true) {
		level = slog.LevelWarn
	}
	o.Log.LogAttrs(ctx, level, o.Lost, append(attrs, slog.Any("err", err))...)
}

// Recovered reports a success; it ends an outage, if there is one.
func (o *Outage) Recovered(ctx context.Context) {
	if o.failing.CompareAndSwap(true, false) && o.Log != nil {
		o.Log.LogAttrs(ctx, slog.LevelInfo, o.Back)
	}
}

// Backoff bounds the wait between sessions: it starts at Min, doubles after
// every session that failed before it got going, and stays below Max.
type Backoff struct {
	Min, Max time.Duration
}

// Loop runs session until ctx ends, then returns. A session returns when
// its connection is gone, saying whether it got as far as serving (live):
// the wait before the next one then starts again at b.Min. Every end of a
// session while ctx lasts is a failure reported to o; the session itself
// calls o.Recovered once it is serving again.
func Loop(ctx context.Context, b Backoff, o *Outage, session func(ctx context.Context) (live bool, err error)) {
	wait := b.Min
	for {
		live, err := session(ctx)
		if ctx.Err() != nil {
			return
		}
		if live {
			wait = b.Min
		}
		o.Failed(ctx, err, slog.Duration("in", wait))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, b.Max)
	}
}
