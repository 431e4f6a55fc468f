package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/authdash/authdash"
)

// The search index's four FTS5 tables merge their segments in steps the
// writes pay for as they go (paceMerges), not in FTS5's own lumps
// (automerge 0, migration 17).
//
// FTS5's automerge does, over time, the right amount of merging: a table's
// level count in pages for every leaf page a commit writes. But it does it
// in lumps: whenever a table's count of leaves written passes a multiple of
// 64, the commit doing so merges 64 pages times the level count, and with
// four tables about one commit in fifty under sustained creates took
// 60-190 ms instead of 2-5, every write queued behind it waiting as long
// (issue 16, part 2: per-commit timing in docs/BENCHMARKS.md, "Write
// tails"). paceMerges owes the same amount, counted from the leaves of the
// segments each commit added, and pays it in steps of mergeCap pages a
// table, one a commit at most, once that much is owed. An earlier merger (393d2a9, reverted)
// merged whenever a level held four segments, so more than automerge did:
// it took 38 % of the writer under updates.
const mergeCap = 32

// mergeDebt is what one table of the search index owes in merging. Only
// the writer goroutine touches it.
type mergeDebt struct {
	// pages is the merging owed, in pages.
	pages int
	// seen are the level-0 segments the last look found.
	seen []segKey
}

// segKey names a segment across looks: an id is reused once its segment
// is merged away, and a merge that has taken a segment's first pages moves
// its first page, never its last.
type segKey struct{ id, last int }

// searchSorts are the orders whose copy of the search index is one of its
// FTS5 tables, task_grams itself first (sortIndexOf).
var searchSorts = [4]authdash.TaskSort{authdash.SortCreated, authdash.SortUpdated, authdash.SortDue, authdash.SortPriority}

// paceMerges pays part of the merging each table of the search index owes:
// the segments committed since the last look add their leaves times the
// count of the table's levels holding segments, and once mergeCap pages
// are owed a step merges that many. It runs at the start of a
// transaction's indexing, before the transaction adds its own entries: a
// merge writes out the table's pending entries first, and a second segment
// for the same commit would follow.
func paceMerges(tx *wtx) error {
	for i, s := range searchSorts {
		ix, _ := sortIndexOf(s)
		d := &tx.db.debts[i]
		var rec []byte
		err := tx.queryRow(`SELECT block FROM ` + ix.table + `_data WHERE id = 10`).Scan(&rec)
		if errors.Is(err, sql.ErrNoRows) {
			continue // an empty table: nothing to merge
		}
		if err != nil {
			return fmt.Errorf("pace merges: %w", err)
		}
		st, err := parseStructure(rec)
		if err != nil {
			return fmt.Errorf("pace merges: %s: %w", ix.table, err)
		}
		// Automerge multiplies by every level of the record, but a
		// merge of all segments (the compactor's) starts by moving them
		// to one level above the rest, and the record keeps the empty
		// levels below: dozens, for a handful holding segments.
		levels := 0
		for _, l := range st.levels {
			if len(l) > 0 {
				levels++
			}
		}
		var now []segKey
		if len(st.levels) > 0 {
			for _, sg := range st.levels[0] {
				k := segKey{sg.id, sg.last}
				now = append(now, k)
				if !slices.Contains(d.seen, k) {
					d.pages += (sg.last - sg.first + 1) * levels
				}
			}
		}
		d.seen = now
		// A step has a cost of its own whatever its size (reading the
		// structure, starting an iterator on each segment it merges):
		// a step of whatever was owed, every commit, took a quarter of
		// the updates' rate at 16 connections.
		if d.pages < mergeCap {
			continue
		}
		n, err := mergeTable(tx, ix.table, mergeCap)
		if err != nil {
			return fmt.Errorf("pace merges: %w", err)
		}
		d.pages -= mergeCap
		// One that did no work found no level of four segments: nothing
		// is owed until the next segments come, as automerge forgets its
		// work when there is nothing to merge.
		if n < 2 {
			d.pages = 0
		}
		tx.db.mergedRows.Add(n)
	}
	return nil
}

// mergeTable runs FTS5's merge command on table, writing up to |pages| pages
// of merged segments (a positive pages merges only levels of four segments
// or more, a negative one every level, down to one segment), and returns
// the rows it changed: FTS5 documents that a merge that did work changes at
// least two.
func mergeTable(tx *wtx, table string, pages int) (int64, error) {
	var before, after int64
	if err := tx.queryRow(`SELECT total_changes()`).Scan(&before); err != nil {
		return 0, err
	}
	if _, err := tx.exec(`INSERT INTO `+table+` (`+table+`, rank) VALUES ('merge', ?)`, pages); err != nil {
		return 0, err
	}
	if err := tx.queryRow(`SELECT total_changes()`).Scan(&after); err != nil {
		return 0, err
	}
	return after - before, nil
}

// ftsStructure is what paceMerges reads of an FTS5 table's structure record
// (row 10 of its %_data table): each level's segments, lowest first.
type ftsStructure struct {
	levels [][]ftsSegment
}

type ftsSegment struct{ id, first, last int }

// structureV2 marks the record's second format (FTS5 with contentless
// delete), whose segments carry five more numbers.
var structureV2 = [4]byte{0xff, 0x00, 0x00, 0x01}

var errStructure = errors.New("malformed FTS5 structure record")

// parseStructure decodes an FTS5 structure record as fts5StructureDecode
// does: a 4-byte cookie, the V2 mark if present, then varints: the level
// and segment counts, the write counter, and for each level its merge
// count, its segment count and each segment's id, first and last leaf
// (V2: then two origins, tombstone pages, tombstone entries and entries).
func parseStructure(b []byte) (ftsStructure, error) {
	var st ftsStructure
	if len(b) < 4 {
		return st, errStructure
	}
	i := 4
	v2 := len(b) >= 8 && [4]byte(b[4:8]) == structureV2
	if v2 {
		i = 8
	}
	next := func() (int, bool) {
		v, n := sqliteVarint(b[i:])
		if n == 0 || v > 1<<40 {
			return 0, false
		}
		i += n
		return int(v), true
	}
	nLevel, ok1 := next()
	nSeg, ok2 := next()
	_, ok3 := next() // the write counter
	if !ok1 || !ok2 || !ok3 || nLevel > 2000 || nSeg > 2000 {
		return st, errStructure
	}
	fields := 3
	if v2 {
		fields = 8
	}
	for range nLevel {
		_, ok1 := next() // segments being merged
		n, ok2 := next()
		if !ok1 || !ok2 || n > nSeg {
			return st, errStructure
		}
		nSeg -= n
		lvl := make([]ftsSegment, 0, n)
		for range n {
			var f [8]int
			for k := range fields {
				v, ok := next()
				if !ok {
					return st, errStructure
				}
				f[k] = v
			}
			if f[2] < f[1] {
				return st, errStructure
			}
			lvl = append(lvl, ftsSegment{f[0], f[1], f[2]})
		}
		st.levels = append(st.levels, lvl)
	}
	if nSeg != 0 {
		return st, errStructure
	}
	return st, nil
}

// sqliteVarint decodes SQLite's varint (big-endian groups of seven bits,
// the high bit set on all but the last; a ninth byte gives all eight) and
// returns it with its length, or a length of 0 if b ends first.
func sqliteVarint(b []byte) (uint64, int) {
	var v uint64
	for i := range min(len(b), 9) {
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}
