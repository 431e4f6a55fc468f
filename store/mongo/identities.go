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

// identityDoc is an account's link to an identity provider's subject in the
// identities collection; (provider, subject) is unique.
type identityDoc struct {
	ID         bson.ObjectID `bson:"_id"`
	User       bson.ObjectID `bson:"user"`
	Provider   string        `bson:"provider"`
	Subject    string        `bson:"subject"`
	Email      string        `bson:"email"`
	CreatedAt  time.Time     `bson:"createdAt"`
	LastUsedAt *time.Time    `bson:"lastUsedAt,omitempty"`
}

func (d identityDoc) identity() authdash.LinkedIdentity {
	i := authdash.LinkedIdentity{ID: d.ID.Hex(), User: authdash.UserID(d.User.Hex()), Provider: d.Provider,
		Subject: d.Subject, Email: d.Email, CreatedAt: utc(d.CreatedAt)}
	if d.LastUsedAt != nil {
		i.LastUsedAt = utc(*d.LastUsedAt)
	}
	return i
}

func errNoIdentity() error {
	return authdash.Errorf(authdash.CodeNotFound, "No such connected account.")
}

// LinkIdentity implements authdash.IdentityStore: the user is read, then one
// insert, refused by the unique (provider, subject) index for a subject
// linked already.
func (db *DB) LinkIdentity(ctx context.Context, i authdash.LinkedIdentity) (*authdash.LinkedIdentity, error) {
	oid, ok := objectID(string(i.User))
	if !ok {
		return nil, db.fail(ctx, "link identity", errUserNotFound())
	}
	if err := db.userExists(ctx, oid); err != nil {
		return nil, db.fail(ctx, "link identity", err)
	}
	d := identityDoc{ID: bson.NewObjectID(), User: oid, Provider: i.Provider, Subject: i.Subject, Email: i.Email,
		CreatedAt: authdash.Millis(i.CreatedAt)}
	_, err := db.identities.InsertOne(ctx, d)
	if isDuplicate(err) {
		err = authdash.ErrIdentityTaken()
	}
	if err != nil {
		return nil, db.fail(ctx, "link identity", err)
	}
	out := d.identity()
	return &out, nil
}

// FindLinkedIdentity implements authdash.IdentityStore.
func (db *DB) FindLinkedIdentity(ctx context.Context, provider, subject string) (*authdash.LinkedIdentity, error) {
	var d identityDoc
	err := db.identities.FindOne(ctx, bson.D{{Key: "provider", Value: provider}, {Key: "subject", Value: subject}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		err = errNoIdentity()
	}
	if err != nil {
		return nil, db.fail(ctx, "find identity", err)
	}
	i := d.identity()
	return &i, nil
}

// LinkedIdentities implements authdash.IdentityStore.
func (db *DB) LinkedIdentities(ctx context.Context, user authdash.UserID) ([]authdash.LinkedIdentity, error) {
	oid, ok := objectID(string(user))
	if !ok {
		return nil, nil
	}
	return findAll(ctx, db, "identities", db.identities, bson.D{{Key: "user", Value: oid}}, identityDoc.identity,
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
}

// ownIdentity is the filter of the user's link id; ok is false when either
// cannot be an ObjectID, so nothing can match.
func ownIdentity(user authdash.UserID, id string) (bson.D, bool) {
	uid, ok := objectID(string(user))
	iid, ok2 := objectID(id)
	return bson.D{{Key: "_id", Value: iid}, {Key: "user", Value: uid}}, ok && ok2
}

// UseLinkedIdentity implements authdash.IdentityStore.
func (db *DB) UseLinkedIdentity(ctx context.Context, user authdash.UserID, id string, now time.Time) error {
	filter, ok := ownIdentity(user, id)
	if !ok {
		return db.fail(ctx, "use identity", errNoIdentity())
	}
	res, err := db.identities.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "lastUsedAt", Value: authdash.Millis(now)}}}})
	return db.updatedOne(ctx, "use identity", res, err, errNoIdentity)
}

// UnlinkIdentity implements authdash.IdentityStore.
func (db *DB) UnlinkIdentity(ctx context.Context, user authdash.UserID, id string) error {
	filter, ok := ownIdentity(user, id)
	if !ok {
		return db.fail(ctx, "unlink identity", errNoIdentity())
	}
	res, err := db.identities.DeleteOne(ctx, filter)
	return db.deletedOne(ctx, "unlink identity", res, err, errNoIdentity)
}
