// Package tasklist is the browser's copy of one task list: the pages loaded
// for a query, kept current by the client's own writes and by live events.
//
// Every change goes through one rule: a task is replaced only by a newer
// version of itself. Pages, write answers and events may arrive in any
// order (an event can overtake the answer to the request that caused it, a
// page fetched before a delete can land after it) and the list still
// converges to the server's state.
package tasklist

import (
	"maps"
	"slices"
	"time"

	"github.com/authdash/authdash"
)

// List is the loaded part of one query's result, in the query's order.
// The zero value is an empty list for the default query.
type List struct {
	query authdash.TaskQuery
	items []authdash.Task
	next  string
	// versions is the newest version seen of every task, deleted ones
	// included (as their deletion's version), whether or not it is shown:
	// it is what makes stale inputs harmless.
	versions map[authdash.TaskID]int64
	deleted  map[authdash.TaskID]bool
	// latest is the newest copy seen of every live task, so that a page
	// older than it shows it instead.
	latest map[authdash.TaskID]authdash.Task
}

// New returns an empty list for q (normalised here; its cursor is ignored).
func New(q authdash.TaskQuery) *List {
	q.Cursor = ""
	q.Normalize()
	return &List{query: q, versions: map[authdash.TaskID]int64{}, deleted: map[authdash.TaskID]bool{},
		latest: map[authdash.TaskID]authdash.Task{}}
}

// Query returns the list's query without a cursor.
func (l *List) Query() authdash.TaskQuery { return l.query }

// ReloadQuery returns the query that loads want's first page again. When
// the list shows want's tasks (the same filters and order), it asks for as
// many as the list holds, up to a page's most, so that a reload (the live
// connection's first, a resync) keeps the pages Load more added rather
// than dropping back to the first. The page size of the pages after it is
// the query's own.
func (l *List) ReloadQuery(want authdash.TaskQuery) authdash.TaskQuery {
	want.Cursor = ""
	want.Normalize()
	if l != nil && sameView(l.query, want) && len(l.items) > want.Limit {
		want.Limit = min(len(l.items), authdash.MaxPageSize)
	}
	return want
}

// sameView reports whether two normalised queries list the same tasks in
// the same order, whatever their page size and cursor.
func sameView(a, b authdash.TaskQuery) bool {
	sameTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.Search == b.Search && a.Status == b.Status && a.Priority == b.Priority && a.Tag == b.Tag &&
		a.Sort == b.Sort && a.Order == b.Order && sameTime(a.DueBefore, b.DueBefore) && sameTime(a.DueAfter, b.DueAfter)
}

// NextQuery returns the query of the next page and whether there is one.
func (l *List) NextQuery() (authdash.TaskQuery, bool) {
	q := l.query
	q.Cursor = l.next
	return q, l.next != ""
}

// Items returns the tasks in order. The slice is the list's own; callers
// must not change it.
func (l *List) Items() []authdash.Task { return l.items }

// Len returns the number of loaded tasks.
func (l *List) Len() int { return len(l.items) }

// Get returns the loaded task with that id.
func (l *List) Get(id authdash.TaskID) (authdash.Task, bool) {
	i := l.index(id)
	if i < 0 {
		return authdash.Task{}, false
	}
	return l.items[i], true
}

// Version returns the newest version of the task the list has seen (0 if
// none), deleted or not.
func (l *List) Version(id authdash.TaskID) int64 { return l.versions[id] }

// Deleted returns the tasks whose deletion the list has seen and which
// have not come back since (a restore), sorted: an editor open on one of
// them tells its user the task is gone, which a task merely missing from
// the list (filtered out, not loaded) does not mean.
func (l *List) Deleted() []authdash.TaskID {
	return slices.Sorted(maps.Keys(l.deleted))
}

// Reset replaces the contents with the first page of the query, keeping the
// version memory so that a page older than an event already applied cannot
// roll it back.
func (l *List) Reset(p authdash.TaskPage) {
	l.items = l.items[:0]
	l.next = ""
	l.Append(p)
}

// Append adds the next page ("Load more").
func (l *List) Append(p authdash.TaskPage) {
	l.next = p.NextCursor
	for _, t := range p.Items {
		if l.index(t.ID) >= 0 {
			continue
		}
		if l.stale(t.ID, t.Version) {
			// The page is older than a change already applied: show that
			// change, where it now sorts.
			if n, ok := l.latest[t.ID]; ok && !l.deleted[t.ID] {
				l.Force(n)
			}
			continue
		}
		delete(l.deleted, t.ID)
		l.versions[t.ID] = t.Version
		l.latest[t.ID] = t
		l.items = append(l.items, t)
	}
}

// Put applies a task as the server returned it (a write's answer or an
// event): it is inserted, moved, replaced or dropped from the list as its
// fields now say. It reports whether the list changed.
func (l *List) Put(t authdash.Task) bool {
	if l.stale(t.ID, t.Version) {
		return false
	}
	l.versions[t.ID] = t.Version
	l.latest[t.ID] = t
	delete(l.deleted, t.ID)
	changed := false
	if i := l.index(t.ID); i >= 0 {
		l.items = slices.Delete(l.items, i, i+1)
		changed = true
	}
	if !Matches(l.query, t) {
		return changed
	}
	// A task that sorts after the loaded pages' end (the next page's
	// cursor, not the last task shown: that one may have left meanwhile)
	// belongs to a page not yet loaded; "Load more" will bring it, and
	// nothing between the two is skipped.
	if l.beyond(t) {
		return changed
	}
	i, _ := slices.BinarySearchFunc(l.items, t, func(a, b authdash.Task) int { return Compare(l.query, a, b) })
	l.items = slices.Insert(l.items, i, t)
	return true
}

// Force shows t as given although its version is not newer: an optimistic
// local change before the server has answered, or the undoing of one. It
// does nothing if a newer version or the deletion has arrived meanwhile,
// which then wins.
func (l *List) Force(t authdash.Task) bool {
	if l.deleted[t.ID] || l.versions[t.ID] > t.Version {
		return false
	}
	delete(l.versions, t.ID)
	return l.Put(t)
}

// Hide takes a task out of the list while its deletion is in flight; Force
// brings it back if the deletion fails.
func (l *List) Hide(id authdash.TaskID) bool {
	i := l.index(id)
	if i < 0 {
		return false
	}
	l.items = slices.Delete(l.items, i, i+1)
	return true
}

// Remove applies a deletion of the task at version (0: whatever version).
func (l *List) Remove(id authdash.TaskID, version int64) bool {
	if version != 0 && l.stale(id, version) {
		return false
	}
	if version != 0 {
		l.versions[id] = version
	}
	l.deleted[id] = true
	delete(l.latest, id)
	i := l.index(id)
	if i < 0 {
		return false
	}
	l.items = slices.Delete(l.items, i, i+1)
	return true
}

// Apply applies a task event and reports whether the list changed.
func (l *List) Apply(ev authdash.Event) bool {
	switch ev.Kind {
	case authdash.EventTaskCreated, authdash.EventTaskUpdated:
		if ev.Task == nil {
			return false
		}
		return l.Put(*ev.Task)
	case authdash.EventTaskDeleted:
		return l.Remove(ev.TaskID, ev.Version)
	}
	return false
}

// stale reports whether version is not newer than what the list has seen.
// A deleted task comes back only at a version above its deletion's: the
// deletion undone (a restore gives the task a new version). When the
// deletion's version is not known (the list's own delete, whose answer
// carries none), the last version seen stands in for it: the delete was
// made on that version, so the task cannot reappear at it or below.
func (l *List) stale(id authdash.TaskID, version int64) bool {
	v, ok := l.versions[id]
	if l.deleted[id] && !ok {
		return true
	}
	return ok && version <= v
}

// beyond reports whether t sorts after the end of the loaded pages.
func (l *List) beyond(t authdash.Task) bool {
	if l.next == "" {
		return false
	}
	key := authdash.SortKey(t, l.query.Sort, l.query.Order)
	end, err := authdash.DecodeCursor(l.next, l.query.Sort, l.query.Order)
	if err != nil {
		// Not a cursor of this query's (never from the server): the last
		// task shown is the best guess of the end.
		if len(l.items) == 0 {
			return true
		}
		end = authdash.SortKey(l.items[len(l.items)-1], l.query.Sort, l.query.Order)
	}
	return l.query.CompareKeys(key, end) > 0
}

func (l *List) index(id authdash.TaskID) int {
	return slices.IndexFunc(l.items, func(t authdash.Task) bool { return t.ID == id })
}

// Matches reports whether t belongs to the result of q, by the same rules
// the stores apply (authdash.TaskQuery.Matches).
func Matches(q authdash.TaskQuery, t authdash.Task) bool { return q.Matches(t) }

// Compare orders a before b (negative) or after (positive) in q's order
// (authdash.TaskQuery.Compare).
func Compare(q authdash.TaskQuery, a, b authdash.Task) int { return q.Compare(a, b) }
