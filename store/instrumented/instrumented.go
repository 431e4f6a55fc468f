// Package instrumented wraps an authdash.Store so that every operation is
// timed and reported, with its error, to an observer (for metrics). It adds
// no behaviour: what the wrapped store returns is returned unchanged.
package instrumented

import (
	"context"
	"time"

	"github.com/authdash/authdash"
)

// Observer receives each operation's name (the method, e.g. "FindTasks"),
// duration and error.
type Observer func(op string, d time.Duration, err error)

// Store is an authdash.Store that reports every call to an Observer.
type Store struct {
	s       authdash.Store
	observe Observer
}

// New wraps s. Methods outside authdash.Store (Ping, Close …) are not
// forwarded: keep the original for those.
func New(s authdash.Store, observe Observer) *Store {
	return &Store{s: s, observe: observe}
}

var _ authdash.Store = (*Store)(nil)

// done reports an operation that started at start.
func (s *Store) done(op string, start time.Time, err error) {
	s.observe(op, time.Since(start), err)
}

// CreateUser implements authdash.UserStore.
func (s *Store) CreateUser(ctx context.Context, u authdash.NewUser) (*authdash.User, error) {
	start := time.Now()
	r0, err := s.s.CreateUser(ctx, u)
	s.done("CreateUser", start, err)
	return r0, err
}

// FindUser implements authdash.UserStore.
func (s *Store) FindUser(ctx context.Context, id authdash.UserID) (*authdash.User, error) {
	start := time.Now()
	r0, err := s.s.FindUser(ctx, id)
	s.done("FindUser", start, err)
	return r0, err
}

// FindLogin implements authdash.UserStore.
func (s *Store) FindLogin(ctx context.Context, email string) (*authdash.User, string, error) {
	start := time.Now()
	r0, r1, err := s.s.FindLogin(ctx, email)
	s.done("FindLogin", start, err)
	return r0, r1, err
}

// PasswordHash implements authdash.UserStore.
func (s *Store) PasswordHash(ctx context.Context, id authdash.UserID) (string, error) {
	start := time.Now()
	r0, err := s.s.PasswordHash(ctx, id)
	s.done("PasswordHash", start, err)
	return r0, err
}

// UpdateUser implements authdash.UserStore.
func (s *Store) UpdateUser(ctx context.Context, id authdash.UserID, p authdash.UserPatch) (*authdash.User, error) {
	start := time.Now()
	r0, err := s.s.UpdateUser(ctx, id, p)
	s.done("UpdateUser", start, err)
	return r0, err
}

// SetPassword implements authdash.UserStore.
func (s *Store) SetPassword(ctx context.Context, id authdash.UserID, hash string, keep authdash.SessionID) error {
	start := time.Now()
	err := s.s.SetPassword(ctx, id, hash, keep)
	s.done("SetPassword", start, err)
	return err
}

// DeleteUser implements authdash.UserStore.
func (s *Store) DeleteUser(ctx context.Context, id authdash.UserID) error {
	start := time.Now()
	err := s.s.DeleteUser(ctx, id)
	s.done("DeleteUser", start, err)
	return err
}

// CreateSession implements authdash.SessionStore.
func (s *Store) CreateSession(ctx context.Context, ns authdash.NewSession) (*authdash.Session, error) {
	start := time.Now()
	r0, err := s.s.CreateSession(ctx, ns)
	s.done("CreateSession", start, err)
	return r0, err
}

// RotateSession implements authdash.SessionStore.
func (s *Store) RotateSession(ctx context.Context, r authdash.Rotation) (*authdash.Session, bool, error) {
	start := time.Now()
	r0, r1, err := s.s.RotateSession(ctx, r)
	s.done("RotateSession", start, err)
	return r0, r1, err
}

// FindSession implements authdash.SessionStore.
func (s *Store) FindSession(ctx context.Context, user authdash.UserID, id authdash.SessionID) (*authdash.Session, error) {
	start := time.Now()
	r0, err := s.s.FindSession(ctx, user, id)
	s.done("FindSession", start, err)
	return r0, err
}

// SessionByToken implements authdash.SessionStore.
func (s *Store) SessionByToken(ctx context.Context, tokenHash []byte) (*authdash.Session, error) {
	start := time.Now()
	r0, err := s.s.SessionByToken(ctx, tokenHash)
	s.done("SessionByToken", start, err)
	return r0, err
}

// ListSessions implements authdash.SessionStore.
func (s *Store) ListSessions(ctx context.Context, user authdash.UserID) ([]authdash.Session, error) {
	start := time.Now()
	r0, err := s.s.ListSessions(ctx, user)
	s.done("ListSessions", start, err)
	return r0, err
}

// DeleteSession implements authdash.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, user authdash.UserID, id authdash.SessionID) error {
	start := time.Now()
	err := s.s.DeleteSession(ctx, user, id)
	s.done("DeleteSession", start, err)
	return err
}

// DeleteSessions implements authdash.SessionStore.
func (s *Store) DeleteSessions(ctx context.Context, user authdash.UserID, keep authdash.SessionID) (int, error) {
	start := time.Now()
	r0, err := s.s.DeleteSessions(ctx, user, keep)
	s.done("DeleteSessions", start, err)
	return r0, err
}

// CreateTask implements authdash.TaskStore.
func (s *Store) CreateTask(ctx context.Context, owner authdash.UserID, d authdash.TaskDraft) (*authdash.Task, authdash.Event, error) {
	start := time.Now()
	r0, r1, err := s.s.CreateTask(ctx, owner, d)
	s.done("CreateTask", start, err)
	return r0, r1, err
}

// CreateTaskOnce implements authdash.TaskStore.
func (s *Store) CreateTaskOnce(ctx context.Context, owner authdash.UserID, k authdash.Idempotency, d authdash.TaskDraft) (*authdash.Task, authdash.Event, bool, error) {
	start := time.Now()
	r0, r1, r2, err := s.s.CreateTaskOnce(ctx, owner, k, d)
	s.done("CreateTaskOnce", start, err)
	return r0, r1, r2, err
}

// FindTask implements authdash.TaskStore.
func (s *Store) FindTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID) (*authdash.Task, error) {
	start := time.Now()
	r0, err := s.s.FindTask(ctx, owner, id)
	s.done("FindTask", start, err)
	return r0, err
}

// FindTasks implements authdash.TaskStore.
func (s *Store) FindTasks(ctx context.Context, owner authdash.UserID, q authdash.TaskQuery) (authdash.TaskPage, error) {
	start := time.Now()
	r0, err := s.s.FindTasks(ctx, owner, q)
	s.done("FindTasks", start, err)
	return r0, err
}

// UpdateTask implements authdash.TaskStore.
func (s *Store) UpdateTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID, p authdash.TaskPatch, ifVersion int64) (*authdash.Task, authdash.Event, error) {
	start := time.Now()
	r0, r1, err := s.s.UpdateTask(ctx, owner, id, p, ifVersion)
	s.done("UpdateTask", start, err)
	return r0, r1, err
}

// DeleteTask implements authdash.TaskStore.
func (s *Store) DeleteTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID, ifVersion int64) (authdash.Event, error) {
	start := time.Now()
	r0, err := s.s.DeleteTask(ctx, owner, id, ifVersion)
	s.done("DeleteTask", start, err)
	return r0, err
}

// RestoreTask implements authdash.TaskStore.
func (s *Store) RestoreTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID, deletedSince time.Time) (*authdash.Task, authdash.Event, error) {
	start := time.Now()
	r0, r1, err := s.s.RestoreTask(ctx, owner, id, deletedSince)
	s.done("RestoreTask", start, err)
	return r0, r1, err
}

// TaskStats implements authdash.TaskStore.
func (s *Store) TaskStats(ctx context.Context, owner authdash.UserID) (authdash.TaskStats, error) {
	start := time.Now()
	r0, err := s.s.TaskStats(ctx, owner)
	s.done("TaskStats", start, err)
	return r0, err
}

// ChangesSince implements authdash.TaskStore.
func (s *Store) ChangesSince(ctx context.Context, owner authdash.UserID, since int64, limit int) ([]authdash.Event, int64, bool, error) {
	start := time.Now()
	r0, r1, r2, err := s.s.ChangesSince(ctx, owner, since, limit)
	s.done("ChangesSince", start, err)
	return r0, r1, r2, err
}

// ChangeHead implements authdash.TaskStore.
func (s *Store) ChangeHead(ctx context.Context, owner authdash.UserID) (int64, error) {
	start := time.Now()
	r0, err := s.s.ChangeHead(ctx, owner)
	s.done("ChangeHead", start, err)
	return r0, err
}

// EnqueueMail implements authdash.MailOutbox.
func (s *Store) EnqueueMail(ctx context.Context, m authdash.Mail) (authdash.MailID, error) {
	start := time.Now()
	r0, err := s.s.EnqueueMail(ctx, m)
	s.done("EnqueueMail", start, err)
	return r0, err
}

// ClaimMail implements authdash.MailOutbox.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, n int) ([]authdash.Mail, error) {
	start := time.Now()
	r0, err := s.s.ClaimMail(ctx, now, lease, n)
	s.done("ClaimMail", start, err)
	return r0, err
}

// RetryMail implements authdash.MailOutbox.
func (s *Store) RetryMail(ctx context.Context, id authdash.MailID, next time.Time, reason string) error {
	start := time.Now()
	err := s.s.RetryMail(ctx, id, next, reason)
	s.done("RetryMail", start, err)
	return err
}

// DeleteMail implements authdash.MailOutbox.
func (s *Store) DeleteMail(ctx context.Context, id authdash.MailID) error {
	start := time.Now()
	err := s.s.DeleteMail(ctx, id)
	s.done("DeleteMail", start, err)
	return err
}

// SetEmail implements authdash.UserStore.
func (s *Store) SetEmail(ctx context.Context, id authdash.UserID, from, to string) (*authdash.User, error) {
	start := time.Now()
	r0, err := s.s.SetEmail(ctx, id, from, to)
	s.done("SetEmail", start, err)
	return r0, err
}

// CreateAccountToken implements authdash.AccountTokenStore.
func (s *Store) CreateAccountToken(ctx context.Context, t authdash.AccountToken) error {
	start := time.Now()
	err := s.s.CreateAccountToken(ctx, t)
	s.done("CreateAccountToken", start, err)
	return err
}

// UseAccountToken implements authdash.AccountTokenStore.
func (s *Store) UseAccountToken(ctx context.Context, hash []byte, purpose authdash.TokenPurpose, now time.Time) (*authdash.AccountToken, error) {
	start := time.Now()
	r0, err := s.s.UseAccountToken(ctx, hash, purpose, now)
	s.done("UseAccountToken", start, err)
	return r0, err
}

// DeleteAccountTokens implements authdash.AccountTokenStore.
func (s *Store) DeleteAccountTokens(ctx context.Context, user authdash.UserID, purpose authdash.TokenPurpose) (int, error) {
	start := time.Now()
	r0, err := s.s.DeleteAccountTokens(ctx, user, purpose)
	s.done("DeleteAccountTokens", start, err)
	return r0, err
}

// PurgeAccountTokens implements authdash.AccountTokenStore.
func (s *Store) PurgeAccountTokens(ctx context.Context, before time.Time) (int, error) {
	start := time.Now()
	r0, err := s.s.PurgeAccountTokens(ctx, before)
	s.done("PurgeAccountTokens", start, err)
	return r0, err
}

// SaveRevocation implements authdash.RevocationStore.
func (s *Store) SaveRevocation(ctx context.Context, r authdash.Revocation) error {
	start := time.Now()
	err := s.s.SaveRevocation(ctx, r)
	s.done("SaveRevocation", start, err)
	return err
}

// Revocations implements authdash.RevocationStore.
func (s *Store) Revocations(ctx context.Context, since time.Time) ([]authdash.Revocation, error) {
	start := time.Now()
	r0, err := s.s.Revocations(ctx, since)
	s.done("Revocations", start, err)
	return r0, err
}

// PurgeRevocations implements authdash.RevocationStore.
func (s *Store) PurgeRevocations(ctx context.Context, before time.Time) (int, error) {
	start := time.Now()
	r0, err := s.s.PurgeRevocations(ctx, before)
	s.done("PurgeRevocations", start, err)
	return r0, err
}

// FindAccountToken implements authdash.AccountTokenStore.
func (s *Store) FindAccountToken(ctx context.Context, hash []byte, purpose authdash.TokenPurpose, now time.Time) (*authdash.AccountToken, error) {
	start := time.Now()
	r0, err := s.s.FindAccountToken(ctx, hash, purpose, now)
	s.done("FindAccountToken", start, err)
	return r0, err
}

// SetTOTP implements authdash.MFAStore.
func (s *Store) SetTOTP(ctx context.Context, user authdash.UserID, secret string, now time.Time) error {
	start := time.Now()
	err := s.s.SetTOTP(ctx, user, secret, now)
	s.done("SetTOTP", start, err)
	return err
}

// FindTOTP implements authdash.MFAStore.
func (s *Store) FindTOTP(ctx context.Context, user authdash.UserID) (*authdash.TOTP, error) {
	start := time.Now()
	r0, err := s.s.FindTOTP(ctx, user)
	s.done("FindTOTP", start, err)
	return r0, err
}

// ConfirmTOTP implements authdash.MFAStore.
func (s *Store) ConfirmTOTP(ctx context.Context, user authdash.UserID, step int64, recovery [][]byte) error {
	start := time.Now()
	err := s.s.ConfirmTOTP(ctx, user, step, recovery)
	s.done("ConfirmTOTP", start, err)
	return err
}

// UseTOTPStep implements authdash.MFAStore.
func (s *Store) UseTOTPStep(ctx context.Context, user authdash.UserID, step int64) error {
	start := time.Now()
	err := s.s.UseTOTPStep(ctx, user, step)
	s.done("UseTOTPStep", start, err)
	return err
}

// UseRecoveryCode implements authdash.MFAStore.
func (s *Store) UseRecoveryCode(ctx context.Context, user authdash.UserID, hash []byte) error {
	start := time.Now()
	err := s.s.UseRecoveryCode(ctx, user, hash)
	s.done("UseRecoveryCode", start, err)
	return err
}

// DeleteTOTP implements authdash.MFAStore.
func (s *Store) DeleteTOTP(ctx context.Context, user authdash.UserID) error {
	start := time.Now()
	err := s.s.DeleteTOTP(ctx, user)
	s.done("DeleteTOTP", start, err)
	return err
}

// RecordSignIn implements authdash.SignInStore.
func (s *Store) RecordSignIn(ctx context.Context, user authdash.UserID, e authdash.SignInEvent) (bool, error) {
	start := time.Now()
	r0, err := s.s.RecordSignIn(ctx, user, e)
	s.done("RecordSignIn", start, err)
	return r0, err
}

// SignIns implements authdash.SignInStore.
func (s *Store) SignIns(ctx context.Context, user authdash.UserID, limit int) ([]authdash.SignInEvent, error) {
	start := time.Now()
	r0, err := s.s.SignIns(ctx, user, limit)
	s.done("SignIns", start, err)
	return r0, err
}

// PurgeSignIns implements authdash.SignInStore.
func (s *Store) PurgeSignIns(ctx context.Context, before time.Time) (int, error) {
	start := time.Now()
	r0, err := s.s.PurgeSignIns(ctx, before)
	s.done("PurgeSignIns", start, err)
	return r0, err
}

// CreatePasskey implements authdash.PasskeyStore.
func (s *Store) CreatePasskey(ctx context.Context, p authdash.Passkey) error {
	start := time.Now()
	err := s.s.CreatePasskey(ctx, p)
	s.done("CreatePasskey", start, err)
	return err
}

// Passkeys implements authdash.PasskeyStore.
func (s *Store) Passkeys(ctx context.Context, user authdash.UserID) ([]authdash.Passkey, error) {
	start := time.Now()
	r0, err := s.s.Passkeys(ctx, user)
	s.done("Passkeys", start, err)
	return r0, err
}

// FindPasskey implements authdash.PasskeyStore.
func (s *Store) FindPasskey(ctx context.Context, id []byte) (*authdash.Passkey, error) {
	start := time.Now()
	r0, err := s.s.FindPasskey(ctx, id)
	s.done("FindPasskey", start, err)
	return r0, err
}

// RenamePasskey implements authdash.PasskeyStore.
func (s *Store) RenamePasskey(ctx context.Context, user authdash.UserID, id []byte, name string) error {
	start := time.Now()
	err := s.s.RenamePasskey(ctx, user, id, name)
	s.done("RenamePasskey", start, err)
	return err
}

// DeletePasskey implements authdash.PasskeyStore.
func (s *Store) DeletePasskey(ctx context.Context, user authdash.UserID, id []byte) error {
	start := time.Now()
	err := s.s.DeletePasskey(ctx, user, id)
	s.done("DeletePasskey", start, err)
	return err
}

// UsePasskey implements authdash.PasskeyStore.
func (s *Store) UsePasskey(ctx context.Context, user authdash.UserID, id []byte, signCount uint32, backupState bool, credential []byte, now time.Time) error {
	start := time.Now()
	err := s.s.UsePasskey(ctx, user, id, signCount, backupState, credential, now)
	s.done("UsePasskey", start, err)
	return err
}

// CreatePasskeyChallenge implements authdash.PasskeyStore.
func (s *Store) CreatePasskeyChallenge(ctx context.Context, c authdash.PasskeyChallenge) error {
	start := time.Now()
	err := s.s.CreatePasskeyChallenge(ctx, c)
	s.done("CreatePasskeyChallenge", start, err)
	return err
}

// UsePasskeyChallenge implements authdash.PasskeyStore.
func (s *Store) UsePasskeyChallenge(ctx context.Context, hash []byte, purpose authdash.TokenPurpose, now time.Time) (*authdash.PasskeyChallenge, error) {
	start := time.Now()
	r0, err := s.s.UsePasskeyChallenge(ctx, hash, purpose, now)
	s.done("UsePasskeyChallenge", start, err)
	return r0, err
}

// PurgePasskeyChallenges implements authdash.PasskeyStore.
func (s *Store) PurgePasskeyChallenges(ctx context.Context, before time.Time) (int, error) {
	start := time.Now()
	r0, err := s.s.PurgePasskeyChallenges(ctx, before)
	s.done("PurgePasskeyChallenges", start, err)
	return r0, err
}

// LinkIdentity implements authdash.IdentityStore.
func (s *Store) LinkIdentity(ctx context.Context, i authdash.LinkedIdentity) (*authdash.LinkedIdentity, error) {
	start := time.Now()
	r0, err := s.s.LinkIdentity(ctx, i)
	s.done("LinkIdentity", start, err)
	return r0, err
}

// FindLinkedIdentity implements authdash.IdentityStore.
func (s *Store) FindLinkedIdentity(ctx context.Context, provider, subject string) (*authdash.LinkedIdentity, error) {
	start := time.Now()
	r0, err := s.s.FindLinkedIdentity(ctx, provider, subject)
	s.done("FindLinkedIdentity", start, err)
	return r0, err
}

// LinkedIdentities implements authdash.IdentityStore.
func (s *Store) LinkedIdentities(ctx context.Context, user authdash.UserID) ([]authdash.LinkedIdentity, error) {
	start := time.Now()
	r0, err := s.s.LinkedIdentities(ctx, user)
	s.done("LinkedIdentities", start, err)
	return r0, err
}

// UseLinkedIdentity implements authdash.IdentityStore.
func (s *Store) UseLinkedIdentity(ctx context.Context, user authdash.UserID, id string, now time.Time) error {
	start := time.Now()
	err := s.s.UseLinkedIdentity(ctx, user, id, now)
	s.done("UseLinkedIdentity", start, err)
	return err
}

// UnlinkIdentity implements authdash.IdentityStore.
func (s *Store) UnlinkIdentity(ctx context.Context, user authdash.UserID, id string) error {
	start := time.Now()
	err := s.s.UnlinkIdentity(ctx, user, id)
	s.done("UnlinkIdentity", start, err)
	return err
}
