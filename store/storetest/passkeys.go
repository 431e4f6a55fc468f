package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func newPasskey(u *authdash.User, id, name string, at time.Time) authdash.Passkey {
	return authdash.Passkey{ID: []byte(id), User: u.ID, Name: name, Credential: []byte(`{"id":"` + id + `"}`),
		SignCount: 1, BackupEligible: true, BackupState: false, CreatedAt: authdash.Millis(at)}
}

func testPasskeyCreateListFind(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	now := time.Now()
	mustOK(t, s.CreatePasskey(ctx, newPasskey(ann, "key-2", "Laptop", now)))
	mustOK(t, s.CreatePasskey(ctx, newPasskey(ann, "key-1", "Phone", now.Add(-time.Hour))))
	// A credential ID belongs to one account only.
	wantCode(t, s.CreatePasskey(ctx, newPasskey(bob, "key-1", "Stolen", now)), authdash.CodeConflict)
	wantCode(t, s.CreatePasskey(ctx, newPasskey(&authdash.User{ID: "ffffffffffffffffffffffff"}, "key-3", "x", now)), authdash.CodeNotFound)

	list, err := s.Passkeys(ctx, ann.ID)
	mustOK(t, err)
	if len(list) != 2 || string(list[0].ID) != "key-1" || string(list[1].ID) != "key-2" {
		t.Fatalf("list = %+v, want key-1 then key-2", list)
	}
	want := newPasskey(ann, "key-2", "Laptop", now)
	got := list[1]
	if got.User != ann.ID || got.Name != want.Name || !bytes.Equal(got.Credential, want.Credential) || got.SignCount != 1 ||
		!got.BackupEligible || got.BackupState || !got.CreatedAt.Equal(want.CreatedAt) || !got.LastUsedAt.IsZero() {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if other, err := s.Passkeys(ctx, bob.ID); err != nil || len(other) != 0 {
		t.Fatalf("bob's = %v, %v; want none", other, err)
	}
	p, err := s.FindPasskey(ctx, []byte("key-1"))
	mustOK(t, err)
	if p.User != ann.ID || p.Name != "Phone" {
		t.Fatalf("found %+v", p)
	}
	_, err = s.FindPasskey(ctx, []byte("nope"))
	wantCode(t, err, authdash.CodeNotFound)
}

func testPasskeyRenameDelete(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	mustOK(t, s.CreatePasskey(ctx, newPasskey(ann, "key-1", "Phone", time.Now())))
	mustOK(t, s.RenamePasskey(ctx, ann.ID, []byte("key-1"), "Work phone"))
	// Nobody renames or deletes another's passkey.
	wantCode(t, s.RenamePasskey(ctx, bob.ID, []byte("key-1"), "Mine"), authdash.CodeNotFound)
	wantCode(t, s.DeletePasskey(ctx, bob.ID, []byte("key-1")), authdash.CodeNotFound)
	wantCode(t, s.RenamePasskey(ctx, ann.ID, []byte("nope"), "x"), authdash.CodeNotFound)
	p, err := s.FindPasskey(ctx, []byte("key-1"))
	mustOK(t, err)
	if p.Name != "Work phone" {
		t.Fatalf("name = %q", p.Name)
	}
	mustOK(t, s.DeletePasskey(ctx, ann.ID, []byte("key-1")))
	wantCode(t, s.DeletePasskey(ctx, ann.ID, []byte("key-1")), authdash.CodeNotFound)
	_, err = s.FindPasskey(ctx, []byte("key-1"))
	wantCode(t, err, authdash.CodeNotFound)
}

func testPasskeyCounterOnlyAdvances(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	now := authdash.Millis(time.Now())
	mustOK(t, s.CreatePasskey(ctx, newPasskey(ann, "key-1", "Phone", now)))
	mustOK(t, s.UsePasskey(ctx, ann.ID, []byte("key-1"), 5, true, []byte("v2"), now))
	for _, c := range []uint32{5, 4, 0} {
		// A counter that did not advance may be a cloned authenticator.
		wantCode(t, s.UsePasskey(ctx, ann.ID, []byte("key-1"), c, true, []byte("bad"), now), authdash.CodeConflict)
	}
	wantCode(t, s.UsePasskey(ctx, bob.ID, []byte("key-1"), 9, true, []byte("c"), now), authdash.CodeNotFound)
	wantCode(t, s.UsePasskey(ctx, ann.ID, []byte("nope"), 9, true, []byte("c"), now), authdash.CodeNotFound)
	p, err := s.FindPasskey(ctx, []byte("key-1"))
	mustOK(t, err)
	if p.SignCount != 5 || !p.BackupState || string(p.Credential) != "v2" || !p.LastUsedAt.Equal(now) {
		t.Fatalf("after uses: %+v", p)
	}
	// An authenticator without a counter always says 0.
	zero := newPasskey(ann, "key-0", "Key", now)
	zero.SignCount = 0
	mustOK(t, s.CreatePasskey(ctx, zero))
	mustOK(t, s.UsePasskey(ctx, ann.ID, []byte("key-0"), 0, false, []byte("z"), now))
	mustOK(t, s.UsePasskey(ctx, ann.ID, []byte("key-0"), 0, false, []byte("z"), now))
}

func testPasskeyConcurrentUseOneWins(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann := mustUser(t, s, "ann")
	mustOK(t, s.CreatePasskey(ctx, newPasskey(ann, "key-1", "Phone", time.Now())))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = s.UsePasskey(ctx, ann.ID, []byte("key-1"), 2, false, []byte("c"), time.Now()) })
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
		t.Fatalf("%d uses of one signature won, want 1", won)
	}
}

func testPasskeyChallengeSingleUse(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann := mustUser(t, s, "ann")
	now := authdash.Millis(time.Now())
	mk := func(name string, user authdash.UserID, purpose authdash.TokenPurpose, exp time.Time) authdash.PasskeyChallenge {
		return authdash.PasskeyChallenge{Hash: authdash.TokenHash(name), Purpose: purpose, User: user,
			Session: []byte(`{"challenge":"` + name + `"}`), CreatedAt: now, ExpiresAt: exp}
	}
	reg := mk("reg", ann.ID, authdash.PurposePasskeyRegister, now.Add(5*time.Minute))
	login := mk("login", "", authdash.PurposePasskeyLogin, now.Add(5*time.Minute))
	old := mk("old", "", authdash.PurposePasskeyLogin, now.Add(-time.Second))
	for _, c := range []authdash.PasskeyChallenge{reg, login, old} {
		mustOK(t, s.CreatePasskeyChallenge(ctx, c))
	}
	wantCode(t, s.CreatePasskeyChallenge(ctx, mk("ghost", "ffffffffffffffffffffffff", authdash.PurposePasskeyRegister, now.Add(time.Minute))), authdash.CodeNotFound)

	// For another purpose it does not work, and is not spent.
	_, err := s.UsePasskeyChallenge(ctx, reg.Hash, authdash.PurposePasskeyLogin, now)
	wantCode(t, err, authdash.CodeInvalid)
	got, err := s.UsePasskeyChallenge(ctx, reg.Hash, authdash.PurposePasskeyRegister, now)
	mustOK(t, err)
	if got.User != ann.ID || got.Purpose != authdash.PurposePasskeyRegister || !bytes.Equal(got.Session, reg.Session) ||
		!got.CreatedAt.Equal(now) || !got.ExpiresAt.Equal(reg.ExpiresAt) {
		t.Fatalf("got %+v, want %+v", got, reg)
	}
	_, err = s.UsePasskeyChallenge(ctx, reg.Hash, authdash.PurposePasskeyRegister, now)
	wantCode(t, err, authdash.CodeInvalid)
	got, err = s.UsePasskeyChallenge(ctx, login.Hash, authdash.PurposePasskeyLogin, now)
	mustOK(t, err)
	if got.User != "" {
		t.Fatalf("a discoverable sign-in's challenge has user %q", got.User)
	}
	_, err = s.UsePasskeyChallenge(ctx, old.Hash, authdash.PurposePasskeyLogin, now)
	wantCode(t, err, authdash.CodeInvalid)

	// Of racing uses exactly one wins.
	race := mk("race", "", authdash.PurposePasskeyLogin, now.Add(time.Minute))
	mustOK(t, s.CreatePasskeyChallenge(ctx, race))
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() { _, errs[i] = s.UsePasskeyChallenge(ctx, race.Hash, authdash.PurposePasskeyLogin, now) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d racing uses won, want 1 (%v)", won, errs)
	}

	n, err := s.PurgePasskeyChallenges(ctx, now)
	mustOK(t, err)
	if n != 1 {
		t.Fatalf("purged %d, want the expired one", n)
	}
}

func testPasskeyDeleteUserCascades(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann := mustUser(t, s, "ann")
	now := time.Now()
	mustOK(t, s.CreatePasskey(ctx, newPasskey(ann, "key-1", "Phone", now)))
	c := authdash.PasskeyChallenge{Hash: authdash.TokenHash("c"), Purpose: authdash.PurposePasskeyRegister, User: ann.ID,
		Session: []byte("{}"), CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	mustOK(t, s.CreatePasskeyChallenge(ctx, c))
	mustOK(t, s.DeleteUser(ctx, ann.ID))
	_, err := s.FindPasskey(ctx, []byte("key-1"))
	wantCode(t, err, authdash.CodeNotFound)
	_, err = s.UsePasskeyChallenge(ctx, c.Hash, authdash.PurposePasskeyRegister, now)
	wantCode(t, err, authdash.CodeInvalid)
	// The credential ID is free again.
	bob := mustUser(t, s, "bob")
	mustOK(t, s.CreatePasskey(ctx, newPasskey(bob, "key-1", "Phone", now)))
}
