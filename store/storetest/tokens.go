package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// mustToken stores a token of purpose for u, expiring at expires, and
// returns the token as mailed.
func mustToken(tb testing.TB, s authdash.Store, u *authdash.User, purpose authdash.TokenPurpose, expires time.Time) (string, authdash.AccountToken) {
	tb.Helper()
	tok, hash := authdash.NewAccountToken()
	t := authdash.AccountToken{Hash: hash, Purpose: purpose, User: u.ID, Email: u.Email,
		CreatedAt: authdash.Millis(expires.Add(-purpose.TTL())), ExpiresAt: authdash.Millis(expires)}
	if purpose == authdash.PurposeChangeEmail {
		t.NewEmail = "new-" + u.Email
	}
	if err := s.CreateAccountToken(context.Background(), t); err != nil {
		tb.Fatalf("CreateAccountToken(%s): %v", purpose, err)
	}
	return tok, t
}

// wantTokenErr fails unless err is the token failure want (code and message).
func wantTokenErr(tb testing.TB, err, want error) {
	tb.Helper()
	wantCode(tb, err, authdash.CodeInvalid)
	if got, w := authdash.ErrorMessageOf(err), authdash.ErrorMessageOf(want); got != w {
		tb.Fatalf("message = %q, want %q", got, w)
	}
	if authdash.ErrorFieldsOf(err)["token"] == "" {
		tb.Fatalf("fields = %v, want a token entry", authdash.ErrorFieldsOf(err))
	}
}

func use(s authdash.Store, tok string, p authdash.TokenPurpose, now time.Time) (*authdash.AccountToken, error) {
	return s.UseAccountToken(context.Background(), authdash.TokenHash(tok), p, now)
}

func testTokenUseOK(t *testing.T, open Opener) {
	s := open(t)
	u := mustUser(t, s, "ann")
	now := authdash.Millis(time.Now())
	tok, want := mustToken(t, s, u, authdash.PurposeChangeEmail, now.Add(time.Hour))
	got, err := use(s, tok, authdash.PurposeChangeEmail, now)
	mustOK(t, err)
	if !bytes.Equal(got.Hash, want.Hash) || got.Purpose != want.Purpose || got.User != u.ID || got.Email != u.Email ||
		got.NewEmail != want.NewEmail || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
		got.ExpiresAt.Location() != time.UTC {
		t.Errorf("used %+v, want %+v", got, want)
	}
	_, err = use(s, tok, authdash.PurposeChangeEmail, now)
	wantTokenErr(t, err, authdash.ErrTokenUsed())
}

// A token presented for another purpose, late, or made up changes nothing.
func testTokenErrRefused(t *testing.T, open Opener) {
	s := open(t)
	u := mustUser(t, s, "ann")
	now := authdash.Millis(time.Now())
	expires := now.Add(time.Minute)
	tok, _ := mustToken(t, s, u, authdash.PurposeResetPassword, expires)
	unknown, _ := authdash.NewAccountToken()
	tests := []struct {
		name    string
		tok     string
		purpose authdash.TokenPurpose
		at      time.Time
		want    error
	}{
		{"ErrOtherPurpose", tok, authdash.PurposeVerifyEmail, now, authdash.ErrTokenInvalid()},
		{"ErrUnknown", unknown, authdash.PurposeResetPassword, now, authdash.ErrTokenInvalid()},
		{"ErrEmpty", "", authdash.PurposeResetPassword, now, authdash.ErrTokenInvalid()},
		{"ErrExpired", tok, authdash.PurposeResetPassword, expires, authdash.ErrTokenExpired()},
		{"ErrLongExpired", tok, authdash.PurposeResetPassword, expires.Add(time.Hour), authdash.ErrTokenExpired()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := use(s, tc.tok, tc.purpose, tc.at)
			wantTokenErr(t, err, tc.want)
		})
	}
	// None of them spent it.
	_, err := use(s, tok, authdash.PurposeResetPassword, expires.Add(-time.Millisecond))
	mustOK(t, err)
}

func testTokenConcurrentUseOneWins(t *testing.T, open Opener) {
	s := open(t)
	u := mustUser(t, s, "ann")
	now := authdash.Millis(time.Now())
	tok, _ := mustToken(t, s, u, authdash.PurposeResetPassword, now.Add(time.Minute))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = use(s, tok, authdash.PurposeResetPassword, now) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		wantTokenErr(t, err, authdash.ErrTokenUsed())
	}
	if won != 1 {
		t.Fatalf("%d uses won, want exactly 1", won)
	}
}

// DeleteAccountTokens ends the user's unused links of one purpose only.
func testTokenDeleteUnused(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	now := authdash.Millis(time.Now())
	later := now.Add(time.Minute)
	spent, _ := mustToken(t, s, ann, authdash.PurposeResetPassword, later)
	unused, _ := mustToken(t, s, ann, authdash.PurposeResetPassword, later)
	verify, _ := mustToken(t, s, ann, authdash.PurposeVerifyEmail, later)
	bobs, _ := mustToken(t, s, bob, authdash.PurposeResetPassword, later)
	_, err := use(s, spent, authdash.PurposeResetPassword, now)
	mustOK(t, err)

	n, err := s.DeleteAccountTokens(ctx, ann.ID, authdash.PurposeResetPassword)
	mustOK(t, err)
	if n != 1 {
		t.Errorf("deleted %d, want 1 (the unused reset link)", n)
	}
	_, err = use(s, unused, authdash.PurposeResetPassword, now)
	wantTokenErr(t, err, authdash.ErrTokenInvalid())
	_, err = use(s, spent, authdash.PurposeResetPassword, now)
	wantTokenErr(t, err, authdash.ErrTokenUsed())
	_, err = use(s, verify, authdash.PurposeVerifyEmail, now)
	mustOK(t, err)
	_, err = use(s, bobs, authdash.PurposeResetPassword, now)
	mustOK(t, err)
	for _, id := range append(malformedIDs, string(missingUserID(t, s))) {
		n, err := s.DeleteAccountTokens(ctx, authdash.UserID(id), authdash.PurposeResetPassword)
		if err != nil || n != 0 {
			t.Errorf("DeleteAccountTokens(%q) = %d, %v; want 0, nil", id, n, err)
		}
	}
}

func testTokenPurge(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	now := authdash.Millis(time.Now())
	old, _ := mustToken(t, s, u, authdash.PurposeVerifyEmail, now.Add(-time.Hour))
	kept, _ := mustToken(t, s, u, authdash.PurposeVerifyEmail, now.Add(time.Hour))
	n, err := s.PurgeAccountTokens(ctx, now)
	mustOK(t, err)
	if n != 1 {
		t.Errorf("purged %d, want 1", n)
	}
	_, err = use(s, old, authdash.PurposeVerifyEmail, now.Add(-2*time.Hour))
	wantTokenErr(t, err, authdash.ErrTokenInvalid())
	_, err = use(s, kept, authdash.PurposeVerifyEmail, now)
	mustOK(t, err)
}

func testTokenDeleteUserDeletesTokens(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	now := authdash.Millis(time.Now())
	tok, _ := mustToken(t, s, u, authdash.PurposeResetPassword, now.Add(time.Minute))
	mustOK(t, s.DeleteUser(ctx, u.ID))
	_, err := use(s, tok, authdash.PurposeResetPassword, now)
	wantTokenErr(t, err, authdash.ErrTokenInvalid())
}

func testTokenErrCancelledContext(t *testing.T, open Opener) {
	s := open(t)
	u := mustUser(t, s, "ann")
	now := authdash.Millis(time.Now())
	tok, want := mustToken(t, s, u, authdash.PurposeResetPassword, now.Add(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wantCode(t, s.CreateAccountToken(ctx, want), authdash.CodeUnavailable)
	_, err := s.UseAccountToken(ctx, authdash.TokenHash(tok), authdash.PurposeResetPassword, now)
	wantCode(t, err, authdash.CodeUnavailable)
	_, err = use(s, tok, authdash.PurposeResetPassword, now)
	mustOK(t, err)
}

func testUserSetEmailOK(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	if u.EmailVerified {
		t.Fatal("a new account is verified")
	}
	// from == to: verification.
	v, err := s.SetEmail(ctx, u.ID, u.Email, u.Email)
	mustOK(t, err)
	if !v.EmailVerified || v.Email != u.Email || v.Version != u.Version+1 {
		t.Fatalf("verified: %+v", v)
	}
	again, err := s.SetEmail(ctx, u.ID, u.Email, u.Email)
	mustOK(t, err)
	if !again.EmailVerified || again.Version != v.Version {
		t.Errorf("verified twice: %+v, want version %d unchanged", again, v.Version)
	}
	// A change, normalised.
	c, err := s.SetEmail(ctx, u.ID, " ANN@example.com", "Ann.New@Example.com ")
	mustOK(t, err)
	if c.Email != "ann.new@example.com" || !c.EmailVerified || c.Version != v.Version+1 || c.Name != u.Name {
		t.Fatalf("changed: %+v", c)
	}
	got, err := s.FindUser(ctx, u.ID)
	mustOK(t, err)
	if got.Email != c.Email || !got.EmailVerified || got.Version != c.Version {
		t.Errorf("FindUser = %+v, want %+v", got, c)
	}
	_, _, err = s.FindLogin(ctx, "ann.new@example.com")
	mustOK(t, err)
	_, _, err = s.FindLogin(ctx, u.Email)
	wantCode(t, err, authdash.CodeNotFound)
}

func testUserSetEmailErrs(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
	t.Run("ErrMoved", func(t *testing.T) {
		_, err := s.SetEmail(ctx, ann.ID, "old@example.com", "new@example.com")
		wantCode(t, err, authdash.CodePreconditionFailed)
		_, err = s.SetEmail(ctx, ann.ID, bob.Email, bob.Email)
		wantCode(t, err, authdash.CodePreconditionFailed)
	})
	t.Run("ErrTaken", func(t *testing.T) {
		_, err := s.SetEmail(ctx, ann.ID, ann.Email, "BOB@example.com")
		wantCode(t, err, authdash.CodeConflict)
		if _, ok := authdash.ErrorFieldsOf(err)["email"]; !ok {
			t.Errorf("fields = %v, want an email entry", authdash.ErrorFieldsOf(err))
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, id := range append(malformedIDs, string(missingUserID(t, s))) {
			_, err := s.SetEmail(ctx, authdash.UserID(id), ann.Email, "x@example.com")
			wantCode(t, err, authdash.CodeNotFound)
		}
	})
	got, err := s.FindUser(ctx, ann.ID)
	mustOK(t, err)
	if got.Email != ann.Email || got.EmailVerified || got.Version != ann.Version {
		t.Errorf("after refusals: %+v, want %+v", got, ann)
	}
}

// UpdateUser changing the address leaves it unverified; naming the same
// address, or not naming one, keeps it verified.
func testUserUpdateEmailUnverifies(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	_, err := s.SetEmail(ctx, u.ID, u.Email, u.Email)
	mustOK(t, err)
	name, same, other := "Ann B", " Ann@Example.com", "ann.b@example.com"
	for _, tc := range []struct {
		name         string
		patch        authdash.UserPatch
		wantVerified bool
	}{
		{"NameOnly", authdash.UserPatch{Name: &name}, true},
		{"SameEmail", authdash.UserPatch{Email: &same}, true},
		{"NewEmail", authdash.UserPatch{Email: &other}, false},
	} {
		got, err := s.UpdateUser(ctx, u.ID, tc.patch)
		mustOK(t, err)
		if got.EmailVerified != tc.wantVerified {
			t.Errorf("%s: EmailVerified = %v, want %v", tc.name, got.EmailVerified, tc.wantVerified)
		}
		found, err := s.FindUser(ctx, u.ID)
		mustOK(t, err)
		if found.EmailVerified != tc.wantVerified || found.Version != got.Version {
			t.Errorf("%s: FindUser = %+v, want %+v", tc.name, found, got)
		}
	}
}
