package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestNetwork(t *testing.T) {
	for _, tt := range []struct{ ip, want string }{
		{"203.0.113.77", "203.0.113.0/24"},
		{"::ffff:203.0.113.77", "203.0.113.0/24"},
		{"2001:db8:1234:5678::1", "2001:db8:1234::/48"},
		{"", ""},
		{"not an address", "not an address"},
	} {
		if got := network(tt.ip); got != tt.want {
			t.Errorf("network(%q) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}

func TestMatchStep(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXP"
	now := time.Unix(1_800_000_015, 0)
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	step := now.Unix() / 30
	for _, tt := range []struct {
		name string
		code string
		step int64
		ok   bool
	}{
		{"Now", code(now), step, true},
		{"WithSpace", code(now)[:3] + " " + code(now)[3:], step, true},
		{"StepBefore", code(now.Add(-30 * time.Second)), step - 1, true},
		{"StepAfter", code(now.Add(30 * time.Second)), step + 1, true},
		{"ErrTwoStepsBefore", code(now.Add(-60 * time.Second)), 0, false},
		{"ErrTwoStepsAfter", code(now.Add(60 * time.Second)), 0, false},
		{"ErrShort", code(now)[:5], 0, false},
		{"ErrLetters", "12345a", 0, false},
		{"ErrEmpty", "", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := matchStep(secret, tt.code, now)
			if ok != tt.ok || got != tt.step {
				t.Errorf("matchStep(%q) = %d, %v; want %d, %v", tt.code, got, ok, tt.step, tt.ok)
			}
		})
	}
}

func TestSealer(t *testing.T) {
	key := []byte(strings.Repeat("k", MFAKeyLen))
	s, err := newSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := newSealer(nil)
	sealed, err := s.seal("u1", "JBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "JBSWY3DPEHPK3PXP") || !strings.HasPrefix(sealed, sealedGCM) {
		t.Fatalf("sealed %q", sealed)
	}
	if got, err := s.open("u1", sealed); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open = %q, %v", got, err)
	}
	// Bound to its user; needs the key; another key does not open it.
	if _, err := s.open("u2", sealed); err == nil {
		t.Error("another user's sealed secret opened")
	}
	if _, err := plain.open("u1", sealed); err == nil {
		t.Error("opened without the key")
	}
	other, _ := newSealer([]byte(strings.Repeat("o", MFAKeyLen)))
	if _, err := other.open("u1", sealed); err == nil {
		t.Error("opened with another key")
	}
	// A secret stored before a key was configured still opens.
	old, _ := plain.seal("u1", "SECRET")
	if got, err := s.open("u1", old); err != nil || got != "SECRET" {
		t.Errorf("plain with a key = %q, %v", got, err)
	}
	if _, err := s.open("u1", "garbage"); err == nil {
		t.Error("garbage opened")
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Error("a short key was taken")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, hashes := newRecoveryCodes()
	if len(codes) != 10 || len(hashes) != 10 {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	for i, c := range codes {
		for _, typed := range []string{c, strings.ToUpper(c), strings.ReplaceAll(c, "-", ""), strings.ReplaceAll(c, "-", " ")} {
			h, ok := recoveryHash(typed)
			if !ok || string(h) != string(hashes[i]) {
				t.Errorf("code %q typed %q: hash %x ok %v", c, typed, h, ok)
			}
		}
	}
	for _, bad := range []string{"", "123456", "abcd-efgh-ijkl-mno", "abcd-efgh-ijkl-mno1"} {
		if _, ok := recoveryHash(bad); ok {
			t.Errorf("%q taken as a recovery code", bad)
		}
	}
}
