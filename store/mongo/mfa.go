package mongo

import (
	"context"
	"errors"
	"time"

	"github.com/authdash/authdash"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// mfaDoc is a user's second factor in the mfa collection, keyed by the user:
// the sealed secret, whether it is confirmed, the last time step a code was
// accepted for, and the hashes of the unused recovery codes (a used one is
// pulled out). Every change is one single-document update.
type mfaDoc struct {
	User      bson.ObjectID `bson:"_id"`
	Secret    string        `bson:"secret"`
	Confirmed bool          `bson:"confirmed"`
	LastStep  int64         `bson:"lastStep"`
	Codes     [][]byte      `bson:"codes"`
	CreatedAt time.Time     `bson:"createdAt"`
}

func errNoTOTP() error {
	return authdash.Errorf(authdash.CodeNotFound, "Two-factor authentication is not set up.")
}

func errTOTPOn() error {
	return authdash.Errorf(authdash.CodeConflict, "Two-factor authentication is already on.")
}

// SetTOTP implements authdash.MFAStore: one upsert that matches only an
// unconfirmed set-up, so against a confirmed one it tries to insert a second
// document with the user's _id and is refused by the unique _id. The user is
// not read (the caller has just read it).
func (db *DB) SetTOTP(ctx context.Context, user authdash.UserID, secret string, now time.Time) error {
	oid, ok := objectID(string(user))
	if !ok {
		return db.fail(ctx, "set totp", errUserNotFound())
	}
	_, err := db.mfa.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "confirmed", Value: false}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "secret", Value: secret}, {Key: "confirmed", Value: false}, {Key: "lastStep", Value: int64(0)},
			{Key: "codes", Value: bson.A{}}, {Key: "createdAt", Value: authdash.Millis(now)},
		}}}, options.UpdateOne().SetUpsert(true))
	if isDuplicate(err) {
		err = errTOTPOn()
	}
	if err != nil {
		return db.fail(ctx, "set totp", err)
	}
	return nil
}

// FindTOTP implements authdash.MFAStore.
func (db *DB) FindTOTP(ctx context.Context, user authdash.UserID) (*authdash.TOTP, error) {
	d, err := db.findMFA(ctx, user)
	if err != nil {
		return nil, db.fail(ctx, "find totp", err)
	}
	return &authdash.TOTP{Secret: d.Secret, Confirmed: d.Confirmed, LastStep: d.LastStep,
		RecoveryCodes: len(d.Codes), CreatedAt: utc(d.CreatedAt)}, nil
}

func (db *DB) findMFA(ctx context.Context, user authdash.UserID) (*mfaDoc, error) {
	oid, ok := objectID(string(user))
	if !ok {
		return nil, errNoTOTP()
	}
	var d mfaDoc
	err := db.mfa.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errNoTOTP()
	}
	return &d, err
}

// whyNot reads the set-up again after a conditional update matched nothing,
// to tell a missing (or unconfirmed, when confirmed is wanted) set-up from
// the condition's own refusal.
func (db *DB) whyNot(ctx context.Context, user authdash.UserID, wantConfirmed bool, refusal func() error) error {
	d, err := db.findMFA(ctx, user)
	switch {
	case err != nil:
		return err
	case wantConfirmed && !d.Confirmed:
		return errNoTOTP()
	}
	return refusal()
}

// ConfirmTOTP implements authdash.MFAStore: one update; only a refusal reads
// again to say why.
func (db *DB) ConfirmTOTP(ctx context.Context, user authdash.UserID, step int64, recovery [][]byte) error {
	oid, ok := objectID(string(user))
	if !ok {
		return db.fail(ctx, "confirm totp", errNoTOTP())
	}
	codes := bson.A{}
	for _, h := range recovery {
		codes = append(codes, h)
	}
	res, err := db.mfa.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "confirmed", Value: false}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "confirmed", Value: true}, {Key: "lastStep", Value: step}, {Key: "codes", Value: codes}}}})
	if err == nil && res.MatchedCount == 0 {
		err = db.whyNot(ctx, user, false, errTOTPOn)
	}
	if err != nil {
		return db.fail(ctx, "confirm totp", err)
	}
	return nil
}

// UseTOTPStep implements authdash.MFAStore: the step's condition is in the
// filter of one update, atomic on the document.
func (db *DB) UseTOTPStep(ctx context.Context, user authdash.UserID, step int64) error {
	oid, ok := objectID(string(user))
	if !ok {
		return db.fail(ctx, "use totp step", errNoTOTP())
	}
	res, err := db.mfa.UpdateOne(ctx, bson.D{
		{Key: "_id", Value: oid}, {Key: "confirmed", Value: true},
		{Key: "lastStep", Value: bson.D{{Key: "$lt", Value: step}}},
	}, bson.D{{Key: "$set", Value: bson.D{{Key: "lastStep", Value: step}}}})
	if err == nil && res.MatchedCount == 0 {
		err = db.whyNot(ctx, user, true, func() error {
			return authdash.Errorf(authdash.CodeConflict, "This code was already used. Wait for the next one.")
		})
	}
	if err != nil {
		return db.fail(ctx, "use totp step", err)
	}
	return nil
}

// UseRecoveryCode implements authdash.MFAStore: one update that matches only
// while the hash is in the list, and pulls it out.
func (db *DB) UseRecoveryCode(ctx context.Context, user authdash.UserID, hash []byte) error {
	oid, ok := objectID(string(user))
	if !ok {
		return db.fail(ctx, "use recovery code", errNoRecoveryCode())
	}
	res, err := db.mfa.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "confirmed", Value: true}, {Key: "codes", Value: hash}},
		bson.D{{Key: "$pull", Value: bson.D{{Key: "codes", Value: hash}}}})
	return db.updatedOne(ctx, "use recovery code", res, err, errNoRecoveryCode)
}

func errNoRecoveryCode() error {
	return authdash.Errorf(authdash.CodeNotFound, "No such recovery code.")
}

// DeleteTOTP implements authdash.MFAStore.
func (db *DB) DeleteTOTP(ctx context.Context, user authdash.UserID) error {
	oid, ok := objectID(string(user))
	if !ok {
		return db.fail(ctx, "delete totp", errNoTOTP())
	}
	res, err := db.mfa.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}})
	return db.deletedOne(ctx, "delete totp", res, err, errNoTOTP)
}

// signInDoc is one sign-in attempt in the signIns collection.
type signInDoc struct {
	ID        bson.ObjectID `bson:"_id"`
	User      bson.ObjectID `bson:"user"`
	At        time.Time     `bson:"at"`
	IP        string        `bson:"ip"`
	Device    string        `bson:"device"`
	Method    string        `bson:"method"`
	Outcome   string        `bson:"outcome"`
	Reason    string        `bson:"reason,omitempty"`
	DeviceKey string        `bson:"deviceKey"`
}

// RecordSignIn implements authdash.SignInStore: an insert, after (for a
// success) a look for the device and, when it is not found, for any earlier
// success. Two sign-ins racing from one new device may both be called new.
// The user is not read (the caller has just read it).
func (db *DB) RecordSignIn(ctx context.Context, user authdash.UserID, e authdash.SignInEvent) (bool, error) {
	oid, ok := objectID(string(user))
	if !ok {
		return false, db.fail(ctx, "record sign-in", errUserNotFound())
	}
	newDevice := false
	if e.Outcome == authdash.SignInSuccess {
		success := bson.D{{Key: "user", Value: oid}, {Key: "outcome", Value: string(authdash.SignInSuccess)}}
		known, err := db.exists(ctx, append(success, bson.E{Key: "deviceKey", Value: e.DeviceKey}))
		if err != nil {
			return false, db.fail(ctx, "record sign-in", err)
		}
		if !known {
			before, err := db.exists(ctx, success)
			if err != nil {
				return false, db.fail(ctx, "record sign-in", err)
			}
			newDevice = before
		}
	}
	d := signInDoc{ID: bson.NewObjectID(), User: oid, At: authdash.Millis(e.At), IP: e.IP, Device: e.Device,
		Method: string(e.Method), Outcome: string(e.Outcome), Reason: e.Reason, DeviceKey: e.DeviceKey}
	if _, err := db.signIns.InsertOne(ctx, d); err != nil {
		return false, db.fail(ctx, "record sign-in", err)
	}
	return newDevice, nil
}

// exists reports whether a sign-in matches filter.
func (db *DB) exists(ctx context.Context, filter bson.D) (bool, error) {
	err := db.signIns.FindOne(ctx, filter, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	return err == nil, err
}

// SignIns implements authdash.SignInStore: one find on {user, at}.
func (db *DB) SignIns(ctx context.Context, user authdash.UserID, limit int) ([]authdash.SignInEvent, error) {
	oid, ok := objectID(string(user))
	if !ok || limit <= 0 {
		return nil, nil
	}
	return findAll(ctx, db, "sign-ins", db.signIns, bson.D{{Key: "user", Value: oid}}, func(d signInDoc) authdash.SignInEvent {
		return authdash.SignInEvent{At: utc(d.At), IP: d.IP, Device: d.Device, Method: authdash.SignInMethod(d.Method),
			Outcome: authdash.SignInOutcome(d.Outcome), Reason: d.Reason, DeviceKey: d.DeviceKey}
	}, options.Find().
		SetSort(bson.D{{Key: "user", Value: 1}, {Key: "at", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(-int64(limit))) // negative: one batch, cursor closed
}

// PurgeSignIns implements authdash.SignInStore (the janitor's).
func (db *DB) PurgeSignIns(ctx context.Context, before time.Time) (int, error) {
	res, err := db.signIns.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: authdash.Millis(before)}}}})
	if err != nil {
		return 0, db.fail(ctx, "purge sign-ins", err)
	}
	return int(res.DeletedCount), nil
}
