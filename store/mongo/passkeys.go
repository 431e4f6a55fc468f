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

// passkeyDoc is a registered passkey in the passkeys collection, keyed by
// its credential ID, which is unique among all accounts.
type passkeyDoc struct {
	ID             []byte        `bson:"_id"`
	User           bson.ObjectID `bson:"user"`
	Name           string        `bson:"name"`
	Credential     []byte        `bson:"credential"`
	SignCount      int64         `bson:"signCount"`
	BackupEligible bool          `bson:"backupEligible"`
	BackupState    bool          `bson:"backupState"`
	CreatedAt      time.Time     `bson:"createdAt"`
	LastUsedAt     *time.Time    `bson:"lastUsedAt,omitempty"`
}

func (d passkeyDoc) passkey() authdash.Passkey {
	p := authdash.Passkey{ID: d.ID, User: authdash.UserID(d.User.Hex()), Name: d.Name, Credential: d.Credential,
		SignCount: uint32(d.SignCount), BackupEligible: d.BackupEligible, BackupState: d.BackupState, CreatedAt: utc(d.CreatedAt)}
	if d.LastUsedAt != nil {
		p.LastUsedAt = utc(*d.LastUsedAt)
	}
	return p
}

// passkeyChallengeDoc is a begun ceremony in passkeyChallenges, keyed by the
// challenge's hash; a spent one is deleted. User is the account's ID, or
// empty for a sign-in that lets the authenticator name the account.
type passkeyChallengeDoc struct {
	Hash      []byte    `bson:"_id"`
	Purpose   string    `bson:"purpose"`
	User      string    `bson:"user"`
	Session   []byte    `bson:"session"`
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

func errNoPasskey() error {
	return authdash.Errorf(authdash.CodeNotFound, "No such passkey.")
}

// userExists is one read of the user's _id: CodeNotFound if it is not there.
func (db *DB) userExists(ctx context.Context, oid bson.ObjectID) error {
	err := db.users.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return errUserNotFound()
	}
	return err
}

// CreatePasskey implements authdash.PasskeyStore: the user is read, then one
// insert, refused by the unique _id for a credential registered already.
func (db *DB) CreatePasskey(ctx context.Context, p authdash.Passkey) error {
	oid, ok := objectID(string(p.User))
	if !ok {
		return db.fail(ctx, "create passkey", errUserNotFound())
	}
	if err := db.userExists(ctx, oid); err != nil {
		return db.fail(ctx, "create passkey", err)
	}
	_, err := db.passkeys.InsertOne(ctx, passkeyDoc{ID: p.ID, User: oid, Name: p.Name, Credential: p.Credential,
		SignCount: int64(p.SignCount), BackupEligible: p.BackupEligible, BackupState: p.BackupState, CreatedAt: authdash.Millis(p.CreatedAt)})
	if isDuplicate(err) {
		err = authdash.Errorf(authdash.CodeConflict, "This passkey is registered already.")
	}
	if err != nil {
		return db.fail(ctx, "create passkey", err)
	}
	return nil
}

// Passkeys implements authdash.PasskeyStore.
func (db *DB) Passkeys(ctx context.Context, user authdash.UserID) ([]authdash.Passkey, error) {
	oid, ok := objectID(string(user))
	if !ok {
		return nil, nil
	}
	return findAll(ctx, db, "passkeys", db.passkeys, bson.D{{Key: "user", Value: oid}}, passkeyDoc.passkey,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
}

// FindPasskey implements authdash.PasskeyStore.
func (db *DB) FindPasskey(ctx context.Context, id []byte) (*authdash.Passkey, error) {
	var d passkeyDoc
	err := db.passkeys.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		err = errNoPasskey()
	}
	if err != nil {
		return nil, db.fail(ctx, "find passkey", err)
	}
	p := d.passkey()
	return &p, nil
}

func ownPasskey(oid bson.ObjectID, id []byte) bson.D {
	return bson.D{{Key: "_id", Value: id}, {Key: "user", Value: oid}}
}

// RenamePasskey implements authdash.PasskeyStore.
func (db *DB) RenamePasskey(ctx context.Context, user authdash.UserID, id []byte, name string) error {
	oid, ok := objectID(string(user))
	if !ok {
		return db.fail(ctx, "rename passkey", errNoPasskey())
	}
	res, err := db.passkeys.UpdateOne(ctx, ownPasskey(oid, id), bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: name}}}})
	return db.updatedOne(ctx, "rename passkey", res, err, errNoPasskey)
}

// DeletePasskey implements authdash.PasskeyStore.
func (db *DB) DeletePasskey(ctx context.Context, user authdash.UserID, id []byte) error {
	oid, ok := objectID(string(user))
	if !ok {
		return db.fail(ctx, "delete passkey", errNoPasskey())
	}
	res, err := db.passkeys.DeleteOne(ctx, ownPasskey(oid, id))
	return db.deletedOne(ctx, "delete passkey", res, err, errNoPasskey)
}

// UsePasskey implements authdash.PasskeyStore: the counter's condition is in
// the update's filter, so of two uses of one signature one misses; only
// then is the passkey read, to tell a stale counter from none.
func (db *DB) UsePasskey(ctx context.Context, user authdash.UserID, id []byte, signCount uint32, backupState bool, credential []byte, now time.Time) error {
	oid, ok := objectID(string(user))
	if !ok {
		return db.fail(ctx, "use passkey", errNoPasskey())
	}
	counter := bson.D{{Key: "signCount", Value: bson.D{{Key: "$lt", Value: int64(signCount)}}}}
	if signCount == 0 {
		counter = bson.D{{Key: "signCount", Value: int64(0)}}
	}
	filter := append(ownPasskey(oid, id), counter...)
	res, err := db.passkeys.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{
		{Key: "signCount", Value: int64(signCount)}, {Key: "backupState", Value: backupState},
		{Key: "credential", Value: credential}, {Key: "lastUsedAt", Value: authdash.Millis(now)},
	}}})
	if err != nil {
		return db.fail(ctx, "use passkey", err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	err = db.passkeys.FindOne(ctx, ownPasskey(oid, id), options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		err = errNoPasskey()
	case err == nil:
		err = authdash.Errorf(authdash.CodeConflict, "The passkey's signature counter did not advance.")
	}
	return db.fail(ctx, "use passkey", err)
}

// CreatePasskeyChallenge implements authdash.PasskeyStore: the user, if
// any, is read, then one insert.
func (db *DB) CreatePasskeyChallenge(ctx context.Context, c authdash.PasskeyChallenge) error {
	if c.User != "" {
		oid, ok := objectID(string(c.User))
		if !ok {
			return db.fail(ctx, "create passkey challenge", errUserNotFound())
		}
		if err := db.userExists(ctx, oid); err != nil {
			return db.fail(ctx, "create passkey challenge", err)
		}
	}
	_, err := db.passkeyChallenges.InsertOne(ctx, passkeyChallengeDoc{Hash: c.Hash, Purpose: string(c.Purpose), User: string(c.User),
		Session: c.Session, CreatedAt: authdash.Millis(c.CreatedAt), ExpiresAt: authdash.Millis(c.ExpiresAt)})
	if err != nil {
		return db.fail(ctx, "create passkey challenge", err)
	}
	return nil
}

// UsePasskeyChallenge implements authdash.PasskeyStore: one find-and-delete.
func (db *DB) UsePasskeyChallenge(ctx context.Context, hash []byte, purpose authdash.TokenPurpose, now time.Time) (*authdash.PasskeyChallenge, error) {
	var d passkeyChallengeDoc
	err := db.passkeyChallenges.FindOneAndDelete(ctx, bson.D{
		{Key: "_id", Value: hash},
		{Key: "purpose", Value: string(purpose)},
		{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: authdash.Millis(now)}}},
	}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		err = authdash.ErrChallengeInvalid()
	}
	if err != nil {
		return nil, db.fail(ctx, "use passkey challenge", err)
	}
	return &authdash.PasskeyChallenge{Hash: d.Hash, Purpose: authdash.TokenPurpose(d.Purpose), User: authdash.UserID(d.User),
		Session: d.Session, CreatedAt: utc(d.CreatedAt), ExpiresAt: utc(d.ExpiresAt)}, nil
}

// PurgePasskeyChallenges implements authdash.PasskeyStore.
func (db *DB) PurgePasskeyChallenges(ctx context.Context, before time.Time) (int, error) {
	res, err := db.passkeyChallenges.DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: authdash.Millis(before)}}}})
	if err != nil {
		return 0, db.fail(ctx, "purge passkey challenges", err)
	}
	return int(res.DeletedCount), nil
}
