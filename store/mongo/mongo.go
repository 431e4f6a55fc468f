// Package mongo implements authdash.Store on MongoDB with the official
// driver (go.mongodb.org/mongo-driver/v2), for deployments that run many API
// instances over one replica set or sharded cluster.
//
// Inside this package the unqualified driver names (mongo, bson, options)
// mean the driver's packages; callers outside alias this package (for
// example mongostore).
//
// The design rests on single-document atomicity only, because neither a
// standalone mongod nor FerretDB offers multi-document transactions: each
// write changes one document with one findOneAndUpdate or insert, and the
// per-owner change stamp comes from the instance's clock (tasks.go,
// stamps). docs/ARCHITECTURE.md ("MongoDB") lists what that costs.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/authdash/authdash"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

// Defaults for Options fields left zero.
const (
	DefaultDatabase               = "authdash"
	DefaultMaxPoolSize            = 100
	DefaultConnectTimeout         = 10 * time.Second
	DefaultServerSelectionTimeout = 5 * time.Second
	DefaultOpTimeout              = 5 * time.Second
)

// Options tunes the connection. The zero value is a sound production
// configuration: majority writes, primary reads, retryable reads and writes.
type Options struct {
	// Database is the database name; default: the one in the URI, else
	// "authdash".
	Database string
	// MaxPoolSize bounds connections per server per instance.
	MaxPoolSize uint64
	// ConnectTimeout bounds dialling one server.
	ConnectTimeout time.Duration
	// ServerSelectionTimeout bounds waiting for a suitable server (a primary
	// during an election, for instance).
	ServerSelectionTimeout time.Duration
	// OpTimeout bounds every operation whose context has no deadline
	// (the driver's client-side operation timeout).
	OpTimeout time.Duration
	// NoRetryReads and NoRetryWrites turn the driver's single automatic
	// retry off. It is on by default and safe: on a replica set the server
	// recognises a retried write and applies it once (a standalone server
	// gets no write retries at all).
	NoRetryReads, NoRetryWrites bool
	// WriteConcern is "majority" (default when the URI sets none) or a
	// number of members such as "1".
	WriteConcern string
	// ReadPreference is a mode such as "primary" (default when the URI sets
	// none). Reading from secondaries gives up read-your-writes: a client
	// could miss its own change in a list or resume.
	ReadPreference string
	// Monitor, if set, sees every command sent (tests count round trips
	// with it; metrics could too).
	Monitor *event.CommandMonitor
	// Log receives start-up notices; default slog.Default().
	Log *slog.Logger
	// Now is the clock the store stamps times and change stamps from;
	// default time.Now. Tests step it instead of sleeping.
	Now func() time.Time
}

// CheckWriteConcern reports whether o.WriteConcern is one Open accepts.
func (o Options) CheckWriteConcern() error {
	_, err := writeConcern(o.WriteConcern)
	return err
}

// CheckReadPreference reports whether o.ReadPreference is one Open accepts.
func (o Options) CheckReadPreference() error {
	_, err := readPref(o.ReadPreference)
	return err
}

func writeConcern(s string) (*writeconcern.WriteConcern, error) {
	switch s {
	case "", "majority":
		return writeconcern.Majority(), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("%q: want majority or a number of members of at least 1", s)
	}
	return &writeconcern.WriteConcern{W: n}, nil
}

func readPref(s string) (*readpref.ReadPref, error) {
	if s == "" {
		return readpref.Primary(), nil
	}
	m, err := readpref.ModeFromString(s)
	if err != nil {
		return nil, fmt.Errorf("%q: want primary, primaryPreferred, secondary, secondaryPreferred or nearest", s)
	}
	return readpref.New(m)
}

// DB is a MongoDB-backed authdash.Store. It is safe for concurrent use.
type DB struct {
	client   *mongo.Client
	users    *mongo.Collection
	tasks    *mongo.Collection
	sessions *mongo.Collection
	keys     *mongo.Collection // idempotency keys of creates: keys.go
	deleted  *mongo.Collection // accounts deleted lately: SweepDeletedAccounts
	outbox   *mongo.Collection // mail waiting to be sent: outbox.go
	tokens   *mongo.Collection // tokens of mailed links: tokens.go
	// ended sessions while their access tokens live: revocations.go
	revocations *mongo.Collection
	mfa         *mongo.Collection // second factors: mfa.go
	signIns     *mongo.Collection // sign-in activity: mfa.go
	// passkeys and their ceremonies' challenges: passkeys.go
	passkeys, passkeyChallenges *mongo.Collection
	identities                  *mongo.Collection // links to identity providers: identities.go
	migrations                  *mongo.Collection // one marker per data migration done: grams.go
	log                         *slog.Logger
	stamps                      stamps
}

var _ authdash.Store = (*DB)(nil)

// Open connects to uri, checks the server answers and creates the indexes
// every query needs (a no-op when they exist). It does not retry: callers
// that want to wait for the database use Ping in a loop first, or retry
// Open.
func Open(ctx context.Context, uri string, o Options) (*DB, error) {
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		// The parse error can quote the URI, password included.
		return nil, errors.New("mongo: MONGO_URI is not a valid MongoDB connection string")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	name := firstSet(o.Database, cs.Database, DefaultDatabase)

	copts := options.Client().ApplyURI(uri).
		SetMaxPoolSize(firstSet(o.MaxPoolSize, cs.MaxPoolSize, DefaultMaxPoolSize)).
		SetConnectTimeout(firstSet(o.ConnectTimeout, cs.ConnectTimeout, DefaultConnectTimeout)).
		SetServerSelectionTimeout(firstSet(o.ServerSelectionTimeout, cs.ServerSelectionTimeout, DefaultServerSelectionTimeout)).
		SetTimeout(firstSet(o.OpTimeout, cs.Timeout, DefaultOpTimeout)).
		SetAppName("authdash")
	// Retries are the driver's default; the URI or Options can turn them off.
	if o.NoRetryReads {
		copts.SetRetryReads(false)
	}
	if o.NoRetryWrites {
		copts.SetRetryWrites(false)
	}
	// The URI's own w= and readPreference= win over our defaults; explicit
	// options win over both.
	if o.WriteConcern != "" || (cs.WString == "" && !cs.WNumberSet) {
		wc, err := writeConcern(o.WriteConcern)
		if err != nil {
			return nil, fmt.Errorf("mongo: write concern: %w", err)
		}
		copts.SetWriteConcern(wc)
	}
	if o.ReadPreference != "" || cs.ReadPreference == "" {
		rp, err := readPref(o.ReadPreference)
		if err != nil {
			return nil, fmt.Errorf("mongo: read preference: %w", err)
		}
		copts.SetReadPreference(rp)
	}
	if o.Monitor != nil {
		copts.SetMonitor(o.Monitor)
	}
	client, err := mongo.Connect(copts)
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	d := client.Database(name)
	db := &DB{
		client:      client,
		users:       d.Collection("users"),
		tasks:       d.Collection("tasks"),
		sessions:    d.Collection("sessions"),
		keys:        d.Collection("taskKeys"),
		deleted:     d.Collection("deletedUsers"),
		outbox:      d.Collection("mailOutbox"),
		tokens:      d.Collection("accountTokens"),
		revocations: d.Collection("revocations"),
		mfa:         d.Collection("mfa"),
		signIns:     d.Collection("signIns"),
		passkeys:    d.Collection("passkeys"),
		log:         o.Log,
		stamps:      stamps{clock: o.Now},
	}
	db.passkeyChallenges = d.Collection("passkeyChallenges")
	db.identities = d.Collection("identities")
	db.migrations = d.Collection("migrations")
	if db.stamps.clock == nil {
		db.stamps.clock = time.Now
	}
	if err := db.Ping(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	// Before the indexes: the unique one on emailKey needs every key.
	if err := db.keyEmails(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := db.ensureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := db.gramTasks(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	return db, nil
}

// OpenWait is Open for start-up: while the server is unreachable (not yet
// started, electing a primary, a DNS name not yet resolvable) it logs what
// it is waiting for and tries again with exponential backoff, until it
// succeeds or ctx ends. Any other failure (a bad URI, refused credentials,
// an index conflict) is returned at once: waiting would not fix it.
func OpenWait(ctx context.Context, uri string, o Options) (*DB, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	hosts := "?"
	if cs, err := connstring.ParseAndValidate(uri); err == nil {
		hosts = strings.Join(cs.Hosts, ",") // no credentials
	}
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		db, err := Open(ctx, uri, o)
		if err == nil {
			if attempt > 1 {
				o.Log.Info("mongo: connected", "hosts", hosts, "attempts", attempt)
			}
			return db, nil
		}
		if authdash.ErrorCodeOf(err) != authdash.CodeUnavailable || ctx.Err() != nil {
			return nil, err
		}
		o.Log.Warn("mongo: waiting for MongoDB", "hosts", hosts, "attempt", attempt,
			"retry_in", delay.String(), "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("mongo: gave up waiting for %s: %w", hosts, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 15*time.Second)
	}
}

// Name is the database the store uses.
func (db *DB) Name() string { return db.users.Database().Name() }

// firstSet returns the first of vs that is not the zero value.
func firstSet[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}

// Close ends every pooled connection, waiting for operations in flight
// until ctx ends.
func (db *DB) Close(ctx context.Context) error {
	if err := db.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: close: %w", err)
	}
	return nil
}

// Ping checks that a server the read preference allows answers; /readyz
// calls it.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.client.Ping(ctx, nil); err != nil {
		return db.fail(ctx, "ping", err)
	}
	return nil
}

// codeNotImplemented is what FerretDB answers for an index option it lacks.
const codeNotImplemented = 238

// ensureIndexes creates the index behind every query the store makes.
// createIndexes is idempotent for an identical spec, so every instance runs
// it at start-up; a changed spec under an old name fails loudly instead of
// silently keeping the old index.
func (db *DB) ensureIndexes(ctx context.Context) error {
	asc := func(keys ...string) bson.D {
		d := make(bson.D, len(keys))
		for i, k := range keys {
			d[i] = bson.E{Key: k, Value: 1}
		}
		return d
	}
	specs := []struct {
		coll   *mongo.Collection
		models []mongo.IndexModel
	}{
		{db.users, []mongo.IndexModel{
			{Keys: asc("email"), Options: options.Index().SetUnique(true)},
			// FindLogin; one account per address however it is written.
			{Keys: asc("emailKey"), Options: options.Index().SetUnique(true)},
		}},
		{db.tasks, []mongo.IndexModel{
			// One per sort key, with _id as the tie-breaker the keyset
			// cursor uses: owner and deleted are equalities, so a page is
			// one index range read in order, forwards or backwards.
			{Keys: asc("owner", "deleted", "createdAt", "_id")},
			{Keys: asc("owner", "deleted", "updatedAt", "_id")},
			{Keys: asc("owner", "deleted", "dueKey", "_id")},
			{Keys: asc("owner", "deleted", "prioRank", "_id")},
			{Keys: asc("owner", "deleted", "titleKey", "_id")},
			{Keys: asc("owner", "deleted", "tagKeys")},
			{Keys: asc("owner", "deleted", "status")},
			// Search (grams.go): multikey, one entry per trigram of the
			// field; created order after it, the default page order.
			{Keys: asc("owner", "deleted", "titleGrams", "createdAt", "_id")},
			{Keys: asc("owner", "deleted", "descGrams", "createdAt", "_id")},
			// The change log: unique, so two instances' writes that
			// stamp one owner's changes alike cannot both land (the
			// second retries with a later stamp).
			{Keys: asc("owner", "seq"), Options: options.Index().SetUnique(true)},
		}},
		// ClaimMail: the earliest due message first.
		{db.outbox, []mongo.IndexModel{{Keys: asc("due", "_id")}}},
		// DeleteAccountTokens; the janitor's PurgeAccountTokens.
		{db.tokens, []mongo.IndexModel{{Keys: asc("user", "purpose")}, {Keys: asc("expiresAt")}}},
		// The janitor's PurgeIdempotencyKeys.
		{db.keys, []mongo.IndexModel{{Keys: asc("at")}}},
		// Revocations (the poll: recorded since); PurgeRevocations.
		{db.revocations, []mongo.IndexModel{{Keys: asc("recorded")}, {Keys: asc("until")}}},
		// SignIns (the user's newest first); RecordSignIn (a device seen
		// before, any success before); the janitor's PurgeSignIns.
		{db.signIns, []mongo.IndexModel{
			{Keys: bson.D{{Key: "user", Value: 1}, {Key: "at", Value: -1}, {Key: "_id", Value: -1}}},
			{Keys: asc("user", "outcome", "deviceKey")},
			{Keys: asc("at")},
		}},
		// Passkeys (the user's, oldest first); a challenge's user (deleted
		// with the account); the janitor's PurgePasskeyChallenges.
		{db.passkeys, []mongo.IndexModel{{Keys: asc("user", "createdAt")}}},
		{db.passkeyChallenges, []mongo.IndexModel{{Keys: asc("user")}, {Keys: asc("expiresAt")}}},
		// FindLinkedIdentity, unique: a provider's subject is one
		// account's at most; LinkedIdentities (the user's, oldest first).
		{db.identities, []mongo.IndexModel{
			{Keys: asc("provider", "subject"), Options: options.Index().SetUnique(true)},
			{Keys: asc("user", "createdAt")},
		}},
		{db.sessions, []mongo.IndexModel{
			{Keys: asc("token"), Options: options.Index().SetUnique(true)},
			{Keys: asc("used.h")},
			{Keys: bson.D{{Key: "user", Value: 1}, {Key: "lastUsedAt", Value: -1}}},
		}},
	}
	for _, s := range specs {
		models, err := missingIndexes(ctx, s.coll, s.models)
		if err != nil {
			return db.fail(ctx, "list indexes on "+s.coll.Name(), err)
		}
		if len(models) == 0 {
			continue
		}
		if _, err := s.coll.Indexes().CreateMany(ctx, models); err != nil {
			return db.fail(ctx, "create indexes on "+s.coll.Name(), err)
		}
	}
	// Expired sessions are never returned (every query checks expiresAt);
	// the TTL index only reclaims their space. FerretDB has no TTL indexes,
	// so there a plain index serves PurgeExpiredSessions instead.
	ttl := mongo.IndexModel{Keys: asc("expiresAt"), Options: options.Index().SetExpireAfterSeconds(0)}
	if _, err := db.sessions.Indexes().CreateOne(ctx, ttl); err != nil {
		var ce mongo.CommandError
		if !errors.As(err, &ce) || ce.Code != codeNotImplemented {
			return db.fail(ctx, "create TTL index on sessions", err)
		}
		db.log.Warn("mongo: server has no TTL indexes; expired sessions stay until PurgeExpiredSessions runs", "err", err)
		if _, err := db.sessions.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: asc("expiresAt")}); err != nil {
			return db.fail(ctx, "create expiry index on sessions", err)
		}
	}
	return nil
}

// missingIndexes returns the models with no index of the same name and
// uniqueness yet. Creating an existing index is a no-op on MongoDB but
// crashes FerretDB 1.24's connection for compound indexes, and one
// listIndexes is cheaper than re-sending every spec anyway. An index of the
// same name with other options stays in the list, so that createIndexes
// refuses it loudly.
func missingIndexes(ctx context.Context, coll *mongo.Collection, models []mongo.IndexModel) ([]mongo.IndexModel, error) {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code == codeNamespaceNotFound {
		return models, nil
	}
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, sp := range specs {
		have[sp.Name] = sp.Unique != nil && *sp.Unique
	}
	var missing []mongo.IndexModel
	for _, m := range models {
		var o options.IndexOptions
		if m.Options != nil {
			for _, set := range m.Options.List() {
				if err := set(&o); err != nil {
					return nil, err
				}
			}
		}
		unique := o.Unique != nil && *o.Unique
		if u, ok := have[indexName(m.Keys.(bson.D))]; !ok || u != unique {
			missing = append(missing, m)
		}
	}
	return missing, nil
}

// codeNamespaceNotFound is the server's answer to listIndexes on a
// collection that does not exist yet.
const codeNamespaceNotFound = 26

// indexName is the name the server gives an index created without one:
// each key and its direction, joined by underscores.
func indexName(keys bson.D) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('_')
		}
		fmt.Fprintf(&b, "%s_%v", k.Key, k.Value)
	}
	return b.String()
}

// fail translates err at the edge of the store, as store/sqlite does:
// domain errors pass through, an ended context or an unreachable server
// becomes CodeUnavailable, and everything is wrapped with the operation.
// findAll reads every document a Find returns and converts each: a
// store's list read, which fails as op.
func findAll[D, T any](ctx context.Context, db *DB, op string, c *mongo.Collection, filter any, conv func(D) T, opts ...options.Lister[options.FindOptions]) ([]T, error) {
	cur, err := c.Find(ctx, filter, opts...)
	if err != nil {
		return nil, db.fail(ctx, op, err)
	}
	var docs []D
	if err := cur.All(ctx, &docs); err != nil {
		return nil, db.fail(ctx, op, err)
	}
	out := make([]T, len(docs))
	for i, d := range docs {
		out[i] = conv(d)
	}
	return out, nil
}

// updatedOne and deletedOne finish a write of one document: a filter that
// matched nothing is missing's not-found error, any error goes through fail.
func (db *DB) updatedOne(ctx context.Context, op string, res *mongo.UpdateResult, err error, missing func() error) error {
	if err == nil && res.MatchedCount == 0 {
		err = missing()
	}
	if err != nil {
		return db.fail(ctx, op, err)
	}
	return nil
}

func (db *DB) deletedOne(ctx context.Context, op string, res *mongo.DeleteResult, err error, missing func() error) error {
	if err == nil && res.DeletedCount == 0 {
		err = missing()
	}
	if err != nil {
		return db.fail(ctx, op, err)
	}
	return nil
}

func (db *DB) fail(ctx context.Context, op string, err error) error {
	var de *authdash.Error
	switch {
	case errors.As(err, &de):
	case ctx.Err() != nil:
		err = authdash.WrapError(authdash.CodeUnavailable, err, "The request was cancelled or timed out.")
	case mongo.IsTimeout(err), mongo.IsNetworkError(err), errors.Is(err, mongo.ErrClientDisconnected):
		err = authdash.WrapError(authdash.CodeUnavailable, err, "The database is unavailable; try again.")
	case isOutOfDisk(err):
		err = authdash.WrapError(authdash.CodeUnavailable, err, "The server cannot save changes right now; try again later.")
	}
	return fmt.Errorf("mongo: %s: %w", op, err)
}

// codeOutOfDiskSpace is MongoDB's OutOfDiskSpace: a write refused because
// the server's disk is full.
const codeOutOfDiskSpace = 14031

func isOutOfDisk(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(codeOutOfDiskSpace)
}

// isDuplicate reports a unique-index violation. FerretDB 1.x reports one
// raised by an update (not an insert) as an InternalError quoting SQLite's
// message, so that is recognised too.
func isDuplicate(err error) bool {
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	var ce mongo.CommandError
	return errors.As(err, &ce) && strings.Contains(ce.Message, "UNIQUE constraint failed")
}

// isCode reports whether err carries the domain code c.
func isCode(err error, c authdash.ErrorCode) bool { return authdash.ErrorCodeOf(err) == c }

// objectID parses an ID the API handed out. Anything that is not the
// canonical 24 lower-case hex digits names nothing, so callers answer not
// found without asking the server.
func objectID(s string) (bson.ObjectID, bool) {
	id, err := bson.ObjectIDFromHex(s)
	if err != nil || id.Hex() != s {
		return bson.ObjectID{}, false
	}
	return id, true
}

// now is the store's clock, at the precision BSON dates keep.
func (db *DB) now() time.Time { return authdash.Millis(db.stamps.clock()) }

// utc puts a decoded BSON date in UTC (the driver may decode to local time).
func utc(t time.Time) time.Time { return t.UTC() }
