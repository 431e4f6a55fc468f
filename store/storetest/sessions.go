package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func testSessionCreateOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	exp := time.Now().Add(24 * time.Hour)
	before := time.Now()
	sess, err := s.CreateSession(ctx, authdash.NewSession{UserID: u.ID, Device: "Firefox on Linux", TokenHash: []byte("h1"), ExpiresAt: exp})
	after := time.Now()
	mustOK(t, err)
	if sess.ID == "" || sess.UserID != u.ID || sess.Device != "Firefox on Linux" || !sess.ExpiresAt.Equal(authdash.Millis(exp)) {
		t.Fatalf("created %+v", sess)
	}
	wantStamp(t, "CreatedAt", sess.CreatedAt, before, after)
	wantStamp(t, "LastUsedAt", sess.LastUsedAt, before, after)

	for name, get := range map[string]func() (*authdash.Session, error){
		"FindSession":    func() (*authdash.Session, error) { return s.FindSession(ctx, u.ID, sess.ID) },
		"SessionByToken": func() (*authdash.Session, error) { return s.SessionByToken(ctx, []byte("h1")) },
	} {
		got, err := get()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got.ID != sess.ID || got.UserID != u.ID || got.Device != sess.Device ||
			!got.CreatedAt.Equal(sess.CreatedAt) || !got.ExpiresAt.Equal(sess.ExpiresAt) || got.ExpiresAt.Location() != time.UTC {
			t.Errorf("%s = %+v, want %+v", name, got, sess)
		}
	}
}

func testSessionRotateOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	sess := mustSession(t, s, u.ID, "h1")
	exp := time.Now().Add(48 * time.Hour)
	before := time.Now()
	got, rotated, err := s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h1"), Next: []byte("h2"), ExpiresAt: exp, Grace: time.Minute})
	after := time.Now()
	mustOK(t, err)
	if !rotated {
		t.Error("rotated = false without Fresh")
	}
	if got.ID != sess.ID || got.UserID != u.ID || !got.ExpiresAt.Equal(authdash.Millis(exp)) || !got.CreatedAt.Equal(sess.CreatedAt) {
		t.Fatalf("rotated %+v, from %+v", got, sess)
	}
	wantStamp(t, "LastUsedAt", got.LastUsedAt, before, after)
	if _, err := s.SessionByToken(ctx, []byte("h2")); err != nil {
		t.Errorf("new token: %v", err)
	}
	_, err = s.SessionByToken(ctx, []byte("h1"))
	wantCode(t, err, authdash.CodeUnauthorized)
	found, err := s.FindSession(ctx, u.ID, sess.ID)
	mustOK(t, err)
	if !found.ExpiresAt.Equal(authdash.Millis(exp)) || !found.LastUsedAt.Equal(got.LastUsedAt) {
		t.Errorf("stored session %+v, want expiry %v and last use %v", found, exp, got.LastUsedAt)
	}
	_, _, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h2"), Next: []byte("h3"), ExpiresAt: exp, Grace: time.Minute})
	mustOK(t, err)
}

func testSessionRotateErrUnknownToken(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	mustSession(t, s, u.ID, "h1")
	for _, tok := range []string{"nope", "", "h1 "} {
		_, _, err := s.RotateSession(ctx, authdash.Rotation{Presented: []byte(tok), Next: []byte("n-" + tok), ExpiresAt: time.Now().Add(time.Hour)})
		wantCode(t, err, authdash.CodeUnauthorized)
	}
}

func testSessionRotateErrReuseEndsSession(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	sess := mustSession(t, s, u.ID, "h1")
	other := mustSession(t, s, u.ID, "o1")
	exp := time.Now().Add(time.Hour)
	_, _, err := s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h1"), Next: []byte("h2"), ExpiresAt: exp})
	mustOK(t, err)
	// Grace 0: any second use of h1 is outside the grace period.
	_, _, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h1"), Next: []byte("h3"), ExpiresAt: exp})
	wantCode(t, err, authdash.CodeUnauthorized)
	// The error names the ended session, so its access tokens can end too.
	var reuse *authdash.SessionReuse
	if !errors.As(err, &reuse) || reuse.User != u.ID || reuse.Session != sess.ID {
		t.Errorf("reuse error %v does not name user %s session %s", err, u.ID, sess.ID)
	}

	_, err = s.FindSession(ctx, u.ID, sess.ID)
	wantCode(t, err, authdash.CodeNotFound)
	_, err = s.SessionByToken(ctx, []byte("h2"))
	wantCode(t, err, authdash.CodeUnauthorized)
	_, _, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h2"), Next: []byte("h4"), ExpiresAt: exp})
	wantCode(t, err, authdash.CodeUnauthorized)
	_, err = s.SessionByToken(ctx, []byte("h3"))
	wantCode(t, err, authdash.CodeUnauthorized)
	if _, err := s.FindSession(ctx, u.ID, other.ID); err != nil {
		t.Errorf("the user's other session ended too: %v", err)
	}
}

func testSessionRotateReuseInGraceKeepsSession(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	sess := mustSession(t, s, u.ID, "h1")
	exp := time.Now().Add(time.Hour)
	_, _, err := s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h1"), Next: []byte("h2"), ExpiresAt: exp, Grace: time.Hour})
	mustOK(t, err)
	_, _, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h1"), Next: []byte("h2b"), ExpiresAt: exp, Grace: time.Hour})
	// Conflict, not Unauthorized: the loser of a race may retry with the
	// winner's token, and must not be told (nor tell a browser) that the
	// session ended.
	wantCode(t, err, authdash.CodeConflict)
	var reuse *authdash.SessionReuse
	if errors.As(err, &reuse) {
		t.Errorf("a reuse within grace names a session to end: %v", err)
	}

	if _, err := s.FindSession(ctx, u.ID, sess.ID); err != nil {
		t.Errorf("session ended by a reuse within grace: %v", err)
	}
	_, err = s.SessionByToken(ctx, []byte("h2b"))
	wantCode(t, err, authdash.CodeUnauthorized)
	_, _, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h2"), Next: []byte("h3"), ExpiresAt: exp, Grace: time.Hour})
	mustOK(t, err)
}

// A current token younger than Fresh is redeemed and kept; one older is
// replaced.
func testSessionRotateFreshKeepsToken(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	sess := mustSession(t, s, u.ID, "h1")
	exp := time.Now().Add(48 * time.Hour)
	got, rotated, err := s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h1"), Next: []byte("n1"), ExpiresAt: exp, Grace: time.Hour, Fresh: time.Hour})
	mustOK(t, err)
	if rotated || got.ID != sess.ID || got.UserID != u.ID {
		t.Fatalf("fresh token: rotated %v, session %+v, want kept %+v", rotated, got, sess)
	}
	if _, err := s.SessionByToken(ctx, []byte("h1")); err != nil {
		t.Errorf("kept token no longer current: %v", err)
	}
	_, err = s.SessionByToken(ctx, []byte("n1"))
	wantCode(t, err, authdash.CodeUnauthorized)
	// Kept, not redeemed: presenting it again is no race and no reuse.
	_, rotated, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h1"), Next: []byte("n2"), ExpiresAt: exp, Grace: time.Hour, Fresh: time.Hour})
	mustOK(t, err)
	if rotated {
		t.Error("second redemption of a fresh token rotated it")
	}

	time.Sleep(20 * time.Millisecond)
	_, rotated, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h1"), Next: []byte("h2"), ExpiresAt: exp, Grace: time.Hour, Fresh: 10 * time.Millisecond})
	mustOK(t, err)
	if !rotated {
		t.Fatal("a token older than Fresh was kept")
	}
	if _, err := s.SessionByToken(ctx, []byte("h2")); err != nil {
		t.Errorf("new token: %v", err)
	}
	// The token just installed is fresh in turn; the replaced one lost.
	_, rotated, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h2"), Next: []byte("h3"), ExpiresAt: exp, Grace: time.Hour, Fresh: time.Hour})
	mustOK(t, err)
	if rotated {
		t.Error("a token installed a moment ago was replaced")
	}
	_, _, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h1"), Next: []byte("h4"), ExpiresAt: exp, Grace: time.Hour, Fresh: time.Hour})
	wantCode(t, err, authdash.CodeConflict)
}

// Tabs restored at once: of n concurrent redemptions of one token exactly
// one rotates it and the rest lose with CodeConflict; each loser then gets
// in with the winner's token, which stays current.
func testSessionRotateRaceLosersRetry(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	sess := mustSession(t, s, u.ID, "h1")
	exp := time.Now().Add(48 * time.Hour)
	time.Sleep(20 * time.Millisecond)
	const n = 5
	errs := make([]error, n)
	rotated := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, rotated[i], errs[i] = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h1"),
				Next: []byte(fmt.Sprintf("next%d", i)), ExpiresAt: exp, Grace: time.Hour, Fresh: 10 * time.Millisecond})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch authdash.ErrorCodeOf(err) {
		case "":
			if !rotated[i] || winner >= 0 {
				t.Fatalf("redemption %d: rotated %v, an earlier winner %d", i, rotated[i], winner)
			}
			winner = i
		case authdash.CodeConflict:
		default:
			t.Fatalf("redemption %d: %v, want a win or CodeConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no redemption won: %v", errs)
	}
	next := []byte(fmt.Sprintf("next%d", winner))
	for i := range n - 1 {
		got, rotated, err := s.RotateSession(ctx, authdash.Rotation{Presented: next, Next: []byte(fmt.Sprintf("again%d", i)),
			ExpiresAt: exp, Grace: time.Hour, Fresh: time.Hour})
		mustOK(t, err)
		if rotated || got.ID != sess.ID {
			t.Errorf("retry %d: rotated %v, session %s, want kept %s", i, rotated, got.ID, sess.ID)
		}
	}
	if _, err := s.SessionByToken(ctx, next); err != nil {
		t.Errorf("winner's token no longer current: %v", err)
	}
}

func testSessionErrExpired(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	sess, err := s.CreateSession(ctx, authdash.NewSession{UserID: u.ID, Device: "old", TokenHash: []byte("h1"), ExpiresAt: time.Now().Add(-time.Minute)})
	mustOK(t, err)
	_, _, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("h1"), Next: []byte("h2"), ExpiresAt: time.Now().Add(time.Hour)})
	wantCode(t, err, authdash.CodeUnauthorized)
	_, err = s.SessionByToken(ctx, []byte("h1"))
	wantCode(t, err, authdash.CodeUnauthorized)
	_, err = s.FindSession(ctx, u.ID, sess.ID)
	wantCode(t, err, authdash.CodeNotFound)
	list, err := s.ListSessions(ctx, u.ID)
	mustOK(t, err)
	if len(list) != 0 {
		t.Errorf("expired session listed: %+v", list)
	}
}

func testSessionListOrder(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	other := mustUser(t, s, "bob")
	a := mustSession(t, s, u.ID, "a1")
	b := mustSession(t, s, u.ID, "b1")
	c := mustSession(t, s, u.ID, "c1")
	mustSession(t, s, other.ID, "x1")
	rotated, _, err := s.RotateSession(ctx, authdash.Rotation{Presented: []byte("a1"), Next: []byte("a2"), ExpiresAt: time.Now().Add(time.Hour)})
	mustOK(t, err)

	list, err := s.ListSessions(ctx, u.ID)
	mustOK(t, err)
	got := map[authdash.SessionID]bool{}
	for i, sess := range list {
		got[sess.ID] = true
		if sess.UserID != u.ID {
			t.Errorf("listed another user's session %+v", sess)
		}
		if i > 0 && sess.LastUsedAt.After(list[i-1].LastUsedAt) {
			t.Errorf("not most recently used first: %v after %v", sess.LastUsedAt, list[i-1].LastUsedAt)
		}
	}
	if len(list) != 3 || !got[a.ID] || !got[b.ID] || !got[c.ID] {
		t.Fatalf("listed %+v, want %s %s %s", list, a.ID, b.ID, c.ID)
	}
	// Clocks tick in milliseconds, so only a strictly later use is
	// guaranteed to come first.
	if rotated.LastUsedAt.After(c.LastUsedAt) && list[0].ID != a.ID {
		t.Errorf("the session just used is not first: %+v", list)
	}
}

func testSessionDeleteOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	a := mustSession(t, s, u.ID, "a1")
	b := mustSession(t, s, u.ID, "b1")
	mustOK(t, s.DeleteSession(ctx, u.ID, a.ID))
	_, err := s.FindSession(ctx, u.ID, a.ID)
	wantCode(t, err, authdash.CodeNotFound)
	_, err = s.SessionByToken(ctx, []byte("a1"))
	wantCode(t, err, authdash.CodeUnauthorized)
	_, _, err = s.RotateSession(ctx, authdash.Rotation{Presented: []byte("a1"), Next: []byte("a2"), ExpiresAt: time.Now().Add(time.Hour)})
	wantCode(t, err, authdash.CodeUnauthorized)
	if _, err := s.FindSession(ctx, u.ID, b.ID); err != nil {
		t.Errorf("other session: %v", err)
	}
	wantCode(t, s.DeleteSession(ctx, u.ID, a.ID), authdash.CodeNotFound)
}

func testSessionErrOtherUsersSession(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	mallory := mustUser(t, s, "mallory")
	sess := mustSession(t, s, u.ID, "a1")
	_, err := s.FindSession(ctx, mallory.ID, sess.ID)
	wantCode(t, err, authdash.CodeNotFound)
	wantCode(t, s.DeleteSession(ctx, mallory.ID, sess.ID), authdash.CodeNotFound)
	n, err := s.DeleteSessions(ctx, mallory.ID, "")
	mustOK(t, err)
	if n != 0 {
		t.Errorf("DeleteSessions for another user ended %d", n)
	}
	if _, err := s.FindSession(ctx, u.ID, sess.ID); err != nil {
		t.Errorf("session gone after another user's delete: %v", err)
	}
	for _, id := range malformedIDs {
		_, err := s.FindSession(ctx, u.ID, authdash.SessionID(id))
		wantCode(t, err, authdash.CodeNotFound)
		wantCode(t, s.DeleteSession(ctx, u.ID, authdash.SessionID(id)), authdash.CodeNotFound)
	}
}

func testSessionDeleteAllButKeep(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	keep := mustSession(t, s, u.ID, "a1")
	mustSession(t, s, u.ID, "b1")
	mustSession(t, s, u.ID, "c1")
	n, err := s.DeleteSessions(ctx, u.ID, keep.ID)
	mustOK(t, err)
	if n != 2 {
		t.Errorf("ended %d, want 2", n)
	}
	list, err := s.ListSessions(ctx, u.ID)
	mustOK(t, err)
	if len(list) != 1 || list[0].ID != keep.ID {
		t.Errorf("left %+v, want only %s", list, keep.ID)
	}
	n, err = s.DeleteSessions(ctx, u.ID, "")
	mustOK(t, err)
	if n != 1 {
		t.Errorf("ended %d, want 1", n)
	}
}
