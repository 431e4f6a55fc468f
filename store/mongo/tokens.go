package mongo

import (
	"context"
	"errors"
	"time"

	"github.com/authdash/authdash"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// tokenDoc is an account token in the accountTokens collection, keyed by
// its hash. Used is absent until the token is spent.
type tokenDoc struct {
	Hash      []byte        `bson:"_id"`
	Purpose   string        `bson:"purpose"`
	User      bson.ObjectID `bson:"user"`
	Email     string        `bson:"email"`
	NewEmail  string        `bson:"newEmail"`
	CreatedAt time.Time     `bson:"createdAt"`
	ExpiresAt time.Time     `bson:"expiresAt"`
	Used      *time.Time    `bson:"used,omitempty"`
}

// CreateAccountToken implements authdash.AccountTokenStore: one insert. The
// user is not read (the caller has just read it).
func (db *DB) CreateAccountToken(ctx context.Context, t authdash.AccountToken) error {
	oid, ok := objectID(string(t.User))
	if !ok {
		return db.fail(ctx, "create account token", errUserNotFound())
	}
	d := tokenDoc{Hash: t.Hash, Purpose: string(t.Purpose), User: oid, Email: t.Email, NewEmail: t.NewEmail,
		CreatedAt: authdash.Millis(t.CreatedAt), ExpiresAt: authdash.Millis(t.ExpiresAt)}
	if _, err := db.tokens.InsertOne(ctx, d); err != nil {
		return db.fail(ctx, "create account token", err)
	}
	return nil
}

// UseAccountToken implements authdash.AccountTokenStore: one findOneAndUpdate
// whose filter holds every condition, atomic on the document, so of two
// racing uses one wins; only a failed use reads the token again to say why.
func (db *DB) UseAccountToken(ctx context.Context, hash []byte, purpose authdash.TokenPurpose, now time.Time) (*authdash.AccountToken, error) {
	filter := bson.D{
		{Key: "_id", Value: hash},
		{Key: "purpose", Value: string(purpose)},
		{Key: "used", Value: bson.D{{Key: "$exists", Value: false}}},
		{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: authdash.Millis(now)}}},
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "used", Value: authdash.Millis(now)}}}}
	var d tokenDoc
	err := db.tokens.FindOneAndUpdate(ctx, filter, update).Decode(&d)
	if err == nil {
		return &authdash.AccountToken{Hash: d.Hash, Purpose: authdash.TokenPurpose(d.Purpose), User: authdash.UserID(d.User.Hex()),
			Email: d.Email, NewEmail: d.NewEmail, CreatedAt: utc(d.CreatedAt), ExpiresAt: utc(d.ExpiresAt)}, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, db.fail(ctx, "use account token", err)
	}
	_, err = db.findAccountToken(ctx, hash, purpose, now)
	if err == nil {
		// Unspent and in time, yet the update missed it: it expired, or was
		// spent, in between.
		err = authdash.ErrTokenUsed()
	}
	return nil, db.fail(ctx, "use account token", err)
}

// FindAccountToken implements authdash.AccountTokenStore: one find.
func (db *DB) FindAccountToken(ctx context.Context, hash []byte, purpose authdash.TokenPurpose, now time.Time) (*authdash.AccountToken, error) {
	t, err := db.findAccountToken(ctx, hash, purpose, now)
	if err != nil {
		return nil, db.fail(ctx, "find account token", err)
	}
	return t, nil
}

func (db *DB) findAccountToken(ctx context.Context, hash []byte, purpose authdash.TokenPurpose, now time.Time) (*authdash.AccountToken, error) {
	var d tokenDoc
	err := db.tokens.FindOne(ctx, bson.D{{Key: "_id", Value: hash}}).Decode(&d)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments), err == nil && d.Purpose != string(purpose):
		err = authdash.ErrTokenInvalid()
	case err != nil:
	case d.Used != nil:
		err = authdash.ErrTokenUsed()
	case !authdash.Millis(now).Before(d.ExpiresAt):
		err = authdash.ErrTokenExpired()
	default:
		return &authdash.AccountToken{Hash: d.Hash, Purpose: authdash.TokenPurpose(d.Purpose), User: authdash.UserID(d.User.Hex()),
			Email: d.Email, NewEmail: d.NewEmail, CreatedAt: utc(d.CreatedAt), ExpiresAt: utc(d.ExpiresAt)}, nil
	}
	return nil, err
}

// DeleteAccountTokens implements authdash.AccountTokenStore.
func (db *DB) DeleteAccountTokens(ctx context.Context, user authdash.UserID, purpose authdash.TokenPurpose) (int, error) {
	oid, ok := objectID(string(user))
	if !ok {
		return 0, nil
	}
	res, err := db.tokens.DeleteMany(ctx, bson.D{{Key: "user", Value: oid}, {Key: "purpose", Value: string(purpose)},
		{Key: "used", Value: bson.D{{Key: "$exists", Value: false}}}})
	if err != nil {
		return 0, db.fail(ctx, "delete account tokens", err)
	}
	return int(res.DeletedCount), nil
}

// PurgeAccountTokens implements authdash.AccountTokenStore.
func (db *DB) PurgeAccountTokens(ctx context.Context, before time.Time) (int, error) {
	res, err := db.tokens.DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: authdash.Millis(before)}}}})
	if err != nil {
		return 0, db.fail(ctx, "purge account tokens", err)
	}
	return int(res.DeletedCount), nil
}
