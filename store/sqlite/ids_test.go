package sqlite

import (
	"encoding/binary"
	"encoding/hex"
	"slices"
	"testing"
	"time"
)

// TestIDsSortByWhenMade checks that IDs made a millisecond or more
// apart sort in the order they were made, so that a create's entries go at
// the end of their runs in every index ending in an ID (see newID). Before,
// the 8 bytes after the second were random: IDs of the same second sorted
// in any order, and this failed.
func TestIDsSortByWhenMade(t *testing.T) {
	var ids []string
	for range 40 {
		ids = append(ids, newID())
		time.Sleep(time.Millisecond) // at least: the next ID is a later millisecond
	}
	if !slices.IsSorted(ids) {
		t.Errorf("IDs made a millisecond apart are not in order:\n%v", ids)
	}
}

func TestIDLayout(t *testing.T) {
	for _, tc := range []struct {
		at     time.Time
		second uint32
		frac   uint32 // of the second, in 2^-24 s
	}{
		{time.Unix(1_700_000_000, 0), 1_700_000_000, 0},
		{time.Unix(1_700_000_000, 500_000_000), 1_700_000_000, 1 << 23},
		{time.Unix(1_700_000_000, 999_999_999), 1_700_000_000, 1<<24 - 1},
		{time.Unix(1_800_000_001, 5_400_000), 1_800_000_001, 90_596},
	} {
		id := newIDAt(tc.at)
		if !validID(id) {
			t.Fatalf("newIDAt(%v) = %q, not an ID", tc.at, id)
		}
		b, _ := hex.DecodeString(id)
		// The first four bytes stay an ObjectID's seconds, which the
		// MongoDB store's IDs have too.
		s, frac := binary.BigEndian.Uint32(b), uint32(b[4])<<16|uint32(b[5])<<8|uint32(b[6])
		if s != tc.second || frac != tc.frac {
			t.Errorf("newIDAt(%v) = %q: second %d fraction %d, want %d %d", tc.at, id, s, frac, tc.second, tc.frac)
		}
	}
	// Same instant, different IDs: five random bytes.
	at := time.Unix(1_700_000_000, 0)
	if a, b := newIDAt(at), newIDAt(at); a == b {
		t.Errorf("two IDs of the same instant are equal: %s", a)
	}
}
