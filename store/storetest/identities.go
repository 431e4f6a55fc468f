package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func link(u *authdash.User, provider, subject string, at time.Time) authdash.LinkedIdentity {
	return authdash.LinkedIdentity{User: u.ID, Provider: provider, Subject: subject,
		Email: u.Email, CreatedAt: at}
}

func testIdentityLinkFindList(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	now := authdash.Millis(time.Now())
	second, err := s.LinkIdentity(ctx, link(ann, "google", "g-ann", now))
	mustOK(t, err)
	first, err := s.LinkIdentity(ctx, link(ann, "github", "42", now.Add(-time.Hour)))
	mustOK(t, err)
	if first.ID == "" || first.ID == second.ID || !first.LastUsedAt.IsZero() {
		t.Fatalf("linked %+v and %+v: want distinct IDs, never used", first, second)
	}

	// A provider's subject is one account's at most, whoever asks.
	for _, u := range []*authdash.User{ann, bob} {
		_, err = s.LinkIdentity(ctx, link(u, "google", "g-ann", now))
		wantCode(t, err, authdash.CodeConflict)
	}
	// The same subject at another provider is another person.
	_, err = s.LinkIdentity(ctx, link(bob, "github", "g-ann", now))
	mustOK(t, err)
	_, err = s.LinkIdentity(ctx, link(&authdash.User{ID: "ffffffffffffffffffffffff"}, "google", "ghost", now))
	wantCode(t, err, authdash.CodeNotFound)

	list, err := s.LinkedIdentities(ctx, ann.ID)
	mustOK(t, err)
	if len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID {
		t.Fatalf("ann's = %+v, want github then google", list)
	}
	got := list[1]
	if got.User != ann.ID || got.Provider != "google" || got.Subject != "g-ann" || got.Email != ann.Email ||
		!got.CreatedAt.Equal(now) || !got.LastUsedAt.IsZero() {
		t.Fatalf("got %+v", got)
	}
	if none, err := s.LinkedIdentities(ctx, "not-an-id"); err != nil || len(none) != 0 {
		t.Fatalf("unknown user's = %v, %v; want none", none, err)
	}

	found, err := s.FindLinkedIdentity(ctx, "google", "g-ann")
	mustOK(t, err)
	if found.ID != second.ID || found.User != ann.ID {
		t.Fatalf("found %+v, want %+v", found, second)
	}
	for _, c := range []struct{ provider, subject string }{{"google", "g-bob"}, {"gitlab", "g-ann"}, {"", ""}} {
		_, err = s.FindLinkedIdentity(ctx, c.provider, c.subject)
		wantCode(t, err, authdash.CodeNotFound)
	}
}

func testIdentityUseUnlink(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	now := authdash.Millis(time.Now())
	i, err := s.LinkIdentity(ctx, link(ann, "google", "g-ann", now))
	mustOK(t, err)
	later := now.Add(time.Minute)
	mustOK(t, s.UseLinkedIdentity(ctx, ann.ID, i.ID, later))
	got, err := s.FindLinkedIdentity(ctx, "google", "g-ann")
	mustOK(t, err)
	if !got.LastUsedAt.Equal(later) {
		t.Fatalf("last used %v, want %v", got.LastUsedAt, later)
	}
	// Nobody uses or unlinks another's link; an ID that is none is none.
	for _, c := range []struct {
		user authdash.UserID
		id   string
	}{{bob.ID, i.ID}, {ann.ID, "ffffffffffffffffffffffff"}, {ann.ID, "not-an-id"}, {"not-an-id", i.ID}} {
		wantCode(t, s.UseLinkedIdentity(ctx, c.user, c.id, later), authdash.CodeNotFound)
		wantCode(t, s.UnlinkIdentity(ctx, c.user, c.id), authdash.CodeNotFound)
	}
	mustOK(t, s.UnlinkIdentity(ctx, ann.ID, i.ID))
	wantCode(t, s.UnlinkIdentity(ctx, ann.ID, i.ID), authdash.CodeNotFound)
	_, err = s.FindLinkedIdentity(ctx, "google", "g-ann")
	wantCode(t, err, authdash.CodeNotFound)
	// Unlinked, the subject may be linked again, to anyone.
	_, err = s.LinkIdentity(ctx, link(bob, "google", "g-ann", now))
	mustOK(t, err)
}

func testIdentityConcurrentLinkOneWins(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	users := []*authdash.User{mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "cy")}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.LinkIdentity(ctx, link(users[i%len(users)], "google", "shared", time.Now()))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else if authdash.ErrorCodeOf(err) != authdash.CodeConflict {
			t.Fatalf("err = %v, want conflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d racing links of one subject won, want 1", won)
	}
}

func testIdentityDeleteUserCascades(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	_, err := s.LinkIdentity(ctx, link(ann, "google", "g-ann", time.Now()))
	mustOK(t, err)
	mustOK(t, s.DeleteUser(ctx, ann.ID))
	_, err = s.FindLinkedIdentity(ctx, "google", "g-ann")
	wantCode(t, err, authdash.CodeNotFound)
	// The subject is free again.
	_, err = s.LinkIdentity(ctx, link(bob, "google", "g-ann", time.Now()))
	mustOK(t, err)
}
