package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/authdash/authdash"
)

const sessionCols = `id, user_id, device, created_ms, last_used_ms, expires_ms`

func scanSession(row interface{ Scan(...any) error }, extra ...any) (*authdash.Session, error) {
	var s authdash.Session
	var created, used, expires int64
	dest := append([]any{&s.ID, &s.UserID, &s.Device, &created, &used, &expires}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastUsedAt, s.ExpiresAt = fromMillis(created), fromMillis(used), fromMillis(expires)
	return &s, nil
}

func errSessionNotFound() error { return authdash.Errorf(authdash.CodeNotFound, "Session not found.") }

func errBadRefresh() error {
	return authdash.Errorf(authdash.CodeUnauthorized, "Your session has ended; sign in again.")
}

func errRefreshRaced() error {
	return authdash.Errorf(authdash.CodeConflict, "A concurrent refresh just replaced this refresh token; retry with the new one.")
}

// CreateSession starts a session with its first refresh token.
func (db *DB) CreateSession(ctx context.Context, ns authdash.NewSession) (*authdash.Session, error) {
	t := db.now()
	s := &authdash.Session{
		ID:         authdash.SessionID(newID()),
		UserID:     ns.UserID,
		Device:     ns.Device,
		CreatedAt:  t,
		LastUsedAt: t,
		ExpiresAt:  authdash.Millis(ns.ExpiresAt),
	}
	if !validID(string(ns.UserID)) {
		return nil, db.fail(ctx, "create session", errUserNotFound())
	}
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
			s.ID, s.UserID, s.Device, t.UnixMilli(), t.UnixMilli(), s.ExpiresAt.UnixMilli())
		if isForeignKey(err) {
			return errUserNotFound()
		}
		if err != nil {
			return err
		}
		_, err = tx.exec(`INSERT INTO refresh_tokens (hash, session_id, created_ms) VALUES (?, ?, ?)`,
			ns.TokenHash, s.ID, t.UnixMilli())
		return err
	})
	if err != nil {
		return nil, db.fail(ctx, "create session", err)
	}
	return s, nil
}

// RotateSession redeems r.Presented and installs r.Next in one transaction.
func (db *DB) RotateSession(ctx context.Context, r authdash.Rotation) (*authdash.Session, bool, error) {
	var s *authdash.Session
	reused, rotated := false, false
	err := db.write(ctx, func(tx *wtx) error {
		reused, rotated = false, false
		var created int64
		var used sql.NullInt64
		var err error
		s, err = scanSession(tx.queryRow(`SELECT s.id, s.user_id, s.device, s.created_ms, s.last_used_ms, s.expires_ms, t.created_ms, t.used_ms
			FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?`, r.Presented), &created, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return errBadRefresh()
		}
		if err != nil {
			return err
		}
		t := db.now()
		if !t.Before(s.ExpiresAt) {
			return errBadRefresh()
		}
		if used.Valid {
			if t.Sub(fromMillis(used.Int64)) < r.Grace {
				// Two requests raced with the same token (two tabs, a retry):
				// the other one won and installed a token this one may
				// retry with.
				return errRefreshRaced()
			}
			// A token redeemed long ago came back: it was copied. End the
			// family so neither the thief nor the victim keeps it.
			// The deletion must commit, so this is not an error yet.
			reused = true
			_, err := tx.exec(`DELETE FROM sessions WHERE id = ?`, s.ID)
			return err
		}
		if t.Sub(fromMillis(created)) < r.Fresh {
			return nil // kept: nothing to write
		}
		if _, err := tx.exec(`UPDATE refresh_tokens SET used_ms = ? WHERE hash = ?`, t.UnixMilli(), r.Presented); err != nil {
			return err
		}
		if _, err := tx.exec(`INSERT INTO refresh_tokens (hash, session_id, created_ms) VALUES (?, ?, ?)`,
			r.Next, s.ID, t.UnixMilli()); err != nil {
			return err
		}
		s.LastUsedAt = t
		s.ExpiresAt = authdash.Millis(r.ExpiresAt)
		rotated = true
		_, err = tx.exec(`UPDATE sessions SET last_used_ms = ?, expires_ms = ? WHERE id = ?`,
			t.UnixMilli(), s.ExpiresAt.UnixMilli(), s.ID)
		return err
	})
	if err == nil && reused {
		err = authdash.WrapError(authdash.CodeUnauthorized, &authdash.SessionReuse{User: s.UserID, Session: s.ID},
			"Session ended: refresh token reuse detected.")
	}
	if err != nil {
		return nil, false, db.fail(ctx, "rotate session", err)
	}
	return s, rotated, nil
}

// FindSession returns a live session of the user.
func (db *DB) FindSession(ctx context.Context, user authdash.UserID, id authdash.SessionID) (*authdash.Session, error) {
	if !validID(string(id)) {
		return nil, db.fail(ctx, "find session", errSessionNotFound())
	}
	row, err := db.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ? AND user_id = ? AND expires_ms > ?`,
		id, user, db.now().UnixMilli())
	if err != nil {
		return nil, db.fail(ctx, "find session", err)
	}
	s, err := scanSession(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = errSessionNotFound()
	}
	if err != nil {
		return nil, db.fail(ctx, "find session", err)
	}
	return s, nil
}

// SessionByToken returns the live session whose current refresh token hash
// is tokenHash.
func (db *DB) SessionByToken(ctx context.Context, tokenHash []byte) (*authdash.Session, error) {
	row, err := db.queryRow(ctx, `SELECT s.id, s.user_id, s.device, s.created_ms, s.last_used_ms, s.expires_ms
		FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
		WHERE t.hash = ? AND t.used_ms IS NULL AND s.expires_ms > ?`, tokenHash, db.now().UnixMilli())
	if err != nil {
		return nil, db.fail(ctx, "session by token", err)
	}
	s, err := scanSession(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = errBadRefresh()
	}
	if err != nil {
		return nil, db.fail(ctx, "session by token", err)
	}
	return s, nil
}

// ListSessions returns the user's live sessions, most recently used first.
func (db *DB) ListSessions(ctx context.Context, user authdash.UserID) ([]authdash.Session, error) {
	rows, err := db.query(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE user_id = ? AND expires_ms > ? ORDER BY last_used_ms DESC, id DESC LIMIT ?`,
		user, db.now().UnixMilli(), authdash.MaxSessionsListed)
	if err != nil {
		return nil, db.fail(ctx, "list sessions", err)
	}
	defer rows.Close()
	out := []authdash.Session{}
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, db.fail(ctx, "list sessions", err)
		}
		out = append(out, *s)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(ctx, "list sessions", err)
	}
	return out, nil
}

// DeleteSession ends one session of the user.
func (db *DB) DeleteSession(ctx context.Context, user authdash.UserID, id authdash.SessionID) error {
	return db.changeOne(ctx, "delete session", string(id), errSessionNotFound, `DELETE FROM sessions WHERE id = ? AND user_id = ?`, id, user)
}

// DeleteSessions ends every session of the user except keep.
func (db *DB) DeleteSessions(ctx context.Context, user authdash.UserID, keep authdash.SessionID) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM sessions WHERE user_id = ? AND id <> ?`, user, keep)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.fail(ctx, "delete sessions", err)
	}
	return int(n), nil
}

// PurgeExpiredSessions deletes sessions that expired before olderThan, with
// their refresh tokens, and returns how many it deleted.
func (db *DB) PurgeExpiredSessions(ctx context.Context, olderThan time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM sessions WHERE expires_ms < ?`, olderThan.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.fail(ctx, "purge sessions", err)
	}
	return int(n), nil
}
