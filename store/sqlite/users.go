package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/emailkey"
)

const userCols = `id, email, name, created_ms, updated_ms, version, email_verified`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (*authdash.User, error) {
	var u authdash.User
	var created, updated int64
	dest := append([]any{&u.ID, &u.Email, &u.Name, &created, &updated, &u.Version, &u.EmailVerified}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &u, nil
}

func errUserNotFound() error { return authdash.Errorf(authdash.CodeNotFound, "User not found.") }

func errEmailMoved() error {
	return authdash.Errorf(authdash.CodePreconditionFailed, "The account's email address has changed since.")
}

func errEmailTaken(cause error) error {
	const msg = "Email is already registered."
	return &authdash.Error{Code: authdash.CodeConflict, Message: msg, Fields: map[string]string{"email": msg}, Err: cause}
}

// CreateUser stores a new account with its email canonical and keyed
// (internal/emailkey): a look-alike of a taken address is taken too.
func (db *DB) CreateUser(ctx context.Context, nu authdash.NewUser) (*authdash.User, error) {
	t := db.now()
	u := &authdash.User{
		ID:        authdash.UserID(newID()),
		Email:     emailkey.Canonical(nu.Email),
		Name:      nu.Name,
		CreatedAt: t,
		UpdatedAt: t,
		Version:   1,
	}
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO users (id, email, email_key, name, password_hash, created_ms, updated_ms, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1)`, u.ID, u.Email, emailkey.Key(u.Email), u.Name, nu.PasswordHash, t.UnixMilli(), t.UnixMilli())
		if isUnique(err) {
			return errEmailTaken(err)
		}
		return err
	})
	if err != nil {
		return nil, db.fail(ctx, "create user", err)
	}
	return u, nil
}

// FindUser returns the account with that id.
func (db *DB) FindUser(ctx context.Context, id authdash.UserID) (*authdash.User, error) {
	if !validID(string(id)) {
		return nil, db.fail(ctx, "find user", errUserNotFound())
	}
	row, err := db.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id)
	if err != nil {
		return nil, db.fail(ctx, "find user", err)
	}
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = errUserNotFound()
	}
	if err != nil {
		return nil, db.fail(ctx, "find user", err)
	}
	return u, nil
}

// FindLogin returns the account with that email's key and its password hash.
func (db *DB) FindLogin(ctx context.Context, email string) (*authdash.User, string, error) {
	row, err := db.queryRow(ctx, `SELECT `+userCols+`, password_hash FROM users WHERE email_key = ?`, emailkey.Key(email))
	if err != nil {
		return nil, "", db.fail(ctx, "find login", err)
	}
	var hash string
	u, err := scanUser(row, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		err = errUserNotFound()
	}
	if err != nil {
		return nil, "", db.fail(ctx, "find login", err)
	}
	return u, hash, nil
}

// PasswordHash returns the user's password hash.
func (db *DB) PasswordHash(ctx context.Context, id authdash.UserID) (string, error) {
	if !validID(string(id)) {
		return "", db.fail(ctx, "password hash", errUserNotFound())
	}
	row, err := db.queryRow(ctx, `SELECT password_hash FROM users WHERE id = ?`, id)
	if err != nil {
		return "", db.fail(ctx, "password hash", err)
	}
	var hash string
	err = row.Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		err = errUserNotFound()
	}
	if err != nil {
		return "", db.fail(ctx, "password hash", err)
	}
	return hash, nil
}

// UpdateUser applies a validated patch and bumps the version.
func (db *DB) UpdateUser(ctx context.Context, id authdash.UserID, p authdash.UserPatch) (*authdash.User, error) {
	if !validID(string(id)) {
		return nil, db.fail(ctx, "update user", errUserNotFound())
	}
	var u *authdash.User
	err := db.write(ctx, func(tx *wtx) error {
		var err error
		u, err = scanUser(tx.queryRow(`SELECT `+userCols+` FROM users WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errUserNotFound()
		}
		if err != nil {
			return err
		}
		if p.Email != nil {
			if e := emailkey.Canonical(*p.Email); emailkey.Key(e) != emailkey.Key(u.Email) {
				u.Email, u.EmailVerified = e, false
			}
		}
		if p.Name != nil {
			u.Name = *p.Name
		}
		u.UpdatedAt = db.now()
		u.Version++
		_, err = tx.exec(`UPDATE users SET email = ?, email_key = ?, email_verified = ?, name = ?, updated_ms = ?, version = ? WHERE id = ?`,
			u.Email, emailkey.Key(u.Email), u.EmailVerified, u.Name, u.UpdatedAt.UnixMilli(), u.Version, id)
		if isUnique(err) {
			return errEmailTaken(err)
		}
		return err
	})
	if err != nil {
		return nil, db.fail(ctx, "update user", err)
	}
	return u, nil
}

// SetEmail implements authdash.UserStore: the check of the address and the
// change share the writer's transaction.
func (db *DB) SetEmail(ctx context.Context, id authdash.UserID, from, to string) (*authdash.User, error) {
	if !validID(string(id)) {
		return nil, db.fail(ctx, "set email", errUserNotFound())
	}
	to = emailkey.Canonical(to)
	var u *authdash.User
	err := db.write(ctx, func(tx *wtx) error {
		var err error
		u, err = scanUser(tx.queryRow(`SELECT `+userCols+` FROM users WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errUserNotFound()
		}
		if err != nil {
			return err
		}
		if emailkey.Key(u.Email) != emailkey.Key(from) {
			return errEmailMoved()
		}
		if emailkey.Key(u.Email) == emailkey.Key(to) && u.EmailVerified {
			return nil
		}
		u.Email, u.EmailVerified = to, true
		u.UpdatedAt = db.now()
		u.Version++
		_, err = tx.exec(`UPDATE users SET email = ?, email_key = ?, email_verified = 1, updated_ms = ?, version = ? WHERE id = ?`,
			u.Email, emailkey.Key(u.Email), u.UpdatedAt.UnixMilli(), u.Version, id)
		if isUnique(err) {
			return errEmailTaken(err)
		}
		return err
	})
	if err != nil {
		return nil, db.fail(ctx, "set email", err)
	}
	return u, nil
}

// SetPassword replaces the hash and ends every other session in the same
// transaction, so a stolen session cannot outlive a password change.
func (db *DB) SetPassword(ctx context.Context, id authdash.UserID, hash string, keep authdash.SessionID) error {
	if !validID(string(id)) {
		return db.fail(ctx, "set password", errUserNotFound())
	}
	err := db.write(ctx, func(tx *wtx) error {
		if err := tx.execOne(errUserNotFound(), `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id); err != nil {
			return err
		}
		_, err := tx.exec(`DELETE FROM sessions WHERE user_id = ? AND id <> ?`, id, keep)
		return err
	})
	if err != nil {
		return db.fail(ctx, "set password", err)
	}
	return nil
}

// DeleteUser removes the account; foreign keys cascade to its tasks, tags,
// tombstones, sessions and refresh tokens.
func (db *DB) DeleteUser(ctx context.Context, id authdash.UserID) error {
	if !validID(string(id)) {
		return db.fail(ctx, "delete user", errUserNotFound())
	}
	err := db.write(ctx, func(tx *wtx) error {
		// A passkey challenge has no foreign key (a sign-in's has no user).
		if _, err := tx.exec(`DELETE FROM passkey_challenges WHERE user_id = ?`, id); err != nil {
			return err
		}
		return tx.execOne(errUserNotFound(), `DELETE FROM users WHERE id = ?`, id)
	})
	if err != nil {
		return db.fail(ctx, "delete user", err)
	}
	return nil
}
