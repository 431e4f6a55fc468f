package revocation_test

import (
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth/revocation"
	"github.com/authdash/authdash/auth/revocation/revocationtest"
)

func TestList(t *testing.T) {
	revocationtest.Run(t, func(t *testing.T, now func() time.Time) revocationtest.List {
		return revocation.New(now)
	})
}

// TestSweepDropsExpired: expired entries leave memory, not only the answer.
func TestSweepDropsExpired(t *testing.T) {
	clk := revocationtest.NewClock()
	l := revocation.New(clk.Now)
	for i := range 1000 {
		l.Add(authdash.Revocation{User: authdash.UserID(rune('a' + i%50)), Session: authdash.SessionID(rune(i)), At: clk.Now(), Until: clk.Now().Add(time.Second)})
		clk.Add(100 * time.Millisecond)
	}
	// Each lives a second and the clock has moved 100 ms past the last.
	if n := len(l.Live()); n != 9 {
		t.Errorf("%d live, want 9", n)
	}
	if n := l.Len(); n > 2*64 {
		t.Errorf("%d entries kept for 9 live", n)
	}
}

func TestAddIgnoresDuplicatesAndExpired(t *testing.T) {
	clk := revocationtest.NewClock()
	l := revocation.New(clk.Now)
	r := authdash.Revocation{User: "u1", Session: "s1", At: clk.Now(), Until: clk.Now().Add(time.Minute)}
	tests := []struct {
		name string
		r    authdash.Revocation
		want bool
	}{
		{"New", r, true},
		{"Again", r, false},
		{"Expired", authdash.Revocation{User: "u1", Session: "s2", At: clk.Now(), Until: clk.Now()}, false},
		{"NoUser", authdash.Revocation{Session: "s3", At: clk.Now(), Until: clk.Now().Add(time.Minute)}, false},
	}
	for _, tt := range tests {
		if got := l.Add(tt.r); got != tt.want {
			t.Errorf("%s: Add = %v, want %v", tt.name, got, tt.want)
		}
	}
}
