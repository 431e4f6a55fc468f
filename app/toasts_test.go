package app

import (
	"maps"
	"testing"
	"time"

	"github.com/authdash/authdash/app/undo"
)

func TestNewestOffer(t *testing.T) {
	tests := []struct {
		name  string
		items []toast
		want  int
	}{
		{"OKNone", nil, 0},
		{"OKOnlyMessages", []toast{{ID: 3, Text: "Saved."}}, 0},
		{"OKTheLastOffer", []toast{{ID: -1, Offer: 1}, {ID: -4, Offer: 4}, {ID: 2, Text: "Saved."}}, -4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newestOffer(tt.items); got != tt.want {
				t.Errorf("newestOffer(%v) = %d, want %d", tt.items, got, tt.want)
			}
		})
	}
}

// TestKeepClocks: every toast with a Life counts down, messages as well as
// offers (so a message, too, stands still while held); one with Retry
// stays until pressed; a clock is not restarted as the toasts change, and
// goes with its toast.
func TestKeepClocks(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := start.Add(time.Second)
	running := func(d time.Duration) *undo.Countdown {
		c := undo.Start(d, start)
		return &c
	}
	tests := []struct {
		name  string
		had   map[int]*undo.Countdown
		items []toast
		want  map[int]time.Time // when each clock runs out
	}{
		{"OKNone", nil, nil, map[int]time.Time{}},
		{"OKOffer", nil, []toast{{ID: -1, Offer: 1, Life: undo.Window}}, map[int]time.Time{-1: now.Add(undo.Window)}},
		{"OKMessage", nil, []toast{{ID: 3, Text: "Saved.", Life: undo.Window}}, map[int]time.Time{3: now.Add(undo.Window)}},
		{"OKError", nil, []toast{{ID: 4, Text: "Task not found.", Error: true, Life: 2 * undo.Window}},
			map[int]time.Time{4: now.Add(2 * undo.Window)}},
		{"OKRetryHasNone", nil, []toast{{ID: 5, Text: "Not saved.", Error: true, Retry: true}}, map[int]time.Time{}},
		{"OKRunningKept", map[int]*undo.Countdown{3: running(undo.Window)}, []toast{{ID: 3, Life: undo.Window}, {ID: 6, Life: undo.Window}},
			map[int]time.Time{3: start.Add(undo.Window), 6: now.Add(undo.Window)}},
		{"OKGoneDropped", map[int]*undo.Countdown{-2: running(undo.Window), 3: running(undo.Window)}, []toast{{ID: 3, Life: undo.Window}},
			map[int]time.Time{3: start.Add(undo.Window)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clocks := maps.Clone(tt.had)
			if clocks == nil {
				clocks = make(map[int]*undo.Countdown)
			}
			keepClocks(clocks, tt.items, now)
			got := make(map[int]time.Time, len(clocks))
			for id, c := range clocks {
				got[id], _ = c.Ends()
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("keepClocks(%v) ends %v, want %v", tt.items, got, tt.want)
			}
		})
	}
}
