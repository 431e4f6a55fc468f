package emailkey_test

import (
	"testing"
	"time"

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

func TestKeeper(t *testing.T) {
	at := func(s int64) time.Time { return time.Unix(s, 0) }
	tests := []struct {
		name string
		hs   []emailkey.Holder
		want string // ID of the one that keeps the key
	}{
		{"WrittenAsKeyBeatsOlder", []emailkey.Holder{{"b", "ｕｓｅｒ@example.com", at(1)}, {"a", "user@example.com", at(2)}}, "a"},
		{"ElseOldest", []emailkey.Holder{{"b", "strasse@example.de", at(2)}, {"a", "straße@example.de", at(3)}, {"c", "STRASSE@example.de", at(1)}}, "b"},
		{"NoneWrittenAsKeyOldest", []emailkey.Holder{{"b", "ｕｓｅｒ@example.com", at(2)}, {"a", "ＵＳＥＲ@example.com", at(1)}}, "a"},
		{"TieByID", []emailkey.Holder{{"z", "ｕｓｅｒ@example.com", at(1)}, {"y", "ＵＳＥＲ@example.com", at(1)}}, "y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := emailkey.Key(tt.hs[0].Email)
			emailkey.Keeper(key, tt.hs)
			if tt.hs[0].ID != tt.want {
				t.Errorf("keeper %s, want %s (%v)", tt.hs[0].ID, tt.want, tt.hs)
			}
		})
	}
	if k := emailkey.Apart("abc"); emailkey.Key(k) == k {
		t.Errorf("Apart(%q) = %q is a key an address can have", "abc", k)
	}
}
