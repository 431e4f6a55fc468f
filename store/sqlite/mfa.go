package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/authdash/authdash"
)

func errNoTOTP() error {
	return authdash.Errorf(authdash.CodeNotFound, "Two-factor authentication is not set up.")
}

func errTOTPOn() error {
	return authdash.Errorf(authdash.CodeConflict, "Two-factor authentication is already on.")
}

// SetTOTP implements authdash.MFAStore.
func (db *DB) SetTOTP(ctx context.Context, user authdash.UserID, secret string, now time.Time) error {
	if !validID(string(user)) {
		return db.fail(ctx, "set totp", errUserNotFound())
	}
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`INSERT INTO totp (user_id, secret, created_ms) VALUES (?, ?, ?)
ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_ms = excluded.created_ms, last_step = 0
WHERE confirmed = 0`, user, secret, now.UnixMilli())
		if isForeignKey(err) {
			return errUserNotFound()
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errTOTPOn()
		}
		return nil
	})
	if err != nil {
		return db.fail(ctx, "set totp", err)
	}
	return nil
}

// FindTOTP implements authdash.MFAStore.
func (db *DB) FindTOTP(ctx context.Context, user authdash.UserID) (*authdash.TOTP, error) {
	if !validID(string(user)) {
		return nil, db.fail(ctx, "find totp", errNoTOTP())
	}
	row, err := db.queryRow(ctx, `SELECT secret, confirmed, last_step, created_ms,
(SELECT count(*) FROM recovery_codes WHERE user_id = totp.user_id) FROM totp WHERE user_id = ?`, user)
	if err != nil {
		return nil, db.fail(ctx, "find totp", err)
	}
	var t authdash.TOTP
	var created int64
	err = row.Scan(&t.Secret, &t.Confirmed, &t.LastStep, &created, &t.RecoveryCodes)
	if errors.Is(err, sql.ErrNoRows) {
		err = errNoTOTP()
	}
	if err != nil {
		return nil, db.fail(ctx, "find totp", err)
	}
	t.CreatedAt = fromMillis(created)
	return &t, nil
}

// ConfirmTOTP implements authdash.MFAStore: one transaction.
func (db *DB) ConfirmTOTP(ctx context.Context, user authdash.UserID, step int64, recovery [][]byte) error {
	if !validID(string(user)) {
		return db.fail(ctx, "confirm totp", errNoTOTP())
	}
	err := db.write(ctx, func(tx *wtx) error {
		var confirmed bool
		err := tx.queryRow(`SELECT confirmed FROM totp WHERE user_id = ?`, user).Scan(&confirmed)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return errNoTOTP()
		case err != nil:
			return err
		case confirmed:
			return errTOTPOn()
		}
		if _, err := tx.exec(`UPDATE totp SET confirmed = 1, last_step = ? WHERE user_id = ?`, step, user); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM recovery_codes WHERE user_id = ?`, user); err != nil {
			return err
		}
		for _, h := range recovery {
			if _, err := tx.exec(`INSERT OR IGNORE INTO recovery_codes (user_id, hash) VALUES (?, ?)`, user, h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return db.fail(ctx, "confirm totp", err)
	}
	return nil
}

// UseTOTPStep implements authdash.MFAStore: the condition is in the update,
// and writes are serialised, so of two uses of one step one finds it taken.
func (db *DB) UseTOTPStep(ctx context.Context, user authdash.UserID, step int64) error {
	if !validID(string(user)) {
		return db.fail(ctx, "use totp step", errNoTOTP())
	}
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE totp SET last_step = ? WHERE user_id = ? AND confirmed = 1 AND last_step < ?`, step, user, step)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		var confirmed bool
		switch err := tx.queryRow(`SELECT confirmed FROM totp WHERE user_id = ?`, user).Scan(&confirmed); {
		case errors.Is(err, sql.ErrNoRows), err == nil && !confirmed:
			return errNoTOTP()
		case err != nil:
			return err
		}
		return authdash.Errorf(authdash.CodeConflict, "This code was already used. Wait for the next one.")
	})
	if err != nil {
		return db.fail(ctx, "use totp step", err)
	}
	return nil
}

// UseRecoveryCode implements authdash.MFAStore: a used code is deleted.
func (db *DB) UseRecoveryCode(ctx context.Context, user authdash.UserID, hash []byte) error {
	return db.changeOne(ctx, "use recovery code", string(user), errNoRecoveryCode, `DELETE FROM recovery_codes WHERE user_id = ? AND hash = ?`, user, hash)
}

func errNoRecoveryCode() error {
	return authdash.Errorf(authdash.CodeNotFound, "No such recovery code.")
}

// DeleteTOTP implements authdash.MFAStore.
func (db *DB) DeleteTOTP(ctx context.Context, user authdash.UserID) error {
	if !validID(string(user)) {
		return db.fail(ctx, "delete totp", errNoTOTP())
	}
	err := db.write(ctx, func(tx *wtx) error {
		if _, err := tx.exec(`DELETE FROM recovery_codes WHERE user_id = ?`, user); err != nil {
			return err
		}
		return tx.execOne(errNoTOTP(), `DELETE FROM totp WHERE user_id = ?`, user)
	})
	if err != nil {
		return db.fail(ctx, "delete totp", err)
	}
	return nil
}

// RecordSignIn implements authdash.SignInStore: the look for the device and
// the insert share the writer's transaction.
func (db *DB) RecordSignIn(ctx context.Context, user authdash.UserID, e authdash.SignInEvent) (bool, error) {
	if !validID(string(user)) {
		return false, db.fail(ctx, "record sign-in", errUserNotFound())
	}
	var newDevice bool
	err := db.write(ctx, func(tx *wtx) error {
		newDevice = false
		if e.Outcome == authdash.SignInSuccess {
			var before, known bool
			err := tx.queryRow(`SELECT EXISTS (SELECT 1 FROM sign_ins WHERE user_id = ? AND outcome = 'success'),
EXISTS (SELECT 1 FROM sign_ins WHERE user_id = ? AND outcome = 'success' AND device_key = ?)`, user, user, e.DeviceKey).Scan(&before, &known)
			if err != nil {
				return err
			}
			newDevice = before && !known
		}
		_, err := tx.exec(`INSERT INTO sign_ins (user_id, at_ms, ip, device, method, outcome, reason, device_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, user, e.At.UnixMilli(), e.IP, e.Device, string(e.Method), string(e.Outcome), e.Reason, e.DeviceKey)
		if isForeignKey(err) {
			return errUserNotFound()
		}
		return err
	})
	if err != nil {
		return false, db.fail(ctx, "record sign-in", err)
	}
	return newDevice, nil
}

// SignIns implements authdash.SignInStore.
func (db *DB) SignIns(ctx context.Context, user authdash.UserID, limit int) ([]authdash.SignInEvent, error) {
	if !validID(string(user)) || limit <= 0 {
		return nil, nil
	}
	rows, err := db.query(ctx, `SELECT at_ms, ip, device, method, outcome, reason, device_key FROM sign_ins
WHERE user_id = ? ORDER BY at_ms DESC, id DESC LIMIT ?`, user, limit)
	if err != nil {
		return nil, db.fail(ctx, "sign-ins", err)
	}
	defer rows.Close()
	var out []authdash.SignInEvent
	for rows.Next() {
		var e authdash.SignInEvent
		var at int64
		var method, outcome string
		if err := rows.Scan(&at, &e.IP, &e.Device, &method, &outcome, &e.Reason, &e.DeviceKey); err != nil {
			return nil, db.fail(ctx, "sign-ins", err)
		}
		e.At, e.Method, e.Outcome = fromMillis(at), authdash.SignInMethod(method), authdash.SignInOutcome(outcome)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail(ctx, "sign-ins", err)
	}
	return out, nil
}

// PurgeSignIns implements authdash.SignInStore.
func (db *DB) PurgeSignIns(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM sign_ins WHERE at_ms < ?`, before.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.fail(ctx, "purge sign-ins", err)
	}
	return int(n), nil
}
