package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/authdash/authdash"
)

func errMailNotFound() error {
	return authdash.Errorf(authdash.CodeNotFound, "Message not found.")
}

// EnqueueMail implements authdash.MailOutbox.
func (db *DB) EnqueueMail(ctx context.Context, m authdash.Mail) (authdash.MailID, error) {
	id := newID()
	var expires int64
	if !m.Expires.IsZero() {
		expires = m.Expires.UnixMilli()
	}
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO mail_outbox (id, kind, to_addr, subject, text, html, link, due_ms, expires_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, m.Kind, m.To, m.Subject, m.Text, m.HTML, m.Link, m.Due.UnixMilli(), expires)
		return err
	})
	if err != nil {
		return "", db.fail(ctx, "enqueue mail", err)
	}
	return authdash.MailID(id), nil
}

// ClaimMail implements authdash.MailOutbox. The read and the updates share the writer's
// transaction, so two claims (from this process or another) never hand out one message.
func (db *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, n int) ([]authdash.Mail, error) {
	var out []authdash.Mail
	until := now.Add(lease)
	err := db.write(ctx, func(tx *wtx) error {
		out = out[:0]
		rows, err := tx.query(`SELECT id, kind, to_addr, subject, text, html, link, expires_ms, attempts, last_error
FROM mail_outbox WHERE due_ms <= ? ORDER BY due_ms, id LIMIT ?`, now.UnixMilli(), n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m authdash.Mail
			var expires int64
			if err := rows.Scan(&m.ID, &m.Kind, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Link, &expires, &m.Attempts, &m.LastError); err != nil {
				return err
			}
			if expires != 0 {
				m.Expires = fromMillis(expires)
			}
			m.Attempts++
			m.Due = authdash.Millis(until)
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for _, m := range out {
			if _, err := tx.exec(`UPDATE mail_outbox SET due_ms = ?, attempts = attempts + 1 WHERE id = ?`, until.UnixMilli(), m.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, db.fail(ctx, "claim mail", err)
	}
	return out, nil
}

// RetryMail implements authdash.MailOutbox.
func (db *DB) RetryMail(ctx context.Context, id authdash.MailID, next time.Time, reason string) error {
	return db.changeOne(ctx, "retry mail", string(id), errMailNotFound, `UPDATE mail_outbox SET due_ms = ?, last_error = ? WHERE id = ?`, next.UnixMilli(), reason, id)
}

// DeleteMail implements authdash.MailOutbox.
func (db *DB) DeleteMail(ctx context.Context, id authdash.MailID) error {
	return db.changeOne(ctx, "delete mail", string(id), errMailNotFound, `DELETE FROM mail_outbox WHERE id = ?`, id)
}

// query runs a statement that reads rows inside the write transaction.
func (t *wtx) query(query string, args ...any) (*sql.Rows, error) {
	s, err := t.prep(query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(t.ctx, args...)
}
