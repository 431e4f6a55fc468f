package sqlite

import (
	"context"
	"errors"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A store that cannot write (the disk is full, or failing) answers every
// write with CodeUnavailable and a Retry-After, not an internal error, and
// its Ping fails until a write succeeds again, so the instance leaves the
// load balancer instead of failing every sign-in and save while reporting
// ready. Reads go on working meanwhile.

// cannotWriteRetry is the Retry-After of a write refused for want of disk:
// freeing space takes an operator, not a second.
const cannotWriteRetry = 30 * time.Second

// isCannotWrite reports SQLite's "database or disk is full" and its I/O
// errors (a write that failed, an fsync that failed).
func isCannotWrite(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
		return true
	}
	return false
}

// cannotWriteError marks the cause of such a failure with how long a client
// should wait; the HTTP layer turns it into Retry-After.
type cannotWriteError struct{ err error }

func (e cannotWriteError) Error() string             { return e.err.Error() }
func (e cannotWriteError) Unwrap() error             { return e.err }
func (e cannotWriteError) RetryAfter() time.Duration { return cannotWriteRetry }

// noteWriteFailure remembers a write that failed for want of disk.
func (db *DB) noteWriteFailure(err error) {
	if isCannotWrite(err) {
		db.cannotWrite.Store(true)
	}
}

// committed counts a commit and clears the failure a commit disproves.
func (db *DB) committed() {
	db.commits.Add(1)
	db.cannotWrite.Store(false)
}

// probeWrite commits a write that needs fresh pages, as a task or a session
// does (a row bigger than a page, removed again in the same transaction),
// so it fails while the disk is full and succeeds once there is room. A
// probe that only rewrote a page in place could succeed while every
// insert still fails.
func (db *DB) probeWrite(ctx context.Context) error {
	return db.write(ctx, func(tx *wtx) error {
		if _, err := tx.exec(`INSERT INTO write_probe (pad) VALUES (zeroblob(16384))`); err != nil {
			return err
		}
		_, err := tx.exec(`DELETE FROM write_probe`)
		return err
	})
}
