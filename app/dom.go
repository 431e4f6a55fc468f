package app

import (
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The few things the dashboard asks of the DOM directly: modal dialogs
// (which the browser makes modal, traps focus in and closes on Esc) and
// where the focus goes after an action, so that it never falls to <body>.
// On the server (prerendering) app.Window is inert and these do nothing.

func document() app.Value { return app.Window().Get("document") }

// byID returns the element with that id (not Truthy when there is none).
func byID(id string) app.Value { return document().Call("getElementById", id) }

// query returns the first element matching a CSS selector.
func query(sel string) app.Value { return document().Call("querySelector", sel) }

// focusEl focuses el if it is in the page, and reports whether it did.
func focusEl(el app.Value) bool {
	if !app.IsClient || !el.Truthy() || !el.Get("isConnected").Bool() {
		return false
	}
	el.Call("focus")
	return true
}

// focusID focuses the element with that id, if there is one.
func focusID(id string) bool { return id != "" && focusEl(byID(id)) }

// showModal opens the dialog with that id as a modal: the rest of the page
// is inert until it closes, and Esc closes it (its cancel event).
func showModal(id string) {
	if !app.IsClient {
		return
	}
	if d := byID(id); d.Truthy() && !d.Get("open").Bool() {
		d.Call("showModal")
	}
}

// closeModal closes the dialog with that id.
func closeModal(id string) {
	if !app.IsClient {
		return
	}
	if d := byID(id); d.Truthy() && d.Get("open").Bool() {
		d.Call("close")
	}
}

// anyModalOpen reports whether a modal dialog is open.
func anyModalOpen() bool {
	return app.IsClient && query("dialog[open]").Truthy()
}

// taskControlSel selects a task row's control (data-task, data-ctl).
func taskControlSel(id, ctl string) string {
	return `[data-task=` + strconv.Quote(id) + `][data-ctl=` + strconv.Quote(ctl) + `]`
}

// focusSoon focuses the element matching sel as soon as the page shows
// it: after an action the element is rendered at go-app's next frame,
// and a handler's own context (its element) may be gone by then.
func focusSoon(sel string) {
	if !app.IsClient {
		return
	}
	go func() {
		for range 30 {
			time.Sleep(16 * time.Millisecond)
			if focusEl(query(sel)) {
				return
			}
		}
	}()
}

// focusableSel matches what Tab can reach inside a dialog.
const focusableSel = `button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])`

// trapTab keeps Tab and Shift+Tab inside the dialog it is the keydown
// handler of: from the last control to the first and back. (A modal
// dialog makes the page inert, but Tab past its end still leaves for the
// browser's own controls or the document.)
func trapTab(ctx app.Context, e app.Event) {
	if e.Get("key").String() != "Tab" {
		return
	}
	all := ctx.JSSrc().Call("querySelectorAll", focusableSel)
	n := all.Length()
	if n == 0 {
		return
	}
	first, last := all.Index(0), all.Index(n-1)
	active := document().Get("activeElement")
	switch shift := e.Get("shiftKey").Bool(); {
	case shift && (active.Equal(first) || !ctx.JSSrc().Call("contains", active).Bool()):
		e.PreventDefault()
		last.Call("focus")
	case !shift && (active.Equal(last) || !ctx.JSSrc().Call("contains", active).Bool()):
		e.PreventDefault()
		first.Call("focus")
	}
}

// focusIfLost focuses the element with that id when the focus is nowhere
// (on <body>), as after a page is replaced by another: sign-in, sign-out.
func focusIfLost(id string) {
	if !app.IsClient {
		return
	}
	if el := document().Get("activeElement"); el.Truthy() && !el.Equal(document().Get("body")) {
		return
	}
	focusID(id)
}
