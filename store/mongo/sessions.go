package mongo

import (
	"bytes"
	"context"
	"time"

	"github.com/authdash/authdash"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// usedTokensKept bounds the redeemed-token history of a session. A token
// older than that many rotations is no longer recognised as reused (it is
// just unknown, so it still fails): at one rotation per access-token
// lifetime that is days of continuous use. FerretDB ignores $slice, so there
// the history is unbounded; it is a test double, not a deployment target.
const usedTokensKept = 200

// sessionDoc is one refresh-token family. The current token hash lives in
// the session itself, so a rotation is a single atomic findOneAndUpdate on
// one document, with no window in which the old token is spent but the new
// one not yet stored.
type sessionDoc struct {
	ID         bson.ObjectID `bson:"_id"`
	User       bson.ObjectID `bson:"user"`
	Device     string        `bson:"device"`
	Token      []byte        `bson:"token"`
	Used       []usedToken   `bson:"used"`
	CreatedAt  time.Time     `bson:"createdAt"`
	LastUsedAt time.Time     `bson:"lastUsedAt"`
	ExpiresAt  time.Time     `bson:"expiresAt"`
}

// usedToken is a redeemed token hash and when it was redeemed, kept to tell
// a benign race (two tabs refreshing at once) from a replayed token.
type usedToken struct {
	Hash []byte    `bson:"h"`
	At   time.Time `bson:"at"`
}

func (d *sessionDoc) session() *authdash.Session {
	return &authdash.Session{
		ID:         authdash.SessionID(d.ID.Hex()),
		UserID:     authdash.UserID(d.User.Hex()),
		Device:     d.Device,
		CreatedAt:  utc(d.CreatedAt),
		LastUsedAt: utc(d.LastUsedAt),
		ExpiresAt:  utc(d.ExpiresAt),
	}
}

// sessionFields leaves the token history out of ordinary reads.
var sessionFields = bson.D{{Key: "used", Value: 0}, {Key: "token", Value: 0}}

func errSessionNotFound() error { return authdash.Errorf(authdash.CodeNotFound, "Session not found.") }

func errBadRefresh() error {
	return authdash.Errorf(authdash.CodeUnauthorized, "Your session has ended; sign in again.")
}

func errRefreshRaced() error {
	return authdash.Errorf(authdash.CodeConflict, "A concurrent refresh just replaced this refresh token; retry with the new one.")
}

func live(t time.Time) bson.E { return bson.E{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: t}}} }

// CreateSession starts a session with its first refresh token. It does not
// look the user up (that would be a second round trip on every sign-in);
// DeleteUser sweeps sessions after removing the user for the race that
// leaves.
func (db *DB) CreateSession(ctx context.Context, ns authdash.NewSession) (*authdash.Session, error) {
	uid, ok := objectID(string(ns.UserID))
	if !ok {
		return nil, db.fail(ctx, "create session", errUserNotFound())
	}
	t := db.now()
	d := sessionDoc{
		ID:         bson.NewObjectID(),
		User:       uid,
		Device:     ns.Device,
		Token:      ns.TokenHash,
		Used:       []usedToken{},
		CreatedAt:  t,
		LastUsedAt: t,
		ExpiresAt:  authdash.Millis(ns.ExpiresAt),
	}
	if _, err := db.sessions.InsertOne(ctx, d); err != nil {
		return nil, db.fail(ctx, "create session", err)
	}
	return d.session(), nil
}

// RotateSession redeems r.Presented and installs r.Next in one
// findOneAndUpdate: the filter matches only a live session whose current
// token is the presented one, installed at least r.Fresh ago, so of two
// racing rotations exactly one wins. lastUsedAt is when the current token
// was installed: only CreateSession and a rotation set it.
func (db *DB) RotateSession(ctx context.Context, r authdash.Rotation) (*authdash.Session, bool, error) {
	t := db.now()
	update := bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "token", Value: r.Next},
			{Key: "lastUsedAt", Value: t},
			{Key: "expiresAt", Value: authdash.Millis(r.ExpiresAt)},
		}},
		{Key: "$push", Value: bson.D{{Key: "used", Value: bson.D{
			{Key: "$each", Value: []usedToken{{Hash: r.Presented, At: t}}},
			{Key: "$slice", Value: -usedTokensKept},
		}}}},
	}
	filter := bson.D{{Key: "token", Value: r.Presented}, live(t)}
	if r.Fresh > 0 {
		filter = append(filter, bson.E{Key: "lastUsedAt", Value: bson.D{{Key: "$lte", Value: t.Add(-r.Fresh)}}})
	}
	var d sessionDoc
	err := db.sessions.FindOneAndUpdate(ctx, filter, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err == nil {
		return d.session(), true, nil
	}
	if err = notFound(err, errBadRefresh); !isCode(err, authdash.CodeUnauthorized) {
		return nil, false, db.fail(ctx, "rotate session", err)
	}
	if r.Fresh > 0 {
		// Still the current token, just installed: redeemed, kept.
		err := db.sessions.FindOne(ctx, bson.D{{Key: "token", Value: r.Presented}, live(t)},
			options.FindOne().SetProjection(sessionFields)).Decode(&d)
		if err == nil {
			return d.session(), false, nil
		}
		if err = notFound(err, errBadRefresh); !isCode(err, authdash.CodeUnauthorized) {
			return nil, false, db.fail(ctx, "rotate session", err)
		}
	}
	// Not a current token. Was it one this session already redeemed?
	err = db.sessions.FindOne(ctx, bson.D{{Key: "used.h", Value: r.Presented}},
		options.FindOne().SetProjection(bson.D{{Key: "used", Value: 1}, {Key: "user", Value: 1}})).Decode(&d)
	if err != nil {
		return nil, false, db.fail(ctx, "rotate session", notFound(err, errBadRefresh))
	}
	for _, u := range d.Used {
		if bytes.Equal(u.Hash, r.Presented) && t.Sub(u.At) < r.Grace {
			// Two requests raced with the same token (two tabs, a retry):
			// the other one won and installed a token this one may retry
			// with.
			return nil, false, db.fail(ctx, "rotate session", errRefreshRaced())
		}
	}
	// A token redeemed a while ago came back: it was copied. End the family
	// so neither the thief nor the victim keeps it.
	if _, err := db.sessions.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}}); err != nil {
		return nil, false, db.fail(ctx, "rotate session: end reused session", err)
	}
	return nil, false, db.fail(ctx, "rotate session", authdash.WrapError(authdash.CodeUnauthorized,
		&authdash.SessionReuse{User: authdash.UserID(d.User.Hex()), Session: authdash.SessionID(d.ID.Hex())},
		"Session ended: refresh token reuse detected."))
}

// FindSession returns a live session of the user.
func (db *DB) FindSession(ctx context.Context, user authdash.UserID, id authdash.SessionID) (*authdash.Session, error) {
	uid, ok1 := objectID(string(user))
	sid, ok2 := objectID(string(id))
	if !ok1 || !ok2 {
		return nil, db.fail(ctx, "find session", errSessionNotFound())
	}
	var d sessionDoc
	err := db.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: sid}, {Key: "user", Value: uid}, live(db.now())},
		options.FindOne().SetProjection(sessionFields)).Decode(&d)
	if err != nil {
		return nil, db.fail(ctx, "find session", notFound(err, errSessionNotFound))
	}
	return d.session(), nil
}

// SessionByToken returns the live session whose current token hash is
// tokenHash.
func (db *DB) SessionByToken(ctx context.Context, tokenHash []byte) (*authdash.Session, error) {
	var d sessionDoc
	err := db.sessions.FindOne(ctx, bson.D{{Key: "token", Value: tokenHash}, live(db.now())},
		options.FindOne().SetProjection(sessionFields)).Decode(&d)
	if err != nil {
		return nil, db.fail(ctx, "session by token", notFound(err, errBadRefresh))
	}
	return d.session(), nil
}

// ListSessions returns the user's live sessions, most recently used first.
func (db *DB) ListSessions(ctx context.Context, user authdash.UserID) ([]authdash.Session, error) {
	out := []authdash.Session{}
	uid, ok := objectID(string(user))
	if !ok {
		return out, nil
	}
	cur, err := db.sessions.Find(ctx, bson.D{{Key: "user", Value: uid}, live(db.now())}, options.Find().
		SetProjection(sessionFields).
		SetSort(bson.D{{Key: "lastUsedAt", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(-authdash.MaxSessionsListed)) // negative: one batch, cursor closed
	if err != nil {
		return nil, db.fail(ctx, "list sessions", err)
	}
	var docs []sessionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, db.fail(ctx, "list sessions", err)
	}
	for i := range docs {
		out = append(out, *docs[i].session())
	}
	return out, nil
}

// DeleteSession ends one session of the user.
func (db *DB) DeleteSession(ctx context.Context, user authdash.UserID, id authdash.SessionID) error {
	uid, ok1 := objectID(string(user))
	sid, ok2 := objectID(string(id))
	if !ok1 || !ok2 {
		return db.fail(ctx, "delete session", errSessionNotFound())
	}
	res, err := db.sessions.DeleteOne(ctx, bson.D{{Key: "_id", Value: sid}, {Key: "user", Value: uid}})
	if err != nil {
		return db.fail(ctx, "delete session", err)
	}
	if res.DeletedCount == 0 {
		return db.fail(ctx, "delete session", errSessionNotFound())
	}
	return nil
}

// DeleteSessions ends every session of the user except keep.
func (db *DB) DeleteSessions(ctx context.Context, user authdash.UserID, keep authdash.SessionID) (int, error) {
	uid, ok := objectID(string(user))
	if !ok {
		return 0, nil
	}
	filter := bson.D{{Key: "user", Value: uid}}
	if kid, ok := objectID(string(keep)); ok {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$ne", Value: kid}}})
	}
	res, err := db.sessions.DeleteMany(ctx, filter)
	if err != nil {
		return 0, db.fail(ctx, "delete sessions", err)
	}
	return int(res.DeletedCount), nil
}

// PurgeExpiredSessions deletes sessions that expired before olderThan and
// returns how many. On MongoDB the TTL index does this by itself; the
// method exists for servers without TTL indexes (FerretDB) and mirrors
// store/sqlite.
func (db *DB) PurgeExpiredSessions(ctx context.Context, olderThan time.Time) (int, error) {
	res, err := db.sessions.DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: olderThan}}}})
	if err != nil {
		return 0, db.fail(ctx, "purge sessions", err)
	}
	return int(res.DeletedCount), nil
}
