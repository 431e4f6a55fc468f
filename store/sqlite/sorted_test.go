package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// TestSortBucketsFollowOrder checks that a bucket never decreases along an
// order, for the IDs newID makes and for any string a cursor may carry.
func TestSortBucketsFollowOrder(t *testing.T) {
	ids := []authdash.TaskID{"", "/", "0", "00", "0000000", "00000000", "000000000", "0000000f", "0000000g",
		"09", "09zz", "0:", "0:00", "0A", "0`", "0a", "0f", "0ff", "0g", "0gg", "0z", "1", "65a1b2c3", "65a1b2c3ffff",
		"65a1b2c4", "9", "9~", ":", "A", "a", "f", "ffffffff", "fffffffff", "g", "z", "~", "\xff"}
	for range 200 {
		ids = append(ids, authdash.TaskID(newID()))
	}
	slices.Sort(ids)
	keys := []int64{-1 << 63, -5, 0, 1, 2, 5, 6, 7, 8, 255, 256, 1735689600000, 1<<42 - 2, 1<<42 - 1, 1 << 42, 1 << 50, authdash.NoDue - 1, authdash.NoDue}
	for _, s := range []authdash.TaskSort{authdash.SortCreated, authdash.SortUpdated, authdash.SortDue, authdash.SortPriority} {
		t.Run(string(s), func(t *testing.T) {
			var prev int64 = -1
			var prevPos string
			for _, k := range keys {
				for _, id := range ids {
					b := sortBucket(s, k, id)
					pos := fmt.Sprintf("(%d, %q)", k, id)
					if b < prev {
						t.Fatalf("bucket of %s = %d, below %d of %s before it", pos, b, prev, prevPos)
					}
					if b < 0 || b >= 1<<43 {
						t.Fatalf("bucket of %s = %d, outside [0, 2^43)", pos, b)
					}
					prev, prevPos = b, pos
				}
			}
		})
	}
}

// TestSortBucketsSplitASecond checks that the tasks made throughout one
// second (a thousand, a millisecond apart) do not share a bucket in the
// orders whose key many tasks share (undated, one priority): a walk reads
// the whole bucket of a page's last task, so one bucket per second made a
// common term's search read hundreds of tasks in an account filled by an
// import.
func TestSortBucketsSplitASecond(t *testing.T) {
	const n = 1000
	ids := make([]authdash.TaskID, n)
	start := time.Unix(1_800_000_000, 0)
	for i := range ids {
		ids[i] = authdash.TaskID(newIDAt(start.Add(time.Duration(i) * time.Second / n)))
	}
	for _, c := range []struct {
		sort authdash.TaskSort
		key  int64
	}{
		{authdash.SortDue, authdash.NoDue},
		{authdash.SortPriority, int64(authdash.PriorityMedium.Rank())},
	} {
		buckets := map[int64]int{}
		for _, id := range ids {
			buckets[sortBucket(c.sort, c.key, id)]++
		}
		largest := 0
		for _, k := range buckets {
			largest = max(largest, k)
		}
		// 256 buckets of ~4 tasks each; 20 is far into the tail of that.
		if largest > 20 {
			t.Errorf("%s: %d of %d tasks made in one second share a bucket (%d buckets)", c.sort, largest, n, len(buckets))
		}
	}
}

// TestMigrationReplacesSortedCopies opens a database whose due and priority
// copies of the search index were placed under other buckets (as those of
// before migration 15 were) and checks that every task ends up in its
// bucket under sortBucket and every match is found through the copies.
func TestMigrationReplacesSortedCopies(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	owner := mustUser(t, db, "owner@example.com")
	for i := range 120 {
		if _, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: fmt.Sprintf("task %d %s", i, []string{"alpha", "beta"}[i%2]),
			Status: authdash.StatusTodo, Priority: authdash.TaskPriorities[i%3]}); err != nil {
			t.Fatal(err)
		}
	}
	buildSorts(t, db)
	// Move every task's entries to other rowids, all in bucket 1, as a
	// different bucket function would have placed them.
	err = db.write(ctx, func(tx *wtx) error {
		for _, ix := range []sortIndex{{"task_grams_due", "drid"}, {"task_grams_priority", "prid"}} {
			if _, err := tx.exec(`INSERT INTO ` + ix.table + ` (` + ix.table + `) VALUES ('delete-all')`); err != nil {
				return err
			}
			if _, err := tx.exec(`UPDATE tasks SET `+ix.col+` = (1 << ?) + rid % 1000000`, ridShift); err != nil {
				return err
			}
			if _, err := tx.exec(`INSERT INTO ` + ix.table + ` (rowid, grams) SELECT ` + ix.col + `, 'x' FROM tasks`); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec(`PRAGMA user_version = 14`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	buildSorts(t, db)
	rows, err := db.r.Query(`SELECT id, due_sort, priority_rank, drid, prid FROM tasks`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var due, rank int64
		var drid, prid sql.NullInt64
		if err := rows.Scan(&id, &due, &rank, &drid, &prid); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			sort authdash.TaskSort
			key  int64
			at   sql.NullInt64
		}{{authdash.SortDue, due, drid}, {authdash.SortPriority, rank, prid}} {
			if want := sortBucket(c.sort, c.key, authdash.TaskID(id)); !c.at.Valid || c.at.Int64>>ridShift != want {
				t.Errorf("task %s in %s copy at %v, want bucket %d", id, c.sort, c.at, want)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	db.gramCap = 1 // no trigram rare: every search walks a copy
	for _, s := range []authdash.TaskSort{authdash.SortDue, authdash.SortPriority} {
		q := authdash.TaskQuery{Sort: s, Search: "alpha", Limit: 7}
		if got := allPages(t, db, owner, q); len(got) != 60 {
			t.Errorf("%s: found %d of 60 matches", s, len(got))
		}
	}
}

// TestBuildSortedCopies takes the sort-ordered copies of the search index
// back to where migration 13 leaves a database that has tasks (empty, every
// task unplaced), has the builder place them while writes go on, and
// finds every match through them.
func TestBuildSortedCopies(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	owner := mustUser(t, db, "owner@example.com")
	var ids []authdash.TaskID
	for i := range 300 {
		task, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: fmt.Sprintf("task %d %s", i, []string{"alpha", "beta"}[i%2]),
			Status: authdash.StatusTodo, Priority: authdash.TaskPriorities[i%3]})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, task.ID)
	}
	err := db.write(ctx, func(tx *wtx) error {
		for _, q := range []string{
			`UPDATE tasks SET urid = NULL, drid = NULL, prid = NULL`,
			`DELETE FROM task_grams_updated`, `DELETE FROM task_grams_due`, `DELETE FROM task_grams_priority`,
		} {
			if _, err := tx.exec(q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.sortsReady.Store(false)
	// Writes between steps: an unplaced task changed, one deleted.
	n, err := db.buildStep(ctx)
	if err != nil || n != buildBatch {
		t.Fatalf("first step placed %d (%v), want %d", n, err, buildBatch)
	}
	title := "renamed alpha"
	if _, _, err := db.UpdateTask(ctx, owner, ids[299], authdash.TaskPatch{Title: &title}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteTask(ctx, owner, ids[298], 0); err != nil {
		t.Fatal(err)
	}
	buildSorts(t, db)
	var unplaced int
	if err := db.r.QueryRow(`SELECT count(*) FROM tasks WHERE ` + lackingSort).Scan(&unplaced); err != nil || unplaced != 0 {
		t.Fatalf("%d tasks unplaced (%v)", unplaced, err)
	}
	db.gramCap = 1 // no trigram rare: every search walks a copy
	for _, s := range []authdash.TaskSort{authdash.SortUpdated, authdash.SortDue, authdash.SortPriority} {
		for _, o := range []authdash.Order{authdash.Asc, authdash.Desc} {
			q := authdash.TaskQuery{Sort: s, Order: o, Limit: 7}
			var want []authdash.TaskID
			for _, task := range allPages(t, db, owner, q) {
				if strings.Contains(task.Title, "alpha") {
					want = append(want, task.ID)
				}
			}
			q.Search = "ALPHA"
			var got []authdash.TaskID
			for _, task := range allPages(t, db, owner, q) {
				got = append(got, task.ID)
			}
			if len(want) != 150 || !slices.Equal(got, want) {
				t.Errorf("%s %s: got %d tasks, want %d (150)", s, o, len(got), len(want))
			}
		}
	}
}

// TestSortedCopiesDeleteAndMoveInOneBatch has one write batch delete the
// task holding a bucket's highest place and rename another of that bucket.
// The renamed task is given that place; it used to be given it before the
// deleted task's entry was taken out, so taking it out took out the
// renamed task's new entry, and the renamed task was never found again in
// that order (TestSearchPaths failed now and then once buckets got small).
func TestSortedCopiesDeleteAndMoveInOneBatch(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	owner := mustUser(t, db, "owner@example.com")
	// Two undated tasks of one priority whose IDs share the bucket prefix,
	// the second placed after the first in every copy that buckets by ID.
	id := newID()
	a, b := authdash.TaskID(id[:10]+"00000000000000"), authdash.TaskID(id[:10]+"ffffffffffffff")
	at := authdash.Millis(time.Now())
	err := db.write(ctx, func(tx *wtx) error {
		for i, tid := range []authdash.TaskID{a, b} {
			task := &authdash.Task{ID: tid, Title: "quokka " + string(tid), Status: authdash.StatusTodo, Priority: authdash.PriorityLow,
				Tags: []string{}, CreatedAt: at, UpdatedAt: at, Version: 1}
			if err := insertTaskRow(tx, owner, task, int64(i+1)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	buildSorts(t, db)
	// One batch: b deleted, then a renamed (its text changes, so its
	// entries move to new places).
	err = db.write(ctx, func(tx *wtx) error {
		if _, err := tx.exec(`DELETE FROM tasks WHERE id = ?`, b); err != nil {
			return err
		}
		_, err := tx.exec(`UPDATE tasks SET title = 'quokka renamed', title_key = 'quokka renamed' WHERE id = ?`, a)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.gramCap = 1 // no trigram rare: every search walks a copy
	for _, s := range []authdash.TaskSort{authdash.SortUpdated, authdash.SortDue, authdash.SortPriority} {
		got := allPages(t, db, owner, authdash.TaskQuery{Sort: s, Search: "quokka"})
		if len(got) != 1 || got[0].ID != a {
			t.Errorf("%s: search found %v, want only %s", s, got, a)
		}
	}
}

// TestOneSegmentPerCommit checks that a commit of many writes adds at most
// one segment to each FTS5 table of the search index. Writing the sorted
// copies task by task added one segment per task whose rowid fell below
// the one written before (a dozen creates of mixed priorities, or any two
// updates), and FTS5 merges a level's segments inside the commit that
// brings them to sixteen: the long commits behind the write tails of
// issue 16. The writes of each case share one transaction, as a batch of
// the group commit does.
func TestOneSegmentPerCommit(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	owner := mustUser(t, db, "owner@example.com")
	buildSorts(t, db)
	tables := []string{"task_grams", "task_grams_updated", "task_grams_due", "task_grams_priority"}
	segments := func() map[string]int {
		m := map[string]int{}
		for _, tb := range tables {
			var n int
			if err := db.r.QueryRow(`SELECT count(DISTINCT segid) FROM ` + tb + `_idx`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			m[tb] = n
		}
		return m
	}
	const n = 12
	base := db.now()
	var ids []authdash.TaskID
	tests := []struct {
		name  string
		write func(tx *wtx) error
	}{
		{"Creates", func(tx *wtx) error {
			ids = ids[:0]
			for i := range n {
				at := base.Add(time.Duration(i) * time.Millisecond)
				task := &authdash.Task{ID: authdash.TaskID(newID()), Title: fmt.Sprintf("zeppelin %d", i),
					Status:   authdash.StatusTodo,
					Priority: []authdash.TaskPriority{authdash.PriorityHigh, authdash.PriorityLow, authdash.PriorityMedium}[i%3],
					Tags:     []string{}, CreatedAt: at, UpdatedAt: at, Version: 1}
				if i%2 == 0 {
					due := authdash.Millis(base.Add(time.Duration(n-i) * time.Hour))
					task.DueDate = &due
				}
				seq, err := nextSeq(tx, owner)
				if err != nil {
					return err
				}
				if err := insertTaskRow(tx, owner, task, seq); err != nil {
					return err
				}
				ids = append(ids, task.ID)
			}
			return nil
		}},
		{"Updates", func(tx *wtx) error {
			for i, id := range ids {
				// Each moves in the updated copy only.
				if _, err := tx.exec(`UPDATE tasks SET updated_ms = ?, status = 'done' WHERE id = ?`,
					base.Add(time.Hour+time.Duration(i)*time.Millisecond).UnixMilli(), id); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := segments()
			if err := db.write(ctx, tc.write); err != nil {
				t.Fatal(err)
			}
			after := segments()
			for _, tb := range tables {
				if after[tb] > before[tb]+1 {
					t.Errorf("%s: %d segments after one commit, %d before", tb, after[tb], before[tb])
				}
			}
			for _, s := range []authdash.TaskSort{authdash.SortCreated, authdash.SortUpdated, authdash.SortDue, authdash.SortPriority} {
				got := allPages(t, db, owner, authdash.TaskQuery{Search: "zeppelin", Sort: s, Order: authdash.Desc, Limit: 5})
				if len(got) != n {
					t.Errorf("search sorted by %s: %d tasks, want %d", s, len(got), n)
				}
			}
		})
	}
}

// TestCreatesIndexedByWhatTheyBring checks that a create costs the writer
// goroutine no more than it must: the insert gives the task its places in
// the sort-ordered copies (indexSorts wrote every new row a second time
// to record them), and its index text comes worked out by the caller. An
// update of the text, whose caller cannot know the whole text, is worked
// out by the writer, and a moved task is written again; both are counted
// so that the test can fail.
func TestCreatesIndexedByWhatTheyBring(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	owner := mustUser(t, db, "owner@example.com")
	// Temporary objects live on the connection that made them: the
	// writer's only one.
	err := db.write(ctx, func(tx *wtx) error {
		for _, q := range []string{
			`CREATE TEMP TABLE rewrites (n INTEGER NOT NULL)`,
			`INSERT INTO rewrites VALUES (0)`,
			`CREATE TEMP TRIGGER count_rewrites AFTER UPDATE OF urid, drid, prid ON main.tasks BEGIN
				UPDATE rewrites SET n = n + 1;
			END`,
		} {
			if _, err := tx.exec(q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rewrites := func() int {
		var n int
		if err := db.write(ctx, func(tx *wtx) error { return tx.queryRow(`SELECT n FROM rewrites`).Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	missed := func() int64 {
		db.texts.mu.Lock()
		defer db.texts.mu.Unlock()
		return db.texts.missed
	}
	// Concurrent creates share transactions, several to a bucket.
	const n = 40
	ids := make([]authdash.TaskID, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			task, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: fmt.Sprintf("wombat %d", i),
				Status: authdash.StatusTodo, Priority: authdash.TaskPriorities[i%3]})
			if err == nil {
				ids[i] = task.ID
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if r, m := rewrites(), missed(); r != 0 || m != 0 {
		t.Errorf("%d creates: rows written again %d times, texts worked out by the writer %d times; want 0 and 0", n, r, m)
	}
	title := "renamed wombat"
	if _, _, err := db.UpdateTask(ctx, owner, ids[0], authdash.TaskPatch{Title: &title}, 0); err != nil {
		t.Fatal(err)
	}
	// The writer splits the new text once, for the copies and task_grams.
	if r, m := rewrites(), missed(); r != 1 || m != 1 {
		t.Errorf("a rename: rows written again %d times, texts worked out %d times; want 1 and 1", r, m)
	}
	// Every create is where its row says, in every copy, and found there.
	for _, s := range indexedSorts() {
		ix, _ := sortIndexOf(s)
		var lacking int
		q := `SELECT count(*) FROM tasks t WHERE t.` + ix.col + ` IS NULL OR NOT EXISTS
			(SELECT 1 FROM ` + ix.table + `_docsize d WHERE d.id = t.` + ix.col + `)`
		if err := db.r.QueryRow(q).Scan(&lacking); err != nil || lacking != 0 {
			t.Errorf("%s: %d tasks without their entry (%v)", ix.table, lacking, err)
		}
		db.gramCap = 1 // no trigram rare: the search walks the copy
		got := allPages(t, db, owner, authdash.TaskQuery{Sort: s, Order: authdash.Desc, Limit: 7, Search: "WOMBAT"})
		if len(got) != n {
			t.Errorf("%s: a search found %d of %d tasks", s, len(got), n)
		}
	}
}

// TestBatchAsksEachBucketOnce checks that the creates of one transaction
// ask the tasks' index for the next place in a bucket once, not once each
// (txShared: a batch's creates share buckets, a priority or the 4 ms they
// were made in), and still each get a place of its own in its bucket.
// Before, 30 creates asked 90 times.
func TestBatchAsksEachBucketOnce(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, noCompactor())
	owner := mustUser(t, db, "owner@example.com")
	// A write that holds the writer until every create is queued, so that
	// they all go into the next transaction.
	started, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- db.write(ctx, func(*wtx) error { close(started); <-release; return nil })
	}()
	<-started
	const n = 30
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: fmt.Sprintf("quokka %d", i),
				Status: authdash.StatusTodo, Priority: authdash.TaskPriorities[i%3]})
			errs <- err
		}()
	}
	for db.waiting.Load() < n {
		time.Sleep(time.Millisecond)
	}
	before := db.placesAsked.Load()
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Three copies; the priority and undated buckets hold many of the
	// creates, the updated ones (a millisecond each) a few.
	if asked := db.placesAsked.Load() - before; asked >= 2*n {
		t.Errorf("%d creates in one transaction asked for places %d times; want fewer than %d", n, asked, 2*n)
	}
	for _, s := range indexedSorts() {
		ix, _ := sortIndexOf(s)
		var tasks, places, found int
		q := `SELECT count(*), count(DISTINCT t.` + ix.col + `),
			count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ` + ix.table + `_docsize d WHERE d.id = t.` + ix.col + `))
			FROM tasks t`
		if err := db.r.QueryRow(q).Scan(&tasks, &places, &found); err != nil {
			t.Fatal(err)
		}
		if tasks != n || places != n || found != n {
			t.Errorf("%s: %d tasks, %d distinct places, %d of them in %s; want %d each", s, tasks, places, found, ix.table, n)
		}
	}
	// And each is found there.
	for _, s := range indexedSorts() {
		if got := allPages(t, db, owner, authdash.TaskQuery{Sort: s, Search: "quokka"}); len(got) != n {
			t.Errorf("a search in %s order found %d of %d", s, len(got), n)
		}
	}
}
