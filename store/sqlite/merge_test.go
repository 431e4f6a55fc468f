package sqlite

import (
	"context"
	"encoding/hex"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/authdash/authdash"
)

// without keeps background work of the store from starting, so a test
// sees only what the writes themselves do.
func without(merger, compactor bool) Option {
	return func(db *DB) { db.noMerger, db.noCompactor = merger, compactor }
}

func openWithout(t *testing.T, merger, compactor bool) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), without(merger, compactor))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// searchTables are the FTS5 tables of the search index.
var searchTables = []string{"task_grams", "task_grams_updated", "task_grams_due", "task_grams_priority"}

func segmentCounts(t *testing.T, db *DB) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, tb := range searchTables {
		var n int
		if err := db.r.QueryRow(`SELECT count(DISTINCT segid) FROM ` + tb + `_idx`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		m[tb] = n
	}
	return m
}

// TestCommitsDoNotMerge checks that a write's commit does no merging of the
// search index beyond writing its own segment, with the merger doing it in
// commits of its own or in bounded steps. FTS5 merged inside whichever
// commit was writing: its automerge in lumps of 64 pages times the number
// of levels (with four tables, one commit in fifty under sustained creates
// took 60-175 ms: the create tails of issue 16), and a level of sixteen
// segments at once (crisismerge), every fifteen commits here without the
// merger. Each create commits alone; the rows each commit changed (FTS5
// writes a page as a row) are counted on the writer's connection, less
// those of the merger's steps.
func TestCommitsDoNotMerge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		merger bool
	}{
		{"Merger", true},
		{"NoMerger", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := openWithout(t, !tc.merger, true)
			owner := mustUser(t, db, "owner@example.com")
			changes := func() int64 {
				// Both read in the writer goroutine: a merge step may
				// share the batch.
				var n, merged int64
				if err := db.write(ctx, func(tx *wtx) error {
					merged = db.mergedRows.Load()
					return tx.queryRow(`SELECT total_changes()`).Scan(&n)
				}); err != nil {
					t.Fatal(err)
				}
				return n - merged
			}
			rng := rand.NewChaCha8([32]byte{})
			var per []int64
			prev := changes()
			for i := range 160 {
				// Descriptions of many distinct trigrams fill several
				// leaf pages a commit, so that merges span steps and
				// leaves written pass multiples of 64 (automerge's
				// moments) often.
				title := fmt.Sprintf("task %d %s", i, []string{"alpha", "budget", "zeppelin"}[i%3])
				desc := make([]byte, 300)
				rng.Read(desc)
				draft := authdash.TaskDraft{Title: title, Description: hex.EncodeToString(desc), Status: authdash.StatusTodo, Priority: authdash.PriorityLow}
				if _, _, err := db.CreateTask(ctx, owner, draft); err != nil {
					t.Fatal(err)
				}
				n := changes()
				per = append(per, n-prev)
				prev = n
			}
			sorted := slices.Clone(per)
			slices.Sort(sorted)
			median := sorted[len(sorted)/2]
			var heavy []int64
			for _, n := range per {
				if n > 2*median {
					heavy = append(heavy, n)
				}
			}
			// Without the merger FTS5 merges a level inside every
			// fifteenth commit or so. With it, FTS5 rarely moves segments
			// down a level (its promotion), and a level it fills up so is
			// merged in a commit all the same: once in several hundred.
			if tc.merger && len(heavy) > len(per)/100 {
				t.Errorf("%d of %d creates' commits changed more than twice the median of %d rows (%v): they merged the search index",
					len(heavy), len(per), median, heavy)
			}
			if !tc.merger && len(heavy) < len(per)/30 {
				t.Errorf("without the merger only %d of %d commits merged (%v): the test cannot tell", len(heavy), len(per), heavy)
			}
			if tc.merger {
				if got := segmentCounts(t, db); slices.Max(slices.Collect(maps.Values(got))) > 12 {
					t.Errorf("segments after the creates: %v, want a dozen at most", got)
				}
			}
		})
	}
}
