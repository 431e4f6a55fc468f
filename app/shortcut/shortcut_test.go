package shortcut_test

import (
	"testing"

	"github.com/authdash/authdash/app/shortcut"
)

func TestOf(t *testing.T) {
	tests := []struct {
		name string
		p    shortcut.Press
		want shortcut.Action
	}{
		{"OKNew", shortcut.Press{Key: "n"}, shortcut.New},
		{"OKSearch", shortcut.Press{Key: "/"}, shortcut.Search},
		{"OKNext", shortcut.Press{Key: "j"}, shortcut.Next},
		{"OKPrevious", shortcut.Press{Key: "k"}, shortcut.Previous},
		{"OKToggle", shortcut.Press{Key: "x"}, shortcut.Toggle},
		{"OKEdit", shortcut.Press{Key: "e"}, shortcut.Edit},
		{"OKDelete", shortcut.Press{Key: "Delete"}, shortcut.Delete},
		{"OKBackspace", shortcut.Press{Key: "Backspace"}, shortcut.Delete},
		{"OKHelp", shortcut.Press{Key: "?"}, shortcut.Help},
		{"ErrCapitalN", shortcut.Press{Key: "N"}, shortcut.None},
		{"ErrOtherKey", shortcut.Press{Key: "a"}, shortcut.None},
		{"ErrTyping", shortcut.Press{Key: "n", Typing: true}, shortcut.None},
		{"ErrTypingSlash", shortcut.Press{Key: "/", Typing: true}, shortcut.None},
		{"ErrModal", shortcut.Press{Key: "j", Modal: true}, shortcut.None},
		{"ErrCtrl", shortcut.Press{Key: "n", Ctrl: true}, shortcut.None},
		{"ErrMeta", shortcut.Press{Key: "x", Meta: true}, shortcut.None},
		{"ErrAlt", shortcut.Press{Key: "e", Alt: true}, shortcut.None},
		{"ErrComposing", shortcut.Press{Key: "n", Composing: true}, shortcut.None},
		{"ErrRepeat", shortcut.Press{Key: "Delete", Repeat: true}, shortcut.None},
		{"ErrPrevented", shortcut.Press{Key: "?", Prevented: true}, shortcut.None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shortcut.Of(tt.p); got != tt.want {
				t.Errorf("Of(%+v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestGuard(t *testing.T) {
	type ev struct {
		kind    string // down, press, up
		key     string
		handled bool // down: handled as a shortcut
		cancel  bool // press: want it cancelled
	}
	tests := []struct {
		name   string
		events []ev
	}{
		{"OKShortcutsCharacterCancelled", []ev{
			{kind: "down", key: "n", handled: true}, {kind: "press", key: "n", cancel: true}, {kind: "up", key: "n"},
		}},
		{"OKOnlyOnce", []ev{
			{kind: "down", key: "/", handled: true}, {kind: "press", key: "/", cancel: true}, {kind: "press", key: "/"},
		}},
		{"ErrTypingIsNotCancelled", []ev{
			{kind: "down", key: "n"}, {kind: "press", key: "n"}, {kind: "up", key: "n"},
		}},
		{"ErrAfterKeyUp", []ev{
			{kind: "down", key: "n", handled: true}, {kind: "up", key: "n"}, {kind: "press", key: "n"},
		}},
		{"ErrNextKeyDownForgets", []ev{
			{kind: "down", key: "n", handled: true}, {kind: "down", key: "n"}, {kind: "press", key: "n"},
		}},
		{"ErrOtherKeysCharacter", []ev{
			{kind: "down", key: "n", handled: true}, {kind: "press", key: "m"},
		}},
		{"OKOtherKeyUpKeeps", []ev{
			{kind: "down", key: "?", handled: true}, {kind: "up", key: "Shift"}, {kind: "press", key: "?", cancel: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g shortcut.Guard
			for i, e := range tt.events {
				switch e.kind {
				case "down":
					g.Down(e.key, e.handled)
				case "up":
					g.Up(e.key)
				case "press":
					if got := g.Press(e.key); got != e.cancel {
						t.Errorf("event %d: Press(%q) = %v, want %v", i, e.key, got, e.cancel)
					}
				}
			}
		})
	}
}
