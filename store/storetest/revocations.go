package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func revocationKey(r authdash.Revocation) string {
	return fmt.Sprintf("%s/%s/%s/%d/%d", r.User, r.Session, r.Keep, r.At.UnixMilli(), r.Until.UnixMilli())
}

func wantRevocations(tb testing.TB, got []authdash.Revocation, want ...authdash.Revocation) {
	tb.Helper()
	var g, w []string
	for _, r := range got {
		if r.At.Location() != time.UTC || r.Until.Location() != time.UTC {
			tb.Errorf("revocation %+v: times not in UTC", r)
		}
		g = append(g, revocationKey(r))
	}
	for _, r := range want {
		w = append(w, revocationKey(r))
	}
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		tb.Errorf("revocations\n %v\nwant\n %v", g, w)
	}
}

func testRevocationsSaveOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	now := authdash.Millis(time.Now())
	one := authdash.Revocation{User: "u1", Session: "s1", At: now, Until: now.Add(15 * time.Minute)}
	all := authdash.Revocation{User: "u2", Keep: "kept", At: now.Add(-time.Second), Until: now.Add(10 * time.Minute)}
	expired := authdash.Revocation{User: "u3", At: now.Add(-time.Hour), Until: now.Add(-time.Second)}
	for _, r := range []authdash.Revocation{one, all, expired} {
		mustOK(t, s.SaveRevocation(ctx, r))
	}
	got, err := s.Revocations(ctx, time.Time{})
	mustOK(t, err)
	wantRevocations(t, got, one, all)
	got, err = s.Revocations(ctx, now.Add(-time.Minute))
	mustOK(t, err)
	wantRevocations(t, got, one, all)
	// Nothing was recorded in the future.
	got, err = s.Revocations(ctx, now.Add(time.Hour))
	mustOK(t, err)
	wantRevocations(t, got)
}

// A deleted account's revocations must stay: they are what stops its
// tokens.
func testRevocationsOutliveTheUser(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	now := authdash.Millis(time.Now())
	r := authdash.Revocation{User: u.ID, At: now, Until: now.Add(15 * time.Minute)}
	mustOK(t, s.SaveRevocation(ctx, r))
	mustOK(t, s.DeleteUser(ctx, u.ID))
	got, err := s.Revocations(ctx, time.Time{})
	mustOK(t, err)
	wantRevocations(t, got, r)
}

func testRevocationsPurge(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	now := authdash.Millis(time.Now())
	soon := authdash.Revocation{User: "u1", Session: "s1", At: now, Until: now.Add(time.Minute)}
	later := authdash.Revocation{User: "u1", Session: "s2", At: now, Until: now.Add(time.Hour)}
	mustOK(t, s.SaveRevocation(ctx, soon))
	mustOK(t, s.SaveRevocation(ctx, later))
	n, err := s.PurgeRevocations(ctx, now.Add(30*time.Minute))
	mustOK(t, err)
	if n != 1 {
		t.Errorf("purged %d, want 1", n)
	}
	got, err := s.Revocations(ctx, time.Time{})
	mustOK(t, err)
	wantRevocations(t, got, later)
}

func testRevocationsErrCancelledContext(t *testing.T, open Opener) {
	s := open(t)
	now := authdash.Millis(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wantCode(t, s.SaveRevocation(ctx, authdash.Revocation{User: "u1", At: now, Until: now.Add(time.Minute)}), authdash.CodeUnavailable)
	_, err := s.Revocations(ctx, time.Time{})
	wantCode(t, err, authdash.CodeUnavailable)
}
