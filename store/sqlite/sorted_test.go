package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

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
	keys := []int64{-1 << 63, -5, 0, 1, 2, 1735689600000, 1<<42 - 2, 1<<42 - 1, 1 << 42, 1 << 50, authdash.NoDue - 1, authdash.NoDue}
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
