package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// TestSearchPaths checks every way FindTasks can answer a search (the
// window alone, the rarest trigram's tasks, reading on past the window)
// against the owner's whole list filtered in Go, paging through every
// page, after updates and deletes have changed the index.
func TestSearchPaths(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	owner := mustUser(t, db, "owner@example.com")
	other := mustUser(t, db, "other@example.com")

	vocab := []string{"alpha", "budget", "review", "École", "straße", "🚀launch", "ref000120", "ref001200", "report", "NAÏVE", "x"}
	rng := rand.New(rand.NewPCG(7, 8))
	phrase := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(w, " ")
	}
	var ids []authdash.TaskID
	for i := range 160 {
		d := authdash.TaskDraft{Title: phrase(1 + i%3), Description: phrase(rng.IntN(6)), Status: authdash.StatusTodo,
			Priority: authdash.TaskPriorities[i%len(authdash.TaskPriorities)]}
		if i%3 != 0 { // undated, or one of a few dates shared by many
			due := time.Date(2027, 1, 1+i%4, 0, 0, 0, 0, time.UTC)
			d.DueDate = &due
		}
		task, _, err := db.CreateTask(ctx, owner, d)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, task.ID)
		// The same text for another owner: never a result.
		if _, _, err := db.CreateTask(ctx, other, d); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		switch i % 10 {
		case 1, 2: // new text: the index must drop the old and add the new
			title, desc := phrase(2), "zebra "+phrase(3)
			if _, _, err := db.UpdateTask(ctx, owner, id, authdash.TaskPatch{Title: &title, Description: &desc}, 0); err != nil {
				t.Fatal(err)
			}
		case 3: // no text change
			st := authdash.StatusDone
			if _, _, err := db.UpdateTask(ctx, owner, id, authdash.TaskPatch{Status: &st}, 0); err != nil {
				t.Fatal(err)
			}
		case 4:
			if _, err := db.DeleteTask(ctx, owner, id, 0); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Concurrent writes share transactions (group commit): each batch is
	// indexed once, just before its commit.
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 60 {
		wg.Go(func() {
			task, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: fmt.Sprintf("batched %d", i), Description: "quokka", Status: authdash.StatusTodo, Priority: authdash.PriorityLow})
			if err == nil && i%3 == 0 {
				title := "batched and renamed"
				_, _, err = db.UpdateTask(ctx, owner, task.ID, authdash.TaskPatch{Title: &title}, 0)
			}
			if err == nil && i%5 == 0 {
				_, err = db.DeleteTask(ctx, owner, task.ID, 0)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var left int
	if err := db.r.QueryRow(`SELECT count(*) FROM task_grams_dirty`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d tasks left unindexed after commit (%v)", left, err)
	}

	terms := []string{
		"quokka", "renamed", "batched 1",
		"alpha", "budget review", "école", "ÉCOLE", "straße", "🚀la", "ref00012", "ref0012", "ref001", "report",
		"naïve", "zebra", "zebra al", "x x", "rev", "lph", "nomatch", "aaa",
		"alpha\nbudget",  // no trigram spans title and description
		"pha alp",        // every trigram common, the term rare
		"ref000120 ref0", // longer than maxTermGrams trigrams
		// Six characters or more: long grams, rare and common.
		"ref000120", "ref00120", "🚀launc", "budget rev",
	}
	if err := db.r.QueryRow(`SELECT count(*) FROM task_sorts_dirty`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d tasks left out of the sort-ordered copies after commit (%v)", left, err)
	}

	buildSorts(t, db)

	const (
		dw, dg, dl, ds = defaultSearchWindow, defaultGramCap, defaultWalkLimit, defaultSortLimit
	)
	configs := []struct {
		name                     string
		window, gram, walk, sort int
		copies                   bool
		long                     bool // long grams ready
	}{
		{"Defaults", dw, dg, dl, ds, true, true},
		{"NoLongGrams", dw, dg, dl, ds, true, false},
		{"SmallCapLongGrams", 2, 8, dl, ds, false, true},
		{"RarestGram", 2, dg, dl, ds, false, false},
		{"SmallCap", 2, 8, dl, ds, false, false},
		// No trigram is ever rare: past the window, the walk ...
		{"Walk", 2, 1, dl, ds, false, false},
		// ... and past a short walk, the rest sorted or walked.
		{"WalkThenSort", 2, 1, 3, 1 << 20, false, false},
		{"WalkThenWalk", 2, 1, 3, 1, false, false},
		// No trigram is ever rare: the sort-ordered copy walked.
		{"SortedCopy", 2, 1, dl, ds, true, false},
	}
	for _, q := range []authdash.TaskQuery{
		{Sort: authdash.SortCreated, Order: authdash.Desc, Limit: 9},
		{Sort: authdash.SortCreated, Order: authdash.Asc, Limit: 4},
		{Sort: authdash.SortCreated, Order: authdash.Desc, Limit: 3, Status: authdash.StatusTodo},
		{Sort: authdash.SortTitle, Order: authdash.Desc, Limit: 9},
		{Sort: authdash.SortUpdated, Order: authdash.Asc, Limit: 5},
		{Sort: authdash.SortUpdated, Order: authdash.Desc, Limit: 4, Status: authdash.StatusTodo},
		{Sort: authdash.SortDue, Order: authdash.Desc, Limit: 4},
		{Sort: authdash.SortDue, Order: authdash.Asc, Limit: 7, Priority: authdash.PriorityHigh},
		{Sort: authdash.SortPriority, Order: authdash.Desc, Limit: 6},
		{Sort: authdash.SortPriority, Order: authdash.Asc, Limit: 3},
	} {
		all := allPages(t, db, owner, q)
		for _, term := range terms {
			lower := strings.ToLower(term)
			var want []authdash.TaskID
			for _, task := range all {
				if strings.Contains(strings.ToLower(task.Title), lower) || strings.Contains(strings.ToLower(task.Description), lower) {
					want = append(want, task.ID)
				}
			}
			for _, c := range configs {
				t.Run(fmt.Sprintf("%s.%s.%s/%s/%q", q.Sort, q.Order, q.Status, c.name, term), func(t *testing.T) {
					db.searchWindow, db.gramCap, db.walkLimit, db.sortLimit, db.sortCopies = c.window, c.gram, c.walk, c.sort, c.copies
					db.longReady.Store(c.long)
					qs := q
					qs.Search = term
					var got []authdash.TaskID
					for _, task := range allPages(t, db, owner, qs) {
						got = append(got, task.ID)
					}
					if !slices.Equal(got, want) {
						t.Errorf("got %d tasks %v\nwant %d %v", len(got), got, len(want), want)
					}
				})
			}
		}
	}
}

// buildSorts places every task in the sort-ordered copies of the search
// index, as the builder does in the background, and marks them ready.
func buildSorts(t testing.TB, db *DB) {
	t.Helper()
	for {
		n, err := db.buildStep(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			db.sortsReady.Store(true)
			return
		}
	}
}

// openTemp opens a database with opts in a fresh temp dir, closed at
// cleanup.
func openTemp(t *testing.T, opts ...Option) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustUser(t *testing.T, db *DB, email string) authdash.UserID {
	t.Helper()
	u, err := db.CreateUser(context.Background(), authdash.NewUser{Email: email, Name: "U", PasswordHash: "h"})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// allPages follows the cursor to the last page.
func allPages(t *testing.T, db *DB, owner authdash.UserID, q authdash.TaskQuery) []authdash.Task {
	t.Helper()
	q.Normalize()
	var out []authdash.Task
	for {
		page, err := db.FindTasks(context.Background(), owner, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		if len(out) > 1000 {
			t.Fatal("paging does not end")
		}
		q.Cursor = page.NextCursor
	}
}

// TestMigrateSearchIndex opens a database made before migration 3 and finds
// its tasks through the new index.
func TestMigrateSearchIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:2] {
		if _, err := old.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	owner := authdash.UserID(newID())
	stmts := []string{
		`PRAGMA user_version = 2`,
		`INSERT INTO users (id, email, name, password_hash, created_ms, updated_ms, version, seq) VALUES ('` + string(owner) + `', 'a@example.com', 'A', 'h', 0, 0, 1, 3)`,
	}
	for i, title := range []string{"Quarterly Zeppelin", "budget", "zeppelin notes"} {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO tasks (id, owner_id, owner_key, title, description, status, priority, priority_rank,
			due_sort, title_key, desc_key, tags, created_ms, updated_ms, version, seq)
			VALUES ('%s', '%s', 'k', '%s', '', 'todo', 'low', 0, 0, '%s', '', '[]', %d, %d, 1, %d)`,
			newID(), owner, title, strings.ToLower(title), i, i, i+1))
	}
	for _, s := range stmts {
		if _, err := old.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.searchWindow = 1
	page, err := db.FindTasks(ctx, owner, authdash.TaskQuery{Search: "zeppelin", Sort: authdash.SortCreated, Order: authdash.Asc, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, task := range page.Items {
		titles = append(titles, task.Title)
	}
	if want := []string{"Quarterly Zeppelin", "zeppelin notes"}; !slices.Equal(titles, want) {
		t.Errorf("after migration: %q, want %q", titles, want)
	}
	// Writes after the migration keep the index: the trigger calls the
	// function on the new schema.
	if _, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: "Zeppelin three", Status: authdash.StatusTodo, Priority: authdash.PriorityLow}); err != nil {
		t.Fatal(err)
	}
	page, err = db.FindTasks(ctx, owner, authdash.TaskQuery{Search: "zeppelin", Sort: authdash.SortCreated, Order: authdash.Asc, Limit: 10})
	if err != nil || len(page.Items) != 3 {
		t.Errorf("after a write: %d items, %v", len(page.Items), err)
	}
}

// TestCompactSearchIndex checks that the compactor merges the segments
// small commits leave down to one, and that searches find the same tasks
// before and after.
func TestCompactSearchIndex(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	owner := mustUser(t, db, "owner@example.com")
	for i := range 120 {
		// One at a time: each commit adds a segment.
		title := fmt.Sprintf("task %d %s", i, []string{"alpha", "budget", "zeppelin"}[i%3])
		if _, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: title, Status: authdash.StatusTodo, Priority: authdash.PriorityLow}); err != nil {
			t.Fatal(err)
		}
	}
	segments := func() int {
		var n int
		if err := db.r.QueryRow(`SELECT count(DISTINCT segid) FROM task_grams_idx`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	db.searchWindow = 1
	q := authdash.TaskQuery{Search: "zeppelin", Sort: authdash.SortTitle, Order: authdash.Asc, Limit: 100}
	before := allPages(t, db, owner, q)
	if len(before) != 40 {
		t.Fatalf("before: %d tasks, want 40", len(before))
	}
	n := segments()
	if n < 3 {
		t.Fatalf("only %d segments before compacting: the test shows nothing", n)
	}
	// The compactor runs on its own; wait for it rather than call it.
	deadline := time.Now().Add(4 * compactInterval)
	for segments() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d segments after %v (was %d)", segments(), 4*compactInterval, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	after := allPages(t, db, owner, q)
	if !slices.EqualFunc(before, after, func(a, b authdash.Task) bool { return a.ID == b.ID }) {
		t.Errorf("after compacting: %d tasks, want the %d found before", len(after), len(before))
	}
	if did, err := db.compactStep(ctx); err != nil || did {
		t.Errorf("a step on a compact index: did %v, err %v", did, err)
	}
}

// TestRidsFollowCreation checks that rid order is creation order however
// the clock moves between writes (back, before 1970, past 2248), through
// restores, and after migration 11 renumbered a database whose rids were
// in insertion order; and that a search in creation order pages through
// exactly the matches, walking the index.
func TestRidsFollowCreation(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "test.db")
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	times := []time.Time{time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}
	for range 20 {
		times = append(times, base.Add(time.Duration(rng.IntN(5))*time.Millisecond))
	}
	var now time.Time
	db, err := Open(ctx, path, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	owner := mustUser(t, db, "owner@example.com")
	words := []string{"alpha", "Straße", "ÉCOLE", "beta"}
	for i := range 120 {
		now = times[rng.IntN(len(times))]
		task, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{
			Title: words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))], Status: authdash.StatusTodo, Priority: authdash.PriorityLow})
		if err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			if _, err := db.DeleteTask(ctx, owner, task.ID, 0); err != nil {
				t.Fatal(err)
			}
			if i%14 == 0 {
				if _, _, err := db.RestoreTask(ctx, owner, task.ID, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	check := func(stage string) {
		t.Helper()
		var wrong int
		err := db.r.QueryRow(`SELECT count(*) FROM tasks a JOIN tasks b ON a.rid < b.rid
			WHERE min(max(a.created_ms, 0), ?) > min(max(b.created_ms, 0), ?)`, maxRidMs, maxRidMs).Scan(&wrong)
		if err != nil || wrong != 0 {
			t.Fatalf("%s: %d pairs of tasks with rids out of creation order (%v)", stage, wrong, err)
		}
		for _, order := range []authdash.Order{authdash.Desc, authdash.Asc} {
			q := authdash.TaskQuery{Sort: authdash.SortCreated, Order: order, Limit: 4}
			all := allPages(t, db, owner, q)
			for _, term := range []string{"alpha", "straße", "école", "ha st", "lph"} {
				var want, got []authdash.TaskID
				for _, task := range all {
					if strings.Contains(strings.ToLower(task.Title), term) {
						want = append(want, task.ID)
					}
				}
				qs := q
				qs.Search = term
				for _, task := range allPages(t, db, owner, qs) {
					got = append(got, task.ID)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: %s %q: got %v\nwant %v", stage, order, term, got, want)
				}
			}
		}
	}
	check("written")

	// A database of before migration 11, its rids out of creation order.
	if _, err := db.w.Exec(`UPDATE tasks SET rid = (1 << 62) - rid`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec(`PRAGMA user_version = 10`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check("migrated")
}

// TestCompactorGivesWay checks that the compactor takes no merge step while
// another write waits for the writer: a step shares the writer with every
// write, so a burst that began after a quiet tick used to queue behind up
// to compactSteps of them.
func TestCompactorGivesWay(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	owner := mustUser(t, db, "owner@example.com")
	for i := range 20 {
		if _, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: fmt.Sprintf("task %d", i), Status: authdash.StatusTodo, Priority: authdash.PriorityLow}); err != nil {
			t.Fatal(err)
		}
	}
	// Hold the writer, and queue a create behind it.
	held, release := make(chan struct{}), make(chan struct{})
	go db.write(ctx, func(*wtx) error { close(held); <-release; return nil })
	<-held
	created := make(chan error, 1)
	go func() {
		_, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: "queued", Status: authdash.StatusTodo, Priority: authdash.PriorityLow})
		created <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for db.waiting.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the create never queued for the writer")
		}
		time.Sleep(time.Millisecond)
	}
	ran := make(chan bool, 1)
	go func() { ran <- db.compactRun(ctx) }()
	select {
	case merged := <-ran:
		if merged {
			t.Error("compactRun reported the index merged without looking")
		}
	case <-time.After(5 * time.Second):
		t.Error("compactRun queued a merge step behind the waiting create instead of giving way")
	}
	close(release)
	if err := <-created; err != nil {
		t.Fatal(err)
	}
}

// TestSearchWay checks the plan chosen for each weighing of a term's
// trigrams in each order. A term none of whose trigrams is rare but whose
// trigrams few tasks hold together (ref00012 in a grown account) is read
// and sorted in creation order too: walking the intersection newest first
// made FTS5 parse every leaf page of every trigram's list (issue 16).
func TestSearchWay(t *testing.T) {
	db := openTemp(t)
	const few, many = defaultGramCap - 1, defaultGramCap
	for _, c := range []struct {
		name  string
		sort  authdash.TaskSort
		rare  bool
		all   int
		ready bool
		want  searchWay
	}{
		{"RareCreated", authdash.SortCreated, true, -1, true, walkRare},
		{"RareUpdated", authdash.SortUpdated, true, -1, true, sortRare},
		{"RareTitle", authdash.SortTitle, true, -1, false, sortRare},
		{"FewTogetherCreated", authdash.SortCreated, false, few, true, sortAll},
		{"NoneTogetherCreated", authdash.SortCreated, false, 0, true, sortAll},
		{"FewTogetherDue", authdash.SortDue, false, few, true, sortAll},
		{"ManyCreated", authdash.SortCreated, false, many, true, walkAll},
		{"ManyCreatedCopiesBuilding", authdash.SortCreated, false, many, false, walkAll},
		{"ManyPriority", authdash.SortPriority, false, many, true, walkAll},
		{"ManyPriorityCopiesBuilding", authdash.SortPriority, false, many, false, walkInOrder},
		{"ManyTitle", authdash.SortTitle, false, many, true, walkInOrder},
	} {
		t.Run(c.name, func(t *testing.T) {
			db.sortsReady.Store(c.ready)
			if got := db.searchWay(c.sort, c.rare, c.all); got != c.want {
				t.Errorf("searchWay(%s, rare %v, all %d) = %d, want %d", c.sort, c.rare, c.all, got, c.want)
			}
		})
	}
}
