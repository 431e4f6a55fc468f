package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/authdash/authdash"
)

// SetLastStamp moves db's change-stamp clock, as a clock running ahead
// would: the tests use it to make two instances' stamps meet or cross.
func SetLastStamp(db *DB, v int64) { db.stamps.last.Store(v) }

// Fail is the store's error translation.
func Fail(db *DB, err error) error { return db.fail(context.Background(), "test", err) }

// TaskFilter is FindTasks' filter for a first page of q.
func TaskFilter(owner authdash.UserID, q authdash.TaskQuery) bson.D {
	uid, _ := objectID(string(owner))
	return taskFilter(uid, q, authdash.Cursor{}, bson.ObjectID{})
}
