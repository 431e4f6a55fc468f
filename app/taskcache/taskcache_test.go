//go:build !js

package taskcache_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/idb"
	"github.com/authdash/authdash/app/taskcache"
	"github.com/authdash/authdash/store/sqlite"
)

func mustDB() *idb.DB { return idb.NewMemory(taskcache.BucketTasks, taskcache.BucketMeta) }

func mustCache(t *testing.T, db *idb.DB, owner authdash.UserID, l taskcache.Limits) *taskcache.Cache {
	t.Helper()
	c, err := taskcache.Open(context.Background(), db, owner, l)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var big = taskcache.Limits{Tasks: 1000, Bytes: 1 << 20}

// TestCacheMatchesServer is the offline list's property test: a cache
// filled from the real SQLite store and kept current by the store's own
// events (some of them arriving in the middle of a refill, some before a
// reload that opens the cache again from storage) answers every query as
// the store does: the same tasks, in the same order, at the same versions.
func TestCacheMatchesServer(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seeds := 30
	if testing.Short() {
		seeds = 6
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			owner, err := st.CreateUser(ctx, authdash.NewUser{Email: fmt.Sprintf("cache%d@example.com", seed), Name: "C", PasswordHash: "x"})
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(uint64(seed), 29))
			w := &world{t: t, st: st, owner: owner.ID, r: r}
			for range 30 {
				w.create(ctx)
			}
			db := mustDB()
			c := mustCache(t, db, owner.ID, big)
			var pending []authdash.Event
			// A refill during which changes happen: their events arrive
			// between its pages, before or after the page that has the task.
			list := func(ctx context.Context, q authdash.TaskQuery) (authdash.TaskPage, error) {
				page, err := st.FindTasks(ctx, owner.ID, q)
				for range r.IntN(3) {
					ev := w.change(ctx)
					if r.IntN(2) == 0 {
						mustApply(t, c, ev)
					} else {
						pending = append(pending, ev)
					}
				}
				return page, err
			}
			q := authdash.TaskQuery{Limit: 7}
			q.Normalize()
			if err := c.Refill(ctx, func(ctx context.Context, q authdash.TaskQuery) (authdash.TaskPage, error) {
				q.Limit = 7 // small pages: more of them
				return list(ctx, q)
			}); err != nil {
				t.Fatal(err)
			}
			for _, ev := range pending {
				mustApply(t, c, ev)
			}
			if !c.Complete() {
				t.Fatal("not complete after a refill within the limits")
			}
			w.check(ctx, c, "after the refill")
			for step := range 40 {
				ev := w.change(ctx)
				mustApply(t, c, ev)
				if r.IntN(3) == 0 {
					// Applied twice: a repeat changes nothing.
					mustApply(t, c, ev)
				}
				if r.IntN(8) == 0 {
					c = mustCache(t, db, owner.ID, big) // a reload
				}
				w.check(ctx, c, fmt.Sprintf("step %d (%s %s)", step, ev.Kind, ev.TaskID))
			}
		})
	}
}

func mustApply(t *testing.T, c *taskcache.Cache, ev authdash.Event) {
	t.Helper()
	if _, err := c.Apply(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}

type world struct {
	t     *testing.T
	st    *sqlite.DB
	owner authdash.UserID
	r     *rand.Rand
	ids   []authdash.TaskID
}

var words = []string{"alpha", "Beta", "ſtar", "Kelvin", "İstanbul", "straße", "STRASSE", "kiln", "sun"}

func (w *world) pick(s []string) string { return s[w.r.IntN(len(s))] }

func (w *world) draft() authdash.TaskDraft {
	d := authdash.TaskDraft{
		Title:    w.pick(words) + " " + w.pick(words),
		Status:   authdash.TaskStatuses[w.r.IntN(3)],
		Priority: []authdash.TaskPriority{authdash.PriorityLow, authdash.PriorityMedium, authdash.PriorityHigh}[w.r.IntN(3)],
	}
	if w.r.IntN(2) == 0 {
		due := time.Date(2027, 1, 1+w.r.IntN(5), 0, 0, 0, 0, time.UTC)
		d.DueDate = &due
	}
	for range w.r.IntN(3) {
		d.Tags = append(d.Tags, w.pick([]string{"work", "Work", "ſ", "s", "home"}))
	}
	d.Normalize()
	return d
}

func (w *world) create(ctx context.Context) authdash.Event {
	t, ev, err := w.st.CreateTask(ctx, w.owner, w.draft())
	if err != nil {
		w.t.Fatal(err)
	}
	w.ids = append(w.ids, t.ID)
	return ev
}

func (w *world) change(ctx context.Context) authdash.Event {
	if len(w.ids) == 0 || w.r.IntN(4) == 0 {
		return w.create(ctx)
	}
	i := w.r.IntN(len(w.ids))
	if w.r.IntN(5) == 0 {
		ev, err := w.st.DeleteTask(ctx, w.owner, w.ids[i], 0)
		if err != nil {
			w.t.Fatal(err)
		}
		w.ids = slices.Delete(w.ids, i, i+1)
		return ev
	}
	d := w.draft()
	p := authdash.TaskPatch{Title: &d.Title, Status: &d.Status, Tags: &d.Tags}
	_, ev, err := w.st.UpdateTask(ctx, w.owner, w.ids[i], p, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return ev
}

// check compares the cache's answers with the store's for a few queries.
func (w *world) check(ctx context.Context, c *taskcache.Cache, where string) {
	w.t.Helper()
	before := time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC)
	for _, q := range []authdash.TaskQuery{
		{},
		{Sort: authdash.SortTitle, Order: authdash.Asc},
		{Search: w.pick([]string{"s", "ſ", "k", "ss", "ß", "sun"}), Sort: authdash.SortDue},
		{Tag: w.pick([]string{"work", "s", "ſ"}), Sort: authdash.SortPriority},
		{Status: authdash.StatusDone, Sort: authdash.SortUpdated, Order: authdash.Asc},
		{DueBefore: &before, Sort: authdash.SortDue, Order: authdash.Desc},
	} {
		q.Limit = authdash.MaxPageSize
		q.Normalize()
		var want []authdash.Task
		for {
			p, err := w.st.FindTasks(ctx, w.owner, q)
			if err != nil {
				w.t.Fatal(err)
			}
			want = append(want, p.Items...)
			if p.NextCursor == "" {
				break
			}
			q.Cursor = p.NextCursor
		}
		q.Cursor = ""
		got := taskcache.Find(c.Tasks(), q)
		if !slices.EqualFunc(got, want, func(a, b authdash.Task) bool { return a.ID == b.ID && a.Version == b.Version }) {
			w.t.Fatalf("%s, query %+v:\ncache %v\nstore %v", where, q, brief(got), brief(want))
		}
	}
}

func brief(ts []authdash.Task) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = fmt.Sprintf("%s@%d:%q", t.ID[len(t.ID)-4:], t.Version, t.Title)
	}
	return out
}

func task(id string, st authdash.TaskStatus, updated int, title string) authdash.Task {
	return authdash.Task{ID: authdash.TaskID(id), Title: title, Status: st, Priority: authdash.PriorityMedium, Version: 1,
		UpdatedAt: time.Date(2026, 12, 1, 0, 0, updated, 0, time.UTC)}
}

// TestEviction: over the limits, open tasks are kept before done ones, and
// among them the most recently updated.
func TestEviction(t *testing.T) {
	tasks := []authdash.Task{
		task("a", authdash.StatusDone, 9, "done, newest"),
		task("b", authdash.StatusTodo, 1, "open, oldest"),
		task("c", authdash.StatusInProgress, 5, "open"),
		task("d", authdash.StatusDone, 2, "done, old"),
		task("e", authdash.StatusTodo, 8, "open, newest"),
	}
	size := len(`{"id":"a","title":"done, newest","description":"","status":"done","priority":"medium","dueDate":null,"tags":null,"createdAt":"0001-01-01T00:00:00Z","updatedAt":"2026-12-01T00:00:09Z","version":1}`)
	for _, c := range []struct {
		name   string
		limits taskcache.Limits
		want   []string
	}{
		{"WithinLimits", taskcache.Limits{Tasks: 5, Bytes: 1 << 20}, []string{"a", "b", "c", "d", "e"}},
		{"CountOpenFirst", taskcache.Limits{Tasks: 3, Bytes: 1 << 20}, []string{"b", "c", "e"}},
		{"CountThenNewestDone", taskcache.Limits{Tasks: 4, Bytes: 1 << 20}, []string{"a", "b", "c", "e"}},
		{"CountNewestOpen", taskcache.Limits{Tasks: 2, Bytes: 1 << 20}, []string{"c", "e"}},
		{"Bytes", taskcache.Limits{Tasks: 5, Bytes: 2*size + 5}, []string{"c", "e"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, how := range []string{"Put", "Refill"} {
				ctx := context.Background()
				db := mustDB()
				ca := mustCache(t, db, "u1", c.limits)
				if how == "Put" {
					for _, tk := range tasks {
						if _, err := ca.Put(ctx, tk); err != nil {
							t.Fatal(err)
						}
					}
				} else {
					err := ca.Refill(ctx, func(_ context.Context, q authdash.TaskQuery) (authdash.TaskPage, error) {
						return authdash.TaskPage{Items: taskcache.Find(tasks, authdash.TaskQuery{Status: q.Status, Sort: q.Sort, Order: q.Order})}, nil
					})
					if err != nil {
						t.Fatal(err)
					}
					if got, want := ca.Complete(), len(c.want) == len(tasks); got != want {
						t.Errorf("Complete = %v, want %v", got, want)
					}
				}
				// Kept in storage too: a reload has the same.
				for _, ca := range []*taskcache.Cache{ca, mustCache(t, db, "u1", c.limits)} {
					var got []string
					for _, tk := range ca.Tasks() {
						got = append(got, string(tk.ID))
					}
					slices.Sort(got)
					if !slices.Equal(got, c.want) {
						t.Errorf("%s: kept %v, want %v", how, got, c.want)
					}
				}
			}
		})
	}
}

// TestVersions: late, repeated and resurrecting events are refused as the
// live list refuses them; another user's cache is not read.
func TestVersions(t *testing.T) {
	at := func(v int64, title string) authdash.Task {
		t := task("x", authdash.StatusTodo, int(v), title)
		t.Version = v
		return t
	}
	put := func(v int64, title string) authdash.Event {
		tk := at(v, title)
		return authdash.Event{Kind: authdash.EventTaskUpdated, TaskID: "x", Version: v, Task: &tk}
	}
	del := func(v int64) authdash.Event {
		return authdash.Event{Kind: authdash.EventTaskDeleted, TaskID: "x", Version: v}
	}
	for _, c := range []struct {
		name string
		evs  []authdash.Event
		want string // the title kept, "" for none
	}{
		{"NewerWins", []authdash.Event{put(1, "one"), put(3, "three"), put(2, "two")}, "three"},
		{"DeletedStaysDeleted", []authdash.Event{put(1, "one"), del(2), put(2, "two")}, ""},
		{"LateDeleteIgnored", []authdash.Event{put(3, "three"), del(2)}, "three"},
		{"RestoredAtNewerVersion", []authdash.Event{put(1, "one"), del(2), put(3, "back")}, "back"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := mustDB()
			ca := mustCache(t, db, "u1", big)
			for _, ev := range c.evs {
				mustApply(t, ca, ev)
			}
			got, _ := ca.Get("x")
			if got.Title != c.want {
				t.Errorf("kept %q, want %q", got.Title, c.want)
			}
			again := mustCache(t, db, "u1", big)
			if got, _ := again.Get("x"); got.Title != c.want {
				t.Errorf("after a reload: %q, want %q", got.Title, c.want)
			}
			if other := mustCache(t, db, "u2", big); len(other.Tasks()) != 0 {
				t.Errorf("another user opens the cache and finds %d tasks", len(other.Tasks()))
			}
		})
	}
}
