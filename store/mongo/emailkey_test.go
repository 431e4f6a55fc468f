package mongo_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/testkit"
	mongostore "github.com/authdash/authdash/store/mongo"
)

// TestMigrateEmailKeys opens a database whose accounts were made before
// emailKey, kept apart by lower-cased address only, so look-alikes of one
// address could each have one. Open keys them all; of two that share a key,
// the account whose address is already written the way people type it keeps
// it (even when younger), the other is logged and kept, unreachable by
// address, never merged.
func TestMigrateEmailKeys(t *testing.T) {
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			name := dbName(t)
			c, err := driver.Connect(options.Client().ApplyURI(srv.uri))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Disconnect(ctx)
			defer c.Database(name).Drop(ctx)
			users := c.Database(name).Collection("users")
			if _, err := users.Indexes().CreateOne(ctx, driver.IndexModel{Keys: bson.D{{Key: "email", Value: 1}},
				Options: options.Index().SetUnique(true)}); err != nil {
				t.Fatal(err)
			}
			at := func(s int) time.Time { return time.Unix(int64(s), 0).UTC() }
			accounts := []struct {
				id      bson.ObjectID
				email   string
				created time.Time
			}{
				{bson.NewObjectID(), "user@example.com", at(2000)},
				{bson.NewObjectID(), "ｕｓｅｒ@example.com", at(1000)}, // older, a look-alike
				{bson.NewObjectID(), "straße@example.de", at(1000)},
				{bson.NewObjectID(), "strasse@example.de", at(3000)},
				{bson.NewObjectID(), "plain@example.com", at(1000)},
			}
			for _, a := range accounts {
				if _, err := users.InsertOne(ctx, bson.D{{Key: "_id", Value: a.id}, {Key: "email", Value: a.email}, {Key: "name", Value: "N"},
					{Key: "passwordHash", Value: "h"}, {Key: "createdAt", Value: a.created}, {Key: "updatedAt", Value: a.created},
					{Key: "version", Value: int64(1)}}); err != nil {
					t.Fatal(err)
				}
			}

			logs := &testkit.Logs{}
			open := func() *mongostore.DB {
				db, err := mongostore.Open(ctx, srv.uri, mongostore.Options{Database: name, Log: slog.New(slog.NewTextHandler(logs, nil))})
				if err != nil {
					t.Fatal(err)
				}
				return db
			}
			db := open()
			for _, tt := range []struct {
				spelling string
				want     bson.ObjectID
			}{
				{"USER@example.com", accounts[0].id},
				{"ｕｓｅｒ＠example.com", accounts[0].id},
				{"Straße@example.de", accounts[3].id},
				{"plain@example.com", accounts[4].id},
			} {
				u, _, err := db.FindLogin(ctx, tt.spelling)
				if err != nil || string(u.ID) != tt.want.Hex() {
					t.Errorf("FindLogin(%q) = %v, %v; want %s", tt.spelling, u, err, tt.want.Hex())
				}
			}
			for _, lost := range []int{1, 2} {
				a := accounts[lost]
				if u, err := db.FindUser(ctx, authdash.UserID(a.id.Hex())); err != nil || u.Email != a.email {
					t.Errorf("account %s after the migration: %v, %v", a.email, u, err)
				}
				if !strings.Contains(logs.String(), "user="+a.id.Hex()) {
					t.Errorf("collision of %s not logged:\n%s", a.email, logs)
				}
			}
			if n := logs.Count("level=WARN msg=\"mongo: two accounts"); n != 2 {
				t.Errorf("%d collision warnings, want 2:\n%s", n, logs)
			}
			_, err = db.CreateUser(ctx, authdash.NewUser{Email: "ＰＬＡＩＮ@example.com", Name: "N", PasswordHash: "h"})
			if authdash.ErrorCodeOf(err) != authdash.CodeConflict {
				t.Errorf("a look-alike of a migrated address: %v, want conflict", err)
			}
			db.Close(ctx)
			// Once only: opening again finds nothing to do.
			before := logs.Count("mongo: two accounts")
			open().Close(ctx)
			if logs.Count("mongo: two accounts") != before {
				t.Errorf("the migration ran again:\n%s", logs)
			}
		})
	}
}
