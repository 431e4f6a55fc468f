package mongo

import (
	"context"
	"errors"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/emailkey"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// userDoc is a user in the users collection. LogFloor is the highest change
// stamp whose tombstone was purged: the owner's change log starts above it.
type userDoc struct {
	ID           bson.ObjectID `bson:"_id"`
	Email        string        `bson:"email"`
	EmailKey     string        `bson:"emailKey"` // emailkey.Key(Email): unique; set by keyEmails in documents made before it
	Name         string        `bson:"name"`
	PasswordHash string        `bson:"passwordHash"`
	CreatedAt    time.Time     `bson:"createdAt"`
	UpdatedAt    time.Time     `bson:"updatedAt"`
	Version      int64         `bson:"version"`
	LogFloor     int64         `bson:"logFloor"`
	Verified     bool          `bson:"emailVerified"` // absent in documents made before it: false
}

func (d *userDoc) user() *authdash.User {
	return &authdash.User{
		ID:        authdash.UserID(d.ID.Hex()),
		Email:     d.Email,
		Name:      d.Name,
		CreatedAt: utc(d.CreatedAt),
		UpdatedAt: utc(d.UpdatedAt),
		Version:   d.Version,

		EmailVerified: d.Verified,
	}
}

// profileFields is the projection of a profile read: the hash stays in the
// database unless a caller asks for it.
var profileFields = bson.D{{Key: "passwordHash", Value: 0}}

func errUserNotFound() error { return authdash.Errorf(authdash.CodeNotFound, "User not found.") }

func errEmailMoved() error {
	return authdash.Errorf(authdash.CodePreconditionFailed, "The account's email address has changed since.")
}

func errEmailTaken(cause error) error {
	const msg = "Email is already registered."
	return &authdash.Error{Code: authdash.CodeConflict, Message: msg, Fields: map[string]string{"email": msg}, Err: cause}
}

// CreateUser stores a new account with its email canonical and keyed
// (internal/emailkey); the unique emailKey index makes a second registration,
// or a look-alike's, fail with CodeConflict.
func (db *DB) CreateUser(ctx context.Context, nu authdash.NewUser) (*authdash.User, error) {
	t := db.now()
	d := userDoc{
		ID:           bson.NewObjectID(),
		Email:        emailkey.Canonical(nu.Email),
		EmailKey:     emailkey.Key(nu.Email),
		Name:         nu.Name,
		PasswordHash: nu.PasswordHash,
		CreatedAt:    t,
		UpdatedAt:    t,
		Version:      1,
	}
	if _, err := db.users.InsertOne(ctx, d); err != nil {
		if isDuplicate(err) {
			err = errEmailTaken(err)
		}
		return nil, db.fail(ctx, "create user", err)
	}
	return d.user(), nil
}

// FindUser returns the account with that id.
func (db *DB) FindUser(ctx context.Context, id authdash.UserID) (*authdash.User, error) {
	oid, ok := objectID(string(id))
	if !ok {
		return nil, db.fail(ctx, "find user", errUserNotFound())
	}
	var d userDoc
	err := db.users.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}, options.FindOne().SetProjection(profileFields)).Decode(&d)
	if err != nil {
		return nil, db.fail(ctx, "find user", notFound(err, errUserNotFound))
	}
	return d.user(), nil
}

// FindLogin returns the account with that email and its password hash.
func (db *DB) FindLogin(ctx context.Context, email string) (*authdash.User, string, error) {
	var d userDoc
	// The email is a typed string compared for equality: whatever it
	// contains, it cannot become an operator.
	err := db.users.FindOne(ctx, bson.D{{Key: "emailKey", Value: emailkey.Key(email)}}).Decode(&d)
	if err != nil {
		return nil, "", db.fail(ctx, "find login", notFound(err, errUserNotFound))
	}
	return d.user(), d.PasswordHash, nil
}

// PasswordHash returns the user's password hash.
func (db *DB) PasswordHash(ctx context.Context, id authdash.UserID) (string, error) {
	oid, ok := objectID(string(id))
	if !ok {
		return "", db.fail(ctx, "password hash", errUserNotFound())
	}
	var d struct {
		Hash string `bson:"passwordHash"`
	}
	err := db.users.FindOne(ctx, bson.D{{Key: "_id", Value: oid}},
		options.FindOne().SetProjection(bson.D{{Key: "passwordHash", Value: 1}})).Decode(&d)
	if err != nil {
		return "", db.fail(ctx, "password hash", notFound(err, errUserNotFound))
	}
	return d.Hash, nil
}

// UpdateUser applies a validated patch in one findOneAndUpdate.
func (db *DB) UpdateUser(ctx context.Context, id authdash.UserID, p authdash.UserPatch) (*authdash.User, error) {
	oid, ok := objectID(string(id))
	if !ok {
		return nil, db.fail(ctx, "update user", errUserNotFound())
	}
	patch := func(filter bson.D, email bool) (*authdash.User, error) {
		set := bson.D{{Key: "updatedAt", Value: db.now()}}
		if email {
			e := emailkey.Canonical(*p.Email)
			set = append(set, bson.E{Key: "email", Value: e}, bson.E{Key: "emailKey", Value: emailkey.Key(e)}, bson.E{Key: "emailVerified", Value: false})
		}
		if p.Name != nil {
			set = append(set, bson.E{Key: "name", Value: *p.Name})
		}
		update := bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}}}
		var d userDoc
		err := db.users.FindOneAndUpdate(ctx, filter, update,
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
		if isDuplicate(err) {
			err = errEmailTaken(err)
		}
		if err != nil {
			return nil, err
		}
		return d.user(), nil
	}
	byID := bson.D{{Key: "_id", Value: oid}}
	if p.Email == nil {
		u, err := patch(byID, false)
		if err != nil {
			return nil, db.fail(ctx, "update user", notFound(err, errUserNotFound))
		}
		return u, nil
	}
	// A new address is unverified; the same one keeps its state. The filter
	// tells them apart in the same update, so only a patch naming the
	// current address costs a second round trip.
	k := emailkey.Key(*p.Email)
	u, err := patch(append(byID, bson.E{Key: "emailKey", Value: bson.D{{Key: "$ne", Value: k}}}), true)
	if errors.Is(err, mongo.ErrNoDocuments) {
		u, err = patch(append(byID, bson.E{Key: "emailKey", Value: k}), false)
	}
	if err != nil {
		return nil, db.fail(ctx, "update user", notFound(err, errUserNotFound))
	}
	return u, nil
}

// SetEmail implements authdash.UserStore in one findOneAndUpdate whose
// filter holds the address expected; only when nothing matched does one read
// tell not_found from precondition_failed (or an address already verified).
func (db *DB) SetEmail(ctx context.Context, id authdash.UserID, from, to string) (*authdash.User, error) {
	oid, ok := objectID(string(id))
	if !ok {
		return nil, db.fail(ctx, "set email", errUserNotFound())
	}
	fromKey, to := emailkey.Key(from), emailkey.Canonical(to)
	filter := bson.D{{Key: "_id", Value: oid}, {Key: "emailKey", Value: fromKey}}
	if fromKey == emailkey.Key(to) {
		filter = append(filter, bson.E{Key: "emailVerified", Value: bson.D{{Key: "$ne", Value: true}}})
	}
	update := bson.D{
		{Key: "$set", Value: bson.D{{Key: "email", Value: to}, {Key: "emailKey", Value: emailkey.Key(to)}, {Key: "emailVerified", Value: true}, {Key: "updatedAt", Value: db.now()}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}},
	}
	var d userDoc
	err := db.users.FindOneAndUpdate(ctx, filter, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err == nil {
		return d.user(), nil
	}
	if isDuplicate(err) {
		return nil, db.fail(ctx, "set email", errEmailTaken(err))
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, db.fail(ctx, "set email", err)
	}
	err = db.users.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}, options.FindOne().SetProjection(profileFields)).Decode(&d)
	switch {
	case err != nil:
		return nil, db.fail(ctx, "set email", notFound(err, errUserNotFound))
	case emailkey.Key(d.Email) != fromKey:
		return nil, db.fail(ctx, "set email", errEmailMoved())
	}
	return d.user(), nil // from == to, verified already
}

// SetPassword replaces the hash, then ends the user's other sessions. They
// are two single-document steps, not one transaction: if the second fails,
// the error is returned and the caller's retry (the same request again)
// ends the sessions, since the new hash is already in place. The order
// (hash first) means a thief's session can outlive the change only until
// that retry, never the other way round (sessions gone, old password still
// valid).
func (db *DB) SetPassword(ctx context.Context, id authdash.UserID, hash string, keep authdash.SessionID) error {
	oid, ok := objectID(string(id))
	if !ok {
		return db.fail(ctx, "set password", errUserNotFound())
	}
	res, err := db.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "passwordHash", Value: hash},
	}}})
	if err != nil {
		return db.fail(ctx, "set password", err)
	}
	if res.MatchedCount == 0 {
		return db.fail(ctx, "set password", errUserNotFound())
	}
	if _, err := db.DeleteSessions(ctx, id, keep); err != nil {
		return db.fail(ctx, "set password: end sessions", err)
	}
	return nil
}

// DeleteUser removes the account, its sessions, its tasks and its
// idempotency keys. Without
// transactions the order is what keeps a failure safe: sessions go first
// (nobody can refresh into a half-deleted account), then the user, then a
// note of the deletion for SweepDeletedAccounts, then the tasks, which
// nothing can reach any more, and finally sessions once more, in case a
// sign-in raced the first sweep. A failure part-way returns an error and a
// retry finishes the job.
func (db *DB) DeleteUser(ctx context.Context, id authdash.UserID) error {
	oid, ok := objectID(string(id))
	if !ok {
		return db.fail(ctx, "delete user", errUserNotFound())
	}
	byUser := bson.D{{Key: "user", Value: oid}}
	if _, err := db.sessions.DeleteMany(ctx, byUser); err != nil {
		return db.fail(ctx, "delete user: sessions", err)
	}
	res, err := db.users.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}})
	if err != nil {
		return db.fail(ctx, "delete user", err)
	}
	// Noted even when the user was already gone, so a retry after a
	// failure here still leaves the note; for an ID that never existed it
	// sweeps nothing.
	_, err = db.deleted.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: db.now()}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return db.fail(ctx, "delete user: note", err)
	}
	if _, err := db.tasks.DeleteMany(ctx, bson.D{{Key: "owner", Value: oid}}); err != nil {
		return db.fail(ctx, "delete user: tasks", err)
	}
	// The first answers recorded with idempotency keys hold task content
	// too; an anchored prefix is a range of the _id index.
	if _, err := db.keys.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.Regex{Pattern: "^" + oid.Hex() + ":"}}}); err != nil {
		return db.fail(ctx, "delete user: idempotency keys", err)
	}
	if _, err := db.tokens.DeleteMany(ctx, byUser); err != nil {
		return db.fail(ctx, "delete user: account tokens", err)
	}
	if _, err := db.mfa.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}}); err != nil {
		return db.fail(ctx, "delete user: second factor", err)
	}
	if _, err := db.signIns.DeleteMany(ctx, byUser); err != nil {
		return db.fail(ctx, "delete user: sign-ins", err)
	}
	if _, err := db.passkeys.DeleteMany(ctx, byUser); err != nil {
		return db.fail(ctx, "delete user: passkeys", err)
	}
	if _, err := db.passkeyChallenges.DeleteMany(ctx, bson.D{{Key: "user", Value: oid.Hex()}}); err != nil {
		return db.fail(ctx, "delete user: passkey challenges", err)
	}
	if _, err := db.identities.DeleteMany(ctx, byUser); err != nil {
		return db.fail(ctx, "delete user: identities", err)
	}
	if res.DeletedCount == 0 {
		// Already gone (perhaps a retry after a partial failure, which
		// the task sweep above has just finished).
		return db.fail(ctx, "delete user", errUserNotFound())
	}
	if _, err := db.sessions.DeleteMany(ctx, byUser); err != nil {
		return db.fail(ctx, "delete user: sessions", err)
	}
	return nil
}

// deletedRetention is how long a deleted account is swept for tasks: far
// longer than any access token it may still hold (at most 15 minutes) plus
// a janitor round.
const deletedRetention = 24 * time.Hour

// SweepDeletedAccounts deletes the tasks of accounts deleted within
// deletedRetention before asOf, and forgets older deletions. CreateTask does not
// read the owner (that would be a second round trip), so an access token
// that outlives its account's deletion can still create tasks for it,
// unreachable by anyone; this sweep, run by the janitor, removes them. It
// returns how many tasks went.
func (db *DB) SweepDeletedAccounts(ctx context.Context, asOf time.Time) (int, error) {
	cur, err := db.deleted.Find(ctx, bson.D{})
	if err != nil {
		return 0, db.fail(ctx, "sweep deleted accounts", err)
	}
	var notes []struct {
		ID bson.ObjectID `bson:"_id"`
		At time.Time     `bson:"at"`
	}
	if err := cur.All(ctx, &notes); err != nil {
		return 0, db.fail(ctx, "sweep deleted accounts", err)
	}
	n := 0
	for _, d := range notes {
		res, err := db.tasks.DeleteMany(ctx, bson.D{{Key: "owner", Value: d.ID}})
		if err != nil {
			return n, db.fail(ctx, "sweep deleted accounts: tasks", err)
		}
		n += int(res.DeletedCount)
		if d.At.Before(asOf.Add(-deletedRetention)) {
			if _, err := db.deleted.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}}); err != nil {
				return n, db.fail(ctx, "sweep deleted accounts", err)
			}
		}
	}
	return n, nil
}

// notFound maps the driver's no-document error to the domain's.
func notFound(err error, domain func() error) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return domain()
	}
	return err
}

// keyEmails gives every account made before emailKey existed its key, before
// the unique index on it is built. Accounts whose addresses were distinct as
// lower-cased strings can share a key (ｕｓｅｒ@example.com and
// user@example.com): an account keyed already keeps it, else
// emailkey.Keeper's first; each other is keyed apart (emailkey.Apart) and
// logged for an operator to resolve (change its address, or delete it). Nothing is merged or lost: the account
// stays, only signing in by address does not reach it. Safe to run on every
// start and by several instances at once: it only reads when every account
// has its key, and all of them compute the same keys.
func (db *DB) keyEmails(ctx context.Context) error {
	cur, err := db.users.Find(ctx, bson.D{{Key: "emailKey", Value: bson.D{{Key: "$exists", Value: false}}}},
		options.Find().SetProjection(bson.D{{Key: "email", Value: 1}, {Key: "createdAt", Value: 1}}))
	if err != nil {
		return db.fail(ctx, "key emails", err)
	}
	var docs []userDoc
	if err := cur.All(ctx, &docs); err != nil {
		return db.fail(ctx, "key emails", err)
	}
	if len(docs) == 0 {
		return nil
	}
	byKey := map[string][]userDoc{}
	for _, d := range docs {
		k := emailkey.Key(d.Email)
		byKey[k] = append(byKey[k], d)
	}
	for key, ds := range byKey {
		hs := make([]emailkey.Holder, len(ds))
		ids := make(map[string]bson.ObjectID, len(ds))
		for i, d := range ds {
			hs[i] = emailkey.Holder{ID: d.ID.Hex(), Email: d.Email, Created: d.CreatedAt}
			ids[hs[i].ID] = d.ID
		}
		emailkey.Keeper(key, hs)
		keeper := hs[0]
		// An account keyed already (made by this version) keeps the key
		// before any of these.
		var held userDoc
		switch err := db.users.FindOne(ctx, bson.D{{Key: "emailKey", Value: key}}).Decode(&held); {
		case err == nil:
			keeper = emailkey.Holder{ID: held.ID.Hex(), Email: held.Email}
		case !errors.Is(err, mongo.ErrNoDocuments):
			return db.fail(ctx, "key emails", err)
		}
		for _, h := range hs {
			k := key
			if h.ID != keeper.ID {
				k = emailkey.Apart(h.ID)
				db.log.Warn("mongo: two accounts' addresses are one after normalisation; the second cannot sign in by address until an operator changes or deletes it",
					"user", h.ID, "email", h.Email, "keptBy", keeper.ID, "keptEmail", keeper.Email)
			}
			_, err := db.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: ids[h.ID]}, {Key: "emailKey", Value: bson.D{{Key: "$exists", Value: false}}}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "emailKey", Value: k}}}})
			if err != nil {
				return db.fail(ctx, "key emails", err)
			}
		}
	}
	return nil
}
