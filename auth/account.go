package auth

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/emailkey"
)

// The account flows: a verified address, a forgotten password, a safe email change. Each
// link mailed is an authdash.AccountToken: 256 random bits, stored as a hash, single-use,
// bound to its purpose and account, and to the address it was sent for.

// MailKind names a message of the account flows (the mail package's kinds).
type MailKind string

const (
	MailVerifyEmail     MailKind = "verify-email"
	MailResetPassword   MailKind = "reset-password"
	MailPasswordChanged MailKind = "password-changed"
	MailConfirmEmail    MailKind = "confirm-email-change"
	MailEmailChanged    MailKind = "email-changed"
	MailNewSignIn       MailKind = "new-sign-in"
	MailTwoFactorOn     MailKind = "two-factor-on"
	MailTwoFactorOff    MailKind = "two-factor-off"
	MailLinkIdentity    MailKind = "link-identity"
)

// AccountMail is one message to send.
type AccountMail struct {
	Kind     MailKind
	To       string
	Name     string
	Token    string        // the link's token; empty for a notice
	Valid    time.Duration // how long the link works
	Expires  time.Time     // when the link stops working: the message is worthless after
	OldEmail string        // email change: the address left
	NewEmail string        // email change: the address asked for
	Device   string        // new sign-in: the device, summarised
	IP       string        // new sign-in: the address it came from
	At       time.Time     // new sign-in: when
	Provider string        // link identity: the provider's display name
}

// Mailer sends the flows' mail. It must not wait for SMTP: the instance's writes the
// message to the durable outbox and returns.
type Mailer interface {
	SendAccountMail(ctx context.Context, m AccountMail) error
}

// maxForgotInFlight bounds the forgot-password lookups running in the background.
const maxForgotInFlight = 64

// forgotTimeout bounds one background lookup and its mail.
const forgotTimeout = 30 * time.Second

// mail sends m, logging a failure: the change it reports has happened, and a person can
// ask for the link again.
func (s *Service) mail(ctx context.Context, m AccountMail) {
	if s.cfg.Mail == nil {
		return
	}
	if err := s.cfg.Mail.SendAccountMail(ctx, m); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "account mail not queued",
			slog.String("kind", string(m.Kind)), slog.Any("err", err))
	}
}

// issue makes a token for purpose and stores its hash.
func (s *Service) issue(ctx context.Context, purpose authdash.TokenPurpose, u *authdash.User, newEmail string) (string, time.Time, error) {
	now := s.cfg.Now()
	token, hash := authdash.NewAccountToken()
	exp := now.Add(purpose.TTL())
	err := s.store.CreateAccountToken(ctx, authdash.AccountToken{
		Hash: hash, Purpose: purpose, User: u.ID, Email: u.Email, NewEmail: newEmail,
		CreatedAt: now, ExpiresAt: exp,
	})
	return token, exp, err
}

// use spends a presented token of purpose. A malformed token is the same 400 as an
// unknown one.
func (s *Service) use(ctx context.Context, token string, purpose authdash.TokenPurpose) (*authdash.AccountToken, error) {
	if token == "" || len(token) > 128 {
		return nil, authdash.ErrTokenInvalid()
	}
	return s.store.UseAccountToken(ctx, authdash.TokenHash(token), purpose, s.cfg.Now())
}

// sendVerification mails u a link that proves its address.
func (s *Service) sendVerification(ctx context.Context, u *authdash.User) error {
	token, exp, err := s.issue(ctx, authdash.PurposeVerifyEmail, u, "")
	if err != nil {
		return err
	}
	s.mail(ctx, AccountMail{Kind: MailVerifyEmail, To: u.Email, Name: u.Name, Token: token,
		Valid: authdash.PurposeVerifyEmail.TTL(), Expires: exp})
	return nil
}

// ResendVerification mails the signed-in user a new verification link; an address
// already verified gets nothing (the answer is the same).
func (s *Service) ResendVerification(ctx context.Context, user authdash.UserID) error {
	u, err := s.store.FindUser(ctx, user)
	if err != nil {
		return err
	}
	if u.EmailVerified {
		return nil
	}
	return s.sendVerification(ctx, u)
}

// VerifyEmail spends a verification token and marks the address it was sent to
// verified, if the account still has it (ErrTokenStale otherwise).
func (s *Service) VerifyEmail(ctx context.Context, token string) error {
	t, err := s.use(ctx, token, authdash.PurposeVerifyEmail)
	if err != nil {
		return err
	}
	u, err := s.store.SetEmail(ctx, t.User, t.Email, t.Email)
	if err != nil {
		return staleToken(err)
	}
	s.publish(ctx, authdash.Event{Kind: authdash.EventUserUpdated, Owner: u.ID, User: u, Version: u.Version})
	return nil
}

// staleToken reads "the account no longer has the address the link was sent for"
// (and a deleted account) as the link's fault: a 400, not a 412 or 404.
func staleToken(err error) error {
	switch authdash.ErrorCodeOf(err) {
	case authdash.CodePreconditionFailed, authdash.CodeNotFound:
		return errors.Join(authdash.ErrTokenStale(), err)
	}
	return err
}

// ForgotPassword starts a password reset for email and returns at once, whether or not
// an account has that address: the lookup, the token and the mail happen in the
// background, so neither the answer nor its timing tells who is registered.
// CodeInvalid for an address that is not one; CodeUnavailable when too many resets are
// already under way.
func (s *Service) ForgotPassword(ctx context.Context, email string) error {
	email = emailkey.Canonical(email)
	if err := (authdash.PasswordForgotten{Email: email}).Validate(); err != nil {
		return err
	}
	busy := authdash.Errorf(authdash.CodeUnavailable, "Too many requests; try again in a moment.")
	s.bgMu.Lock()
	if s.closed {
		s.bgMu.Unlock()
		return busy
	}
	select {
	case s.forgot <- struct{}{}:
	default:
		s.bgMu.Unlock()
		return busy
	}
	s.bg.Add(1)
	s.bgMu.Unlock()
	go func() {
		defer s.bg.Done()
		defer func() { <-s.forgot }()
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), forgotTimeout)
		defer cancel()
		if err := s.sendReset(bctx, email); err != nil {
			s.log.LogAttrs(bctx, slog.LevelError, "password reset not started", slog.Any("err", err))
		}
	}()
	return nil
}

func (s *Service) sendReset(ctx context.Context, email string) error {
	u, _, err := s.store.FindLogin(ctx, email)
	if authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	token, exp, err := s.issue(ctx, authdash.PurposeResetPassword, u, "")
	if err != nil {
		return err
	}
	s.mail(ctx, AccountMail{Kind: MailResetPassword, To: u.Email, Name: u.Name, Token: token,
		Valid: authdash.PurposeResetPassword.TTL(), Expires: exp})
	return nil
}

// ResetPassword sets a new password with a reset token (the password policy applies,
// checked before the token is spent), ends every session and access token of the
// account at once, sockets included, on every instance, and mails a notice. The link
// proved the address, so it counts as verified.
func (s *Service) ResetPassword(ctx context.Context, r authdash.PasswordReset) error {
	if err := r.Validate(); err != nil {
		return err
	}
	// Judged before the link is spent, so a refused password leaves it
	// usable: the link is read, not spent, to learn whose it is.
	peek, owner, err := s.peekReset(ctx, r.Token)
	if err != nil {
		return err
	}
	if err := s.judgePassword("newPassword", r.NewPassword, peek.Email, owner.Email, owner.Name); err != nil {
		return err
	}
	hash, err := s.hasher.hash(ctx, r.NewPassword)
	if err != nil {
		return err
	}
	t, err := s.use(ctx, r.Token, authdash.PurposeResetPassword)
	if err != nil {
		return err
	}
	u, err := s.store.SetEmail(ctx, t.User, t.Email, t.Email)
	if err != nil {
		return staleToken(err)
	}
	if err := s.store.SetPassword(ctx, t.User, hash, ""); err != nil {
		return err
	}
	s.publish(ctx, authdash.Event{Kind: authdash.EventSessionsRevoked, Owner: t.User})
	// Other reset links still out would reopen the account: end them.
	if _, err := s.store.DeleteAccountTokens(ctx, t.User, authdash.PurposeResetPassword); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "reset links not ended", slog.Any("err", err))
	}
	s.mail(ctx, AccountMail{Kind: MailPasswordChanged, To: u.Email, Name: u.Name})
	return nil
}

// CheckResetToken tells whether a reset link still works, without spending it: the
// reset page asks as it opens, so a used or expired link says so before a new
// password is typed. nil, or the error ResetPassword would give for the token.
func (s *Service) CheckResetToken(ctx context.Context, token string) error {
	_, _, err := s.peekReset(ctx, token)
	return err
}

// peekReset reads a reset token without spending it and returns it with its account,
// after every check of the token ResetPassword makes: one implementation, so the
// check and the reset cannot disagree about a link.
func (s *Service) peekReset(ctx context.Context, token string) (*authdash.AccountToken, *authdash.User, error) {
	if token == "" || len(token) > 128 {
		return nil, nil, authdash.ErrTokenInvalid()
	}
	peek, err := s.store.FindAccountToken(ctx, authdash.TokenHash(token), authdash.PurposeResetPassword, s.cfg.Now())
	if err != nil {
		return nil, nil, err
	}
	owner, err := s.store.FindUser(ctx, peek.User)
	if err != nil {
		return nil, nil, staleToken(err)
	}
	// The reset's SetEmail refuses a link for an address the account no longer has
	// (and stays the guard against a change racing the reset); this says so before a
	// password is typed. Compared as the stores compare addresses.
	if emailkey.Key(owner.Email) != emailkey.Key(peek.Email) {
		return nil, nil, staleToken(authdash.Errorf(authdash.CodePreconditionFailed, "The account's email address has changed since."))
	}
	return peek, owner, nil
}

// RequestEmailChange checks the password and mails a confirmation link to the new
// address; the account keeps its address until the link is opened. CodeInvalid,
// CodeForbidden (wrong password), CodeConflict (another account has the address).
func (s *Service) RequestEmailChange(ctx context.Context, user authdash.UserID, c authdash.EmailChange) error {
	c.NewEmail = emailkey.Canonical(c.NewEmail)
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	if err := s.confirmPassword(ctx, user, c.Password, "password"); err != nil {
		return err
	}
	u, err := s.store.FindUser(ctx, user)
	if err != nil {
		return err
	}
	if emailkey.Key(u.Email) == emailkey.Key(c.NewEmail) {
		msg := "This is already your email address."
		return &authdash.Error{Code: authdash.CodeInvalid, Message: msg, Fields: map[string]string{"newEmail": msg}}
	}
	switch _, _, err := s.store.FindLogin(ctx, c.NewEmail); authdash.ErrorCodeOf(err) {
	case authdash.CodeNotFound:
	case "":
		msg := "Email is already registered."
		return &authdash.Error{Code: authdash.CodeConflict, Message: msg, Fields: map[string]string{"newEmail": msg}}
	default:
		return err
	}
	token, exp, err := s.issue(ctx, authdash.PurposeChangeEmail, u, c.NewEmail)
	if err != nil {
		return err
	}
	s.mail(ctx, AccountMail{Kind: MailConfirmEmail, To: c.NewEmail, Name: u.Name, Token: token,
		Valid: authdash.PurposeChangeEmail.TTL(), Expires: exp, OldEmail: u.Email})
	return nil
}

// ConfirmEmailChange switches the account to the address the token was sent to (now
// verified) and mails the old address a notice with a link that undoes the change.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string) error {
	t, err := s.use(ctx, token, authdash.PurposeChangeEmail)
	if err != nil {
		return err
	}
	u, err := s.store.SetEmail(ctx, t.User, t.Email, t.NewEmail)
	if err != nil {
		return staleToken(err)
	}
	s.publish(ctx, authdash.Event{Kind: authdash.EventUserUpdated, Owner: u.ID, User: u, Version: u.Version})
	// The undo belongs to the old address: made for the account as it is now, taking it
	// back to where it was.
	undo, exp, err := s.issue(ctx, authdash.PurposeRevertEmail, u, t.Email)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "email change undo link not made", slog.Any("err", err))
		return nil
	}
	s.mail(ctx, AccountMail{Kind: MailEmailChanged, To: t.Email, Name: u.Name, Token: undo,
		Valid: authdash.PurposeRevertEmail.TTL(), Expires: exp, OldEmail: t.Email, NewEmail: u.Email})
	return nil
}

// RevertEmailChange puts the old address back (verified) and ends every session of the
// account: whoever changed it is signed out everywhere.
func (s *Service) RevertEmailChange(ctx context.Context, token string) error {
	t, err := s.use(ctx, token, authdash.PurposeRevertEmail)
	if err != nil {
		return err
	}
	u, err := s.store.SetEmail(ctx, t.User, t.Email, t.NewEmail)
	if err != nil {
		return staleToken(err)
	}
	if _, err := s.store.DeleteSessions(ctx, u.ID, ""); err != nil {
		return err
	}
	s.publish(ctx, authdash.Event{Kind: authdash.EventUserUpdated, Owner: u.ID, User: u, Version: u.Version})
	s.publish(ctx, authdash.Event{Kind: authdash.EventSessionsRevoked, Owner: u.ID})
	for _, p := range []authdash.TokenPurpose{authdash.PurposeResetPassword, authdash.PurposeChangeEmail} {
		if _, err := s.store.DeleteAccountTokens(ctx, u.ID, p); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "links not ended", slog.String("purpose", string(p)), slog.Any("err", err))
		}
	}
	return nil
}

// Drain waits for the background work started so far (forgot-password lookups). Tests
// call it between requests; Close calls it on the way out.
func (s *Service) Drain() { s.bg.Wait() }

// Close refuses new background work and waits for what runs, before the store closes.
func (s *Service) Close() {
	s.bgMu.Lock()
	s.closed = true
	s.bgMu.Unlock()
	s.bg.Wait()
}
