package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// indexLate keeps the writer from bringing the search index up to date of
// its own accord, so that only searches (catchUp) and tests do.
func indexLate() Option {
	return func(db *DB) { db.indexEvery, db.indexLag = 1<<30, time.Hour }
}

// unindexed counts the tasks the search index lacks changes to.
func unindexed(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.r.QueryRow(`SELECT (SELECT count(*) FROM task_grams_dirty) + (SELECT count(*) FROM task_sorts_dirty)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSearchSeesUnindexedWrites checks that a search finds every write that
// returned before it, in every order, while the writer leaves the search
// index behind (indexEvery): a create, a rename away from the term and one
// to it, a task moved in every sorted copy, a delete. And that it brings
// the index up to date only for an owner whose tasks it lacks changes to.
func TestSearchSeesUnindexedWrites(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, indexLate(), noCompactor())
	buildSorts(t, db)
	owner := mustUser(t, db, "owner@example.com")
	other := mustUser(t, db, "other@example.com")
	create := func(owner authdash.UserID, title string, p authdash.TaskPriority) authdash.TaskID {
		t.Helper()
		task, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: title, Status: authdash.StatusTodo, Priority: p})
		if err != nil {
			t.Fatal(err)
		}
		return task.ID
	}
	var ids []authdash.TaskID
	for i := range 6 {
		ids = append(ids, create(owner, fmt.Sprintf("narwhal %d", i), authdash.TaskPriorities[i%3]))
	}
	if err := db.indexNow(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[authdash.TaskID]bool{}
	for _, id := range ids {
		want[id] = true
	}
	update := func(id authdash.TaskID, p authdash.TaskPatch) {
		t.Helper()
		if _, _, err := db.UpdateTask(ctx, owner, id, p, 0); err != nil {
			t.Fatal(err)
		}
	}
	away, to := "walrus", "narwhal again"
	high := authdash.PriorityHigh
	due := authdash.Millis(time.Date(2031, 1, 2, 0, 0, 0, 0, time.UTC))
	steps := []struct {
		name  string
		write func()
	}{
		{"Create", func() { id := create(owner, "new narwhal", authdash.PriorityLow); want[id] = true }},
		{"RenameAway", func() { update(ids[0], authdash.TaskPatch{Title: &away}); delete(want, ids[0]) }},
		{"RenameTo", func() {
			id := create(owner, "seal", authdash.PriorityMedium)
			update(id, authdash.TaskPatch{Title: &to})
			want[id] = true
		}},
		{"Move", func() { update(ids[1], authdash.TaskPatch{Priority: &high, DueDate: &due}) }},
		{"Delete", func() {
			if _, err := db.DeleteTask(ctx, owner, ids[2], 0); err != nil {
				t.Fatal(err)
			}
			delete(want, ids[2])
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.write()
			if n := unindexed(t, db); n == 0 {
				t.Fatal("the write was indexed at once: the test shows nothing")
			}
			for _, s := range []authdash.TaskSort{authdash.SortCreated, authdash.SortUpdated, authdash.SortDue, authdash.SortPriority, authdash.SortTitle} {
				for _, cap := range []int{defaultGramCap, 1} { // sorting the matches, walking a copy
					db.gramCap = cap
					var got []authdash.TaskID
					for _, task := range allPages(t, db, owner, authdash.TaskQuery{Search: "NARWHAL", Sort: s, Order: authdash.Desc, Limit: 2}) {
						got = append(got, task.ID)
					}
					var w []authdash.TaskID
					for id := range want {
						w = append(w, id)
					}
					slices.Sort(got)
					slices.Sort(w)
					if !slices.Equal(got, w) {
						t.Errorf("sorted by %s, gram cap %d: found %v, want %v", s, cap, got, w)
					}
				}
			}
			db.gramCap = defaultGramCap
		})
	}

	// Another owner's writes wait for the writer, not for this owner's
	// searches.
	create(other, "narwhal elsewhere", authdash.PriorityLow)
	before := unindexed(t, db)
	allPages(t, db, owner, authdash.TaskQuery{Search: "narwhal"})
	if n := unindexed(t, db); n != before || n == 0 {
		t.Errorf("an owner's search with nothing of theirs to index: %d changes unindexed before, %d after; want them left", before, n)
	}
	if got := allPages(t, db, other, authdash.TaskQuery{Search: "narwhal"}); len(got) != 1 {
		t.Errorf("the other owner's search found %d tasks, want 1", len(got))
	}
	if n := unindexed(t, db); n != 0 {
		t.Errorf("%d changes unindexed after the other owner's search, want 0", n)
	}
}

// TestIndexCatchesUp checks the writer brings the search index up to date
// by itself: after indexEvery writes, indexLag after a write once writes
// stop, at Close, and at Open for changes a crash left unindexed.
func TestIndexCatchesUp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := Open(ctx, path, noCompactor(), func(db *DB) { db.indexEvery, db.indexLag = 10, time.Hour })
	if err != nil {
		t.Fatal(err)
	}
	owner := mustUser(t, db, "owner@example.com")
	if err := db.indexNow(ctx); err != nil {
		t.Fatal(err)
	}
	create := func(db *DB, title string) {
		t.Helper()
		if _, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: title, Status: authdash.StatusTodo, Priority: authdash.PriorityLow}); err != nil {
			t.Fatal(err)
		}
	}
	// Writes of the store's own (its builders') may add to the count, so
	// the index may come up to date sooner, but not at the first write.
	k := 0
	for k = 1; k <= db.indexEvery; k++ {
		create(db, fmt.Sprintf("task %d", k))
		if unindexed(t, db) == 0 {
			break
		}
	}
	if k == 1 || k > db.indexEvery {
		t.Errorf("the index came up to date after %d writes, want after 2 to %d", k, db.indexEvery)
	}

	create(db, "at close")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash between a write and its indexing: the change is in the
	// file, noted by the triggers, and nothing indexes it.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var left int
	if err := raw.QueryRow(`SELECT (SELECT count(*) FROM task_grams_dirty) + (SELECT count(*) FROM task_sorts_dirty)`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d changes unindexed after Close, want 0", left)
	}
	if _, err := raw.Exec(`UPDATE tasks SET title = 'ocelot', title_key = 'ocelot', updated_ms = updated_ms + 1 WHERE title = 'task 3'`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err = Open(ctx, path, noCompactor(), func(db *DB) { db.indexLag = 20 * time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for deadline := time.Now().Add(10 * time.Second); unindexed(t, db) != 0; {
		if time.Now().After(deadline) {
			t.Fatal("changes left by a crash not indexed 10 s after Open")
		}
		time.Sleep(5 * time.Millisecond)
	}
	create(db, "after a pause")
	for deadline := time.Now().Add(10 * time.Second); unindexed(t, db) != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("a write not indexed 10 s after writes stopped (lag %v)", db.indexLag)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ocelot, _ := termGrams(string(owner), "ocelot")
	var hits int
	if err := db.r.QueryRow(`SELECT count(*) FROM task_grams WHERE task_grams MATCH ?`, matchAll(ocelot...)).Scan(&hits); err != nil {
		t.Fatal(err)
	}
	if hits != 1 {
		t.Errorf("the index holds %d tasks for the text written before Open, want 1", hits)
	}
}
