package main

import (
	"math"
	"math/bits"
	"time"
)

// Histogram geometry: values below 2^(subBits+1) ns are counted exactly;
// above, each power of two is split into 2^subBits buckets, so a bucket is
// at most 1/128 (0.8%) wide relative to its values, as in HdrHistogram with
// two significant digits. Values beyond maxShift are clamped into the last
// bucket (about 68 s); the exact maximum is kept separately.
const (
	subBits   = 7
	subCount  = 1 << subBits
	linearTop = 2 * subCount
	maxShift  = 36 - (subBits + 1)
	nBuckets  = linearTop + maxShift*subCount
)

// histogram records durations with bounded relative error in constant
// memory. It is not safe for concurrent use: each worker owns one and they
// are merged at the end.
type histogram struct {
	counts [nBuckets]uint64
	n      uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

func bucketOf(v uint64) int {
	if v < linearTop {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	if shift > maxShift {
		return nBuckets - 1
	}
	return linearTop + (shift-1)*subCount + int(v>>shift) - subCount
}

// upperBound is the largest value that falls in bucket i.
func upperBound(i int) uint64 {
	if i < linearTop {
		return uint64(i)
	}
	shift := (i-linearTop)/subCount + 1
	m := uint64((i-linearTop)%subCount + subCount)
	return (m+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the value at quantile q (0 < q ≤ 1): the upper bound of
// the bucket holding the ⌈q·n⌉-th smallest value, so it never understates,
// and never more than the exact maximum.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	if rank == h.n {
		return h.max
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank && i < nBuckets-1 {
			return min(time.Duration(upperBound(i)), h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}
