package app

import (
	"strings"
	"testing"

	"github.com/authdash/authdash"
)

// TestElsewhere: what the open editor says of the task's fate elsewhere.
// A deletion is said (D3: it was not, the edit was lost on save), and says
// how the edit is kept; a restore of the version the editor opened says
// nothing, so the editor is an ordinary one again.
func TestElsewhere(t *testing.T) {
	base := authdash.Task{ID: "a", Title: "Report", Status: authdash.StatusTodo, Priority: authdash.PriorityMedium, Version: 2}
	mine := base
	mine.Title = "Report, mine"
	restored := base
	restored.Version = 4
	prio := base
	prio.Priority, prio.Version = authdash.PriorityHigh, 3
	retitled := base
	retitled.Title, retitled.Version = "Report, theirs", 3
	tests := []struct {
		name           string
		cur            authdash.Task
		found, deleted bool
		want           []string // substrings; none: says nothing
	}{
		{"OKUnchanged", base, true, false, nil},
		{"OKNotInListSaysNothing", authdash.Task{}, false, false, nil},
		{"OKDeleted", authdash.Task{}, false, true, []string{"deleted elsewhere", "save them as a new task"}},
		{"OKRestoredSaysNothing", restored, true, false, nil},
		{"OKChangedOtherField", prio, true, false, []string{"changed elsewhere (priority)", "keeps those changes and yours"}},
		{"OKBothChangedTitle", retitled, true, false, []string{"You both changed title", "you choose"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := elsewhere(base, mine, true, tt.cur, tt.found, tt.deleted)
			if len(tt.want) == 0 && got != "" {
				t.Errorf("elsewhere = %q, want nothing", got)
			}
			if len(tt.want) > 0 && got == "" {
				t.Errorf("elsewhere says nothing, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("elsewhere = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}
