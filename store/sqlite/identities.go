package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/authdash/authdash"
)

func errNoIdentity() error {
	return authdash.Errorf(authdash.CodeNotFound, "No such connected account.")
}

const identityColumns = `id, user_id, provider, subject, email, created_ms, last_used_ms`

func scanIdentity(scan func(...any) error) (authdash.LinkedIdentity, error) {
	var i authdash.LinkedIdentity
	var created, used int64
	err := scan(&i.ID, &i.User, &i.Provider, &i.Subject, &i.Email, &created, &used)
	i.CreatedAt = fromMillis(created)
	if used != 0 {
		i.LastUsedAt = fromMillis(used)
	}
	return i, err
}

// LinkIdentity implements authdash.IdentityStore.
func (db *DB) LinkIdentity(ctx context.Context, i authdash.LinkedIdentity) (*authdash.LinkedIdentity, error) {
	if !validID(string(i.User)) {
		return nil, db.fail(ctx, "link identity", errUserNotFound())
	}
	i.ID = newID()
	i.CreatedAt = authdash.Millis(i.CreatedAt)
	i.LastUsedAt = time.Time{}
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO identities (`+identityColumns+`) VALUES (?, ?, ?, ?, ?, ?, 0)`,
			i.ID, i.User, i.Provider, i.Subject, i.Email, i.CreatedAt.UnixMilli())
		switch {
		case isForeignKey(err):
			return errUserNotFound()
		case isUnique(err):
			return authdash.ErrIdentityTaken()
		}
		return err
	})
	if err != nil {
		return nil, db.fail(ctx, "link identity", err)
	}
	return &i, nil
}

// FindLinkedIdentity implements authdash.IdentityStore.
func (db *DB) FindLinkedIdentity(ctx context.Context, provider, subject string) (*authdash.LinkedIdentity, error) {
	row, err := db.queryRow(ctx, `SELECT `+identityColumns+` FROM identities WHERE provider = ? AND subject = ?`, provider, subject)
	if err != nil {
		return nil, db.fail(ctx, "find identity", err)
	}
	i, err := scanIdentity(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		err = errNoIdentity()
	}
	if err != nil {
		return nil, db.fail(ctx, "find identity", err)
	}
	return &i, nil
}

// LinkedIdentities implements authdash.IdentityStore.
func (db *DB) LinkedIdentities(ctx context.Context, user authdash.UserID) ([]authdash.LinkedIdentity, error) {
	if !validID(string(user)) {
		return nil, nil
	}
	rows, err := db.query(ctx, `SELECT `+identityColumns+` FROM identities WHERE user_id = ? ORDER BY created_ms, id`, user)
	if err != nil {
		return nil, db.fail(ctx, "identities", err)
	}
	defer rows.Close()
	var out []authdash.LinkedIdentity
	for rows.Next() {
		i, err := scanIdentity(rows.Scan)
		if err != nil {
			return nil, db.fail(ctx, "identities", err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(ctx, "identities", err)
	}
	return out, nil
}

// UseLinkedIdentity implements authdash.IdentityStore.
func (db *DB) UseLinkedIdentity(ctx context.Context, user authdash.UserID, id string, now time.Time) error {
	if !validID(id) {
		return db.fail(ctx, "use identity", errNoIdentity())
	}
	return db.changeOne(ctx, "use identity", string(user), errNoIdentity,
		`UPDATE identities SET last_used_ms = ? WHERE id = ? AND user_id = ?`, now.UnixMilli(), id, user)
}

// UnlinkIdentity implements authdash.IdentityStore.
func (db *DB) UnlinkIdentity(ctx context.Context, user authdash.UserID, id string) error {
	if !validID(id) {
		return db.fail(ctx, "unlink identity", errNoIdentity())
	}
	return db.changeOne(ctx, "unlink identity", string(user), errNoIdentity,
		`DELETE FROM identities WHERE id = ? AND user_id = ?`, id, user)
}
