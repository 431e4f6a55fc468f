package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// codes returns n recovery code hashes, distinct per prefix.
func codes(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = authdash.TokenHash(fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

// mustTOTP gives u a confirmed set-up at step with the recovery codes of
// codes("rc", 10).
func mustTOTP(tb testing.TB, s authdash.Store, u *authdash.User, step int64) {
	tb.Helper()
	ctx := context.Background()
	mustOK(tb, s.SetTOTP(ctx, u.ID, "sealed", time.Now()))
	mustOK(tb, s.ConfirmTOTP(ctx, u.ID, step, codes("rc", authdash.RecoveryCodeCount)))
}

func testTOTPSetConfirm(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	_, err := s.FindTOTP(ctx, u.ID)
	wantCode(t, err, authdash.CodeNotFound)
	wantCode(t, s.ConfirmTOTP(ctx, u.ID, 1, nil), authdash.CodeNotFound)

	now := authdash.Millis(time.Now())
	mustOK(t, s.SetTOTP(ctx, u.ID, "first", now.Add(-time.Minute)))
	// A set-up not yet confirmed is replaced by the next.
	mustOK(t, s.SetTOTP(ctx, u.ID, "second", now))
	got, err := s.FindTOTP(ctx, u.ID)
	mustOK(t, err)
	if got.Secret != "second" || got.Confirmed || got.LastStep != 0 || got.RecoveryCodes != 0 ||
		!got.CreatedAt.Equal(now) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("unconfirmed: %+v", got)
	}
	mustOK(t, s.ConfirmTOTP(ctx, u.ID, 1000, codes("rc", 10)))
	got, err = s.FindTOTP(ctx, u.ID)
	mustOK(t, err)
	if got.Secret != "second" || !got.Confirmed || got.LastStep != 1000 || got.RecoveryCodes != 10 {
		t.Fatalf("confirmed: %+v", got)
	}
	// A confirmed set-up is neither replaced nor confirmed again.
	wantCode(t, s.SetTOTP(ctx, u.ID, "third", now), authdash.CodeConflict)
	wantCode(t, s.ConfirmTOTP(ctx, u.ID, 2000, codes("other", 10)), authdash.CodeConflict)
	got, err = s.FindTOTP(ctx, u.ID)
	mustOK(t, err)
	if got.Secret != "second" || got.LastStep != 1000 {
		t.Fatalf("after refusals: %+v", got)
	}
	// Another user has none.
	bob := mustUser(t, s, "bob")
	_, err = s.FindTOTP(ctx, bob.ID)
	wantCode(t, err, authdash.CodeNotFound)
	_, err = s.FindTOTP(ctx, "nonsense")
	wantCode(t, err, authdash.CodeNotFound)
}

func testTOTPUseStep(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	wantCode(t, s.UseTOTPStep(ctx, u.ID, 5), authdash.CodeNotFound)
	mustOK(t, s.SetTOTP(ctx, u.ID, "x", time.Now()))
	wantCode(t, s.UseTOTPStep(ctx, u.ID, 5), authdash.CodeNotFound) // not confirmed
	mustOK(t, s.ConfirmTOTP(ctx, u.ID, 10, nil))
	for _, tt := range []struct {
		step int64
		want authdash.ErrorCode
	}{
		{10, authdash.CodeConflict}, // the confirming code's step
		{9, authdash.CodeConflict},
		{11, ""},
		{11, authdash.CodeConflict}, // replay
		{13, ""},
		{12, authdash.CodeConflict}, // behind the last accepted
	} {
		err := s.UseTOTPStep(ctx, u.ID, tt.step)
		if tt.want == "" {
			mustOK(t, err)
		} else {
			wantCode(t, err, tt.want)
		}
	}
	got, err := s.FindTOTP(ctx, u.ID)
	mustOK(t, err)
	if got.LastStep != 13 {
		t.Fatalf("LastStep = %d, want 13", got.LastStep)
	}
}

func testTOTPConcurrentStepOneWins(t *testing.T, open Opener) {
	s := open(t)
	u := mustUser(t, s, "ann")
	mustTOTP(t, s, u, 1)
	wins := race(t, 8, func() error { return s.UseTOTPStep(context.Background(), u.ID, 2) }, authdash.CodeConflict)
	if wins != 1 {
		t.Fatalf("%d uses of one step won, want 1", wins)
	}
}

// race runs f n times at once and counts the nil answers; any other answer
// must have code lose.
func race(t *testing.T, n int, f func() error, lose authdash.ErrorCode) int {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f()
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if authdash.ErrorCodeOf(err) != lose {
			t.Errorf("loser: %v, want %s", err, lose)
		}
	}
	return wins
}

func testTOTPRecoveryCodes(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	bob := mustUser(t, s, "bob")
	rc := codes("rc", 10)
	wantCode(t, s.UseRecoveryCode(ctx, u.ID, rc[0]), authdash.CodeNotFound) // no set-up
	mustTOTP(t, s, u, 1)
	mustOK(t, s.UseRecoveryCode(ctx, u.ID, rc[3]))
	wantCode(t, s.UseRecoveryCode(ctx, u.ID, rc[3]), authdash.CodeNotFound)                       // used
	wantCode(t, s.UseRecoveryCode(ctx, u.ID, authdash.TokenHash("guess")), authdash.CodeNotFound) // unknown
	wantCode(t, s.UseRecoveryCode(ctx, bob.ID, rc[4]), authdash.CodeNotFound)                     // another's
	got, err := s.FindTOTP(ctx, u.ID)
	mustOK(t, err)
	if got.RecoveryCodes != 9 {
		t.Fatalf("RecoveryCodes = %d, want 9", got.RecoveryCodes)
	}
	wins := race(t, 8, func() error { return s.UseRecoveryCode(context.Background(), u.ID, rc[5]) }, authdash.CodeNotFound)
	if wins != 1 {
		t.Fatalf("%d uses of one recovery code won, want 1", wins)
	}
}

func testTOTPDelete(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	wantCode(t, s.DeleteTOTP(ctx, u.ID), authdash.CodeNotFound)
	mustTOTP(t, s, u, 1)
	mustOK(t, s.DeleteTOTP(ctx, u.ID))
	_, err := s.FindTOTP(ctx, u.ID)
	wantCode(t, err, authdash.CodeNotFound)
	wantCode(t, s.UseRecoveryCode(ctx, u.ID, codes("rc", 1)[0]), authdash.CodeNotFound)
	wantCode(t, s.DeleteTOTP(ctx, u.ID), authdash.CodeNotFound)
	// It can be set up again, with new recovery codes only.
	mustOK(t, s.SetTOTP(ctx, u.ID, "again", time.Now()))
	mustOK(t, s.ConfirmTOTP(ctx, u.ID, 1, codes("new", 2)))
	wantCode(t, s.UseRecoveryCode(ctx, u.ID, codes("rc", 1)[0]), authdash.CodeNotFound)
	mustOK(t, s.UseRecoveryCode(ctx, u.ID, codes("new", 1)[0]))
}

func testTOTPDeleteUser(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	mustTOTP(t, s, u, 1)
	_, err := s.RecordSignIn(ctx, u.ID, signIn(time.Now(), "k", authdash.SignInSuccess))
	mustOK(t, err)
	mustOK(t, s.DeleteUser(ctx, u.ID))
	_, err = s.FindTOTP(ctx, u.ID)
	wantCode(t, err, authdash.CodeNotFound)
	got, err := s.SignIns(ctx, u.ID, 10)
	mustOK(t, err)
	if len(got) != 0 {
		t.Fatalf("sign-ins of a deleted account: %+v", got)
	}
}

func testTOTPErrCancelledContext(t *testing.T, open Opener) {
	s := open(t)
	u := mustUser(t, s, "ann")
	mustTOTP(t, s, u, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.FindTOTP(ctx, u.ID)
	wantCode(t, err, authdash.CodeUnavailable)
	wantCode(t, s.UseTOTPStep(ctx, u.ID, 2), authdash.CodeUnavailable)
	wantCode(t, s.UseRecoveryCode(ctx, u.ID, codes("rc", 1)[0]), authdash.CodeUnavailable)
	_, err = s.RecordSignIn(ctx, u.ID, signIn(time.Now(), "k", authdash.SignInSuccess))
	wantCode(t, err, authdash.CodeUnavailable)
	// Nothing happened.
	mustOK(t, s.UseTOTPStep(context.Background(), u.ID, 2))
	mustOK(t, s.UseRecoveryCode(context.Background(), u.ID, codes("rc", 1)[0]))
}

// The token of a sign-in waiting for its second factor is looked at on every
// guess and spent only by the right one.
func testTokenFindDoesNotSpend(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	now := authdash.Millis(time.Now())
	tok, want := mustToken(t, s, u, authdash.PurposeMFA, now.Add(authdash.MFATokenTTL))
	for range 2 {
		got, err := s.FindAccountToken(ctx, authdash.TokenHash(tok), authdash.PurposeMFA, now)
		mustOK(t, err)
		if got.User != u.ID || got.Purpose != authdash.PurposeMFA || !got.ExpiresAt.Equal(want.ExpiresAt) {
			t.Fatalf("found %+v, want %+v", got, want)
		}
	}
	_, err := s.FindAccountToken(ctx, authdash.TokenHash(tok), authdash.PurposeResetPassword, now)
	wantTokenErr(t, err, authdash.ErrTokenInvalid())
	_, err = s.FindAccountToken(ctx, authdash.TokenHash(tok), authdash.PurposeMFA, now.Add(authdash.MFATokenTTL))
	wantTokenErr(t, err, authdash.ErrTokenExpired())
	_, err = s.FindAccountToken(ctx, authdash.TokenHash("unknown"), authdash.PurposeMFA, now)
	wantTokenErr(t, err, authdash.ErrTokenInvalid())
	_, err = use(s, tok, authdash.PurposeMFA, now)
	mustOK(t, err)
	_, err = s.FindAccountToken(ctx, authdash.TokenHash(tok), authdash.PurposeMFA, now)
	wantTokenErr(t, err, authdash.ErrTokenUsed())
}

func signIn(at time.Time, key string, outcome authdash.SignInOutcome) authdash.SignInEvent {
	e := authdash.SignInEvent{At: authdash.Millis(at), IP: "192.0.2.7", Device: "Firefox on Linux",
		Method: authdash.SignInPassword, Outcome: outcome, DeviceKey: key}
	if outcome == authdash.SignInFailure {
		e.Reason = authdash.ReasonWrongPassword
	}
	return e
}

func testSignInsListNewestFirst(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	bob := mustUser(t, s, "bob")
	now := authdash.Millis(time.Now())
	var want []authdash.SignInEvent
	for i := range 5 {
		e := signIn(now.Add(time.Duration(i)*time.Second), "k", authdash.SignInSuccess)
		if i == 2 {
			e = signIn(now.Add(time.Duration(i)*time.Second), "k", authdash.SignInFailure)
			e.Method, e.Reason = authdash.SignInTOTP, authdash.ReasonWrongCode
		}
		_, err := s.RecordSignIn(ctx, u.ID, e)
		mustOK(t, err)
		want = append([]authdash.SignInEvent{e}, want...)
	}
	// Two in the same millisecond: the later recorded first.
	last := signIn(now.Add(4*time.Second), "k2", authdash.SignInSuccess)
	_, err := s.RecordSignIn(ctx, u.ID, last)
	mustOK(t, err)
	want = append([]authdash.SignInEvent{last}, want...)
	_, err = s.RecordSignIn(ctx, bob.ID, signIn(now, "k", authdash.SignInSuccess))
	mustOK(t, err)

	got, err := s.SignIns(ctx, u.ID, 100)
	mustOK(t, err)
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range got {
		if got[i] != want[i] || got[i].At.Location() != time.UTC {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	got, err = s.SignIns(ctx, u.ID, 2)
	mustOK(t, err)
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("limit 2: %+v", got)
	}
}

func testSignInsNewDevice(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	now := time.Now()
	for i, tt := range []struct {
		key     string
		outcome authdash.SignInOutcome
		want    bool
	}{
		{"a", authdash.SignInFailure, false}, // failures are never new devices
		{"a", authdash.SignInSuccess, false}, // the first success: nothing to compare with
		{"a", authdash.SignInSuccess, false},
		{"b", authdash.SignInFailure, false},
		{"b", authdash.SignInSuccess, true}, // a failure did not make b known
		{"b", authdash.SignInSuccess, false},
		{"c", authdash.SignInSuccess, true},
	} {
		got, err := s.RecordSignIn(ctx, u.ID, signIn(now.Add(time.Duration(i)*time.Millisecond), tt.key, tt.outcome))
		mustOK(t, err)
		if got != tt.want {
			t.Errorf("%d (%s, %s): new device = %v, want %v", i, tt.key, tt.outcome, got, tt.want)
		}
	}
	// Devices are per account.
	bob := mustUser(t, s, "bob")
	for i, want := range []bool{false, true} {
		got, err := s.RecordSignIn(ctx, bob.ID, signIn(now, []string{"a", "c"}[i], authdash.SignInSuccess))
		mustOK(t, err)
		if got != want {
			t.Errorf("bob %d: new device = %v, want %v", i, got, want)
		}
	}
}

func testSignInsPurge(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	u := mustUser(t, s, "ann")
	now := authdash.Millis(time.Now())
	for _, at := range []time.Time{now.Add(-91 * 24 * time.Hour), now.Add(-90 * 24 * time.Hour), now} {
		_, err := s.RecordSignIn(ctx, u.ID, signIn(at, "k", authdash.SignInSuccess))
		mustOK(t, err)
	}
	n, err := s.PurgeSignIns(ctx, now.Add(-90*24*time.Hour))
	mustOK(t, err)
	if n != 1 {
		t.Fatalf("purged %d, want 1", n)
	}
	got, err := s.SignIns(ctx, u.ID, 100)
	mustOK(t, err)
	if len(got) != 2 {
		t.Fatalf("left %d, want 2", len(got))
	}
}
