// Package shortcut is the dashboard's keyboard shortcuts as plain logic:
// which key does what (and when no key does anything: while typing in a
// field, with a dialog open, with a modifier held), and the guard that
// keeps a shortcut's character out of the field the shortcut focused.
package shortcut

// Action is what a key does.
type Action int

// Actions.
const (
	None     Action = iota
	New             // n: the quick-add bar
	Search          // /: the search field
	Next            // j: the next task
	Previous        // k: the previous task
	Toggle          // x: done or not done
	Edit            // e: the editor
	Delete          // Delete, Backspace: delete (with Undo)
	Help            // ?: the list of shortcuts
)

// Press is a keydown as the page sees it.
type Press struct {
	Key                          string // KeyboardEvent.key
	Code                         string // KeyboardEvent.code: the physical key
	Ctrl, Meta, Alt              bool
	Composing, Repeat, Prevented bool
	Typing                       bool // the target takes text
	Modal                        bool // a modal dialog is open
}

// Of returns what the key pressed does: None while the person types in a
// field, a dialog is open, a modifier (but Shift) is held, an input method
// is composing, the key repeats, or something else already handled it.
func Of(p Press) Action {
	if p.Ctrl || p.Meta || p.Alt || p.Composing || p.Repeat || p.Prevented || p.Typing || p.Modal {
		return None
	}
	switch p.Key {
	case "n":
		return New
	case "/":
		return Search
	case "j":
		return Next
	case "k":
		return Previous
	case "x":
		return Toggle
	case "e":
		return Edit
	case "Delete", "Backspace":
		return Delete
	case "?":
		return Help
	}
	return None
}

// Guard keeps the character of a handled shortcut from being typed.
// Cancelling the keydown is not always enough: when the character comes
// as an event of its own after the keydown (as the DevTools protocol's
// keyDown-then-char sends it), the browser fires keypress and types it
// into whatever has the focus by then, which is the field "n" or "/" just
// focused. The guard remembers the handled key until its keypress, its
// keyup or the next keydown, so the page cancels that keypress too. The
// zero value is ready.
type Guard struct{ key string }

// Down records a keydown and whether it was handled as a shortcut.
func (g *Guard) Down(key string, handled bool) {
	g.key = ""
	if handled {
		g.key = key
	}
}

// Press reports whether a keypress of key must be cancelled: it is the
// character of the shortcut just handled. It is so once.
func (g *Guard) Press(key string) bool {
	if g.key == "" || g.key != key {
		return false
	}
	g.key = ""
	return true
}

// Up records a keyup: the press is over, its character can no longer come.
func (g *Guard) Up(key string) {
	if g.key == key {
		g.key = ""
	}
}
