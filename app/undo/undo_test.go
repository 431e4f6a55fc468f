package undo_test

import (
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/undo"
)

var t0 = time.Date(2031, 1, 1, 12, 0, 0, 0, time.UTC)

func task(id, title string, v int64) authdash.Task {
	return authdash.Task{ID: authdash.TaskID(id), Title: title, Version: v}
}

func TestOffers(t *testing.T) {
	type step struct {
		op   string // add, take, expire
		kind undo.Kind
		task string
		at   time.Duration
		id   int
		ok   bool   // take's answer
		open []int  // offers open after the step
		text string // the text of the added or taken offer
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"OKTakeWithinTheWindow", []step{
			{op: "add", kind: undo.Completed, task: "a", open: []int{1}, text: "“a” marked done."},
			{op: "take", id: 1, at: 5 * time.Second, ok: true, open: []int{}, text: "“a” marked done."},
		}},
		{"OKTakeLongAfterTheToastsWindow", []step{
			{op: "add", kind: undo.Deleted, task: "a", open: []int{1}},
			{op: "take", id: 1, at: undo.Limit - time.Millisecond, ok: true, open: []int{}},
		}},
		{"ErrTakeTwice", []step{
			{op: "add", kind: undo.Deleted, task: "a", open: []int{1}, text: "“a” deleted."},
			{op: "take", id: 1, ok: true, open: []int{}},
			{op: "take", id: 1, ok: false, open: []int{}},
		}},
		{"ErrTakeExpired", []step{
			{op: "add", kind: undo.Deleted, task: "a", open: []int{1}},
			{op: "take", id: 1, at: undo.Limit, ok: false, open: []int{}},
		}},
		{"OKExpireOnlyTheOld", []step{
			{op: "add", kind: undo.Completed, task: "a", open: []int{1}},
			{op: "add", kind: undo.Reopened, task: "b", at: 3 * time.Second, open: []int{1, 2}, text: "“b” marked not done."},
			{op: "expire", at: undo.Limit, open: []int{2}},
			{op: "expire", at: undo.Limit + 3*time.Second, open: []int{}},
		}},
		{"OKANewActionOnATaskReplacesItsOffer", []step{
			{op: "add", kind: undo.Completed, task: "a", open: []int{1}},
			{op: "add", kind: undo.Deleted, task: "b", open: []int{1, 2}},
			{op: "add", kind: undo.Deleted, task: "a", open: []int{2, 3}},
			{op: "take", id: 1, ok: false, open: []int{2, 3}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o undo.Offers
			for i, s := range tt.steps {
				now := t0.Add(s.at)
				var text string
				switch s.op {
				case "add":
					of := o.Add(s.kind, task(s.task, s.task, 1), task(s.task, s.task, 2), now)
					text = of.Text()
				case "take":
					of, ok := o.Take(s.id, now)
					if ok != s.ok {
						t.Errorf("step %d: Take = %v, want %v", i, ok, s.ok)
					}
					if ok {
						text = of.Text()
					}
				case "expire":
					o.Expire(now)
				}
				if s.text != "" && text != s.text {
					t.Errorf("step %d: text %q, want %q", i, text, s.text)
				}
				var open []int
				for _, of := range o.Open() {
					open = append(open, of.ID)
				}
				if len(open) != len(s.open) {
					t.Fatalf("step %d: open %v, want %v", i, open, s.open)
				}
				for j := range open {
					if open[j] != s.open[j] {
						t.Fatalf("step %d: open %v, want %v", i, open, s.open)
					}
				}
			}
		})
	}
}

func TestNext(t *testing.T) {
	var o undo.Offers
	if !o.Next().IsZero() {
		t.Error("Next of no offers is not zero")
	}
	o.Add(undo.Completed, task("a", "a", 1), task("a", "a", 2), t0.Add(time.Second))
	o.Add(undo.Completed, task("b", "b", 1), task("b", "b", 2), t0)
	if got := o.Next(); !got.Equal(t0.Add(undo.Limit)) {
		t.Errorf("Next = %v, want the earliest expiry", got)
	}
}

func TestCountdown(t *testing.T) {
	type step struct {
		at   time.Duration
		hold undo.Hold
		on   bool
	}
	tests := []struct {
		name  string
		steps []step
		// over and notOver are times the countdown has, and has not yet,
		// run out by; held is whether it is held after the steps.
		over, notOver time.Duration
		held          bool
	}{
		{"OKRunsOutAfterTheWindow", nil, undo.Window, undo.Window - time.Millisecond, false},
		{"OKStandsStillWhileHovered", []step{{at: 2 * time.Second, hold: undo.Pointer, on: true}},
			-1, time.Hour, true},
		{"OKStandsStillWhileFocused", []step{{at: 5 * time.Second, hold: undo.Focus, on: true}},
			-1, time.Hour, true},
		{"OKResumesWhereItStood", []step{
			{at: 2 * time.Second, hold: undo.Pointer, on: true},
			{at: 32 * time.Second, hold: undo.Pointer, on: false},
		}, 36 * time.Second, 36*time.Second - time.Millisecond, false},
		{"OKAtLeastResumeLeft", []step{
			{at: 5900 * time.Millisecond, hold: undo.Focus, on: true},
			{at: 20 * time.Second, hold: undo.Focus, on: false},
		}, 20*time.Second + undo.Resume, 20*time.Second + undo.Resume - time.Millisecond, false},
		{"OKHeldWhileEitherHolds", []step{
			{at: 1 * time.Second, hold: undo.Pointer, on: true},
			{at: 2 * time.Second, hold: undo.Focus, on: true},
			{at: 3 * time.Second, hold: undo.Pointer, on: false},
		}, -1, time.Hour, true},
		{"OKBothLetGo", []step{
			{at: 1 * time.Second, hold: undo.Pointer, on: true},
			{at: 2 * time.Second, hold: undo.Focus, on: true},
			{at: 3 * time.Second, hold: undo.Pointer, on: false},
			{at: 10 * time.Second, hold: undo.Focus, on: false},
		}, 15 * time.Second, 15*time.Second - time.Millisecond, false},
		{"OKLeavingTwiceIsLeavingOnce", []step{
			{at: 1 * time.Second, hold: undo.Pointer, on: true},
			{at: 2 * time.Second, hold: undo.Pointer, on: false},
			{at: 4 * time.Second, hold: undo.Pointer, on: false},
		}, 7 * time.Second, 7*time.Second - time.Millisecond, false},
		{"OKEnteringTwiceIsEnteringOnce", []step{
			{at: 1 * time.Second, hold: undo.Focus, on: true},
			{at: 3 * time.Second, hold: undo.Focus, on: true},
			{at: 10 * time.Second, hold: undo.Focus, on: false},
		}, 15 * time.Second, 15*time.Second - time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := undo.Start(undo.Window, t0)
			for _, s := range tt.steps {
				c.Set(s.hold, s.on, t0.Add(s.at))
			}
			if c.Held() != tt.held {
				t.Errorf("Held = %v, want %v", c.Held(), tt.held)
			}
			if tt.over >= 0 && !c.Over(t0.Add(tt.over)) {
				t.Errorf("not over at %v", tt.over)
			}
			if c.Over(t0.Add(tt.notOver)) {
				t.Errorf("over at %v", tt.notOver)
			}
			end, ok := c.Ends()
			if ok == tt.held || (ok && !end.Equal(t0.Add(tt.over))) {
				t.Errorf("Ends = %v, %v; want %v, %v", end, ok, t0.Add(tt.over), !tt.held)
			}
		})
	}
}

// TestLimitWithinTheServersWindow: an offer never outlives what the server
// restores, so Undo is never refused for being late.
func TestLimitWithinTheServersWindow(t *testing.T) {
	if undo.Limit >= authdash.RestoreWindow/2 {
		t.Errorf("Limit %v, the server restores for %v", undo.Limit, authdash.RestoreWindow)
	}
	if undo.Limit < undo.Window || undo.Resume > undo.Window {
		t.Errorf("Limit %v, Window %v, Resume %v", undo.Limit, undo.Window, undo.Resume)
	}
}
