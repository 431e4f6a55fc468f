package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/authdash/authdash"
)

// A search in creation order walks the search index's posting lists, which
// are in rid order and so in page order (walkGrams). Ordered by updated,
// due or priority, a common term's matches may all lie behind any number
// of tasks without it (an old term in an account that grew since), and
// neither walking the sort's index (every task in front) nor sorting the
// candidates (every task holding the term) is bounded by the page. So each
// of these orders has a copy of the search index (migration 13) whose
// rowids follow that order as rid follows creation: a task's rowid lies in
// its bucket's range [bucket<<ridShift, +ridSpan), the bucket a 43-bit
// number that never decreases along the order (sortBucket). Walking such an
// index in rowid order reads the tasks holding the term's trigrams in page
// order, bucket by bucket, and stops one bucket after the page is full,
// whatever lies in front.
//
// A task's rowid in each copy is kept in its row (urid, drid, prid), so a
// change can take the old one out; the writer indexes the tasks the
// triggers noted just before every commit (indexSorts), as for task_grams.

// sortIndex is the copy of the search index for one sort order.
type sortIndex struct {
	table string // the FTS5 table
	col   string // the tasks column holding a task's rowid in it
}

// sortIndexOf returns the copy of the search index that follows order s.
// Creation order is task_grams itself; title order has none (a title's
// first bytes are shared too widely to make a bucket of).
func sortIndexOf(s authdash.TaskSort) (sortIndex, bool) {
	switch s {
	case authdash.SortCreated:
		return sortIndex{"task_grams", "rid"}, true
	case authdash.SortUpdated:
		return sortIndex{"task_grams_updated", "urid"}, true
	case authdash.SortDue:
		return sortIndex{"task_grams_due", "drid"}, true
	case authdash.SortPriority:
		return sortIndex{"task_grams_priority", "prid"}, true
	}
	return sortIndex{}, false
}

// indexedSorts are the orders with a copy of the search index kept by
// indexSorts, in the order of task_sorts_dirty's columns.
func indexedSorts() [3]authdash.TaskSort {
	return [3]authdash.TaskSort{authdash.SortUpdated, authdash.SortDue, authdash.SortPriority}
}

// ridShift is log2(ridSpan): a bucket's range starts at bucket<<ridShift.
const ridShift = 20

// sortBucket returns the bucket of the position (key, id) in order s, where
// key is the order's integer sort key (authdash.SortKey's Int). Buckets
// never decrease along the order: (key, id) ≤ (key', id') gives
// sortBucket(key, id) ≤ sortBucket(key', id'). Undated tasks, which all
// share one due key, and each priority are split by the first 40 bits of
// the ID (its creation second and the 256th part of it, about 4 ms; before
// 2026-12-06 a random byte): a walk reads the whole
// bucket of a page's last task, so a bucket must hold few tasks even when
// thousands were made in one second (an import, or the benchmark's seeding,
// which put ~500 matches of a common term in one bucket of the second alone
// and made such a search cost three times the others).
func sortBucket(s authdash.TaskSort, key int64, id authdash.TaskID) int64 {
	switch s {
	case authdash.SortDue:
		if key == authdash.NoDue {
			return 1<<42 | int64(idPrefix(id))
		}
		return min(max(key, 0), 1<<42-1)
	case authdash.SortPriority:
		// Keys outside the ranks only come from cursors: one bucket
		// below or above them all, whatever the ID.
		if key < 0 {
			return 0
		}
		if key > maxRankBucket {
			return (maxRankBucket+1)<<idBits - 1
		}
		return key<<idBits | int64(idPrefix(id))
	default: // created, updated: milliseconds, as ridMs
		return ridMs(key)
	}
}

// idBits is how many bits of an ID a bucket takes (idPrefix), and
// maxRankBucket the highest priority rank with buckets of its own, so that
// a priority bucket stays below 2^43 (sortBucket).
const (
	idBits        = 40
	maxRankBucket = 6
)

// idPrefix maps an ID to idBits bits without ever reversing byte order: for
// the IDs newID makes (lowercase hex) it is their first 10 hex digits, the
// creation second and its 256th part. A byte that is no hex digit is mapped
// to the nearest digit below or above and ends the number (the rest filled
// with 0 or f alike for every ID that shares it), so that any string, a
// cursor's too, gets a bucket no greater than those of the strings after it.
func idPrefix(id authdash.TaskID) uint64 {
	var v uint64
	fill, done := uint64(0), false
	for i := range idBits / 4 {
		var d uint64
		switch {
		case done:
			d = fill
		case i >= len(id): // a shorter string sorts first
			d, fill, done = 0, 0, true
		default:
			c := id[i]
			switch {
			case c >= '0' && c <= '9':
				d = uint64(c - '0')
			case c >= 'a' && c <= 'f':
				d = uint64(c-'a') + 10
			case c < '0':
				d, fill, done = 0, 0, true
			case c < 'a':
				d, fill, done = 9, 15, true
			default:
				d, fill, done = 15, 15, true
			}
		}
		v = v<<4 | d
	}
	return v
}

// taskBucket is the bucket of t in order s.
func taskBucket(t *authdash.Task, s authdash.TaskSort) int64 {
	return sortBucket(s, authdash.SortKey(*t, s, authdash.Asc).Int, t.ID)
}

// comparePositions orders tasks by (key, id) in order s, ascending.
func comparePositions(a, b *authdash.Task, s authdash.TaskSort) int {
	ka, kb := authdash.SortKey(*a, s, authdash.Asc), authdash.SortKey(*b, s, authdash.Asc)
	return cmp.Or(cmp.Compare(ka.Int, kb.Int), cmp.Compare(ka.ID, kb.ID))
}

// indexSorts brings the sort-ordered copies of the search index up to date
// with the tasks the triggers noted in task_sorts_dirty, keeping a task's
// entry where neither its text nor its bucket changed (a status change
// moves only its updated entry). Call before indexDirty, which forgets
// which tasks' text changed. A task whose bucket is full (ridSpan tasks of
// all owners) is left unplaced (NULL) in that copy, and the copies are not
// used until the builder has placed it.
//
// The places are chosen task by task, but each copy is written in two
// runs, its deletes and then its inserts, each in ascending rowid order:
// FTS5 writes its pending inserts out as a new segment whenever a write
// names a rowid below the one before, so writing task by task made a
// commit of n tasks add up to n segments to the due and priority copies
// (and to the updated copy for n updates), and at sixteen segments on a
// level FTS5 merges them inside the commit that makes the sixteenth: long
// commits behind the create and update tails of issue 16
// (TestOneSegmentPerCommit).
func indexSorts(tx *wtx) error {
	type dirty struct {
		rid int64
		// old is the task's place in each copy before the transaction,
		// cur in its row now: a create placed it (insertTaskRow).
		old, cur [3]sql.NullInt64
		exists   bool
		text     bool
		task     authdash.Task
		owner    string
		tk, dk   string
		keys     [3]int64
		// Where the task goes in each copy: at, and if place is set, a
		// new place in bucket.
		at     [3]any
		place  [3]bool
		bucket [3]int64
	}
	rows, err := tx.query(`SELECT d.rid, d.urid, d.drid, d.prid, t.urid, t.drid, t.prid, t.rid IS NOT NULL,
		EXISTS (SELECT 1 FROM task_grams_dirty g WHERE g.rid = d.rid),
		ifnull(t.id, ''), ifnull(t.owner_id, ''), ifnull(t.title_key, ''), ifnull(t.desc_key, ''),
		ifnull(t.updated_ms, 0), ifnull(t.due_sort, 0), ifnull(t.priority_rank, 0)
		FROM task_sorts_dirty d LEFT JOIN tasks t ON t.rid = d.rid`)
	if err != nil {
		return fmt.Errorf("index sorts: %w", err)
	}
	var ds []dirty
	for rows.Next() {
		var d dirty
		var id string
		if err := rows.Scan(&d.rid, &d.old[0], &d.old[1], &d.old[2], &d.cur[0], &d.cur[1], &d.cur[2], &d.exists, &d.text,
			&id, &d.owner, &d.tk, &d.dk, &d.keys[0], &d.keys[1], &d.keys[2]); err != nil {
			rows.Close()
			return fmt.Errorf("index sorts: %w", err)
		}
		d.task.ID = authdash.TaskID(id)
		ds = append(ds, d)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("index sorts: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("index sorts: %w", err)
	}
	if len(ds) == 0 {
		return nil
	}
	// First take out every entry that moves or goes, then place the new
	// ones: a place is the bucket's highest rowid among the tasks plus
	// one, so an entry of a task deleted in this batch (its row already
	// gone from tasks) must be out of the copy before another task of
	// its bucket can be given its rowid. Placed the other way round, the
	// deletion that came later took out the other task's new entry, and
	// that task could no longer be found in that order.
	sorts := indexedSorts()
	type entry struct {
		rowid int64
		grams string
	}
	var dels [3][]int64
	var ins [3][]entry
	for k := range ds {
		d := &ds[k]
		for i, s := range sorts {
			old := d.old[i]
			if d.exists {
				d.bucket[i] = sortBucket(s, d.keys[i], d.task.ID)
				if old.Valid && !d.text && old.Int64>>ridShift == d.bucket[i] {
					d.at[i] = old.Int64
					continue
				}
				d.place[i] = true
				if cur := d.cur[i]; cur.Valid && cur != old && cur.Int64>>ridShift == d.bucket[i] {
					// Placed by the insert: its entry goes there.
					d.at[i] = cur.Int64
				}
			}
			if old.Valid {
				dels[i] = append(dels[i], old.Int64)
			}
		}
	}
	for i, s := range sorts {
		ix, _ := sortIndexOf(s)
		slices.Sort(dels[i])
		for _, r := range dels[i] {
			if _, err := tx.exec(`DELETE FROM `+ix.table+` WHERE rowid = ?`, r); err != nil {
				return fmt.Errorf("index sorts: %w", err)
			}
		}
	}
	for k := range ds {
		d := &ds[k]
		if !d.exists {
			continue
		}
		var grams string
		moved := false
		for i, s := range sorts {
			if !d.place[i] {
				continue
			}
			if d.at[i] == nil {
				ix, _ := sortIndexOf(s)
				r, err := placeIn(tx, ix, d.bucket[i])
				if err != nil {
					return fmt.Errorf("index sorts: %w", err)
				}
				d.at[i], moved = r, true
				if r == nil {
					continue
				}
			}
			if grams == "" {
				grams = tx.db.texts.grams(d.owner, d.tk, d.dk)
			}
			ins[i] = append(ins[i], entry{d.at[i].(int64), grams})
		}
		if !moved {
			continue
		}
		if _, err := tx.exec(`UPDATE tasks SET urid = ?, drid = ?, prid = ? WHERE rid = ?`,
			d.at[0], d.at[1], d.at[2], d.rid); err != nil {
			return fmt.Errorf("index sorts: %w", err)
		}
	}
	for i, s := range sorts {
		ix, _ := sortIndexOf(s)
		slices.SortFunc(ins[i], func(a, b entry) int { return cmp.Compare(a.rowid, b.rowid) })
		for _, e := range ins[i] {
			if _, err := tx.exec(`INSERT INTO `+ix.table+` (rowid, grams) VALUES (?, ?)`, e.rowid, e.grams); err != nil {
				return fmt.Errorf("index sorts: %w", err)
			}
		}
	}
	if _, err := tx.exec(`DELETE FROM task_sorts_dirty`); err != nil {
		return fmt.Errorf("index sorts: %w", err)
	}
	return nil
}

// placeKey names a bucket of a sort-ordered copy: the tasks column that
// holds a task's place in it, and the bucket.
type placeKey struct {
	col    string
	bucket int64
}

// placeIn returns a new place in bucket of copy ix: one past the highest
// rowid of the bucket's tasks (or of the places the transaction gave in it
// already, txShared), or nil if the bucket is full (ridSpan tasks
// of all owners), when the task is left unplaced in that copy: the copies
// are not used while any task is, and the builder tries again.
func placeIn(tx *wtx, ix sortIndex, bucket int64) (any, error) {
	lo := bucket << ridShift
	k := placeKey{ix.col, bucket}
	r, ok := tx.shared.places[k]
	if !ok {
		tx.db.placesAsked.Add(1)
		if err := tx.queryRow(`SELECT ifnull(max(`+ix.col+`) + 1, ?) FROM tasks WHERE `+ix.col+` BETWEEN ? AND ?`,
			lo, lo, lo+ridSpan-1).Scan(&r); err != nil {
			return nil, err
		}
	}
	if r > lo+ridSpan-1 {
		tx.db.sortsReady.Store(false)
		return nil, nil
	}
	// The next place in the bucket is one past this one: the task's row
	// holds it before the transaction asks again, and nothing else
	// places tasks while it runs.
	if tx.shared.places == nil {
		tx.shared.places = make(map[placeKey]int64)
	}
	tx.shared.places[k] = r + 1
	return r, nil
}

// placeTask returns the places of a task about to be inserted in each
// sort-ordered copy (urid, drid, prid), chosen as indexSorts would, which
// then adds its entries there.
func placeTask(tx *wtx, t *authdash.Task) ([3]any, error) {
	var at [3]any
	for i, s := range indexedSorts() {
		ix, _ := sortIndexOf(s)
		r, err := placeIn(tx, ix, taskBucket(t, s))
		if err != nil {
			return at, err
		}
		at[i] = r
	}
	return at, nil
}

// buildBatch is how many tasks one step of the builder places: a step is a
// write of its own, so other writes queue behind one at most (about 10 ms).
const buildBatch = 64

// lackingSort is the condition of a task that some copy of the search index
// lacks (NULL): made before migration 13, or its bucket was full.
const lackingSort = `urid IS NULL OR drid IS NULL OR prid IS NULL`

// buildStep places up to buildBatch tasks that a copy of the search index
// lacks and returns how many it tried.
func (db *DB) buildStep(ctx context.Context) (int64, error) {
	var lacking bool
	row, err := db.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tasks WHERE `+lackingSort+`)`)
	if err == nil {
		err = row.Scan(&lacking)
	}
	if err != nil || !lacking {
		return 0, err
	}
	var n int64
	err = db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`INSERT OR IGNORE INTO task_sorts_dirty (rid, urid, drid, prid)
			SELECT rid, urid, drid, prid FROM tasks WHERE `+lackingSort+` LIMIT ?`, buildBatch)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return indexSorts(tx)
	})
	return n, err
}

// buildInterval is how often the builder looks again for tasks a copy of
// the search index lacks once it holds all it could place.
const buildInterval = time.Second

// builder fills the sort-ordered copies of the search index in the
// background, so that the migration adding them costs nothing at start-up
// however many tasks there are; searches use the copies only once they
// hold every task (sortsReady).
func (db *DB) builder() {
	defer db.writerWG.Done()
	ctx := context.Background()
	tick := time.NewTicker(buildInterval)
	defer tick.Stop()
	for {
		n, err := db.buildStep(ctx)
		if err == nil && n == 0 {
			db.sortsReady.Store(true)
		}
		if err == nil && n == buildBatch {
			select {
			case <-db.closing:
				return
			default:
				continue // more to place: at once
			}
		}
		select {
		case <-tick.C:
		case <-db.closing:
			return
		}
	}
}
