package emailkey_test

import (
	"testing"

	"github.com/authdash/authdash/internal/emailkey"
)

func TestCanonicalAndKey(t *testing.T) {
	tests := []struct {
		name, in, canonical, key string
	}{
		{"ASCII", "  Ann@Example.COM ", "ann@example.com", "ann@example.com"},
		{"Fullwidth", "ｕｓｅｒ＠ｅｘａｍｐｌｅ.ｃｏｍ", "user@example.com", "user@example.com"},
		{"FullwidthLocalPart", "ＵＳＥＲ@example.com", "user@example.com", "user@example.com"},
		{"IdeographicSpace", "\u3000ann@example.com\u3000", "ann@example.com", "ann@example.com"},
		{"Ligature", "ﬁona@example.com", "fiona@example.com", "fiona@example.com"},
		{"KelvinSign", "\u212Aim@example.com", "kim@example.com", "kim@example.com"},
		{"SharpS", "Straße@example.de", "straße@example.de", "strasse@example.de"},
		{"FinalSigma", "ΟΔΟΣ@example.gr", "οδοσ@example.gr", "οδοσ@example.gr"},
		{"FinalSigmaLower", "οδος@example.gr", "οδος@example.gr", "οδοσ@example.gr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := emailkey.Canonical(tt.in); got != tt.canonical {
				t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.canonical)
			}
			if got := emailkey.Key(tt.in); got != tt.key {
				t.Errorf("Key(%q) = %q, want %q", tt.in, got, tt.key)
			}
			// A key is its own key: stored keys compare with fresh ones.
			if k := emailkey.Key(tt.in); emailkey.Key(k) != k {
				t.Errorf("Key(Key(%q)) = %q, want %q", tt.in, emailkey.Key(k), k)
			}
		})
	}
}
