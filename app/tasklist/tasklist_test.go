package tasklist_test

import (
	"slices"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/tasklist"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func task(id string, version int64, title string, mins int) authdash.Task {
	at := t0.Add(time.Duration(mins) * time.Minute)
	return authdash.Task{ID: authdash.TaskID(id), Title: title, Status: authdash.StatusTodo, Priority: authdash.PriorityMedium,
		Tags: []string{}, CreatedAt: at, UpdatedAt: at, Version: version}
}

func ids(l *tasklist.List) []string {
	var out []string
	for _, t := range l.Items() {
		out = append(out, string(t.ID))
	}
	return out
}

func ev(kind authdash.EventKind, seq int64, t authdash.Task) authdash.Event {
	e := authdash.Event{Kind: kind, Seq: seq, TaskID: t.ID, Version: t.Version}
	if kind != authdash.EventTaskDeleted {
		e.Task = &t
	}
	return e
}

func TestApply(t *testing.T) {
	a, b, c := task("a", 1, "alpha", 1), task("b", 1, "beta", 2), task("c", 1, "gamma", 3)
	page := authdash.TaskPage{Items: []authdash.Task{c, b, a}} // created desc
	renamed := b
	renamed.Title, renamed.Version = "beta 2", 2
	done := b
	done.Status, done.Version = authdash.StatusDone, 2
	tests := []struct {
		name    string
		query   authdash.TaskQuery
		page    authdash.TaskPage
		events  []authdash.Event
		want    []string
		changed []bool
	}{
		{"CreatedInsertsInOrder", authdash.TaskQuery{}, authdash.TaskPage{Items: []authdash.Task{c, a}},
			[]authdash.Event{ev(authdash.EventTaskCreated, 1, b)}, []string{"c", "b", "a"}, []bool{true}},
		{"UpdateReplaces", authdash.TaskQuery{}, page,
			[]authdash.Event{ev(authdash.EventTaskUpdated, 1, renamed)}, []string{"c", "b", "a"}, []bool{true}},
		{"OlderVersionIgnored", authdash.TaskQuery{}, authdash.TaskPage{Items: []authdash.Task{c, renamed, a}},
			[]authdash.Event{ev(authdash.EventTaskUpdated, 1, b)}, []string{"c", "b", "a"}, []bool{false}},
		{"SameVersionIgnored", authdash.TaskQuery{}, authdash.TaskPage{Items: []authdash.Task{c, renamed, a}},
			[]authdash.Event{ev(authdash.EventTaskUpdated, 1, renamed)}, []string{"c", "b", "a"}, []bool{false}},
		{"DeleteRemoves", authdash.TaskQuery{}, page,
			[]authdash.Event{ev(authdash.EventTaskDeleted, 1, task("b", 2, "", 0))}, []string{"c", "a"}, []bool{true}},
		{"DeletedStaysDeletedAtItsVersion", authdash.TaskQuery{}, page,
			[]authdash.Event{ev(authdash.EventTaskDeleted, 1, task("b", 2, "", 0)), ev(authdash.EventTaskUpdated, 2, task("b", 2, "zombie", 2))},
			[]string{"c", "a"}, []bool{true, false}},
		// Undo of a delete: the server restores the task at a newer version
		// and announces it as created.
		{"RestoredReturns", authdash.TaskQuery{}, page,
			[]authdash.Event{ev(authdash.EventTaskDeleted, 1, task("b", 2, "", 0)), ev(authdash.EventTaskCreated, 2, task("b", 3, "beta", 2))},
			[]string{"c", "b", "a"}, []bool{true, true}},
		{"UpdateLeavesFilter", authdash.TaskQuery{Status: authdash.StatusTodo}, page,
			[]authdash.Event{ev(authdash.EventTaskUpdated, 1, done)}, []string{"c", "a"}, []bool{true}},
		{"UpdateEntersFilter", authdash.TaskQuery{Status: authdash.StatusDone}, authdash.TaskPage{},
			[]authdash.Event{ev(authdash.EventTaskUpdated, 1, done)}, []string{"b"}, []bool{true}},
		{"SearchFilters", authdash.TaskQuery{Search: "GAM"}, authdash.TaskPage{Items: []authdash.Task{c}},
			[]authdash.Event{ev(authdash.EventTaskCreated, 1, task("d", 1, "delta", 4)), ev(authdash.EventTaskCreated, 2, task("e", 1, "Gamma two", 5))},
			[]string{"e", "c"}, []bool{false, true}},
		{"AfterLastLoadedWaitsForNextPage", authdash.TaskQuery{Sort: authdash.SortTitle, Order: authdash.Asc},
			authdash.TaskPage{Items: []authdash.Task{a, b}, NextCursor: "more"},
			[]authdash.Event{ev(authdash.EventTaskCreated, 1, task("z", 1, "zulu", 9)), ev(authdash.EventTaskCreated, 2, task("ab", 1, "alphabet", 9))},
			[]string{"a", "ab", "b"}, []bool{false, true}},
		// The last task shown leaves; one that sorts between the task now
		// last and the page's end must show, as "Load more" starts after
		// the end and would never bring it (it used to wait for it).
		{"BetweenLastShownAndPageEndShows", authdash.TaskQuery{Sort: authdash.SortTitle, Order: authdash.Asc},
			authdash.TaskPage{Items: []authdash.Task{a, b}, NextCursor: authdash.SortKey(b, authdash.SortTitle, authdash.Asc).Encode()},
			[]authdash.Event{ev(authdash.EventTaskDeleted, 1, task("b", 2, "", 0)), ev(authdash.EventTaskCreated, 2, task("ab", 1, "alphabet", 9)),
				ev(authdash.EventTaskCreated, 3, task("bb", 1, "bz", 9))},
			[]string{"a", "ab"}, []bool{true, true, false}},
		{"TitleSortMovesOnRename", authdash.TaskQuery{Sort: authdash.SortTitle, Order: authdash.Asc}, authdash.TaskPage{Items: []authdash.Task{a, b, c}},
			[]authdash.Event{ev(authdash.EventTaskUpdated, 1, func() authdash.Task { x := a; x.Title, x.Version = "omega", 2; return x }())},
			[]string{"b", "c", "a"}, []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tasklist.New(tt.query)
			l.Reset(tt.page)
			for i, e := range tt.events {
				if got := l.Apply(e); got != tt.changed[i] {
					t.Errorf("event %d: changed = %v, want %v", i, got, tt.changed[i])
				}
			}
			if got := ids(l); !slices.Equal(got, tt.want) {
				t.Errorf("items = %v, want %v", got, tt.want)
			}
		})
	}
}

// A page fetched before an event was applied must not roll the event back,
// and an own change's echo after the write's answer changes nothing.
func TestStaleInputsAreHarmless(t *testing.T) {
	a := task("a", 1, "alpha", 1)
	l := tasklist.New(authdash.TaskQuery{})
	l.Reset(authdash.TaskPage{Items: []authdash.Task{a}})

	// Own optimistic edit, then the server's answer, then its echo.
	edited := a
	edited.Title = "alpha (mine)"
	if !l.Force(edited) {
		t.Fatal("optimistic change not shown")
	}
	answer := edited
	answer.Version = 2
	if !l.Put(answer) {
		t.Fatal("server answer not applied")
	}
	if l.Apply(ev(authdash.EventTaskUpdated, 1, answer)) {
		t.Error("own echo changed the list")
	}

	// A reload whose page predates version 2 keeps version 2.
	l.Reset(authdash.TaskPage{Items: []authdash.Task{a}})
	if got, _ := l.Get("a"); got.Version != 2 || got.Title != "alpha (mine)" {
		t.Errorf("after stale page: %+v", got)
	}

	// A deletion, then a page fetched before it: the task stays deleted.
	l.Remove("a", 3)
	l.Reset(authdash.TaskPage{Items: []authdash.Task{answer}})
	if l.Len() != 0 {
		t.Errorf("stale page resurrected a deleted task: %v", ids(l))
	}
}

// An optimistic change that the server refused is undone, unless a newer
// version arrived meanwhile, which wins.
func TestForceAndRevert(t *testing.T) {
	a := task("a", 1, "alpha", 1)
	l := tasklist.New(authdash.TaskQuery{})
	l.Reset(authdash.TaskPage{Items: []authdash.Task{a}})
	mine := a
	mine.Title = "mine"
	l.Force(mine)
	theirs := a
	theirs.Title, theirs.Version = "theirs", 2
	l.Put(theirs)
	if l.Force(a) {
		t.Error("revert overwrote a newer version")
	}
	if got, _ := l.Get("a"); got.Title != "theirs" {
		t.Errorf("title = %q, want theirs", got.Title)
	}

	// Hide for an in-flight delete, Force to bring it back on failure.
	l.Hide("a")
	if l.Len() != 0 {
		t.Fatal("hidden task still shown")
	}
	if !l.Force(theirs) || l.Len() != 1 {
		t.Error("hidden task not restored")
	}
}

// The list's own delete (whose answer carries no version) undone: the
// restored task comes back at its new version, and neither a page from
// before the delete nor a late copy of the old version brings it back
// before that.
func TestRestoreAfterOwnDelete(t *testing.T) {
	a, b := task("a", 4, "alpha", 1), task("b", 1, "beta", 2)
	l := tasklist.New(authdash.TaskQuery{})
	l.Reset(authdash.TaskPage{Items: []authdash.Task{b, a}})
	l.Hide("a")
	l.Remove("a", 0)
	for name, stale := range map[string]func() bool{
		"stale page":  func() bool { l.Reset(authdash.TaskPage{Items: []authdash.Task{b, a}}); return false },
		"old version": func() bool { return l.Put(a) },
		"force":       func() bool { return l.Force(a) },
	} {
		stale()
		if _, ok := l.Get("a"); ok {
			t.Errorf("%s brought the deleted task back", name)
		}
	}
	restored := a
	restored.Version = 6
	if !l.Put(restored) {
		t.Fatal("the restored task was refused")
	}
	if got := ids(l); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("items = %v, want [b a]", got)
	}
	// And it can be deleted and restored again.
	if !l.Apply(ev(authdash.EventTaskDeleted, 9, task("a", 7, "", 0))) || l.Put(restored) {
		t.Error("second delete not applied, or the first restore's copy accepted after it")
	}
}

func TestAppendSkipsDuplicates(t *testing.T) {
	a, b := task("a", 1, "a", 1), task("b", 1, "b", 2)
	l := tasklist.New(authdash.TaskQuery{})
	l.Reset(authdash.TaskPage{Items: []authdash.Task{b}, NextCursor: "x"})
	if q, ok := l.NextQuery(); !ok || q.Cursor != "x" {
		t.Fatalf("NextQuery = %+v, %v", q, ok)
	}
	l.Append(authdash.TaskPage{Items: []authdash.Task{b, a}})
	if got := ids(l); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("items = %v", got)
	}
	if _, ok := l.NextQuery(); ok {
		t.Error("last page still has a next")
	}
}

func TestMatchesDue(t *testing.T) {
	d := t0.Add(48 * time.Hour)
	x := task("x", 1, "x", 0)
	x.DueDate = &d
	before, after := t0.Add(72*time.Hour), t0.Add(24*time.Hour)
	tests := []struct {
		name string
		q    authdash.TaskQuery
		t    authdash.Task
		want bool
	}{
		{"DueBeforeMatch", authdash.TaskQuery{DueBefore: &before}, x, true},
		{"DueBeforeStrict", authdash.TaskQuery{DueBefore: &d}, x, false},
		{"DueAfterMatch", authdash.TaskQuery{DueAfter: &after}, x, true},
		{"NoDueNeverInRange", authdash.TaskQuery{DueAfter: &after}, task("y", 1, "y", 0), false},
		{"TagIgnoresCase", authdash.TaskQuery{Tag: "WORK"}, func() authdash.Task { y := x; y.Tags = []string{"work"}; return y }(), true},
	}
	for _, tt := range tests {
		if got := tasklist.Matches(tt.q, tt.t); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A reload asks for as many tasks as the list shows of the same view, so
// the pages Load more added stay; another view starts from its first page.
func TestReloadQuery(t *testing.T) {
	due := t0.Add(48 * time.Hour)
	dueAgain := due // equal, another pointer
	shown := func(q authdash.TaskQuery, n int) *tasklist.List {
		l := tasklist.New(q)
		items := make([]authdash.Task, n)
		for i := range items {
			items[i] = task(string(rune('a'+i%26))+string(rune('a'+i/26)), 1, "t", i)
		}
		l.Reset(authdash.TaskPage{Items: items, NextCursor: "next"})
		return l
	}
	for _, c := range []struct {
		name      string
		list      *tasklist.List
		want      authdash.TaskQuery
		wantLimit int
	}{
		{"NoList", nil, authdash.TaskQuery{}, authdash.DefaultPageSize},
		{"FirstPage", shown(authdash.TaskQuery{}, 20), authdash.TaskQuery{}, authdash.DefaultPageSize},
		{"ThreePages", shown(authdash.TaskQuery{}, 60), authdash.TaskQuery{}, 60},
		{"AtMostAPagesMost", shown(authdash.TaskQuery{}, 140), authdash.TaskQuery{}, authdash.MaxPageSize},
		{"SameDueByValue", shown(authdash.TaskQuery{DueBefore: &due}, 40), authdash.TaskQuery{DueBefore: &dueAgain}, 40},
		{"OtherSearch", shown(authdash.TaskQuery{Search: "milk"}, 60), authdash.TaskQuery{Search: "bread"}, authdash.DefaultPageSize},
		{"OtherOrder", shown(authdash.TaskQuery{}, 60), authdash.TaskQuery{Order: authdash.Asc}, authdash.DefaultPageSize},
		{"OtherDue", shown(authdash.TaskQuery{DueBefore: &due}, 60), authdash.TaskQuery{}, authdash.DefaultPageSize},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := c.list.ReloadQuery(c.want)
			if q.Limit != c.wantLimit || q.Cursor != "" {
				t.Errorf("ReloadQuery: limit %d, cursor %q; want %d and none", q.Limit, q.Cursor, c.wantLimit)
			}
			if c.list != nil && c.list.Query().Limit != authdash.DefaultPageSize {
				t.Errorf("the list's own page size became %d", c.list.Query().Limit)
			}
		})
	}
}

// Deleted names the tasks an open editor must call deleted: those whose
// deletion the list saw, by event or by its own delete (or a refused
// change's 404), until a restore brings them back; never a task that only
// left the list because it no longer matches the query.
func TestDeleted(t *testing.T) {
	a, b := task("a", 1, "alpha", 1), task("b", 1, "beta", 2)
	restored := a
	restored.Version = 3
	done := b
	done.Status, done.Version = authdash.StatusDone, 2
	tests := []struct {
		name  string
		query authdash.TaskQuery
		apply func(l *tasklist.List)
		want  []authdash.TaskID
	}{
		{"OKNone", authdash.TaskQuery{}, func(l *tasklist.List) {}, nil},
		{"OKDeletedByEvent", authdash.TaskQuery{}, func(l *tasklist.List) {
			l.Apply(ev(authdash.EventTaskDeleted, 1, task("a", 2, "", 0)))
		}, []authdash.TaskID{"a"}},
		{"OKDeletedHere", authdash.TaskQuery{}, func(l *tasklist.List) { l.Remove("b", 0) }, []authdash.TaskID{"b"}},
		{"OKBothSorted", authdash.TaskQuery{}, func(l *tasklist.List) {
			l.Remove("b", 0)
			l.Apply(ev(authdash.EventTaskDeleted, 1, task("a", 2, "", 0)))
		}, []authdash.TaskID{"a", "b"}},
		{"OKRestoredIsNotDeleted", authdash.TaskQuery{}, func(l *tasklist.List) {
			l.Apply(ev(authdash.EventTaskDeleted, 1, task("a", 2, "", 0)))
			l.Apply(ev(authdash.EventTaskCreated, 2, restored))
		}, nil},
		{"OKFilteredOutIsNotDeleted", authdash.TaskQuery{Status: authdash.StatusTodo}, func(l *tasklist.List) {
			l.Apply(ev(authdash.EventTaskUpdated, 1, done))
		}, nil},
		{"OKHiddenIsNotDeletedYet", authdash.TaskQuery{}, func(l *tasklist.List) { l.Hide("a") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tasklist.New(tt.query)
			l.Reset(authdash.TaskPage{Items: []authdash.Task{b, a}})
			tt.apply(l)
			if got := l.Deleted(); !slices.Equal(got, tt.want) {
				t.Errorf("Deleted() = %v, want %v", got, tt.want)
			}
		})
	}
}
