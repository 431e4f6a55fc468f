package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func TestTaskTokens(t *testing.T) {
	p := ownerPrefix("o")
	tri := func(g string) string { return p + hexOf(g) }
	long := func(g string) string { return p + longMark + hexOf(g) }
	for _, c := range []struct {
		name, title, desc string
		want              []string
	}{
		{"Short", "ab", "", nil},
		{"TrigramsOnly", "abcde", "", []string{tri("abc"), tri("bcd"), tri("cde")}},
		{"OneLong", "abcdef", "", []string{tri("abc"), tri("bcd"), tri("cde"), tri("def"), long("abcdef")}},
		// Title and description apart: no gram spans the two, and one
		// held by both is one token.
		{"TwoFields", "abc", "abcdef", []string{tri("abc"), tri("bcd"), tri("cde"), tri("def"), long("abcdef")}},
		{"Repeats", "aaaaaaa", "", []string{tri("aaa"), long("aaaaaa")}},
		// Runes, not bytes: ß is two bytes, 🚀 four.
		{"Runes", "straße🚀", "", []string{tri("str"), tri("tra"), tri("raß"), tri("aße"), tri("ße🚀"), long("straße"), long("traße🚀")}},
		// An invalid byte is a U+FFFD, as []rune makes it: what the index
		// has always held.
		{"InvalidUTF8", "ab\xffc", "", []string{tri("ab\uFFFD"), tri("b\uFFFDc")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Fields(taskTokens("o", c.title, c.desc))
			if !slices.Equal(got, c.want) {
				t.Errorf("taskTokens = %q\nwant %q", got, c.want)
			}
			// The sort-ordered copies get the trigrams alone.
			var tris []string
			for _, w := range c.want {
				if !strings.HasPrefix(w, p+longMark) {
					tris = append(tris, w)
				}
			}
			if got := strings.Fields(taskGrams("o", c.title, c.desc)); !slices.Equal(got, tris) {
				t.Errorf("taskGrams = %q\nwant %q", got, tris)
			}
		})
	}
}

func hexOf(s string) string { return fmt.Sprintf("%x", s) }

// rareTermFixture makes owner's tasks ref00000 to ref00299, each described
// "codes 000 001 012", so that every trigram of ref00012 is in all 300 while
// the term is in one task.
func rareTermFixture(t *testing.T, db *DB) authdash.UserID {
	t.Helper()
	ctx := context.Background()
	owner := mustUser(t, db, "owner@example.com")
	for i := range 300 {
		if _, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: fmt.Sprintf("ref%05d", i), Description: "codes 000 001 012",
			Status: authdash.StatusTodo, Priority: authdash.TaskPriorities[i%3]}); err != nil {
			t.Fatal(err)
		}
	}
	return owner
}

// searchRare checks that a search of ref00012 in every order finds the one
// task, and returns its plan.
func searchRare(t *testing.T, db *DB, owner authdash.UserID) searchPlan {
	t.Helper()
	for _, s := range authdash.TaskSorts {
		got := allPages(t, db, owner, authdash.TaskQuery{Search: "REF00012", Sort: s, Limit: 5})
		if len(got) != 1 || got[0].Title != "ref00012" {
			t.Errorf("%s: found %d tasks %v, want ref00012 alone", s, len(got), got)
		}
	}
	sp, err := db.plan(context.Background(), owner, "ref00012")
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// TestLongGramsFindRareTerm checks that a term whose trigrams are all
// common but whose long grams are rare is planned on its long grams, so
// that the index names its few tasks without intersecting the trigrams'
// long posting lists; and that without them (the builder not done) the
// trigrams answer alike.
func TestLongGramsFindRareTerm(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	owner := rareTermFixture(t, db)
	db.gramCap = 64
	grams, long := termGrams(string(owner), "ref00012")
	for _, g := range grams {
		if n, err := db.countMatches(ctx, matchAll(g), db.gramCap); err != nil || n < db.gramCap {
			t.Fatalf("trigram %s in %d tasks (%v): the fixture needs them all common", g, n, err)
		}
	}
	if n, err := db.countMatches(ctx, matchAll(long[len(long)-1]), db.gramCap); err != nil || n != 1 {
		t.Fatalf("long gram f00012 in %d tasks (%v), want 1", n, err)
	}

	if sp := searchRare(t, db, owner); sp.rare != matchAll(long...) {
		t.Errorf("plan on %q, want the long grams %q", sp.rare, matchAll(long...))
	}

	db.longReady.Store(false)
	db.plans = plans{}
	if sp := searchRare(t, db, owner); sp.rare != "" {
		t.Errorf("long grams not ready: plan on %q, want none rare", sp.rare)
	}
}

// TestLongGramsBuilder takes task_grams back to where migration 16 finds a
// database made before it (trigrams only, the tasks to do noted), opens it
// and checks that the builder indexes every task's long grams, searches
// answer rightly before and after, and a task written meanwhile keeps its
// own.
func TestLongGramsBuilder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	owner := rareTermFixture(t, db)
	type row struct {
		rid                int64
		owner, title, desc string
	}
	var rows []row
	rs, err := db.r.Query(`SELECT rid, owner_id, title_key, desc_key FROM tasks ORDER BY rid`)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.rid, &r.owner, &r.title, &r.desc); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	err = db.write(ctx, func(tx *wtx) error {
		if _, err := tx.exec(`INSERT INTO task_grams (task_grams) VALUES ('delete-all')`); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := tx.exec(`INSERT INTO task_grams (rowid, grams) VALUES (?, ?)`, r.rid, taskGrams(r.owner, r.title, r.desc)); err != nil {
				return err
			}
		}
		_, err := tx.exec(`INSERT INTO long_grams_build (id, next_rid, last_rid) VALUES (1, ?, ?)`, rows[0].rid, rows[len(rows)-1].rid)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, long := termGrams(string(owner), "ref00012")
	holding := func(db *DB) int {
		t.Helper()
		n, err := db.countMatches(ctx, matchAll(long...), 100)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := holding(db); n != 0 {
		t.Fatalf("%d tasks hold long grams after they were taken out", n)
	}
	db.Close()

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	newTask, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: "new ref00012", Status: authdash.StatusTodo, Priority: authdash.PriorityLow})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !db.longReady.Load(); {
		if time.Now().After(deadline) {
			t.Fatal("the builder did not finish in 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := holding(db); n != 2 {
		t.Errorf("%d tasks hold ref00012's long grams, want 2", n)
	}
	var left int
	if err := db.r.QueryRow(`SELECT count(*) FROM long_grams_build`).Scan(&left); err != nil || left != 0 {
		t.Errorf("build row left: %d (%v)", left, err)
	}
	db.gramCap = 64
	db.plans = plans{}
	for _, s := range authdash.TaskSorts {
		got := allPages(t, db, owner, authdash.TaskQuery{Search: "ref00012", Sort: s, Order: authdash.Asc, Limit: 5})
		var titles []string
		for _, task := range got {
			titles = append(titles, task.Title)
		}
		slices.Sort(titles)
		if want := []string{newTask.Title, "ref00012"}; !slices.Equal(titles, want) {
			t.Errorf("%s: found %q, want %q", s, titles, want)
		}
	}
}

// BenchmarkIndexText is the work a create's caller does before queueing it:
// the task's tokens for task_grams and grams for the sort-ordered copies.
func BenchmarkIndexText(b *testing.B) {
	title := authdash.TitleKey("Review the quarterly budget report 0042")
	desc := strings.ToLower("Check the numbers against last year's and send notes to Finance before Friday.")
	var c textCache
	b.ReportAllocs()
	for b.Loop() {
		c.text("0193a1f2c4d5e6f708192a3b", title, desc)
	}
}
