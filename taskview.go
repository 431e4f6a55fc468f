package authdash

import (
	"slices"
	"strings"
)

// A query's result as a rule, not a database read: which tasks belong to it
// and in what order. The stores answer FindTasks by these same rules (both
// sides lower-cased with strings.ToLower, the sort key then the ID, each in
// the query's direction), and the browser keeps a loaded, filtered list
// true by them as tasks change (app/tasklist), so the two cannot drift:
// app/tasklist's property test compares them after random changes.

// Matches reports whether t belongs to the result of q (q normalised).
func (q TaskQuery) Matches(t Task) bool {
	if q.Status != "" && t.Status != q.Status {
		return false
	}
	if q.Priority != "" && t.Priority != q.Priority {
		return false
	}
	if q.Tag != "" {
		tag := strings.ToLower(q.Tag)
		if !slices.ContainsFunc(t.Tags, func(s string) bool { return strings.ToLower(s) == tag }) {
			return false
		}
	}
	if q.DueBefore != nil && (t.DueDate == nil || t.DueDate.UnixMilli() >= q.DueBefore.UnixMilli()) {
		return false
	}
	if q.DueAfter != nil && (t.DueDate == nil || t.DueDate.UnixMilli() <= q.DueAfter.UnixMilli()) {
		return false
	}
	if s := strings.ToLower(strings.TrimSpace(q.Search)); s != "" &&
		!strings.Contains(strings.ToLower(t.Title), s) && !strings.Contains(strings.ToLower(t.Description), s) {
		return false
	}
	return true
}

// Compare orders a before b (negative) or after (positive) in q's order.
func (q TaskQuery) Compare(a, b Task) int {
	return q.CompareKeys(SortKey(a, q.Sort, q.Order), SortKey(b, q.Sort, q.Order))
}

// CompareKeys orders two positions (a task's SortKey, or a page's cursor)
// in q's order: the sort key, then the ID as the tie-breaker, both in q's
// direction, as the stores' keyset cursors do.
func (q TaskQuery) CompareKeys(a, b Cursor) int {
	c := 0
	switch {
	case a.Int != b.Int:
		if a.Int < b.Int {
			c = -1
		} else {
			c = 1
		}
	case a.Str != b.Str:
		c = strings.Compare(a.Str, b.Str)
	default:
		c = strings.Compare(string(a.ID), string(b.ID))
	}
	if q.Order == Desc {
		return -c
	}
	return c
}
