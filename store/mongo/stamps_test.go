package mongo_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
	mongostore "github.com/authdash/authdash/store/mongo"
)

// mustUser creates a user named name with an email made of it.
func mustUser(t *testing.T, db *mongostore.DB, name string) *authdash.User {
	t.Helper()
	u, err := db.CreateUser(context.Background(), authdash.NewUser{Email: strings.ToLower(name) + "@example.com", Name: name, PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// twoInstances opens two stores on one database, as two API replicas are.
func twoInstances(t *testing.T, uri string, o mongostore.Options) (a, b *mongostore.DB) {
	t.Helper()
	a = openDB(t, uri, o)
	o.Database = a.Name()
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := mongostore.Open(ctx, uri, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	return a, b
}

// TestStampsAcrossInstances covers the two ways two instances' clocks can
// meet: equal stamps for one owner (the unique change-log index refuses the
// second, which retries), and a clock behind another's on one task (the
// write retries above the task's stamp, so its Seq never goes back). Each
// retry costs a round trip; the common case stays at one.
func TestStampsAcrossInstances(t *testing.T) {
	for _, s := range servers() {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			rec := &recorder{}
			a, b := twoInstances(t, s.uri, mongostore.Options{Monitor: rec.monitor()})
			u := mustUser(t, a, "Ann")

			ahead := time.Now().Add(time.Hour).UnixMicro()
			mongostore.SetLastStamp(a, ahead)
			mongostore.SetLastStamp(b, ahead)
			rec.take()
			t1, ev1, err := a.CreateTask(ctx, u.ID, draft("a"))
			if err != nil {
				t.Fatal(err)
			}
			_, ev2, err := b.CreateTask(ctx, u.ID, draft("b"))
			if err != nil {
				t.Fatal(err)
			}
			if ev1.Seq != ahead+1 || ev2.Seq != ahead+2 {
				t.Errorf("equal clocks: Seqs %d, %d; want %d, %d", ev1.Seq, ev2.Seq, ahead+1, ahead+2)
			}
			if got, want := rec.take(), []string{"insert", "insert", "insert"}; !slices.Equal(got, want) {
				t.Errorf("equal clocks sent %q, want %q", got, want)
			}

			// a's clock is now an hour behind the stamps on t1 and t2.
			// Its update of t1 retries above t1's stamp, meets t2's, and
			// retries again.
			mongostore.SetLastStamp(a, 0)
			title := "from a"
			got, ev3, err := a.UpdateTask(ctx, u.ID, t1.ID, authdash.TaskPatch{Title: &title}, t1.Version)
			if err != nil {
				t.Fatal(err)
			}
			if ev3.Seq <= ev2.Seq || got.Version != 2 {
				t.Errorf("behind: Seq %d after %d, version %d", ev3.Seq, ev2.Seq, got.Version)
			}
			if got, want := rec.take(), []string{"findAndModify", "find", "findAndModify", "findAndModify"}; !slices.Equal(got, want) {
				t.Errorf("behind sent %q, want %q", got, want)
			}
			evs, head, ok, err := b.ChangesSince(ctx, u.ID, 0, 10)
			if err != nil || !ok || head != ev3.Seq || len(evs) != 2 || evs[0].Seq != ev2.Seq || evs[1].Seq != ev3.Seq || evs[1].TaskID != t1.ID {
				t.Errorf("ChangesSince = %+v, %d, %v, %v", evs, head, ok, err)
			}
		})
	}
}

// TestSweepDeletedAccounts: CreateTask does not read the owner, so a
// deleted account's still-valid token can create a task; the janitor's
// sweep removes it, and forgets the deletion after its retention.
func TestSweepDeletedAccounts(t *testing.T) {
	for _, s := range servers() {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, s.uri, mongostore.Options{})
			u := mustUser(t, db, "Ann")
			keep := mustUser(t, db, "Bob")
			if _, _, err := db.CreateTask(ctx, keep.ID, draft("bob's")); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteUser(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			orphans := func() int {
				t.Helper()
				page, err := db.FindTasks(ctx, u.ID, query(authdash.TaskQuery{}))
				if err != nil {
					t.Fatal(err)
				}
				return len(page.Items)
			}
			orphan := func() {
				t.Helper()
				if _, _, err := db.CreateTask(ctx, u.ID, draft("orphan")); err != nil {
					t.Fatal(err)
				}
			}
			orphan()
			orphan()
			if n := orphans(); n != 2 {
				t.Fatalf("%d orphans before the sweep, want 2", n)
			}
			tests := []struct {
				name     string
				asOf     time.Time
				orphans  int // created before the sweep
				swept    int
				leftOver int
			}{
				{"within retention", time.Now(), 0, 2, 0},
				{"again within retention", time.Now(), 1, 1, 0},
				{"last sweep past retention", time.Now().Add(25 * time.Hour), 1, 1, 0},
				{"deletion forgotten", time.Now().Add(25 * time.Hour), 1, 0, 1},
			}
			for _, tt := range tests {
				for range tt.orphans {
					orphan()
				}
				n, err := db.SweepDeletedAccounts(ctx, tt.asOf)
				if err != nil {
					t.Fatal(err)
				}
				if n != tt.swept || orphans() != tt.leftOver {
					t.Errorf("%s: swept %d, %d left; want %d, %d", tt.name, n, orphans(), tt.swept, tt.leftOver)
				}
			}
			if page, err := db.FindTasks(ctx, keep.ID, query(authdash.TaskQuery{})); err != nil || len(page.Items) != 1 {
				t.Errorf("the other account's tasks: %d, %v", len(page.Items), err)
			}
		})
	}
}
