package mongo_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authdash/authdash"
	mongostore "github.com/authdash/authdash/store/mongo"
)

// TestKeyClaimInFlight covers what the contract suite cannot reach on
// purpose: a key claimed by a create whose task has not landed. A retry
// waits a little, then answers conflict without creating anything; once
// the claim is old enough that its create can no longer land, the retry
// takes it over and creates the task, once.
func TestKeyClaimInFlight(t *testing.T) {
	for _, s := range servers() {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, s.uri, mongostore.Options{})
			u := mustUser(t, db, "Ann")
			owner, err := bson.ObjectIDFromHex(string(u.ID))
			if err != nil {
				t.Fatal(err)
			}
			d := draft("double-click")
			k := authdash.Idempotency{Key: "in-flight", Fingerprint: d.Fingerprint(), Since: time.Now().Add(-authdash.IdempotencyKeyTTL)}

			c, err := driver.Connect(options.Client().ApplyURI(s.uri))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Disconnect(context.Background()) })
			keys := c.Database(db.Name()).Collection("taskKeys")
			id := string(u.ID) + ":" + k.Key
			_, err = keys.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "fp", Value: k.Fingerprint}, {Key: "at", Value: time.Now()},
				{Key: "task", Value: bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "owner", Value: owner}, {Key: "version", Value: 1}, {Key: "title", Value: "double-click"}}}})
			if err != nil {
				t.Fatal(err)
			}

			_, _, _, err = db.CreateTaskOnce(ctx, u.ID, k, d)
			if authdash.ErrorCodeOf(err) != authdash.CodeConflict {
				t.Fatalf("retry while the first create is in flight: %v, want conflict", err)
			}
			if st, _ := db.TaskStats(ctx, u.ID); st.Total != 0 {
				t.Fatalf("the conflicting retry created %d tasks", st.Total)
			}

			// The first create died; a minute on its claim is abandoned.
			if _, err := keys.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: time.Now().Add(-time.Minute)}}}}); err != nil {
				t.Fatal(err)
			}
			task, _, replayed, err := db.CreateTaskOnce(ctx, u.ID, k, d)
			if err != nil || replayed {
				t.Fatalf("retry after the claim was abandoned: replayed %v, %v", replayed, err)
			}
			again, _, replayed, err := db.CreateTaskOnce(ctx, u.ID, k, d)
			if err != nil || !replayed || again.ID != task.ID {
				t.Fatalf("repeat: %+v replayed %v, %v; want task %s", again, replayed, err, task.ID)
			}
			if st, _ := db.TaskStats(ctx, u.ID); st.Total != 1 {
				t.Errorf("%d tasks, want 1", st.Total)
			}
		})
	}
}
