// Package storetest is the contract every authdash.Store implementation
// passes. It uses only the authdash interfaces, so the same suite runs
// against SQLite and MongoDB and holds them to the same behaviour: error
// codes as the interface docs promise, owner isolation, Seq rising per owner,
// literal search and stable keyset pagination.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// Opener returns a fresh, empty store for one test and arranges its cleanup
// with t.Cleanup.
type Opener func(t *testing.T) authdash.Store

// Run runs the contract suite: every test of every group, each against
// stores open makes. A test's name is its group and its case, as in
// "Tasks/ConcurrentUpdateOneWins", so -run picks one out.
func Run(t *testing.T, open Opener) {
	for _, g := range suite {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.tests {
				t.Run(c.name, func(t *testing.T) { c.test(t, open) })
			}
		})
	}
}

type contractTest struct {
	name string
	test func(t *testing.T, open Opener)
}

// suite is the whole contract, by group. Add a store method's tests here.
var suite = []struct {
	name  string
	tests []contractTest
}{
	{"Users", []contractTest{
		{"CreateOK", testUserCreateOK},
		{"ErrEmailTaken", testUserErrEmailTaken},
		{"FindErrNotFound", testUserFindErrNotFound},
		{"FindLoginOK", testUserFindLoginOK},
		{"FindLoginErrNotFound", testUserFindLoginErrNotFound},
		{"UpdateOK", testUserUpdateOK},
		{"UpdateErrEmailTaken", testUserUpdateErrEmailTaken},
		{"UpdateErrNotFound", testUserUpdateErrNotFound},
		{"SetPasswordOK", testUserSetPasswordOK},
		{"SetPasswordErrNotFound", testUserSetPasswordErrNotFound},
		{"DeleteCascades", testUserDeleteCascades},
		{"DeleteErrNotFound", testUserDeleteErrNotFound},
		{"SetEmailOK", testUserSetEmailOK},
		{"SetEmailErrs", testUserSetEmailErrs},
		{"UpdateEmailUnverifies", testUserUpdateEmailUnverifies},
		{"EmailLookalikes", testUserEmailLookalikes},
	}},
	{"Passkeys", []contractTest{
		{"CreateListFind", testPasskeyCreateListFind},
		{"RenameDelete", testPasskeyRenameDelete},
		{"CounterOnlyAdvances", testPasskeyCounterOnlyAdvances},
		{"ConcurrentUseOneWins", testPasskeyConcurrentUseOneWins},
		{"ChallengeSingleUse", testPasskeyChallengeSingleUse},
		{"DeleteUserCascades", testPasskeyDeleteUserCascades},
	}},
	{"Identities", []contractTest{
		{"LinkFindList", testIdentityLinkFindList},
		{"UseUnlink", testIdentityUseUnlink},
		{"ConcurrentLinkOneWins", testIdentityConcurrentLinkOneWins},
		{"DeleteUserCascades", testIdentityDeleteUserCascades},
	}},
	{"Sessions", []contractTest{
		{"CreateOK", testSessionCreateOK},
		{"RotateOK", testSessionRotateOK},
		{"RotateErrUnknownToken", testSessionRotateErrUnknownToken},
		{"RotateErrReuseEndsSession", testSessionRotateErrReuseEndsSession},
		{"RotateReuseInGraceKeepsSession", testSessionRotateReuseInGraceKeepsSession},
		{"RotateFreshKeepsToken", testSessionRotateFreshKeepsToken},
		{"RotateRaceLosersRetry", testSessionRotateRaceLosersRetry},
		{"ErrExpired", testSessionErrExpired},
		{"ListOrder", testSessionListOrder},
		{"DeleteOK", testSessionDeleteOK},
		{"ErrOtherUsersSession", testSessionErrOtherUsersSession},
		{"DeleteAllButKeep", testSessionDeleteAllButKeep},
	}},
	{"Tasks", []contractTest{
		{"CreateOK", testTaskCreateOK},
		{"CreateErrUserNotFound", testTaskCreateErrUserNotFound},
		{"FindErrNotFound", testTaskFindErrNotFound},
		{"OwnerIsolation", testTaskOwnerIsolation},
		{"UpdateOK", testTaskUpdateOK},
		{"UpdateErrStale", testTaskUpdateErrStale},
		{"ConcurrentUpdateOneWins", testTaskConcurrentUpdateOneWins},
		{"DeleteOK", testTaskDeleteOK},
		{"SeqPerOwner", testTaskSeqPerOwner},
		{"Stats", testTaskStats},
		{"ErrCancelledContext", testTaskErrCancelledContext},
		{"TimesRoundTrip", testTaskTimesRoundTrip},
	}},
	{"CreateTaskOnce", []contractTest{
		{"OK", testCreateOnceOK},
		{"ReplayIsTheFirstAnswer", testCreateOnceReplayIsTheFirstAnswer},
		{"ErrKeyReusedForAnotherDraft", testCreateOnceErrKeyReusedForAnotherDraft},
		{"KeysArePerOwner", testCreateOnceKeysArePerOwner},
		{"ExpiredKeyStartsAfresh", testCreateOnceExpiredKeyStartsAfresh},
		{"ConcurrentCreatesOne", testCreateOnceConcurrentCreatesOne},
		{"ErrNotFound", testCreateOnceErrNotFound},
		{"ErrCancelledContext", testCreateOnceErrCancelledContext},
		{"PurgedKeyStartsAfresh", testCreateOncePurgedKeyStartsAfresh},
	}},
	{"RestoreTask", []contractTest{
		{"OK", testRestoreOK},
		{"DeleteAndRestoreAgain", testRestoreDeleteAndRestoreAgain},
		{"ErrNotDeleted", testRestoreErrNotDeleted},
		{"ErrNotFound", testRestoreErrNotFound},
		{"ErrPastTheWindow", testRestoreErrPastTheWindow},
		{"ErrContentPurged", testRestoreErrContentPurged},
		{"ConcurrentRestoreOneWins", testRestoreConcurrentRestoreOneWins},
		{"ErrCancelledContext", testRestoreErrCancelledContext},
	}},
	{"ChangesSince", []contractTest{
		{"Cases", testChangesSince},
		{"EmptyLog", testChangesEmptyLog},
		{"LatestChangeOnly", testChangesLatestChangeOnly},
		{"ChangeHead", testChangeHead},
	}},
	{"FindTasks", []contractTest{
		{"Queries", testFindTasks},
		{"ErrBadCursor", testFindTasksErrBadCursor},
		{"ErrNotNormalised", testFindTasksErrNotNormalised},
		{"LiveViewMatchesQuery", testLiveViewMatchesQuery},
	}},
	{"Pagination", []contractTest{
		{"EverySort", testPagination},
	}},
	{"MailOutbox", []contractTest{
		{"ClaimOK", testOutboxClaimOK},
		{"ClaimLimit", testOutboxClaimLimit},
		{"LeaseRunsOut", testOutboxLeaseRunsOut},
		{"RetryOK", testOutboxRetryOK},
		{"DeleteOK", testOutboxDeleteOK},
		{"ErrNotFound", testOutboxErrNotFound},
		{"ConcurrentClaimsDisjoint", testOutboxConcurrentClaimsDisjoint},
		{"ErrCancelledContext", testOutboxErrCancelledContext},
	}},
	{"AccountTokens", []contractTest{
		{"UseOK", testTokenUseOK},
		{"ErrRefused", testTokenErrRefused},
		{"ConcurrentUseOneWins", testTokenConcurrentUseOneWins},
		{"DeleteUnused", testTokenDeleteUnused},
		{"Purge", testTokenPurge},
		{"DeleteUserDeletesTokens", testTokenDeleteUserDeletesTokens},
		{"ErrCancelledContext", testTokenErrCancelledContext},
		{"FindDoesNotSpend", testTokenFindDoesNotSpend},
	}},
	{"Revocations", []contractTest{
		{"SaveOK", testRevocationsSaveOK},
		{"OutliveTheUser", testRevocationsOutliveTheUser},
		{"Purge", testRevocationsPurge},
		{"ErrCancelledContext", testRevocationsErrCancelledContext},
	}},
	{"TOTP", []contractTest{
		{"SetConfirm", testTOTPSetConfirm},
		{"UseStep", testTOTPUseStep},
		{"ConcurrentStepOneWins", testTOTPConcurrentStepOneWins},
		{"RecoveryCodes", testTOTPRecoveryCodes},
		{"Delete", testTOTPDelete},
		{"DeleteUser", testTOTPDeleteUser},
		{"ErrCancelledContext", testTOTPErrCancelledContext},
	}},
	{"SignIns", []contractTest{
		{"ListNewestFirst", testSignInsListNewestFirst},
		{"NewDevice", testSignInsNewDevice},
		{"Purge", testSignInsPurge},
	}},
}

// hashFor is a stand-in password hash: stores must keep it opaque.
func hashFor(email string) string { return "$argon2id$v=19$m=19456,t=2,p=1$" + email }

// mustUser creates a user with a unique email.
func mustUser(tb testing.TB, s authdash.Store, name string) *authdash.User {
	tb.Helper()
	email := strings.ToLower(name) + "@example.com"
	u, err := s.CreateUser(context.Background(), authdash.NewUser{Email: email, Name: name, PasswordHash: hashFor(email)})
	if err != nil {
		tb.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

// mustTask creates a task from a draft, normalised as TaskService would.
func mustTask(tb testing.TB, s authdash.Store, owner authdash.UserID, d authdash.TaskDraft) *authdash.Task {
	tb.Helper()
	d.Normalize()
	if err := d.Validate(); err != nil {
		tb.Fatalf("invalid draft %+v: %v", d, err)
	}
	task, _, err := s.CreateTask(context.Background(), owner, d)
	if err != nil {
		tb.Fatalf("CreateTask(%q): %v", d.Title, err)
	}
	return task
}

func mustSession(tb testing.TB, s authdash.Store, user authdash.UserID, token string) *authdash.Session {
	tb.Helper()
	sess, err := s.CreateSession(context.Background(), authdash.NewSession{
		UserID: user, Device: "test " + token, TokenHash: []byte(token), ExpiresAt: time.Now().Add(time.Hour),
	})
	if err != nil {
		tb.Fatalf("CreateSession: %v", err)
	}
	return sess
}

// wantCode fails unless err carries the domain code want.
func wantCode(tb testing.TB, err error, want authdash.ErrorCode) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("err = nil, want code %s", want)
	}
	if got := authdash.ErrorCodeOf(err); got != want {
		tb.Fatalf("code = %s (err %v), want %s", got, err, want)
	}
}

func mustOK(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// wantStamp checks a store-made time: UTC, millisecond precision, within
// [before, after] (both at millisecond precision).
func wantStamp(tb testing.TB, name string, got, before, after time.Time) {
	tb.Helper()
	if got.Location() != time.UTC {
		tb.Errorf("%s location = %v, want UTC", name, got.Location())
	}
	if !got.Equal(got.Truncate(time.Millisecond)) {
		tb.Errorf("%s = %v, not at millisecond precision", name, got)
	}
	if got.Before(authdash.Millis(before)) || got.After(authdash.Millis(after)) {
		tb.Errorf("%s = %v, not within [%v, %v]", name, got, before, after)
	}
}

// taskDiff describes how two tasks differ, comparing times as instants
// and insisting on UTC.
func taskDiff(got, want *authdash.Task) string {
	var d []string
	f := func(name string, g, w any) {
		if fmt.Sprint(g) != fmt.Sprint(w) {
			d = append(d, fmt.Sprintf("%s = %v, want %v", name, g, w))
		}
	}
	f("ID", got.ID, want.ID)
	f("Title", got.Title, want.Title)
	f("Description", got.Description, want.Description)
	f("Status", got.Status, want.Status)
	f("Priority", got.Priority, want.Priority)
	f("Tags", fmt.Sprintf("%q", got.Tags), fmt.Sprintf("%q", want.Tags))
	f("Version", got.Version, want.Version)
	if got.Tags == nil {
		d = append(d, "Tags = nil, want non-nil")
	}
	for _, tm := range []struct {
		name      string
		got, want *time.Time
	}{
		{"CreatedAt", &got.CreatedAt, &want.CreatedAt},
		{"UpdatedAt", &got.UpdatedAt, &want.UpdatedAt},
		{"DueDate", got.DueDate, want.DueDate},
	} {
		switch {
		case (tm.got == nil) != (tm.want == nil):
			d = append(d, fmt.Sprintf("%s = %v, want %v", tm.name, tm.got, tm.want))
		case tm.got == nil:
		case !tm.got.Equal(*tm.want):
			d = append(d, fmt.Sprintf("%s = %v, want %v", tm.name, *tm.got, *tm.want))
		case tm.got.Location() != time.UTC:
			d = append(d, fmt.Sprintf("%s location = %v, want UTC", tm.name, tm.got.Location()))
		}
	}
	return strings.Join(d, "; ")
}

func ptr[T any](v T) *T { return &v }

// createForMissingOwner checks TaskStore.CreateTask's promise for an owner
// that does not exist: CodeNotFound, or (a store that does not read the
// owner) a task that no existing user can see.
func createForMissingOwner(tb testing.TB, s authdash.Store, missing, other authdash.UserID) {
	tb.Helper()
	ctx := context.Background()
	task, _, err := s.CreateTask(ctx, missing, draft("orphan"))
	if err != nil {
		wantCode(tb, err, authdash.CodeNotFound)
		return
	}
	if _, err := s.FindTask(ctx, other, task.ID); authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
		tb.Errorf("another user's FindTask of an orphan: %v, want not_found", err)
	}
	page, err := s.FindTasks(ctx, other, query(authdash.TaskQuery{}))
	if err != nil {
		tb.Fatal(err)
	}
	for _, it := range page.Items {
		if it.ID == task.ID {
			tb.Errorf("another user lists the orphan %s", task.ID)
		}
	}
}

// headOf returns the owner's change-log head, checking that ChangeHead and
// ChangesSince agree on it.
func headOf(tb testing.TB, s authdash.Store, owner authdash.UserID) int64 {
	tb.Helper()
	head, err := s.ChangeHead(context.Background(), owner)
	if err != nil {
		tb.Fatalf("ChangeHead: %v", err)
	}
	_, logHead, _, err := s.ChangesSince(context.Background(), owner, head, 0)
	if err != nil {
		tb.Fatalf("ChangesSince: %v", err)
	}
	if logHead != head {
		tb.Errorf("ChangeHead = %d, ChangesSince's head = %d", head, logHead)
	}
	return head
}

// ids lists the IDs of tasks, for readable comparisons.
func ids(ts []authdash.Task) []authdash.TaskID {
	out := make([]authdash.TaskID, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

// missingTaskID returns the ID of a task that existed and was deleted, so
// it has the store's ID shape but names nothing.
func missingTaskID(tb testing.TB, s authdash.Store, owner authdash.UserID) authdash.TaskID {
	tb.Helper()
	t := mustTask(tb, s, owner, authdash.TaskDraft{Title: "doomed"})
	if _, err := s.DeleteTask(context.Background(), owner, t.ID, 0); err != nil {
		tb.Fatal(err)
	}
	return t.ID
}

// missingUserID returns the ID of a user that existed and was deleted.
func missingUserID(tb testing.TB, s authdash.Store) authdash.UserID {
	tb.Helper()
	u := mustUser(tb, s, "ghost")
	if err := s.DeleteUser(context.Background(), u.ID); err != nil {
		tb.Fatal(err)
	}
	return u.ID
}

// malformedIDs are IDs no store makes; lookups must answer not found, never
// a parse error or, worse, a match.
var malformedIDs = []string{"", "x", "ZZZZZZZZZZZZZZZZZZZZZZZZ", "0123456789ABCDEF01234567", `{"$gt": ""}`, "' OR 1=1 --", strings.Repeat("a", 300)}

func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || authdash.ErrorCodeOf(err) == authdash.CodeUnavailable
}
