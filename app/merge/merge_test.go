package merge_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/merge"
)

func day(d int) *time.Time {
	t := time.Date(2030, 1, d, 0, 0, 0, 0, time.UTC)
	return &t
}

var base = authdash.Task{
	ID: "t1", Title: "Write report", Description: "Q3", Status: authdash.StatusTodo,
	Priority: authdash.PriorityMedium, DueDate: day(10), Tags: []string{"work"}, Version: 3,
}

// with returns base changed by f.
func with(f func(t *authdash.Task)) authdash.Task {
	t := base
	t.Tags = slices.Clone(base.Tags)
	f(&t)
	return t
}

// patchJSON shows a patch as the server would receive it.
func patchJSON(t *testing.T, p authdash.TaskPatch) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name          string
		mine, theirs  authdash.Task
		conflicts     []merge.Field
		keepMine      string // the patch sent when the user keeps their change
		keepTheirs    string // the patch sent when they keep the other version
		mergedTitle   string
		mergedPrio    authdash.TaskPriority
		mergedDueDay  int // 0: no due date
		mergedTagsLen int
	}{
		{
			name:     "OKNothingChangedElsewhere",
			mine:     with(func(t *authdash.Task) { t.Title = "Write the report" }),
			theirs:   base,
			keepMine: `{"title":"Write the report"}`, keepTheirs: `{"title":"Write the report"}`,
			mergedTitle: "Write the report", mergedPrio: authdash.PriorityMedium, mergedDueDay: 10, mergedTagsLen: 1,
		},
		{
			// The case: A changed only the priority, B only the
			// title; B keeps A's priority without being asked.
			name:     "OKDifferentFieldsMergeSilently",
			mine:     with(func(t *authdash.Task) { t.Title = "Title by B" }),
			theirs:   with(func(t *authdash.Task) { t.Priority = authdash.PriorityHigh; t.Version = 4 }),
			keepMine: `{"title":"Title by B"}`, keepTheirs: `{"title":"Title by B"}`,
			mergedTitle: "Title by B", mergedPrio: authdash.PriorityHigh, mergedDueDay: 10, mergedTagsLen: 1,
		},
		{
			name:      "ErrSameFieldDifferentValues",
			mine:      with(func(t *authdash.Task) { t.Title = "Mine"; t.DueDate = day(12) }),
			theirs:    with(func(t *authdash.Task) { t.Title = "Theirs"; t.Priority = authdash.PriorityLow }),
			conflicts: []merge.Field{merge.Title},
			keepMine:  `{"title":"Mine","dueDate":"2030-01-12T00:00:00Z"}`, keepTheirs: `{"dueDate":"2030-01-12T00:00:00Z"}`,
			mergedTitle: "Mine", mergedPrio: authdash.PriorityLow, mergedDueDay: 12, mergedTagsLen: 1,
		},
		{
			name:     "OKSameFieldSameValue",
			mine:     with(func(t *authdash.Task) { t.Status = authdash.StatusDone }),
			theirs:   with(func(t *authdash.Task) { t.Status = authdash.StatusDone }),
			keepMine: `{}`, keepTheirs: `{}`,
			mergedTitle: "Write report", mergedPrio: authdash.PriorityMedium, mergedDueDay: 10, mergedTagsLen: 1,
		},
		{
			// Clearing a date is a change like any other, and so is
			// setting one on the other side.
			name:      "ErrDueDateClearedAndMoved",
			mine:      with(func(t *authdash.Task) { t.DueDate = nil }),
			theirs:    with(func(t *authdash.Task) { t.DueDate = day(20) }),
			conflicts: []merge.Field{merge.DueDate},
			keepMine:  `{"dueDate":null}`, keepTheirs: `{}`,
			mergedTitle: "Write report", mergedPrio: authdash.PriorityMedium, mergedDueDay: 0, mergedTagsLen: 1,
		},
		{
			name:     "OKMyClearedDateKept",
			mine:     with(func(t *authdash.Task) { t.DueDate = nil }),
			theirs:   with(func(t *authdash.Task) { t.Description = "Q4" }),
			keepMine: `{"dueDate":null}`, keepTheirs: `{"dueDate":null}`,
			mergedTitle: "Write report", mergedPrio: authdash.PriorityMedium, mergedDueDay: 0, mergedTagsLen: 1,
		},
		{
			// The same instant in another location is the same date.
			name:     "OKEqualInstantsAreSame",
			mine:     with(func(t *authdash.Task) { d := day(10).In(time.FixedZone("X", 3600)); t.DueDate = &d }),
			theirs:   base,
			keepMine: `{}`, keepTheirs: `{}`,
			mergedTitle: "Write report", mergedPrio: authdash.PriorityMedium, mergedDueDay: 10, mergedTagsLen: 1,
		},
		{
			name:      "ErrTagsBothChanged",
			mine:      with(func(t *authdash.Task) { t.Tags = []string{"work", "urgent"} }),
			theirs:    with(func(t *authdash.Task) { t.Tags = []string{} }),
			conflicts: []merge.Field{merge.Tags},
			keepMine:  `{"tags":["work","urgent"]}`, keepTheirs: `{}`,
			mergedTitle: "Write report", mergedPrio: authdash.PriorityMedium, mergedDueDay: 10, mergedTagsLen: 2,
		},
		{
			name:     "OKAllTagsRemovedIsAnEmptyList",
			mine:     with(func(t *authdash.Task) { t.Tags = nil }),
			theirs:   base,
			keepMine: `{"tags":[]}`, keepTheirs: `{"tags":[]}`,
			mergedTitle: "Write report", mergedPrio: authdash.PriorityMedium, mergedDueDay: 10, mergedTagsLen: 0,
		},
		{
			name: "ErrEveryFieldBoth",
			mine: with(func(t *authdash.Task) {
				t.Title, t.Description, t.Status, t.Priority, t.DueDate, t.Tags = "M", "m", authdash.StatusDone, authdash.PriorityHigh, day(1), []string{"m"}
			}),
			theirs: with(func(t *authdash.Task) {
				t.Title, t.Description, t.Status, t.Priority, t.DueDate, t.Tags = "T", "t", authdash.StatusInProgress, authdash.PriorityLow, day(2), []string{"t"}
			}),
			conflicts:   merge.Fields,
			keepMine:    `{"title":"M","description":"m","status":"done","priority":"high","dueDate":"2030-01-01T00:00:00Z","tags":["m"]}`,
			keepTheirs:  `{}`,
			mergedTitle: "M", mergedPrio: authdash.PriorityHigh, mergedDueDay: 1, mergedTagsLen: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := merge.Merge(base, tt.mine, tt.theirs)
			if !slices.Equal(r.Conflicts, tt.conflicts) {
				t.Errorf("conflicts = %v, want %v", r.Conflicts, tt.conflicts)
			}
			if r.Conflicted() != (len(tt.conflicts) > 0) {
				t.Errorf("Conflicted() = %v", r.Conflicted())
			}
			if got := patchJSON(t, r.Patch(true)); got != tt.keepMine {
				t.Errorf("Patch(keep mine) = %s, want %s", got, tt.keepMine)
			}
			if got := patchJSON(t, r.Patch(false)); got != tt.keepTheirs {
				t.Errorf("Patch(keep theirs) = %s, want %s", got, tt.keepTheirs)
			}
			m := r.Merged(true)
			if m.Title != tt.mergedTitle || m.Priority != tt.mergedPrio || len(m.Tags) != tt.mergedTagsLen {
				t.Errorf("Merged = %q %q %v", m.Title, m.Priority, m.Tags)
			}
			switch {
			case tt.mergedDueDay == 0 && m.DueDate != nil:
				t.Errorf("Merged due %v, want none", m.DueDate)
			case tt.mergedDueDay != 0 && (m.DueDate == nil || m.DueDate.Day() != tt.mergedDueDay):
				t.Errorf("Merged due %v, want day %d", m.DueDate, tt.mergedDueDay)
			}
			// Keeping theirs keeps every field of theirs the user did not
			// also change.
			kt := r.Merged(false)
			for _, f := range merge.Fields {
				if merge.Same(f, base, tt.mine) && !merge.Same(f, kt, tt.theirs) {
					t.Errorf("keep theirs lost their %s", f)
				}
			}
		})
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name string
		b    authdash.Task
		want string
	}{
		{"OKNone", base, `{}`},
		{"OKTitleAndStatus", with(func(t *authdash.Task) { t.Title = "X"; t.Status = authdash.StatusDone }), `{"title":"X","status":"done"}`},
		{"OKClearDue", with(func(t *authdash.Task) { t.DueDate = nil }), `{"dueDate":null}`},
		{"OKDescriptionEmptied", with(func(t *authdash.Task) { t.Description = "" }), `{"description":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := merge.Diff(base, tt.b)
			if got := patchJSON(t, p); got != tt.want {
				t.Errorf("Diff = %s, want %s", got, tt.want)
			}
			if got := merge.Changed(base, p.Apply(base)); len(got) != len(merge.Changed(base, tt.b)) {
				t.Errorf("applying the diff changes %v", got)
			}
		})
	}
}

func TestFieldLabels(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range merge.Fields {
		l := f.Label()
		if l == string(f) || seen[l] {
			t.Errorf("field %s has label %q", f, l)
		}
		seen[l] = true
	}
}
