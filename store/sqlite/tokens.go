package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/authdash/authdash"
)

// CreateAccountToken implements authdash.AccountTokenStore.
func (db *DB) CreateAccountToken(ctx context.Context, t authdash.AccountToken) error {
	if !validID(string(t.User)) {
		return db.fail(ctx, "create account token", errUserNotFound())
	}
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO account_tokens (hash, purpose, user_id, email, new_email, created_ms, expires_ms)
VALUES (?, ?, ?, ?, ?, ?, ?)`, t.Hash, string(t.Purpose), t.User, t.Email, t.NewEmail,
			t.CreatedAt.UnixMilli(), t.ExpiresAt.UnixMilli())
		if isForeignKey(err) {
			return errUserNotFound()
		}
		return err
	})
	if err != nil {
		return db.fail(ctx, "create account token", err)
	}
	return nil
}

// UseAccountToken implements authdash.AccountTokenStore: the read and the
// spending share the writer's transaction, so of two racing uses one finds
// the token used.
func (db *DB) UseAccountToken(ctx context.Context, hash []byte, purpose authdash.TokenPurpose, now time.Time) (*authdash.AccountToken, error) {
	var t *authdash.AccountToken
	err := db.write(ctx, func(tx *wtx) error {
		var err error
		t, err = scanAccountToken(tx.queryRow(selectAccountToken, hash), hash, purpose, now)
		if err != nil {
			return err
		}
		_, err = tx.exec(`UPDATE account_tokens SET used_ms = ? WHERE hash = ?`, max(now.UnixMilli(), 1), hash)
		return err
	})
	if err != nil {
		return nil, db.fail(ctx, "use account token", err)
	}
	return t, nil
}

// FindAccountToken implements authdash.AccountTokenStore.
func (db *DB) FindAccountToken(ctx context.Context, hash []byte, purpose authdash.TokenPurpose, now time.Time) (*authdash.AccountToken, error) {
	row, err := db.queryRow(ctx, selectAccountToken, hash)
	if err != nil {
		return nil, db.fail(ctx, "find account token", err)
	}
	t, err := scanAccountToken(row, hash, purpose, now)
	if err != nil {
		return nil, db.fail(ctx, "find account token", err)
	}
	return t, nil
}

const selectAccountToken = `SELECT purpose, user_id, email, new_email, created_ms, expires_ms, used_ms
FROM account_tokens WHERE hash = ?`

// scanAccountToken reads a row of selectAccountToken and says, as
// UseAccountToken promises, why the token does not work if it does not.
func scanAccountToken(row *sql.Row, hash []byte, purpose authdash.TokenPurpose, now time.Time) (*authdash.AccountToken, error) {
	t := &authdash.AccountToken{Hash: hash}
	var p string
	var created, expires, used int64
	err := row.Scan(&p, &t.User, &t.Email, &t.NewEmail, &created, &expires, &used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, authdash.ErrTokenInvalid()
	case err != nil:
		return nil, err
	case authdash.TokenPurpose(p) != purpose:
		return nil, authdash.ErrTokenInvalid()
	case used != 0:
		return nil, authdash.ErrTokenUsed()
	case !now.Before(fromMillis(expires)):
		return nil, authdash.ErrTokenExpired()
	}
	t.Purpose, t.CreatedAt, t.ExpiresAt = purpose, fromMillis(created), fromMillis(expires)
	return t, nil
}

// DeleteAccountTokens implements authdash.AccountTokenStore.
func (db *DB) DeleteAccountTokens(ctx context.Context, user authdash.UserID, purpose authdash.TokenPurpose) (int, error) {
	if !validID(string(user)) {
		return 0, nil
	}
	var n int64
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM account_tokens WHERE user_id = ? AND purpose = ? AND used_ms = 0`, user, string(purpose))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.fail(ctx, "delete account tokens", err)
	}
	return int(n), nil
}

// PurgeAccountTokens implements authdash.AccountTokenStore.
func (db *DB) PurgeAccountTokens(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM account_tokens WHERE expires_ms < ?`, before.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.fail(ctx, "purge account tokens", err)
	}
	return int(n), nil
}
