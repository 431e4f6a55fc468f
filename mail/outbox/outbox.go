// Package outbox sends mail without making a request wait for SMTP: Enqueue writes the
// composed message to the store's durable outbox (authdash.MailOutbox), and Run, on every
// instance, claims due messages and sends them, retrying with backoff. A message survives
// the process dying (its claim's lease runs out and another claim takes it) and the SMTP
// server being down (it is retried until it is sent, its link expires or its attempts run
// out).
package outbox

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/mail"
)

// Defaults for Config fields left zero.
const (
	DefaultLease       = 2 * time.Minute
	DefaultPoll        = 10 * time.Second
	DefaultBatch       = 10
	DefaultMaxAttempts = 10
	DefaultSendTimeout = 30 * time.Second
)

// Config says where the outbox is and how to send it.
type Config struct {
	Store  authdash.MailOutbox
	Sender mail.Sender
	Log    *slog.Logger
	Now    func() time.Time // the instance's clock; nil: time.Now
	// Lease is how long a claimed message is left to its worker before another may
	// claim it; it must exceed SendTimeout, or a slow send would be sent twice.
	Lease time.Duration
	// Poll is how often Run looks for messages it was not woken for (enqueued on another
	// instance, or a retry come due).
	Poll        time.Duration
	Batch       int // messages claimed at once
	MaxAttempts int // after this many failed attempts a message is given up
	SendTimeout time.Duration
	// Backoff is the wait after the attempt-th failure; nil: 30 s doubling up to 30 min,
	// jittered by ±20% so instances retrying after one outage do not all come back at once.
	Backoff func(attempt int) time.Duration
	// Observe, if set, is told each attempt's result (with the message's kind) once the
	// outcome is in the store: for metrics by kind, and for tests to wait on.
	Observe func(kind string, r Result)
}

// Result is what became of one sending attempt.
type Result string

const (
	Sent    Result = "sent"
	Retried Result = "retried"
	Failed  Result = "failed"
)

// Stats counts what the worker did since it started.
type Stats struct {
	Sent    uint64 // delivered to the SMTP server (or written out by the log sender)
	Retried uint64 // attempts that failed and were put back for later
	Failed  uint64 // messages given up: refused for good, out of attempts, or expired
}

// Outbox enqueues and sends mail. Its methods are safe for concurrent use.
type Outbox struct {
	cfg                   Config
	wake                  chan struct{}
	sent, retried, failed atomic.Uint64
	storeDown             atomic.Bool
}

// New returns an outbox; call Run to send.
func New(cfg Config) *Outbox {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	cfg.SendTimeout = min(cfg.SendTimeout, cfg.Lease/2)
	if cfg.Backoff == nil {
		cfg.Backoff = Backoff
	}
	return &Outbox{cfg: cfg, wake: make(chan struct{}, 1)}
}

// Backoff is the default wait after the attempt-th failure.
func Backoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < 30*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 30*time.Minute)
	return d - d/5 + rand.N(2*d/5+1)
}

// Enqueue stores m to be sent as soon as a worker gets to it, and wakes this instance's
// worker. expires is when the message stops being worth sending (its link's expiry);
// zero: never. It returns once the message is durable.
func (o *Outbox) Enqueue(ctx context.Context, m mail.Message, expires time.Time) error {
	_, err := o.cfg.Store.EnqueueMail(ctx, authdash.Mail{
		Kind: string(m.Kind), To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Link: m.Link,
		Due: o.cfg.Now(), Expires: expires,
	})
	if err != nil {
		return err
	}
	o.Wake()
	return nil
}

// Wake makes Run look for due messages now rather than at its next poll.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Stats returns the counters.
func (o *Outbox) Stats() Stats {
	return Stats{Sent: o.sent.Load(), Retried: o.retried.Load(), Failed: o.failed.Load()}
}

// Run sends due messages until ctx ends. A message being sent when ctx ends is put back
// to be sent at once by the next worker.
func (o *Outbox) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		full := o.round(ctx)
		if ctx.Err() != nil {
			return
		}
		if full {
			continue // there may be more due right now
		}
		t.Reset(o.cfg.Poll)
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-t.C:
		}
	}
}

// round claims one batch and sends it; it reports whether the batch was full.
func (o *Outbox) round(ctx context.Context) bool {
	ms, err := o.cfg.Store.ClaimMail(ctx, o.cfg.Now(), o.cfg.Lease, o.cfg.Batch)
	if err != nil {
		if ctx.Err() == nil && !o.storeDown.Swap(true) {
			o.cfg.Log.Warn("mail outbox: cannot read the outbox; will keep trying", "err", err)
		}
		return false
	}
	if o.storeDown.Swap(false) {
		o.cfg.Log.Info("mail outbox: reading the outbox again")
	}
	for _, m := range ms {
		o.send(ctx, m)
	}
	return len(ms) == o.cfg.Batch
}

func (o *Outbox) send(ctx context.Context, m authdash.Mail) {
	log := o.cfg.Log.With("mail", string(m.ID), "kind", m.Kind, "attempt", m.Attempts)
	// The outcome is written even when ctx ends while sending: a message left claimed
	// would wait out its lease.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if !m.Expires.IsZero() && !o.cfg.Now().Before(m.Expires) {
		o.giveUp(wctx, log, m, "its link expired before it could be sent")
		return
	}
	sctx, scancel := context.WithTimeout(ctx, o.cfg.SendTimeout)
	err := o.cfg.Sender.Send(sctx, mail.Message{ID: string(m.ID), Kind: mail.Kind(m.Kind), To: m.To,
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, Link: m.Link})
	scancel()
	switch {
	case err == nil:
		if derr := o.cfg.Store.DeleteMail(wctx, m.ID); derr != nil && authdash.ErrorCodeOf(derr) != authdash.CodeNotFound {
			// It will be sent again when the lease runs out, with the same Message-ID.
			log.Error("mail outbox: sent, but could not remove it from the outbox", "err", derr)
		}
		log.Debug("mail sent")
		o.observe(m, Sent)
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		if rerr := o.cfg.Store.RetryMail(wctx, m.ID, o.cfg.Now(), "interrupted by shutdown"); rerr != nil {
			log.Warn("mail outbox: could not put back a message interrupted by shutdown (sent after its lease)", "err", rerr)
		}
	case mail.Permanent(err):
		o.giveUp(wctx, log, m, err.Error())
	case m.Attempts >= o.cfg.MaxAttempts:
		o.giveUp(wctx, log, m, "out of attempts: "+err.Error())
	default:
		next := o.cfg.Now().Add(o.cfg.Backoff(m.Attempts))
		log.Warn("mail outbox: sending failed; will retry", "err", err, "retry_at", next)
		if rerr := o.cfg.Store.RetryMail(wctx, m.ID, next, err.Error()); rerr != nil {
			log.Warn("mail outbox: could not schedule the retry (retried after its lease)", "err", rerr)
		}
		o.observe(m, Retried)
	}
}

// observe reports a result once its outcome is in the store: to Observe first, then to
// Stats, so whoever sees a count change also sees the metric.
func (o *Outbox) observe(m authdash.Mail, r Result) {
	if o.cfg.Observe != nil {
		o.cfg.Observe(m.Kind, r)
	}
	switch r {
	case Sent:
		o.sent.Add(1)
	case Retried:
		o.retried.Add(1)
	case Failed:
		o.failed.Add(1)
	}
}

func (o *Outbox) giveUp(ctx context.Context, log *slog.Logger, m authdash.Mail, why string) {
	log.Error("mail outbox: message given up", "to", m.To, "reason", why)
	if err := o.cfg.Store.DeleteMail(ctx, m.ID); err != nil && authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
		log.Error("mail outbox: could not remove a message given up", "err", err)
	}
	o.observe(m, Failed)
}
