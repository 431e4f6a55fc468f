package backoff_test

import (
	"testing"
	"time"

	"github.com/authdash/authdash/app/backoff"
)

func TestCeiling(t *testing.T) {
	p := backoff.Policy{Base: 250 * time.Millisecond, Max: 1500 * time.Millisecond}
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 250 * time.Millisecond},
		{1, 250 * time.Millisecond},
		{2, 500 * time.Millisecond},
		{3, time.Second},
		{4, 1500 * time.Millisecond},
		{5, 1500 * time.Millisecond},
		{1000, 1500 * time.Millisecond}, // no overflow however long the outage
	}
	for _, tt := range tests {
		if got := p.Ceiling(tt.failures); got != tt.want {
			t.Errorf("Ceiling(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

func TestDelay(t *testing.T) {
	tests := []struct {
		name     string
		rand     func(n time.Duration) time.Duration
		failures int
		want     time.Duration
	}{
		{"Lowest", func(time.Duration) time.Duration { return 0 }, 3, 0},
		{"HighestIsTheCeiling", func(n time.Duration) time.Duration { return n - 1 }, 3, time.Second},
		{"HighestCapped", func(n time.Duration) time.Duration { return n - 1 }, 9, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := backoff.Reconnect
			p.Rand = tt.rand
			if got := p.Delay(tt.failures); got != tt.want {
				t.Errorf("Delay(%d) = %v, want %v", tt.failures, got, tt.want)
			}
		})
	}
}

// The real randomness spreads the waits over the whole range and never
// beyond it.
func TestDelaySpread(t *testing.T) {
	p := backoff.Reconnect
	var below, above int
	for range 2000 {
		d := p.Delay(1)
		if d < 0 || d > 250*time.Millisecond {
			t.Fatalf("Delay(1) = %v, outside [0, 250ms]", d)
		}
		if d < 125*time.Millisecond {
			below++
		} else {
			above++
		}
	}
	if below < 800 || above < 800 {
		t.Errorf("waits not spread: %d below half the ceiling, %d above", below, above)
	}
}
