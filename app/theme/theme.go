// Package theme is the colour theme a person picks in the header: the
// system's (prefers-color-scheme), light or dark. The choice is kept in
// the browser's local storage under StorageKey, per device, and survives
// signing out (it says nothing about the person).
package theme

// StorageKey is the local-storage key of the choice, also read by
// web/boot.js before the first paint.
const StorageKey = "authdash.theme"

// Mode is a choice of theme.
type Mode string

// The modes, in the order the header's button goes through them.
const (
	System Mode = "system"
	Light  Mode = "light"
	Dark   Mode = "dark"
)

// Parse reads a stored choice; anything else (nothing stored, an old
// value) is System.
func Parse(s string) Mode {
	switch m := Mode(s); m {
	case Light, Dark:
		return m
	}
	return System
}

// Next is the mode after m: System, Light, Dark, System…
func (m Mode) Next() Mode {
	switch Parse(string(m)) {
	case System:
		return Light
	case Light:
		return Dark
	}
	return System
}

// Attr is the value of <html data-theme>: "" lets prefers-color-scheme
// decide.
func (m Mode) Attr() string {
	if p := Parse(string(m)); p != System {
		return string(p)
	}
	return ""
}

// Label names the mode for the button's text.
func (m Mode) Label() string {
	switch Parse(string(m)) {
	case Light:
		return "Light"
	case Dark:
		return "Dark"
	}
	return "Auto"
}

// Describe is the button's accessible name: what it shows and what a
// press does. It starts with the button's visible Label, so that a person
// who speaks what they see to voice control names it (WCAG 2.5.3, Label
// in Name).
func (m Mode) Describe() string {
	name := m.Label() + " theme"
	if Parse(string(m)) == System {
		name += ", following the system"
	}
	next := map[Mode]string{System: "the system's", Light: "light", Dark: "dark"}
	return name + ". Switch to " + next[m.Next()] + " theme"
}
