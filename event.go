package authdash

import (
	"context"
	"time"
)

// EventKind says what changed.
type EventKind string

// Event kinds. Task kinds carry the owner's Seq and are kept in the store's
// change log; the others are live-only notices.
const (
	EventTaskCreated EventKind = "task.created"
	EventTaskUpdated EventKind = "task.updated"
	EventTaskDeleted EventKind = "task.deleted"
	// EventUserUpdated carries the new profile. It has no Seq: a client that
	// reconnects reloads the profile instead of replaying it.
	EventUserUpdated EventKind = "user.updated"
	// EventSessionsRevoked ends live connections: of one session when
	// SessionID is set, else of every session but Keep (which may be empty).
	EventSessionsRevoked EventKind = "sessions.revoked"
	// EventUserDeleted ends every live connection of a deleted account.
	EventUserDeleted EventKind = "user.deleted"
)

// Logged reports whether events of this kind are in the store's change log
// and so carry a Seq.
func (k EventKind) Logged() bool {
	return k == EventTaskCreated || k == EventTaskUpdated || k == EventTaskDeleted
}

// Event is one committed change to an owner's data, as the store stamped it.
type Event struct {
	Kind  EventKind `json:"type"`
	Owner UserID    `json:"-"`
	// Seq is the owner's change stamp: distinct for each change of an
	// owner and rising with every change of a task, so the log can be read
	// from a client's last Seq. It is not consecutive (SQLite counts 1, 2,
	// 3…; MongoDB stamps microseconds, so a write needs no counter round
	// trip), and across instances a change may commit after one with a
	// higher Seq: docs/REALTIME.md says what clients make of it.
	Seq     int64     `json:"seq,omitempty"`
	TaskID  TaskID    `json:"taskId,omitempty"`
	Version int64     `json:"version,omitempty"`
	Task    *Task     `json:"task,omitempty"` // the task after the change; nil for deletes
	User    *User     `json:"user,omitempty"` // for user.updated
	At      time.Time `json:"at"`
	// Origin is the client ID (X-Client-ID) of the tab that made the change,
	// so that tab can recognise its own echo.
	Origin    string    `json:"origin,omitempty"`
	SessionID SessionID `json:"-"`
	Keep      SessionID `json:"-"`
}

// Publisher hands a committed event to whoever fans it out. Delivery is best
// effort: clients converge through TaskStore.ChangesSince.
type Publisher interface {
	Publish(ctx context.Context, ev Event) error
}
