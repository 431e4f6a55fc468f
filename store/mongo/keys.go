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

// Idempotency keys live in the taskKeys collection, one document per owner
// and key, claimed with one insert before the task's own insert (the one
// extra round trip of a create with a key): the unique _id lets exactly one
// of several concurrent creates with a key claim it. The claim carries the
// task document about to be inserted, which is the first answer a retry
// gets back. Without transactions the claim and the task are two writes,
// so a retry that finds a claim checks that its task exists:
//
//   - it does: the first create committed; the retry gets its answer;
//   - not yet: the first is in flight; the retry waits for it a little
//     (claimWait), then answers CodeConflict, to be retried;
//   - not after claimAbandoned: the first create failed in a way that
//     could not release the claim (its instance died, say), and since its
//     insert ran under a deadline of insertBudget it can no longer land;
//     the claim is taken over.

// keyDoc is one recorded key.
type keyDoc struct {
	// ID is the owner's 24 hex digits, a colon and the key.
	ID          string    `bson:"_id"`
	Fingerprint string    `bson:"fp"`
	Task        taskDoc   `bson:"task"`
	At          time.Time `bson:"at"`
}

func keyID(owner bson.ObjectID, key string) string { return owner.Hex() + ":" + key }

const (
	// insertBudget bounds the task insert that follows a claim, so that
	// after claimAbandoned it cannot land any more.
	insertBudget = 10 * time.Second
	// claimAbandoned is how old a claim without its task must be before a
	// retry takes it over.
	claimAbandoned = 3 * insertBudget
	// claimWait is about how long a retry waits for the task of a claim
	// in flight before answering CodeConflict.
	claimWait = 640 * time.Millisecond
	// maxClaimTries bounds the rounds of claiming a key that keeps being
	// released or expiring under us.
	maxClaimTries = 4
)

// CreateTaskOnce claims the owner's key with one insert, then inserts the
// task: two round trips where CreateTask takes one. A retry with the key
// gets the first answer once that task exists.
func (db *DB) CreateTaskOnce(ctx context.Context, owner authdash.UserID, k authdash.Idempotency, d authdash.TaskDraft) (*authdash.Task, authdash.Event, bool, error) {
	uid, ok := objectID(string(owner))
	if !ok {
		return nil, authdash.Event{}, false, db.fail(ctx, "create task", errUserNotFound())
	}
	doc := db.newTaskDoc(uid, d)
	claim := keyDoc{ID: keyID(uid, k.Key), Fingerprint: k.Fingerprint, Task: doc, At: doc.CreatedAt}
	first, err := db.claim(ctx, &claim, k.Since)
	if err != nil {
		return nil, authdash.Event{}, false, db.fail(ctx, "create task", err)
	}
	if first != nil {
		return first.task(), authdash.Event{}, true, nil
	}
	ictx, cancel := context.WithTimeout(ctx, insertBudget)
	defer cancel()
	if err := db.insertTask(ictx, &doc); err != nil {
		if !mongo.IsTimeout(err) && !mongo.IsNetworkError(err) && ictx.Err() == nil {
			// The task was certainly not written: give the key back, so a
			// retry creates it rather than wait for the claim to be
			// abandoned. If this fails too, that wait is the fallback.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), insertBudget)
			_, _ = db.keys.DeleteOne(rctx, bson.D{{Key: "_id", Value: claim.ID}, {Key: "at", Value: claim.At}})
			cancel()
		}
		return nil, authdash.Event{}, false, db.fail(ctx, "create task", err)
	}
	return doc.task(), doc.event(owner), false, nil
}

// claim records c unless its key is taken. It returns nil when c is now
// the claim, or the first create's task when that create has committed.
func (db *DB) claim(ctx context.Context, c *keyDoc, since time.Time) (*taskDoc, error) {
	for range maxClaimTries {
		_, err := db.keys.InsertOne(ctx, c)
		if err == nil {
			return nil, nil
		}
		if !isDuplicate(err) {
			return nil, err
		}
		var cur keyDoc
		err = db.keys.FindOne(ctx, bson.D{{Key: "_id", Value: c.ID}}).Decode(&cur)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			continue // released or purged meanwhile: claim it
		case err != nil:
			return nil, err
		case cur.At.Before(since):
			// Expired: forget it (unless someone else just did and
			// claimed afresh) and claim it.
			if err := db.release(ctx, &cur); err != nil {
				return nil, err
			}
			continue
		case cur.Fingerprint != c.Fingerprint:
			return nil, errKeyReused()
		}
		landed, err := db.awaitTask(ctx, &cur.Task)
		switch {
		case err != nil:
			return nil, err
		case landed:
			return &cur.Task, nil
		case time.Since(cur.At) < claimAbandoned:
			return nil, errKeyInFlight()
		}
		if err := db.release(ctx, &cur); err != nil {
			return nil, err
		}
	}
	return nil, errTooFast()
}

// release deletes the claim c, if it is still the one recorded.
func (db *DB) release(ctx context.Context, c *keyDoc) error {
	_, err := db.keys.DeleteOne(ctx, bson.D{{Key: "_id", Value: c.ID}, {Key: "at", Value: c.At}})
	return err
}

// awaitTask reports whether the task t exists (deleted or not), waiting up
// to about claimWait for a create in flight to land.
func (db *DB) awaitTask(ctx context.Context, t *taskDoc) (bool, error) {
	wait := 5 * time.Millisecond
	for {
		err := db.tasks.FindOne(ctx, bson.D{{Key: "_id", Value: t.ID}, {Key: "owner", Value: t.Owner}},
			options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		switch {
		case err == nil:
			return true, nil
		case !errors.Is(err, mongo.ErrNoDocuments):
			return false, err
		case wait > claimWait/2:
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func errKeyReused() error {
	return authdash.Errorf(authdash.CodeIdempotencyKeyReused,
		"This Idempotency-Key was already used for a different task; use a new key for a new task.")
}

func errKeyInFlight() error {
	return authdash.Errorf(authdash.CodeConflict,
		"A request with this Idempotency-Key is still being processed; try again in a moment.")
}

// PurgeIdempotencyKeys forgets the keys of creates recorded before
// olderThan. It returns how many went.
func (db *DB) PurgeIdempotencyKeys(ctx context.Context, olderThan time.Time) (int, error) {
	res, err := db.keys.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: olderThan}}}})
	if err != nil {
		return 0, db.fail(ctx, "purge idempotency keys", err)
	}
	return int(res.DeletedCount), nil
}
