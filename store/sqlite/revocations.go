package sqlite

import (
	"context"
	"time"

	"github.com/authdash/authdash"
)

// SaveRevocation implements authdash.RevocationStore.
func (db *DB) SaveRevocation(ctx context.Context, r authdash.Revocation) error {
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO revocations (user_id, session_id, keep_id, at_ms, until_ms, recorded_ms)
VALUES (?, ?, ?, ?, ?, ?)`, string(r.User), string(r.Session), string(r.Keep), r.At.UnixMilli(), r.Until.UnixMilli(), db.now().UnixMilli())
		return err
	})
	if err != nil {
		return db.fail(ctx, "save revocation", err)
	}
	return nil
}

// Revocations implements authdash.RevocationStore.
func (db *DB) Revocations(ctx context.Context, since time.Time) ([]authdash.Revocation, error) {
	rows, err := db.query(ctx, `SELECT user_id, session_id, keep_id, at_ms, until_ms FROM revocations
WHERE recorded_ms >= ? AND until_ms > ?`, since.UnixMilli(), db.now().UnixMilli())
	if err != nil {
		return nil, db.fail(ctx, "revocations", err)
	}
	defer rows.Close()
	var out []authdash.Revocation
	for rows.Next() {
		var r authdash.Revocation
		var at, until int64
		if err := rows.Scan(&r.User, &r.Session, &r.Keep, &at, &until); err != nil {
			return nil, db.fail(ctx, "revocations", err)
		}
		r.At, r.Until = time.UnixMilli(at).UTC(), time.UnixMilli(until).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(ctx, "revocations", err)
	}
	return out, nil
}

// PurgeRevocations implements authdash.RevocationStore.
func (db *DB) PurgeRevocations(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM revocations WHERE until_ms < ?`, before.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.fail(ctx, "purge revocations", err)
	}
	return int(n), nil
}
