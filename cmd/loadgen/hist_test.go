package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func() time.Duration
	}{
		{"Uniform", func() time.Duration { return time.Duration(rng.Int64N(int64(50 * time.Millisecond))) }},
		{"LogNormal", func() time.Duration {
			return time.Duration(math.Exp(rng.NormFloat64()*1.5 + 13)) // median ≈ 0.44 ms, long tail
		}},
		{"Tiny", func() time.Duration { return time.Duration(rng.IntN(300)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			vals := make([]time.Duration, 100_000)
			for i := range vals {
				vals[i] = tt.gen()
				h.record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999, 1} {
				exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
				got := h.quantile(q)
				if got < exact || float64(got-exact) > float64(exact)/128+1 {
					t.Errorf("q%.3f = %v, exact %v: beyond the 1/128 bound", q, got, exact)
				}
			}
			if h.max != vals[len(vals)-1] || h.min != vals[0] {
				t.Errorf("min/max = %v/%v, want %v/%v", h.min, h.max, vals[0], vals[len(vals)-1])
			}
		})
	}
}

func TestHistogramMergeAndClamp(t *testing.T) {
	var a, b histogram
	a.record(time.Millisecond)
	b.record(2 * time.Hour) // beyond the last bucket: clamped, max exact
	b.record(-time.Second)  // clock skew: counted as zero
	a.merge(&b)
	if a.n != 3 || a.max != 2*time.Hour || a.min != 0 {
		t.Fatalf("n=%d min=%v max=%v", a.n, a.min, a.max)
	}
	if got := a.quantile(1); got != 2*time.Hour {
		t.Errorf("q1 = %v, want the exact max", got)
	}
	if got := a.quantile(0.5); got < time.Millisecond || got > time.Millisecond+time.Millisecond/128 {
		t.Errorf("median = %v, want about 1ms", got)
	}
	var empty histogram
	if empty.quantile(0.99) != 0 || empty.mean() != 0 {
		t.Error("an empty histogram reports non-zero")
	}
}

func TestBucketsAreContiguous(t *testing.T) {
	// Every bucket's upper bound + 1 starts the next bucket.
	for i := 0; i < nBuckets-1; i++ {
		if got := bucketOf(upperBound(i) + 1); got != i+1 {
			t.Fatalf("bucket after %d (upper %d) = %d", i, upperBound(i), got)
		}
		if got := bucketOf(upperBound(i)); got != i {
			t.Fatalf("bucketOf(upperBound(%d)) = %d", i, got)
		}
	}
}
