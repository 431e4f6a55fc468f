package app

import (
	"strconv"

	"github.com/authdash/authdash"
)

// toastFocus is where the focus is among the toasts: which control
// (undo, retry, dismiss) of which toast, and the task the toast is about.
// Toasts are rendered in place (go-app reuses the elements of a list), so
// when an earlier toast goes, the element holding the focus may be removed
// or show another toast: the focus is put back by these names, not by the
// element.
type toastFocus struct {
	Toast int
	Ctl   string
	Task  authdash.TaskID
}

// toastCtlSel selects a toast's control.
func toastCtlSel(toastID int, ctl string) string {
	return `#toasts [data-toast="` + strconv.Itoa(toastID) + `"][data-ctl="` + ctl + `"]`
}

// focusAfterToasts returns where the focus goes once the toasts show
// items: the same control of the same toast while it is there (sel); when
// that toast went, the row of its task (row), which the list focuses; for
// a toast about no task, the list's heading (sel).
func focusAfterToasts(f toastFocus, items []toast) (sel string, row authdash.TaskID) {
	for _, it := range items {
		if it.ID == f.Toast {
			return toastCtlSel(f.Toast, f.Ctl), ""
		}
	}
	if f.Task != "" {
		return "", f.Task
	}
	return "#tasks-title", ""
}
