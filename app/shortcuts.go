package app

import (
	"unicode/utf8"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash/app/shortcut"
)

// keyHelp is one key of the dashboard, as the help dialog lists it.
type keyHelp struct{ Keys, What string }

var shortcuts = []keyHelp{
	{"n", "New task (the quick-add bar)"},
	{"/", "Search"},
	{"j / k", "Next / previous task"},
	{"x", "Mark the task done or not done"},
	{"e", "Edit the task"},
	{"Delete / Backspace", "Delete the task (with Undo)"},
	{"Ctrl+Z / ⌘Z", "Undo what the newest toast offers to undo (a deletion, done or not done)"},
	{"?", "Show these shortcuts"},
	{"Esc", "Close a dialog"},
}

// onShortcut acts on a keydown anywhere in the dashboard, unless the user
// is typing in a field, a dialog is open or a modifier is held: the keys
// of the best task apps (n, /, j, k, x, e, Delete, ?), and Ctrl+Z (⌘Z)
// while a toast offers to undo. The task acted on is the one whose row
// holds the focus; j and k move it. It reports whether the key was a
// shortcut, whose keydown it then cancelled.
func onShortcut(ctx app.Context, e app.Value) bool {
	p := shortcut.Press{
		Key: e.Get("key").String(), Code: e.Get("code").String(),
		Ctrl: e.Get("ctrlKey").Bool(), Meta: e.Get("metaKey").Bool(), Alt: e.Get("altKey").Bool(),
		Composing: e.Get("isComposing").Bool(), Repeat: e.Get("repeat").Bool(),
		Prevented: e.Get("defaultPrevented").Bool(),
	}
	shift := e.Get("shiftKey").Bool()
	if isUndoKey(p, shift) {
		p.Typing, p.Modal = typing(e.Get("target")), anyModalOpen()
		if !isUndoKey(p, shift) || !clickNewestUndo() {
			return false // the browser's own undo, if any
		}
		e.Call("preventDefault")
		return true
	}
	if shortcut.Of(p) == shortcut.None {
		return false
	}
	// Asked of the DOM only for a key that would be a shortcut.
	p.Typing, p.Modal = typing(e.Get("target")), anyModalOpen()
	handled := true
	switch shortcut.Of(p) {
	case shortcut.New:
		handled = focusID("new-title")
	case shortcut.Search:
		handled = focusID("search")
	case shortcut.Next:
		moveFocus(1)
	case shortcut.Previous:
		moveFocus(-1)
	case shortcut.Toggle:
		handled = clickInFocusedRow("check")
	case shortcut.Edit:
		handled = clickInFocusedRow("edit")
	case shortcut.Delete:
		row := focusedRow()
		if !row.Truthy() || !row.Get("dataset").Get("id").Truthy() {
			handled = false
			break
		}
		ref := taskRef{ID: taskIDOf(row), Version: versionOf(row)}
		ctx.Dispatch(func(ctx app.Context) { ctx.NewActionWithValue(string(actDelete), ref) })
	case shortcut.Help:
		ctx.Dispatch(func(ctx app.Context) { ctx.SetState(string(stHelp), true) })
	default:
		handled = false
	}
	if handled {
		// The key is not typed into the field it focused, nor does
		// Backspace go back in history. (Its keypress, which some event
		// sequences send apart, is cancelled too: shortcut.Guard.)
		e.Call("preventDefault")
	}
	return handled
}

// isUndoKey reports whether a keydown is the undo shortcut: Ctrl+Z, or
// ⌘Z (Cmd, which Macs use for it), Z with Caps Lock too. Not while the
// person types in a field (the field's own undo), with a dialog open, with
// Shift (redo) or Alt, while an input method composes, when the key
// repeats (one press, one undo) or something else handled it.
//
// Z is the key that types "z" (so Dvorak's Z, elsewhere on the keyboard,
// counts), or, on a layout whose key there types no Latin letter (Russian
// "я", Greek "ζ"), the key where QWERTY has Z, as the browser's own Ctrl+Z
// does. Not that key when it types a Latin character: on QWERTZ it is Y,
// and Ctrl+Y is redo; on Dvorak it is ";".
func isUndoKey(p shortcut.Press, shift bool) bool {
	if p.Ctrl == p.Meta || shift || p.Alt || p.Composing || p.Repeat || p.Prevented || p.Typing || p.Modal {
		return false
	}
	if p.Key == "z" || p.Key == "Z" {
		return true
	}
	return p.Code == "KeyZ" && !typesASCII(p.Key)
}

// typesASCII reports whether a KeyboardEvent.key is one ASCII character
// (not a named key such as "Control", nor a letter of another script).
func typesASCII(key string) bool {
	return len(key) == 1 && key[0] < utf8.RuneSelf
}

// clickNewestUndo presses the Undo of the newest offer shown (offers are
// listed oldest first), and reports whether there was one.
func clickNewestUndo() bool {
	undos := document().Call("querySelectorAll", "#toasts .undo")
	n := undos.Length()
	if n == 0 {
		return false
	}
	undos.Index(n - 1).Call("click")
	return true
}

// typing reports whether el takes text: shortcuts must not fire there.
// A checkbox or a button does not (that is where j and k leave focus).
func typing(el app.Value) bool {
	if !el.Truthy() {
		return false
	}
	if el.Get("isContentEditable").Bool() {
		return true
	}
	switch el.Get("tagName").String() {
	case "TEXTAREA", "SELECT":
		return true
	case "INPUT":
		switch el.Get("type").String() {
		case "checkbox", "radio", "button", "submit", "reset":
			return false
		}
		return true
	}
	return false
}

// focusedRow returns the task row holding the focus (not Truthy if none).
func focusedRow() app.Value {
	el := document().Get("activeElement")
	if !el.Truthy() {
		return el
	}
	return el.Call("closest", "#task-list > li")
}

// moveFocus focuses the checkbox of the task d rows after (before, if
// negative) the focused one; from outside the list, the first (or last).
func moveFocus(d int) {
	rows := document().Call("querySelectorAll", "#task-list > li")
	n := rows.Length()
	if n == 0 {
		return
	}
	cur := focusedRow()
	i := -1
	for k := range n {
		if cur.Truthy() && rows.Index(k).Equal(cur) {
			i = k
			break
		}
	}
	switch {
	case i < 0 && d > 0:
		i = 0
	case i < 0:
		i = n - 1
	default:
		i = min(max(i+d, 0), n-1)
	}
	row := rows.Index(i)
	if !focusEl(row.Call("querySelector", `[data-ctl="check"]`)) {
		focusEl(row.Call("querySelector", "button"))
	}
	row.Call("scrollIntoView", map[string]any{"block": "nearest"})
}

// clickInFocusedRow clicks a control (data-ctl) of the focused row.
func clickInFocusedRow(ctl string) bool {
	row := focusedRow()
	if !row.Truthy() {
		return false
	}
	el := row.Call("querySelector", `[data-ctl="`+ctl+`"]`)
	if !el.Truthy() {
		return false
	}
	el.Call("click")
	return true
}

// shortcutsDialog lists the keyboard shortcuts ("?").
type shortcutsDialog struct {
	app.Compo
	open  bool
	modal modal
}

func (d *shortcutsDialog) OnMount(ctx app.Context) {
	d.modal.id = "shortcuts"
	observe(ctx, stHelp, &d.open).OnChange(func() {
		if d.open {
			d.modal.show(ctx)
		} else {
			d.modal.hide()
		}
	})
}

func (d *shortcutsDialog) close(ctx app.Context, _ app.Event) { ctx.SetState(string(stHelp), false) }

func (d *shortcutsDialog) onClose(ctx app.Context, e app.Event) {
	if d.modal.closedByUser() && d.open {
		d.close(ctx, e)
	}
}

func (d *shortcutsDialog) Render() app.UI {
	rows := make([]app.UI, 0, 2*len(shortcuts))
	for _, s := range shortcuts {
		rows = append(rows, app.Dt().Body(app.Kbd().Text(s.Keys)), app.Dd().Text(s.What))
	}
	return app.Dialog().ID("shortcuts").On("keydown", trapTab).Class("dialog small").Aria("labelledby", "shortcuts-title").
		On("close", d.onClose).Body(
		app.If(d.open, func() app.UI {
			return app.Div().Class("dialog-body").Body(
				app.H2().ID("shortcuts-title").Text("Keyboard shortcuts"),
				app.P().Class("muted").Text("They work anywhere on the dashboard except while you type in a field."),
				app.Dl().Class("keys").Body(rows...),
				app.Div().Class("actions").Body(
					app.Button().Type("button").ID("shortcuts-close").Class("btn primary").
						OnClick(d.close).Text("Close"),
				),
			)
		}),
	)
}

// modal is a native <dialog> opened as a modal: the browser keeps the
// focus inside it and closes it on Esc (its close event then tells the
// component). Closing returns the focus to what had it before, or, when
// that is gone, to fallback.
type modal struct {
	id       string
	returnTo app.Value
	// returnSel, when set, names what to focus instead of returnTo: a
	// task row's control, whose element may show another task by then
	// (rows are reused in place when the list changes).
	returnSel string
	fallback  string // element id
	// closing counts the close events hide caused, still to arrive: the
	// dialog's close event comes later, as a task of its own, possibly
	// after the dialog was opened again.
	closing int
}

// closedByUser reports whether a close event of the dialog is the user's
// (Esc), not the echo of hide.
func (m *modal) closedByUser() bool {
	if m.closing > 0 {
		m.closing--
		return false
	}
	return true
}

// show opens the dialog once it is rendered, remembering the focus.
func (m *modal) show(ctx app.Context) {
	if !app.IsClient {
		return
	}
	if el := document().Get("activeElement"); el.Truthy() && !el.Equal(document().Get("body")) {
		m.returnTo = el
	}
	ctx.Defer(func(app.Context) { showModal(m.id) })
}

// hide closes the dialog and puts the focus back.
func (m *modal) hide() {
	if app.IsClient {
		if d := byID(m.id); d.Truthy() && d.Get("open").Bool() {
			m.closing++
		}
	}
	closeModal(m.id)
	defer func() { m.returnTo, m.returnSel = nil, "" }()
	if !app.IsClient {
		return
	}
	if m.returnSel != "" {
		if focusEl(query(m.returnSel)) {
			return
		}
	} else if m.returnTo != nil && focusEl(m.returnTo) {
		return
	}
	focusID(m.fallback)
}
