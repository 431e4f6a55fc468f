package authdash

import (
	"context"
	"time"
)

// MailID identifies a message in the outbox.
type MailID string

// Mail is an email waiting in the outbox, composed already, so sending it needs nothing
// else. Its body may hold a single-use link, so the outbox forgets a message once it is
// sent or given up.
type Mail struct {
	ID      MailID
	Kind    string // what it is for, e.g. "reset-password" (logs, metrics)
	To      string
	Subject string
	Text    string
	HTML    string
	Link    string // the action link, for the log of a dev instance without SMTP
	// Due is when it may next be sent: now for a new message, later after a failure, and
	// the end of a claim's lease while a worker is sending it.
	Due time.Time
	// Expires is when the message stops being worth sending (its link no longer works);
	// zero means never.
	Expires time.Time
	// Attempts counts the claims so far, the current one included.
	Attempts  int
	LastError string
}

// MailOutbox is the durable queue of outgoing mail. A message enqueued is sent at least
// once unless it expires first, whichever instance or worker sends it and whatever dies
// in between: a claim is a lease, and a message whose worker died is claimed again when
// its lease runs out.
type MailOutbox interface {
	// EnqueueMail stores m (ID and Attempts are set by the store) and returns its ID.
	EnqueueMail(ctx context.Context, m Mail) (MailID, error)
	// ClaimMail hands out up to n messages due at now, those due earliest first, each
	// with Attempts raised by one and Due moved to now+lease, so no other claim gets it
	// before then. Empty when nothing is due.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, n int) ([]Mail, error)
	// RetryMail makes a claimed message due again at next, noting why the attempt
	// failed. CodeNotFound when it is no longer in the outbox.
	RetryMail(ctx context.Context, id MailID, next time.Time, reason string) error
	// DeleteMail removes a message that was sent or given up. CodeNotFound when it is
	// no longer in the outbox.
	DeleteMail(ctx context.Context, id MailID) error
}
