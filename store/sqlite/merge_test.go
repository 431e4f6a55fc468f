package sqlite

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/authdash/authdash"
)

// lumpMerges is the store as it merged before migration 17, with FTS5's
// automerge on every table of the search index (which the test sets).
func lumpMerges() Option { return func(db *DB) { db.lumpMerges = true } }

// noCompactor keeps the compactor's merges, in commits of their own, out
// of a test's counts: it starts in any second with few commits, as every
// second is under the race detector.
func noCompactor() Option { return func(db *DB) { db.noCompactor = true } }

// searchTables are the FTS5 tables of the search index.
func searchTables() []string {
	var ts []string
	for _, s := range searchSorts {
		ix, _ := sortIndexOf(s)
		ts = append(ts, ix.table)
	}
	return ts
}

// readStructure reads and parses table's structure record, and returns
// the record too.
func readStructure(t *testing.T, db *DB, table string) (ftsStructure, []byte) {
	t.Helper()
	var rec []byte
	if err := db.r.QueryRow(`SELECT block FROM ` + table + `_data WHERE id = 10`).Scan(&rec); err != nil {
		t.Fatal(err)
	}
	st, err := parseStructure(rec)
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	return st, rec
}

// levelCounts returns the segment count of each level of each table of the
// search index, as FTS5's structure record gives them.
func levelCounts(t *testing.T, db *DB) map[string][]int {
	t.Helper()
	m := map[string][]int{}
	for _, tb := range searchTables() {
		st, _ := readStructure(t, db, tb)
		for _, l := range st.levels {
			m[tb] = append(m[tb], len(l))
		}
	}
	return m
}

// TestCommitsMergeInSteps checks that no write's commit merges the search
// index but in paceMerges' steps (each at most mergeCap pages a table, by
// construction), and that those keep up: FTS5's
// automerge merged in lumps, 64 pages times the level count in whichever
// commit passed a multiple of 64 leaves written, and one commit in fifty
// under sustained creates took 60-190 ms (issue 16's create tails). Each
// create commits alone, and the rows each commit changed (FTS5 writes a page
// as a row) are counted on the writer's connection, less the steps', with the
// compactor off.
func TestCommitsMergeInSteps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lumps bool
	}{
		{"Paced", false},
		{"Automerge", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			opts := []Option{noCompactor()}
			if tc.lumps {
				opts = append(opts, lumpMerges())
			}
			db := openTemp(t, opts...)
			if tc.lumps {
				for _, tb := range searchTables() {
					if _, err := db.w.Exec(`INSERT INTO ` + tb + ` (` + tb + `, rank) VALUES ('automerge', 4)`); err != nil {
						t.Fatal(err)
					}
				}
			}
			owner := mustUser(t, db, "owner@example.com")
			// changes counts the rows changed on the writer's connection
			// less those of paceMerges' steps: a create's own writes and
			// any merging FTS5 does of its own accord.
			changes := func() int64 {
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
			const creates = 200
			for i := range creates {
				// Descriptions of many distinct grams fill several leaf
				// pages a commit, so that leaves written pass multiples of
				// 64 (automerge's moments) often.
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
			bound := 2 * median
			var heavy []int64
			for _, n := range per {
				if n > bound {
					heavy = append(heavy, n)
				}
			}
			t.Logf("rows changed a commit: median %d, max %d; %d over %d; levels after: %v",
				median, sorted[len(sorted)-1], len(heavy), bound, levelCounts(t, db))
			if !tc.lumps && len(heavy) > 0 {
				t.Errorf("%d of %d creates' commits changed more than %d rows (%v), the median being %d: they merged the search index in a lump",
					len(heavy), len(per), bound, heavy, median)
			}
			if tc.lumps && len(heavy) < creates/100 {
				t.Errorf("with automerge only %d of %d commits changed more than %d rows (%v): the test cannot tell", len(heavy), len(per), bound, heavy)
			}
			if tc.lumps {
				return
			}
			if db.mergedRows.Load() == 0 {
				t.Error("paceMerges merged nothing")
			}
			// Kept up: no level near the sixteen segments at which FTS5
			// merges it inside a commit regardless (crisismerge).
			for tb, ls := range levelCounts(t, db) {
				if slices.Max(ls) > 8 {
					t.Errorf("%s: segments by level %v, want 8 at most on any", tb, ls)
				}
			}
		})
	}
}

// TestParseStructure checks parseStructure against FTS5's own view of the
// segments (the segid column of each table's %_idx) and its errors on cut
// records.
func TestParseStructure(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, lumpMerges())
	owner := mustUser(t, db, "owner@example.com")
	for i := range 40 {
		if _, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: fmt.Sprintf("task %d", i), Status: authdash.StatusTodo, Priority: authdash.PriorityLow}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tb := range searchTables() {
		st, rec := readStructure(t, db, tb)
		var ids []int
		for _, l := range st.levels {
			for _, s := range l {
				ids = append(ids, s.id)
			}
		}
		slices.Sort(ids)
		var want []int
		rows, err := db.r.Query(`SELECT DISTINCT segid FROM ` + tb + `_idx ORDER BY segid`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			want = append(want, id)
		}
		rows.Close()
		if len(want) < 2 || !slices.Equal(ids, want) {
			t.Errorf("%s: segments %v, FTS5 has %v (want at least two)", tb, ids, want)
		}
		for n := range len(rec) - 1 {
			if _, err := parseStructure(rec[:n]); err == nil {
				t.Errorf("%s: the record cut to %d of %d bytes parsed", tb, n, len(rec))
				break
			}
		}
	}
}
