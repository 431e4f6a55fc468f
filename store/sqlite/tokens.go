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
		t = &authdash.AccountToken{Hash: hash}
		var p string
		var created, expires, used int64
		err := tx.queryRow(`SELECT purpose, user_id, email, new_email, created_ms, expires_ms, used_ms
FROM account_tokens WHERE hash = ?`, hash).Scan(&p, &t.User, &t.Email, &t.NewEmail, &created, &expires, &used)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return authdash.ErrTokenInvalid()
		case err != nil:
			return err
		case authdash.TokenPurpose(p) != purpose:
			return authdash.ErrTokenInvalid()
		case used != 0:
			return authdash.ErrTokenUsed()
		case !now.Before(fromMillis(expires)):
			return authdash.ErrTokenExpired()
		}
		t.Purpose, t.CreatedAt, t.ExpiresAt = purpose, fromMillis(created), fromMillis(expires)
		_, err = tx.exec(`UPDATE account_tokens SET used_ms = ? WHERE hash = ?`, max(now.UnixMilli(), 1), hash)
		return err
	})
	if err != nil {
		return nil, db.fail(ctx, "use account token", err)
	}
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
