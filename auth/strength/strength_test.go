package strength_test

import (
	"strings"
	"testing"

	"github.com/authdash/authdash/auth/strength"
)

func TestWeakness(t *testing.T) {
	tests := []struct {
		name     string
		password string
		inputs   []string
		wantWhy  string // "" = accepted
	}{
		{"ErrTopCommon", "password", nil, "100 most common"},
		{"ErrCommonDigits", "12345678", nil, "common"},
		{"ErrCommonWithSuffix", "password123", nil, "common"},
		{"ErrKeyboard", "qwertyuiop", nil, "common"},
		{"ErrRepeat", "aaaaaaaaaaaa", nil, "repeated"},
		{"ErrSequence", "abcdefghijk", nil, "sequences"},
		{"ErrEmail", "ann.lovelace@example.com", []string{"ann.lovelace@example.com", "Ann Lovelace"}, "your email address or name"},
		{"ErrName", "AnnLovelace", []string{"ann@example.com", "Ann Lovelace"}, "your email address or name"},
		{"ErrSpaces", "        ", nil, "Too easy"},
		{"ErrFewWords", "new password", nil, "Too easy"},
		{"OK", "correct horse battery", nil, ""},
		{"OKPassphrase", "a brand new passphrase", []string{"ann@example.com", "Ann"}, ""},
		{"OKRandom", "x7#Kp2!vQz", nil, ""},
		{"OKNonASCII", "Grüße aus Köln am Rhein", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strength.Judge{}.Weakness(tt.password, tt.inputs...)
			switch {
			case tt.wantWhy == "" && got != "":
				t.Errorf("Weakness(%q) = %q, want accepted", tt.password, got)
			case tt.wantWhy != "" && !strings.Contains(got, tt.wantWhy):
				t.Errorf("Weakness(%q) = %q, want it to say %q", tt.password, got, tt.wantWhy)
			}
		})
	}
}

// The same password is weak for the person it names and fine for another.
func TestWeaknessUserInputs(t *testing.T) {
	const pw = "zebulonfairweather"
	if got := (strength.Judge{}).Weakness(pw, "someone@example.com", "Someone Else"); got != "" {
		t.Fatalf("for another person: %q", got)
	}
	if got := (strength.Judge{}).Weakness(pw, "zebulon@fairweather.example", "Zebulon Fairweather"); got == "" {
		t.Fatal("a password made of the person's own name was accepted")
	}
}
