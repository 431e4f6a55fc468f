package mongo

import (
	"context"
	"time"

	"github.com/authdash/authdash"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// revocationDoc is an ended session (or all of a user's) in the revocations
// collection. The user is kept as the API's string: a deleted account's
// revocation must stay, and nothing joins on it.
type revocationDoc struct {
	ID       bson.ObjectID `bson:"_id"`
	User     string        `bson:"user"`
	Session  string        `bson:"session,omitempty"`
	Keep     string        `bson:"keep,omitempty"`
	At       time.Time     `bson:"at"`
	Until    time.Time     `bson:"until"`
	Recorded time.Time     `bson:"recorded"`
}

// SaveRevocation implements authdash.RevocationStore: one insert.
func (db *DB) SaveRevocation(ctx context.Context, r authdash.Revocation) error {
	d := revocationDoc{ID: bson.NewObjectID(), User: string(r.User), Session: string(r.Session), Keep: string(r.Keep),
		At: authdash.Millis(r.At), Until: authdash.Millis(r.Until), Recorded: db.now()}
	if _, err := db.revocations.InsertOne(ctx, d); err != nil {
		return db.fail(ctx, "save revocation", err)
	}
	return nil
}

// Revocations implements authdash.RevocationStore: one find on {recorded}.
func (db *DB) Revocations(ctx context.Context, since time.Time) ([]authdash.Revocation, error) {
	filter := bson.D{
		{Key: "recorded", Value: bson.D{{Key: "$gte", Value: authdash.Millis(since)}}},
		{Key: "until", Value: bson.D{{Key: "$gt", Value: db.now()}}},
	}
	return findAll(ctx, db, "revocations", db.revocations, filter, func(d revocationDoc) authdash.Revocation {
		return authdash.Revocation{User: authdash.UserID(d.User), Session: authdash.SessionID(d.Session),
			Keep: authdash.SessionID(d.Keep), At: utc(d.At), Until: utc(d.Until)}
	})
}

// PurgeRevocations implements authdash.RevocationStore (the janitor's, hourly).
func (db *DB) PurgeRevocations(ctx context.Context, before time.Time) (int, error) {
	res, err := db.revocations.DeleteMany(ctx, bson.D{{Key: "until", Value: bson.D{{Key: "$lt", Value: authdash.Millis(before)}}}})
	if err != nil {
		return 0, db.fail(ctx, "purge revocations", err)
	}
	return int(res.DeletedCount), nil
}
