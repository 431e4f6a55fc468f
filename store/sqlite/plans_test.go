package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// TestPlanCache checks freshness, the cap a plan was weighed under,
// whether long grams were, and
// that the cache never holds more than maxPlans plans.
func TestPlanCache(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	var p plans
	p.put("a", searchPlan{rare: "r", gramCap: 256, long: true, expires: t0.Add(planTTL)}, t0)
	for _, c := range []struct {
		name string
		key  string
		cap  int
		long bool
		at   time.Time
		ok   bool
	}{
		{"Fresh", "a", 256, true, t0.Add(planTTL - time.Millisecond), true},
		{"Expired", "a", 256, true, t0.Add(planTTL), false},
		{"OtherCap", "a", 8, true, t0, false},
		{"WithoutLongGrams", "a", 256, false, t0, false},
		{"OtherKey", "b", 256, true, t0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if sp, ok := p.get(c.key, c.cap, c.long, c.at); ok != c.ok || (ok && sp.rare != "r") {
				t.Errorf("get = %+v, %v; want ok %v", sp, ok, c.ok)
			}
		})
	}
	t.Run("Bounded", func(t *testing.T) {
		for i := range 3 * maxPlans {
			p.put(fmt.Sprint(i), searchPlan{expires: t0.Add(planTTL)}, t0)
			if len(p.m) > maxPlans {
				t.Fatalf("%d plans kept after %d puts, more than %d", len(p.m), i+1, maxPlans)
			}
		}
	})
}

// TestSearchPlanOutlived searches while a term is rare (the plan reads
// the few tasks holding its rarest trigram, and is kept), then makes that
// trigram common and the term's matches many: the kept plan must still
// find exactly the term's matches, in every order.
func TestSearchPlanOutlived(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	db.gramCap = 16
	owner := mustUser(t, db, "owner@example.com")
	create := func(title string) {
		t.Helper()
		if _, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: title, Status: authdash.StatusTodo, Priority: authdash.PriorityLow}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		create(fmt.Sprintf("task %d", i))
	}
	create("a wombat")
	buildSorts(t, db)
	for _, s := range authdash.TaskSorts {
		if got := allPages(t, db, owner, authdash.TaskQuery{Search: "wombat", Sort: s, Limit: 5}); len(got) != 1 {
			t.Fatalf("%s: %d matches, want 1", s, len(got))
		}
	}
	for i := range 60 {
		create(fmt.Sprintf("wombat %d", i))
		create(fmt.Sprintf("womb %d", i)) // holds some of the trigrams, not the term
	}
	buildSorts(t, db)
	for _, s := range authdash.TaskSorts {
		q := authdash.TaskQuery{Sort: s, Limit: 5}
		var want []authdash.TaskID
		for _, task := range allPages(t, db, owner, q) {
			if strings.Contains(task.Title, "wombat") {
				want = append(want, task.ID)
			}
		}
		q.Search = "WOMBAT"
		var got []authdash.TaskID
		for _, task := range allPages(t, db, owner, q) {
			got = append(got, task.ID)
		}
		if len(want) != 61 || !slices.Equal(got, want) {
			t.Errorf("%s: got %d matches, want %d (61)", s, len(got), len(want))
		}
	}
}
