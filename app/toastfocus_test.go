package app

import (
	"testing"

	"github.com/authdash/authdash"
)

func TestFocusAfterToasts(t *testing.T) {
	tests := []struct {
		name    string
		focus   toastFocus
		items   []toast
		wantSel string
		wantRow authdash.TaskID
	}{
		{"OKEarlierToastWentStayOnTheButton", toastFocus{Toast: -2, Ctl: "undo", Task: "b"},
			[]toast{{ID: -2, Offer: 2, Task: "b"}}, toastCtlSel(-2, "undo"), ""},
		{"OKLaterToastWentStayOnTheButton", toastFocus{Toast: 5, Ctl: "retry", Task: "a"},
			[]toast{{ID: -1, Offer: 1, Task: "x"}, {ID: 5, Retry: true, Task: "a"}}, toastCtlSel(5, "retry"), ""},
		{"OKFocusedToastWentToItsRow", toastFocus{Toast: -1, Ctl: "undo", Task: "a"},
			[]toast{{ID: -2, Offer: 2, Task: "b"}}, "", "a"},
		{"OKLastToastWentToItsRow", toastFocus{Toast: -1, Ctl: "dismiss", Task: "a"}, nil, "", "a"},
		{"OKNoTaskToTheList", toastFocus{Toast: 3, Ctl: "dismiss"}, nil, "#tasks-title", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, row := focusAfterToasts(tt.focus, tt.items)
			if sel != tt.wantSel || row != tt.wantRow {
				t.Errorf("focusAfterToasts = %q, %q, want %q, %q", sel, row, tt.wantSel, tt.wantRow)
			}
		})
	}
}
