package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/tasklist"
)

// testLiveViewMatchesQuery is the live view's property test, against every
// store: a loaded, filtered and sorted list (app/tasklist, the browser's
// copy) kept current by the store's own events must show exactly what a
// fresh query of the same window shows, and "Load more" from it must bring
// exactly the rest, after any sequence of creates, edits and deletes. The
// list places and drops tasks by the domain's rules (TaskQuery.Matches and
// Compare), so this holds each store's query to those rules. The words
// include letters whose case folding differs from their lower case (ſ, K,
// İ, ß), where a matcher that folds case (strings.EqualFold) and the
// stores (which lower both sides) disagree.
func testLiveViewMatchesQuery(t *testing.T, open Opener) {
	// Few seeds here, where every store runs them (FerretDB answers a
	// find in milliseconds); app/tasklist runs many on SQLite.
	seeds := 2
	if testing.Short() {
		seeds = 1
	}
	LiveView(t, open(t), seeds, 15)
}

// LiveView runs the live view's property test on db: seeds random
// worlds, each of steps random changes.
func LiveView(t *testing.T, db authdash.Store, seeds, steps int) {
	ctx := context.Background()
	owner, err := db.CreateUser(ctx, authdash.NewUser{Email: "live@example.com", Name: "Live", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 17))
			w := &world{t: t, db: db, owner: owner.ID, r: r}
			w.clear(ctx)
			for range 12 {
				w.create(ctx)
			}
			q := w.query()
			l := tasklist.New(q)
			page := w.find(ctx, q)
			l.Reset(page)
			if page.NextCursor != "" && r.IntN(2) == 0 {
				next, _ := l.NextQuery()
				l.Append(w.find(ctx, next))
			}
			for step := range steps {
				ev := w.change(ctx)
				l.Apply(ev)
				w.check(ctx, l, fmt.Sprintf("seed %d step %d (%s %s)", seed, step, ev.Kind, ev.TaskID))
			}
		})
	}
}

type world struct {
	t     *testing.T
	db    authdash.Store
	owner authdash.UserID
	r     *rand.Rand
	ids   []authdash.TaskID
}

var words = []string{"alpha", "Beta", "ſtar", "Kelvin", "İstanbul", "straße", "STRASSE", "kiln", "sun", "SUN"}
var tags = []string{"work", "Work", "ſ", "s", "home", "K"}

func (w *world) pick(s []string) string { return s[w.r.IntN(len(s))] }

func (w *world) clear(ctx context.Context) {
	for _, id := range w.ids {
		_, _ = w.db.DeleteTask(ctx, w.owner, id, 0)
	}
	w.ids = nil
}

func (w *world) draft() authdash.TaskDraft {
	d := authdash.TaskDraft{
		Title:       w.pick(words) + " " + w.pick(words),
		Description: w.pick(words),
		Status:      []authdash.TaskStatus{authdash.StatusTodo, authdash.StatusInProgress, authdash.StatusDone}[w.r.IntN(3)],
		Priority:    []authdash.TaskPriority{authdash.PriorityLow, authdash.PriorityMedium, authdash.PriorityHigh}[w.r.IntN(3)],
	}
	if w.r.IntN(3) > 0 {
		due := time.Date(2027, 1, 1+w.r.IntN(5), 0, 0, 0, 0, time.UTC)
		d.DueDate = &due
	}
	for range w.r.IntN(3) {
		d.Tags = append(d.Tags, w.pick(tags))
	}
	d.Normalize()
	if err := d.Validate(); err != nil {
		w.t.Fatalf("draft %+v: %v", d, err)
	}
	return d
}

func (w *world) create(ctx context.Context) authdash.Event {
	t, ev, err := w.db.CreateTask(ctx, w.owner, w.draft())
	if err != nil {
		w.t.Fatal(err)
	}
	w.ids = append(w.ids, t.ID)
	return ev
}

// change makes one random change through the store and returns its event.
func (w *world) change(ctx context.Context) authdash.Event {
	if len(w.ids) == 0 || w.r.IntN(4) == 0 {
		return w.create(ctx)
	}
	i := w.r.IntN(len(w.ids))
	id := w.ids[i]
	if w.r.IntN(5) == 0 {
		ev, err := w.db.DeleteTask(ctx, w.owner, id, 0)
		if err != nil {
			w.t.Fatal(err)
		}
		w.ids = slices.Delete(w.ids, i, i+1)
		return ev
	}
	d := w.draft()
	var p authdash.TaskPatch
	switch w.r.IntN(6) {
	case 0:
		p.Title = &d.Title
	case 1:
		p.Description = &d.Description
	case 2:
		p.Status = &d.Status
	case 3:
		p.Priority = &d.Priority
	case 4:
		p.Tags = &d.Tags
	case 5:
		if d.DueDate == nil {
			p.ClearDueDate = true
		} else {
			p.DueDate = d.DueDate
		}
	}
	_, ev, err := w.db.UpdateTask(ctx, w.owner, id, p, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return ev
}

func (w *world) query() authdash.TaskQuery {
	q := authdash.TaskQuery{
		Sort:  []authdash.TaskSort{authdash.SortCreated, authdash.SortUpdated, authdash.SortDue, authdash.SortPriority, authdash.SortTitle}[w.r.IntN(5)],
		Order: []authdash.Order{authdash.Asc, authdash.Desc}[w.r.IntN(2)],
		Limit: 3 + w.r.IntN(4),
	}
	switch w.r.IntN(6) {
	case 0:
		q.Search = w.pick([]string{"s", "ſ", "k", "K", "i", "ss", "ß", "sun"})
	case 1:
		q.Tag = w.pick(tags)
	case 2:
		q.Status = authdash.StatusDone
	case 3:
		q.Priority = authdash.PriorityHigh
	case 4:
		before := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
		q.DueBefore = &before
	}
	q.Normalize()
	return q
}

func (w *world) find(ctx context.Context, q authdash.TaskQuery) authdash.TaskPage {
	p, err := w.db.FindTasks(ctx, w.owner, q)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// all is the whole result of q, page by page.
func (w *world) all(ctx context.Context, q authdash.TaskQuery) []authdash.Task {
	var out []authdash.Task
	for {
		p := w.find(ctx, q)
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out
		}
		q.Cursor = p.NextCursor
	}
}

func idsOf(ts []authdash.Task) []authdash.TaskID {
	out := make([]authdash.TaskID, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

// check compares the live list with the store: the shown tasks are the
// result up to the loaded pages' end, in order and as they now are, and the
// next page from the list's cursor continues it without a gap or a repeat.
func (w *world) check(ctx context.Context, l *tasklist.List, where string) {
	w.t.Helper()
	q := l.Query()
	full := w.all(ctx, q)
	next, more := l.NextQuery()
	want := full
	if more {
		end, err := authdash.DecodeCursor(next.Cursor, q.Sort, q.Order)
		if err != nil {
			w.t.Fatalf("%s: cursor: %v", where, err)
		}
		want = slices.DeleteFunc(slices.Clone(full), func(t authdash.Task) bool {
			return q.CompareKeys(authdash.SortKey(t, q.Sort, q.Order), end) > 0
		})
	}
	got := l.Items()
	if !slices.Equal(idsOf(got), idsOf(want)) {
		w.t.Fatalf("%s, query %+v:\nlive  %v\nfresh %v", where, q, shown(got), shown(want))
	}
	for i := range got {
		if got[i].Version != want[i].Version {
			w.t.Fatalf("%s: %s shown at version %d, stored %d", where, got[i].ID, got[i].Version, want[i].Version)
		}
	}
	if more {
		rest := w.find(ctx, next).Items
		wantRest := full[len(want):min(len(full), len(want)+len(rest))]
		if !slices.Equal(idsOf(rest), idsOf(wantRest)) || (len(rest) == 0 && len(full) > len(want)) {
			w.t.Fatalf("%s: load more brings %v, want %v", where, shown(rest), shown(full[len(want):]))
		}
	}
}

// shown names tasks by the end of their ID and their title.
func shown(ts []authdash.Task) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = fmt.Sprintf("%s:%q", t.ID[len(t.ID)-4:], t.Title)
	}
	return out
}
