package app

import (
	"testing"

	"github.com/authdash/authdash"
)

func TestFirstLoaded(t *testing.T) {
	ids := func(s ...authdash.TaskID) []authdash.TaskID { return s }
	tests := []struct {
		name        string
		before, now []authdash.TaskID
		want        authdash.TaskID
	}{
		{"OKNextPage", ids("a", "b"), ids("a", "b", "c", "d"), "c"},
		{"OKFromNothing", nil, ids("a"), "a"},
		{"OKAddedAboveMeanwhile", ids("a", "b"), ids("x", "a", "b", "c"), "c"},
		{"OKLastDeletedMeanwhile", ids("a", "b"), ids("a", "c"), "c"},
		{"OKAllDeletedMeanwhile", ids("a", "b"), ids("c"), "c"},
		{"ErrNotYet", ids("a", "b"), ids("a", "b"), ""},
		{"ErrOnlyAddedAbove", ids("a", "b"), ids("x", "a", "b"), ""},
		{"ErrReordered", ids("a", "b", "c"), ids("c", "a", "b"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := firstLoaded(tt.before, tt.now); got != tt.want {
				t.Errorf("firstLoaded(%v, %v) = %q, want %q", tt.before, tt.now, got, tt.want)
			}
		})
	}
}
