package theme_test

import (
	"testing"

	"github.com/authdash/authdash/app/theme"
)

func TestModes(t *testing.T) {
	tests := []struct {
		stored    string
		want      theme.Mode
		next      theme.Mode
		attr      string
		describes string
	}{
		{"", theme.System, theme.Light, "", "Auto theme, following the system. Switch to light theme"},
		{"bogus", theme.System, theme.Light, "", "Auto theme, following the system. Switch to light theme"},
		{"system", theme.System, theme.Light, "", "Auto theme, following the system. Switch to light theme"},
		{"light", theme.Light, theme.Dark, "light", "Light theme. Switch to dark theme"},
		{"dark", theme.Dark, theme.System, "dark", "Dark theme. Switch to the system's theme"},
	}
	for _, tt := range tests {
		m := theme.Parse(tt.stored)
		if m != tt.want {
			t.Errorf("Parse(%q) = %q, want %q", tt.stored, m, tt.want)
		}
		if got := m.Next(); got != tt.next {
			t.Errorf("%q.Next() = %q, want %q", m, got, tt.next)
		}
		if got := m.Attr(); got != tt.attr {
			t.Errorf("%q.Attr() = %q, want %q", m, got, tt.attr)
		}
		if got := m.Describe(); got != tt.describes {
			t.Errorf("%q.Describe() = %q, want %q", m, got, tt.describes)
		}
	}
	// Three presses come back to where they started.
	for _, m := range []theme.Mode{theme.System, theme.Light, theme.Dark} {
		if got := m.Next().Next().Next(); got != m {
			t.Errorf("%q three times Next = %q", m, got)
		}
	}
}
