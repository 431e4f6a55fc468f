package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// day returns a due date n days after a fixed origin.
func day(n int) *time.Time {
	d := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, n)
	return &d
}

// corpus is a varied set of tasks: ties in every sort key, undated tasks,
// Unicode case pairs, tags in mixed case, and text full of pattern
// metacharacters next to text those patterns would match if they were
// interpreted.
func corpus() []authdash.TaskDraft {
	return []authdash.TaskDraft{
		{Title: "Alpha", Description: "first letter", Status: "todo", Priority: "high", DueDate: day(3), Tags: []string{"Work"}},
		{Title: "alpha", Description: "same title key, other case", Status: "done", Priority: "low", Tags: []string{"work", "home"}},
		{Title: "Beta", Description: "second", Status: "in_progress", Priority: "medium", DueDate: day(1)},
		{Title: "École d'été", Description: "summer school", Status: "todo", Priority: "high", DueDate: day(3), Tags: []string{"Études"}},
		{Title: "ecole", Description: "no accent here", Status: "todo", Priority: "low"},
		{Title: "gamma", Description: "100% done", Status: "done", Priority: "medium", DueDate: day(-5), Tags: []string{"HOME"}},
		{Title: "delta", Description: "1000 done", Status: "todo", Priority: "high", DueDate: day(10)},
		{Title: "snake_case name", Description: "underscore", Status: "in_progress", Priority: "low", Tags: []string{"code"}},
		{Title: "snakeXcase name", Description: "no underscore", Status: "todo", Priority: "medium", Tags: []string{"code"}},
		{Title: "regex", Description: "matches .* literally", Status: "todo", Priority: "medium", DueDate: day(1)},
		{Title: "brackets", Description: "the [a] token", Status: "done", Priority: "high", DueDate: day(2)},
		{Title: "backslash", Description: `C:\path\to`, Status: "todo", Priority: "low", DueDate: day(0)},
		{Title: "injection", Description: `{"$gt": ""}`, Status: "in_progress", Priority: "medium", Tags: []string{"Sec"}},
		{Title: "mongo operator", Description: "$where and $regex", Status: "todo", Priority: "high"},
		{Title: "quote's", Description: `say "hi"; DROP TABLE tasks; --`, Status: "todo", Priority: "medium", DueDate: day(7)},
		{Title: "ÉCOLE", Description: "upper case accent", Status: "done", Priority: "medium", DueDate: day(7), Tags: []string{"études"}},
		{Title: "zeta", Description: "", Status: "todo", Priority: "high", DueDate: day(-1)},
		{Title: "Zeta", Description: "ALPHA in description", Status: "todo", Priority: "high", DueDate: day(-1)},
		{Title: "eta", Description: "plain", Status: "in_progress", Priority: "medium"},
		{Title: "theta", Description: "plain", Status: "todo", Priority: "medium", DueDate: day(4), Tags: []string{"work"}},
	}
}

// matches is the reference filter every store must agree with.
func matches(t authdash.Task, q authdash.TaskQuery) bool {
	if q.Search != "" {
		s := strings.ToLower(q.Search)
		if !strings.Contains(strings.ToLower(t.Title), s) && !strings.Contains(strings.ToLower(t.Description), s) {
			return false
		}
	}
	if q.Status != "" && t.Status != q.Status {
		return false
	}
	if q.Priority != "" && t.Priority != q.Priority {
		return false
	}
	if q.Tag != "" && !slices.ContainsFunc(t.Tags, func(tag string) bool { return strings.EqualFold(tag, q.Tag) }) {
		return false
	}
	if q.DueBefore != nil && (t.DueDate == nil || !t.DueDate.Before(*q.DueBefore)) {
		return false
	}
	if q.DueAfter != nil && (t.DueDate == nil || !t.DueDate.After(*q.DueAfter)) {
		return false
	}
	return true
}

// compareKeys orders tasks as the query's sort and order demand, ties
// broken by ID.
func compareKeys(a, b authdash.Task, s authdash.TaskSort, o authdash.Order) int {
	ka, kb := authdash.SortKey(a, s, o), authdash.SortKey(b, s, o)
	c := cmp.Or(cmp.Compare(ka.Int, kb.Int), strings.Compare(ka.Str, kb.Str), strings.Compare(string(a.ID), string(b.ID)))
	if o == authdash.Desc {
		return -c
	}
	return c
}

// expected is the reference answer: every matching task in order.
func expected(all []authdash.Task, q authdash.TaskQuery) []authdash.TaskID {
	var out []authdash.Task
	for _, t := range all {
		if matches(t, q) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b authdash.Task) int { return compareKeys(a, b, q.Sort, q.Order) })
	return ids(out)
}

// collect pages through q to the end.
func collect(t *testing.T, s authdash.Store, owner authdash.UserID, q authdash.TaskQuery) []authdash.Task {
	t.Helper()
	var out []authdash.Task
	for range 1000 {
		page, err := s.FindTasks(context.Background(), owner, q)
		mustOK(t, err)
		if len(page.Items) > q.Limit {
			t.Fatalf("page of %d items, limit %d", len(page.Items), q.Limit)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		if len(page.Items) == 0 {
			t.Fatal("empty page with a next cursor")
		}
		q.Cursor = page.NextCursor
	}
	t.Fatal("pagination does not end")
	return nil
}

// testFindTasks runs every kind of query, at several page sizes, against
// one store holding the corpus (and the same data under another owner,
// which must never show).
func testFindTasks(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	owner := mustUser(t, s, "ann")
	other := mustUser(t, s, "bob")
	var all []authdash.Task
	for _, d := range corpus() {
		all = append(all, *mustTask(t, s, owner.ID, d))
		mustTask(t, s, other.ID, d) // the same data under another owner must never show
	}

	type tc struct {
		name string
		q    authdash.TaskQuery
		n    int // expected matches, to keep the reference honest; -1 to skip
	}
	var tests []tc
	for _, sort := range authdash.TaskSorts {
		for _, order := range []authdash.Order{authdash.Asc, authdash.Desc} {
			tests = append(tests, tc{fmt.Sprintf("Sort/%s/%s", sort, order), authdash.TaskQuery{Sort: sort, Order: order}, len(all)})
		}
	}
	tests = append(tests, []tc{
		{"Default", authdash.TaskQuery{}, len(all)},
		{"Status", authdash.TaskQuery{Status: authdash.StatusTodo, Sort: authdash.SortTitle, Order: authdash.Asc}, 12},
		{"Priority", authdash.TaskQuery{Priority: authdash.PriorityHigh, Sort: authdash.SortDue}, 7},
		{"TagIgnoringCase", authdash.TaskQuery{Tag: "WORK"}, 3},
		{"TagUnicodeCase", authdash.TaskQuery{Tag: "ÉTUDES", Sort: authdash.SortDue, Order: authdash.Asc}, 2},
		{"TagNoMatch", authdash.TaskQuery{Tag: "wor"}, 0},
		{"DueBeforeExcludesUndated", authdash.TaskQuery{DueBefore: day(3), Sort: authdash.SortDue, Order: authdash.Asc}, 7},
		{"DueAfterExcludesUndated", authdash.TaskQuery{DueAfter: day(3), Sort: authdash.SortDue, Order: authdash.Desc}, 4},
		{"DueBetween", authdash.TaskQuery{DueAfter: day(0), DueBefore: day(7)}, 6},
		{"SearchTitleAndDescription", authdash.TaskQuery{Search: "alpha"}, 3},
		{"SearchUpperFindsLower", authdash.TaskQuery{Search: "ÉCOLE"}, 2},
		{"SearchLowerFindsUpper", authdash.TaskQuery{Search: "école"}, 2},
		{"SearchPercent", authdash.TaskQuery{Search: "%"}, 1},
		{"SearchUnderscore", authdash.TaskQuery{Search: "_"}, 1},
		{"SearchDotStar", authdash.TaskQuery{Search: ".*"}, 1},
		{"SearchBrackets", authdash.TaskQuery{Search: "[a]"}, 1},
		{"SearchBackslash", authdash.TaskQuery{Search: `\`}, 1},
		{"SearchOperatorJSON", authdash.TaskQuery{Search: `{"$gt": ""}`}, 1},
		{"SearchDollar", authdash.TaskQuery{Search: "$regex"}, 1},
		{"SearchQuote", authdash.TaskQuery{Search: `'s`}, 1},
		{"SearchSQL", authdash.TaskQuery{Search: `"; DROP`}, 1},
		{"SearchNoMatch", authdash.TaskQuery{Search: "zzz"}, 0},
		{"Combined", authdash.TaskQuery{Search: "a", Status: authdash.StatusTodo, Tag: "work", DueAfter: day(0), Sort: authdash.SortPriority, Order: authdash.Desc}, 2},
	}...)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := query(tt.q)
			want := expected(all, q)
			if tt.n >= 0 && len(want) != tt.n {
				t.Fatalf("reference finds %d, the case expects %d: fix the corpus or the case", len(want), tt.n)
			}
			for _, limit := range []int{authdash.MaxPageSize, 3, 1} {
				q.Limit = limit
				got := collect(t, s, owner.ID, q)
				if !slices.Equal(ids(got), want) {
					t.Fatalf("limit %d:\n got %v\nwant %v", limit, titles(all, ids(got)), titles(all, want))
				}
			}
			// Items come back whole.
			q.Limit = authdash.MaxPageSize
			page, err := s.FindTasks(ctx, owner.ID, q)
			mustOK(t, err)
			for _, item := range page.Items {
				i := slices.IndexFunc(all, func(t authdash.Task) bool { return t.ID == item.ID })
				if diff := taskDiff(&item, &all[i]); diff != "" {
					t.Errorf("item %s: %s", item.ID, diff)
				}
			}
		})
	}

}

func testFindTasksErrBadCursor(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	owner := mustUser(t, s, "ann")
	for _, d := range corpus()[:5] {
		mustTask(t, s, owner.ID, d)
	}
	q := query(authdash.TaskQuery{Sort: authdash.SortTitle, Limit: 2})
	page, err := s.FindTasks(ctx, owner.ID, q)
	mustOK(t, err)
	q.Order = authdash.Asc
	q.Cursor = page.NextCursor // made for desc
	_, err = s.FindTasks(ctx, owner.ID, q)
	wantCode(t, err, authdash.CodeInvalid)
	q.Cursor = "not a cursor"
	_, err = s.FindTasks(ctx, owner.ID, q)
	wantCode(t, err, authdash.CodeInvalid)
}

// testFindTasksErrNotNormalised: a query that did not go through
// TaskService's Normalize is refused, not given defaults a second time.
func testFindTasksErrNotNormalised(t *testing.T, open Opener) {
	s := open(t)
	owner := mustUser(t, s, "ann")
	for _, q := range []authdash.TaskQuery{{}, {Sort: authdash.SortTitle, Order: authdash.Asc}, query(authdash.TaskQuery{Limit: authdash.MaxPageSize + 1})} {
		_, err := s.FindTasks(context.Background(), owner.ID, q)
		wantCode(t, err, authdash.CodeInternal)
	}
}

func titles(all []authdash.Task, want []authdash.TaskID) []string {
	out := make([]string, len(want))
	for i, id := range want {
		j := slices.IndexFunc(all, func(t authdash.Task) bool { return t.ID == id })
		out[i] = all[j].Title
	}
	return out
}

// testPagination pages through every sort and order while tasks are
// inserted and deleted between pages: every task that existed throughout
// must appear exactly once, and no task may appear twice.
func testPagination(t *testing.T, open Opener) {
	ctx := context.Background()
	drafts := corpus()
	for _, sort := range authdash.TaskSorts {
		for _, order := range []authdash.Order{authdash.Asc, authdash.Desc} {
			t.Run(fmt.Sprintf("%s/%s", sort, order), func(t *testing.T) {
				s := open(t)
				owner := mustUser(t, s, "ann")
				var stable []authdash.TaskID
				for _, d := range drafts[:15] {
					stable = append(stable, mustTask(t, s, owner.ID, d).ID)
				}
				deleted := map[authdash.TaskID]bool{}
				seen := map[authdash.TaskID]int{}
				q := query(authdash.TaskQuery{Sort: sort, Order: order, Limit: 4})
				for pages := 0; ; pages++ {
					if pages > 50 {
						t.Fatal("pagination does not end")
					}
					page, err := s.FindTasks(ctx, owner.ID, q)
					mustOK(t, err)
					for _, item := range page.Items {
						seen[item.ID]++
						if deleted[item.ID] {
							t.Errorf("deleted task %s listed", item.ID)
						}
					}
					if page.NextCursor == "" {
						break
					}
					q.Cursor = page.NextCursor
					// Between pages: one insert (its key may land before or
					// after the cursor) and one delete of a task not yet seen.
					mustTask(t, s, owner.ID, drafts[15+pages%5])
					for i := len(stable) - 1; i >= 0; i-- {
						if id := stable[i]; seen[id] == 0 && !deleted[id] {
							_, err := s.DeleteTask(ctx, owner.ID, id, 0)
							mustOK(t, err)
							deleted[id] = true
							break
						}
					}
				}
				for id, n := range seen {
					if n > 1 {
						t.Errorf("task %s listed %d times", id, n)
					}
				}
				for _, id := range stable {
					if !deleted[id] && seen[id] != 1 {
						t.Errorf("task %s skipped", id)
					}
				}
			})
		}
	}
}
