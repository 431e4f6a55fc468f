package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/authdash/authdash"
)

func errNoPasskey() error {
	return authdash.Errorf(authdash.CodeNotFound, "No such passkey.")
}

func errPasskeyTaken() error {
	return authdash.Errorf(authdash.CodeConflict, "This passkey is registered already.")
}

func errPasskeyCounter() error {
	return authdash.Errorf(authdash.CodeConflict, "The passkey's signature counter did not advance.")
}

const passkeyColumns = `id, user_id, name, credential, sign_count, backup_eligible, backup_state, created_ms, last_used_ms`

func scanPasskey(scan func(...any) error) (authdash.Passkey, error) {
	var p authdash.Passkey
	var created, used int64
	var count int64
	err := scan(&p.ID, &p.User, &p.Name, &p.Credential, &count, &p.BackupEligible, &p.BackupState, &created, &used)
	p.SignCount = uint32(count)
	p.CreatedAt = fromMillis(created)
	if used != 0 {
		p.LastUsedAt = fromMillis(used)
	}
	return p, err
}

// CreatePasskey implements authdash.PasskeyStore.
func (db *DB) CreatePasskey(ctx context.Context, p authdash.Passkey) error {
	if !validID(string(p.User)) {
		return db.fail(ctx, "create passkey", errUserNotFound())
	}
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO passkeys (`+passkeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)`,
			p.ID, p.User, p.Name, p.Credential, int64(p.SignCount), p.BackupEligible, p.BackupState, p.CreatedAt.UnixMilli())
		switch {
		case isForeignKey(err):
			return errUserNotFound()
		case isUnique(err):
			return errPasskeyTaken()
		}
		return err
	})
	if err != nil {
		return db.fail(ctx, "create passkey", err)
	}
	return nil
}

// Passkeys implements authdash.PasskeyStore.
func (db *DB) Passkeys(ctx context.Context, user authdash.UserID) ([]authdash.Passkey, error) {
	if !validID(string(user)) {
		return nil, nil
	}
	rows, err := db.query(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = ? ORDER BY created_ms, id`, user)
	if err != nil {
		return nil, db.fail(ctx, "passkeys", err)
	}
	defer rows.Close()
	var out []authdash.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows.Scan)
		if err != nil {
			return nil, db.fail(ctx, "passkeys", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(ctx, "passkeys", err)
	}
	return out, nil
}

// FindPasskey implements authdash.PasskeyStore.
func (db *DB) FindPasskey(ctx context.Context, id []byte) (*authdash.Passkey, error) {
	row, err := db.queryRow(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE id = ?`, id)
	if err != nil {
		return nil, db.fail(ctx, "find passkey", err)
	}
	p, err := scanPasskey(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		err = errNoPasskey()
	}
	if err != nil {
		return nil, db.fail(ctx, "find passkey", err)
	}
	return &p, nil
}

// RenamePasskey implements authdash.PasskeyStore.
func (db *DB) RenamePasskey(ctx context.Context, user authdash.UserID, id []byte, name string) error {
	return db.changeOne(ctx, "rename passkey", string(user), errNoPasskey, `UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, name, id, user)
}

// DeletePasskey implements authdash.PasskeyStore.
func (db *DB) DeletePasskey(ctx context.Context, user authdash.UserID, id []byte) error {
	return db.changeOne(ctx, "delete passkey", string(user), errNoPasskey, `DELETE FROM passkeys WHERE id = ? AND user_id = ?`, id, user)
}

// UsePasskey implements authdash.PasskeyStore: the counter's condition is in
// the update, and writes are serialised, so of two uses of one signature one
// finds the counter taken; only then is the row read, to tell a stale
// counter from a passkey that is not there.
func (db *DB) UsePasskey(ctx context.Context, user authdash.UserID, id []byte, signCount uint32, backupState bool, credential []byte, now time.Time) error {
	if !validID(string(user)) {
		return db.fail(ctx, "use passkey", errNoPasskey())
	}
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE passkeys SET sign_count = ?, backup_state = ?, credential = ?, last_used_ms = ?
WHERE id = ? AND user_id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
			int64(signCount), backupState, credential, now.UnixMilli(), id, user, int64(signCount), int64(signCount))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return nil
		}
		var one int
		err = tx.queryRow(`SELECT 1 FROM passkeys WHERE id = ? AND user_id = ?`, id, user).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoPasskey()
		}
		if err != nil {
			return err
		}
		return errPasskeyCounter()
	})
	if err != nil {
		return db.fail(ctx, "use passkey", err)
	}
	return nil
}

// CreatePasskeyChallenge implements authdash.PasskeyStore.
func (db *DB) CreatePasskeyChallenge(ctx context.Context, c authdash.PasskeyChallenge) error {
	if c.User != "" && !validID(string(c.User)) {
		return db.fail(ctx, "create passkey challenge", errUserNotFound())
	}
	err := db.write(ctx, func(tx *wtx) error {
		if c.User != "" {
			var one int
			err := tx.queryRow(`SELECT 1 FROM users WHERE id = ?`, c.User).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return errUserNotFound()
			}
			if err != nil {
				return err
			}
		}
		_, err := tx.exec(`INSERT INTO passkey_challenges (hash, purpose, user_id, session, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)`,
			c.Hash, string(c.Purpose), c.User, c.Session, c.CreatedAt.UnixMilli(), c.ExpiresAt.UnixMilli())
		return err
	})
	if err != nil {
		return db.fail(ctx, "create passkey challenge", err)
	}
	return nil
}

// UsePasskeyChallenge implements authdash.PasskeyStore: a spent challenge is
// deleted, in the statement that finds it.
func (db *DB) UsePasskeyChallenge(ctx context.Context, hash []byte, purpose authdash.TokenPurpose, now time.Time) (*authdash.PasskeyChallenge, error) {
	var c authdash.PasskeyChallenge
	err := db.write(ctx, func(tx *wtx) error {
		c = authdash.PasskeyChallenge{}
		var purp, user string
		var created, expires int64
		err := tx.returning(`DELETE FROM passkey_challenges WHERE hash = ? AND purpose = ? AND expires_ms > ?
RETURNING hash, purpose, user_id, session, created_ms, expires_ms`, hash, string(purpose), now.UnixMilli()).
			Scan(&c.Hash, &purp, &user, &c.Session, &created, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return authdash.ErrChallengeInvalid()
		}
		c.Purpose, c.User, c.CreatedAt, c.ExpiresAt = authdash.TokenPurpose(purp), authdash.UserID(user), fromMillis(created), fromMillis(expires)
		return err
	})
	if err != nil {
		return nil, db.fail(ctx, "use passkey challenge", err)
	}
	return &c, nil
}

// PurgePasskeyChallenges implements authdash.PasskeyStore.
func (db *DB) PurgePasskeyChallenges(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM passkey_challenges WHERE expires_ms < ?`, before.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.fail(ctx, "purge passkey challenges", err)
	}
	return int(n), nil
}
