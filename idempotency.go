package authdash

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Lifetimes of what lets a client repeat or undo a write.
const (
	// IdempotencyKeyTTL is how long a create's Idempotency-Key is
	// remembered: a retry within it gets the first answer, a key older than
	// it is forgotten (the janitor purges it) and starts afresh.
	IdempotencyKeyTTL = 24 * time.Hour
	// RestoreWindow is how long a deleted task keeps its content so that
	// it can be restored. After it the janitor clears the content; the
	// tombstone stays in the change log until it is purged.
	RestoreWindow = 24 * time.Hour
	// MaxIdempotencyKeyLen bounds a key; a UUID is 36 characters.
	MaxIdempotencyKeyLen = 255
)

// Idempotency makes a create happen at most once per key and owner.
type Idempotency struct {
	// Key is the client's Idempotency-Key (ValidIdempotencyKey).
	Key string
	// Fingerprint identifies the request the key was first used with
	// (TaskDraft.Fingerprint); the same key with another fingerprint is
	// CodeIdempotencyKeyReused.
	Fingerprint string
	// Since is the oldest a recorded key may be: one recorded before it
	// has expired and counts as unknown.
	Since time.Time
}

// ValidIdempotencyKey reports whether k is 1 to MaxIdempotencyKeyLen
// visible ASCII characters other than the double quote and the backslash:
// what a Structured Field string can carry without escapes, which every
// UUID, ULID or random token fits.
func ValidIdempotencyKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Fingerprint identifies a normalised draft: two requests that would create
// the same task (whatever their JSON spacing, field order or spelling of a
// default) have the same fingerprint.
func (d TaskDraft) Fingerprint() string {
	// Marshalling a struct of strings, a time and a string slice cannot
	// fail, and its output is canonical: fields in declaration order.
	b, _ := json.Marshal(d)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
