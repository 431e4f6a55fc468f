package app

import (
	"testing"

	"github.com/authdash/authdash/app/shortcut"
)

func TestIsUndoKey(t *testing.T) {
	tests := []struct {
		name  string
		p     shortcut.Press
		shift bool
		want  bool
	}{
		{"OKCtrlZ", shortcut.Press{Key: "z", Ctrl: true}, false, true},
		{"OKCmdZ", shortcut.Press{Key: "z", Meta: true}, false, true},
		{"OKCapsLock", shortcut.Press{Key: "Z", Ctrl: true}, false, true},
		{"OKDvorakZ", shortcut.Press{Key: "z", Code: "Slash", Ctrl: true}, false, true},
		{"OKRussianCtrlZ", shortcut.Press{Key: "я", Code: "KeyZ", Ctrl: true}, false, true},
		{"OKRussianCmdZ", shortcut.Press{Key: "я", Code: "KeyZ", Meta: true}, false, true},
		{"OKGreekCtrlZ", shortcut.Press{Key: "ζ", Code: "KeyZ", Ctrl: true}, false, true},
		{"ErrZAlone", shortcut.Press{Key: "z"}, false, false},
		{"ErrRussianZAlone", shortcut.Press{Key: "я", Code: "KeyZ"}, false, false},
		{"ErrRussianOtherKey", shortcut.Press{Key: "ч", Code: "KeyX", Ctrl: true}, false, false},
		{"ErrRussianRedo", shortcut.Press{Key: "Я", Code: "KeyZ", Ctrl: true}, true, false},
		{"ErrRussianAlt", shortcut.Press{Key: "я", Code: "KeyZ", Ctrl: true, Alt: true}, false, false},
		{"ErrRussianTyping", shortcut.Press{Key: "я", Code: "KeyZ", Ctrl: true, Typing: true}, false, false},
		{"ErrQWERTZCtrlY", shortcut.Press{Key: "y", Code: "KeyZ", Ctrl: true}, false, false},
		{"ErrDvorakSemicolon", shortcut.Press{Key: ";", Code: "KeyZ", Ctrl: true}, false, false},
		{"ErrCtrlY", shortcut.Press{Key: "y", Ctrl: true}, false, false},
		{"ErrRedo", shortcut.Press{Key: "Z", Ctrl: true}, true, false},
		{"ErrCtrlAndCmd", shortcut.Press{Key: "z", Ctrl: true, Meta: true}, false, false},
		{"ErrAlt", shortcut.Press{Key: "z", Ctrl: true, Alt: true}, false, false},
		{"ErrTyping", shortcut.Press{Key: "z", Ctrl: true, Typing: true}, false, false},
		{"ErrModal", shortcut.Press{Key: "z", Meta: true, Modal: true}, false, false},
		{"ErrComposing", shortcut.Press{Key: "z", Ctrl: true, Composing: true}, false, false},
		{"ErrRepeat", shortcut.Press{Key: "z", Ctrl: true, Repeat: true}, false, false},
		{"ErrPrevented", shortcut.Press{Key: "z", Ctrl: true, Prevented: true}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isUndoKey(tt.p, tt.shift); got != tt.want {
				t.Errorf("isUndoKey(%+v, shift %v) = %v, want %v", tt.p, tt.shift, got, tt.want)
			}
		})
	}
}

// TestUndoKeyListed: the help dialog tells of Ctrl+Z.
func TestUndoKeyListed(t *testing.T) {
	for _, s := range shortcuts {
		if s.Keys == "Ctrl+Z / ⌘Z" {
			return
		}
	}
	t.Error("Ctrl+Z is not in the shortcuts' help")
}
