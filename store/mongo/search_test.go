package mongo_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authdash/authdash"
	mongostore "github.com/authdash/authdash/store/mongo"
)

func rawClient(t *testing.T, uri string) *driver.Client {
	t.Helper()
	c, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

func seedSearch(t *testing.T, db *mongostore.DB, titles ...string) authdash.UserID {
	t.Helper()
	ctx := context.Background()
	u, err := db.CreateUser(ctx, authdash.NewUser{Email: "search@example.com", Name: "S", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range titles {
		if _, _, err := db.CreateTask(ctx, u.ID, authdash.TaskDraft{Title: title, Description: "about " + title,
			Status: authdash.StatusTodo, Priority: authdash.PriorityLow}); err != nil {
			t.Fatal(err)
		}
	}
	return u.ID
}

// TestSearchUsesGrams checks that a search is asked through the trigram
// indexes: they exist with the keys the filter names, and the filter the
// server receives narrows by every trigram of the term on each field. On
// a real MongoDB it also checks the plan: an index scan of a trigram index
// and no collection scan. FerretDB (SQLite backend) pushes no such filter
// down and answers every find by scanning the collection's table, which
// explain shows as filterPushdown false; docs/ARCHITECTURE.md ("Search on
// MongoDB") says what MongoDB does instead.
func TestSearchUsesGrams(t *testing.T) {
	for _, srv := range servers() {
		name, uri := srv.name, srv.uri
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, uri, mongostore.Options{})
			owner := seedSearch(t, db, "write the report", "plan", "Reporting", "rapport")
			c := rawClient(t, uri).Database(db.Name())

			cur, err := c.Collection("tasks").Indexes().List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var specs []struct {
				Key bson.D `bson:"key"`
			}
			if err := cur.All(ctx, &specs); err != nil {
				t.Fatal(err)
			}
			for _, field := range []string{"titleGrams", "descGrams"} {
				want := []string{"owner", "deleted", field, "createdAt", "_id"}
				if !slices.ContainsFunc(specs, func(s struct {
					Key bson.D `bson:"key"`
				}) bool {
					var keys []string
					for _, e := range s.Key {
						keys = append(keys, e.Key)
					}
					return slices.Equal(keys, want)
				}) {
					t.Errorf("no index on %v among %v", want, specs)
				}
			}

			q := authdash.TaskQuery{Search: "REPORT"}
			q.Normalize()
			var res bson.M
			err = c.RunCommand(ctx, bson.D{{Key: "explain", Value: bson.D{
				{Key: "find", Value: "tasks"}, {Key: "filter", Value: mongostore.TaskFilter(owner, q)},
				{Key: "sort", Value: bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
				{Key: "limit", Value: 21}}},
				{Key: "verbosity", Value: "queryPlanner"}}).Decode(&res)
			if err != nil {
				t.Fatal(err)
			}
			js, _ := bson.MarshalExtJSON(res, false, false)
			for _, field := range []string{"titleGrams", "descGrams"} {
				if !strings.Contains(string(js), `{"`+field+`":{"$all":["epo","ort","por","rep"]}`) {
					t.Errorf("the server was not asked for %s holding every trigram of the term: %s", field, js)
				}
			}
			if name == "MongoDB" {
				plan, _ := bson.MarshalExtJSON(res["queryPlanner"], false, false)
				if strings.Contains(string(plan), "COLLSCAN") || !strings.Contains(string(plan), "IXSCAN") ||
					!strings.Contains(string(plan), "Grams") {
					t.Errorf("the search is not answered by the trigram indexes: %s", plan)
				}
			}

			got, err := db.FindTasks(ctx, owner, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Items) != 2 {
				t.Errorf("search found %d tasks, want 2 (report, Reporting)", len(got.Items))
			}
		})
	}
}

// TestSearchGramsBackfill opens a database whose tasks were stored before
// the search's trigrams existed: Open gives them their trigrams, so the
// search finds them, and records that it did.
func TestSearchGramsBackfill(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, ferretURI, mongostore.Options{})
	owner := seedSearch(t, db, "write the report", "plan", "Reporting")
	c := rawClient(t, ferretURI).Database(db.Name())
	if _, err := c.Collection("tasks").UpdateMany(ctx, bson.D{},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "titleGrams", Value: ""}, {Key: "descGrams", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Collection("migrations").DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	q := authdash.TaskQuery{Search: "report"}
	q.Normalize()
	if got, err := db.FindTasks(ctx, owner, q); err != nil || len(got.Items) != 0 {
		t.Fatalf("before the backfill: %d tasks (%v), want 0 (no trigrams, nothing found)", len(got.Items), err)
	}

	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	again, err := mongostore.Open(octx, ferretURI, mongostore.Options{Database: db.Name(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close(ctx)
	if got, err := again.FindTasks(ctx, owner, q); err != nil || len(got.Items) != 2 {
		t.Errorf("after the backfill: %d tasks (%v), want 2", len(got.Items), err)
	}
	n, err := c.Collection("tasks").CountDocuments(ctx, bson.D{{Key: "titleGrams", Value: bson.D{{Key: "$exists", Value: false}}}})
	if err != nil || n != 0 {
		t.Errorf("%d tasks without trigrams after Open (%v)", n, err)
	}
	if n, err := c.Collection("migrations").CountDocuments(ctx, bson.D{{Key: "_id", Value: "taskGrams"}}); err != nil || n != 1 {
		t.Errorf("marker recorded %d times (%v), want 1", n, err)
	}
}
