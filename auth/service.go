package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/emailkey"
)

// msgSession is the answer to every refresh token that does not work, so a
// client learns nothing about why (reuse, expiry, revocation).
const msgSession = "Session expired. Sign in again."

// errCredentials is the one answer to an unknown email and a wrong password
// alike, so a login never tells whether an account exists. Errors are made
// fresh each time so no caller can alter another's.
func errCredentials() error {
	return &authdash.Error{Code: authdash.CodeUnauthorized, Message: "Email or password is incorrect."}
}

// Register creates an account and signs it in on device.
// CodeInvalid (with fields), CodeConflict if the email is taken.
func (s *Service) Register(ctx context.Context, r authdash.Registration, device string) (*Grant, error) {
	// NFKC first: a fullwidth ＠ is then an @, and the address valid.
	r.Email = emailkey.Canonical(r.Email)
	r.Normalize()
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if err := s.judgePassword("password", r.Password, r.Email, r.Name); err != nil {
		return nil, err
	}
	hash, err := s.hasher.hash(ctx, r.Password)
	if err != nil {
		return nil, err
	}
	u, err := s.store.CreateUser(ctx, authdash.NewUser{Email: r.Email, Name: r.Name, PasswordHash: hash})
	if err != nil {
		return nil, err
	}
	// The account works unverified; a lost link can be sent again.
	if err := s.sendVerification(ctx, u); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "verification link not made", slog.Any("err", err))
	}
	g, err := s.startSession(ctx, u, device)
	if err != nil {
		return nil, err
	}
	// The first sign-in: the device it came from is known from now on.
	s.recordSignIn(ctx, u, authdash.SignInPassword, authdash.SignInSuccess, "", device)
	return g, nil
}

// Login checks credentials and starts a session on device. An unknown email
// and a wrong password get the same CodeUnauthorized after the same work.
// When the account has a second factor, a right password gets a Grant that
// holds only a Challenge, for CompleteMFA.
func (s *Service) Login(ctx context.Context, c authdash.Credentials, device string) (*Grant, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	u, hash, err := s.store.FindLogin(ctx, emailkey.Canonical(c.Email))
	switch {
	case authdash.ErrorCodeOf(err) == authdash.CodeNotFound:
		// Spend the same time as for a real account.
		if _, err := s.hasher.verify(ctx, c.Password, s.hasher.dummy); err != nil {
			return nil, err
		}
		return nil, errCredentials()
	case err != nil:
		return nil, err
	}
	// An account made through an identity provider has no password
	// (hash ""): every password is wrong, after the same work.
	ok := false
	if hash == "" {
		_, err = s.hasher.verify(ctx, c.Password, s.hasher.dummy)
	} else {
		ok, err = s.checkPassword(ctx, u.ID, c.Password, hash)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		s.recordSignIn(ctx, u, authdash.SignInPassword, authdash.SignInFailure, authdash.ReasonWrongPassword, device)
		return nil, errCredentials()
	}
	return s.firstFactorPassed(ctx, u, authdash.SignInPassword, device)
}

// firstFactorPassed ends a sign-in whose first factor (a password, an
// identity provider) held: with a second factor on, it only opens a
// challenge; otherwise the session starts and the activity records method.
func (s *Service) firstFactorPassed(ctx context.Context, u *authdash.User, method authdash.SignInMethod, device string) (*Grant, error) {
	ch, err := s.challenge(ctx, u)
	if err != nil {
		return nil, err
	}
	if ch != nil {
		return &Grant{Challenge: ch}, nil
	}
	g, err := s.startSession(ctx, u, device)
	if err != nil {
		return nil, err
	}
	s.recordSignIn(ctx, u, method, authdash.SignInSuccess, "", device)
	return g, nil
}

// checkPassword verifies password against a stored hash; a malformed hash is
// an internal error (a broken row), never a sign-in.
func (s *Service) checkPassword(ctx context.Context, uid authdash.UserID, password, hash string) (bool, error) {
	ok, err := s.hasher.verify(ctx, password, hash)
	if errors.Is(err, errMalformedHash) {
		return false, fmt.Errorf("auth: stored hash of user %s: %w", uid, err)
	}
	return ok, err
}

// startSession creates a session for u and issues its first tokens.
func (s *Service) startSession(ctx context.Context, u *authdash.User, device string) (*Grant, error) {
	now := s.cfg.Now()
	token, hash := newRefresh()
	sess, err := s.store.CreateSession(ctx, authdash.NewSession{
		UserID:    u.ID,
		Device:    cleanDevice(device),
		TokenHash: hash,
		ExpiresAt: now.Add(s.cfg.RefreshTTL),
	})
	if err != nil {
		return nil, err
	}
	return s.grant(u, sess, token, now)
}

func (s *Service) grant(u *authdash.User, sess *authdash.Session, refresh string, now time.Time) (*Grant, error) {
	access, exp, err := s.tokens.issue(u.ID, sess, now, s.cfg.AccessTTL)
	if err != nil {
		return nil, fmt.Errorf("auth: sign access token: %w", err)
	}
	return &Grant{
		User:             u,
		SessionID:        sess.ID,
		AccessToken:      access,
		AccessExpiresAt:  exp,
		RefreshToken:     refresh,
		RefreshExpiresAt: sess.ExpiresAt,
	}, nil
}

// Refresh redeems a refresh token for a new access token and a new refresh
// token, sliding the session's expiry. A token redeemed twice outside the
// grace window ends its session (the store does that in the same
// transaction). Inside it, the later redemption lost a race (tabs restored
// at once share one cookie) and is CodeConflict: the client retries with
// RetryRefresh. Every other failure is CodeUnauthorized.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (*Grant, error) {
	return s.refresh(ctx, refreshToken, 0)
}

// RetryRefresh is Refresh for a client whose refresh lost a race a moment
// ago and now presents the token the winner installed: a token installed
// less than the grace window ago is redeemed without being replaced
// (Grant.RefreshKept), so that the losers, retrying together, do not race
// each other anew. That gives nothing to whoever holds the token: it could
// as well rotate it. An older token rotates as with Refresh.
func (s *Service) RetryRefresh(ctx context.Context, refreshToken string) (*Grant, error) {
	return s.refresh(ctx, refreshToken, s.cfg.RefreshGrace)
}

func (s *Service) refresh(ctx context.Context, refreshToken string, fresh time.Duration) (*Grant, error) {
	presented, ok := refreshHash(refreshToken)
	if !ok {
		return nil, &authdash.Error{Code: authdash.CodeUnauthorized, Message: msgSession}
	}
	now := s.cfg.Now()
	token, next := newRefresh()
	sess, rotated, err := s.store.RotateSession(ctx, authdash.Rotation{
		Presented: presented,
		Next:      next,
		ExpiresAt: now.Add(s.cfg.RefreshTTL),
		Grace:     s.cfg.RefreshGrace,
		Fresh:     fresh,
	})
	if err != nil {
		// A stolen token came back and the store ended its session: end
		// the session's access tokens and sockets too, the thief's with
		// the victim's.
		if reuse := (*authdash.SessionReuse)(nil); errors.As(err, &reuse) {
			s.publish(ctx, authdash.Event{Kind: authdash.EventSessionsRevoked, Owner: reuse.User, SessionID: reuse.Session})
		}
		if authdash.ErrorCodeOf(err) == authdash.CodeUnauthorized {
			return nil, authdash.WrapError(authdash.CodeUnauthorized, err, "%s", msgSession)
		}
		return nil, err
	}
	u, err := s.store.FindUser(ctx, sess.UserID)
	if err != nil {
		if authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
			// Deleted between the two reads.
			return nil, authdash.WrapError(authdash.CodeUnauthorized, err, "%s", msgSession)
		}
		return nil, err
	}
	if !rotated {
		g, err := s.grant(u, sess, refreshToken, now)
		if g != nil {
			g.RefreshKept = true
		}
		return g, err
	}
	return s.grant(u, sess, token, now)
}

// LogoutToken ends the session of a refresh token. It is idempotent: an
// unknown, malformed or already ended token is not an error.
func (s *Service) LogoutToken(ctx context.Context, refreshToken string) error {
	h, ok := refreshHash(refreshToken)
	if !ok {
		return nil
	}
	sess, err := s.store.SessionByToken(ctx, h)
	switch authdash.ErrorCodeOf(err) {
	case "":
	case authdash.CodeUnauthorized, authdash.CodeNotFound:
		return nil
	default:
		return err
	}
	switch err := s.store.DeleteSession(ctx, sess.UserID, sess.ID); authdash.ErrorCodeOf(err) {
	case "":
	case authdash.CodeNotFound:
		return nil // a concurrent logout won
	default:
		return err
	}
	s.publish(ctx, authdash.Event{Kind: authdash.EventSessionsRevoked, Owner: sess.UserID, SessionID: sess.ID})
	return nil
}

// RevokeSession ends one session of the user (CodeNotFound if the user has
// no such live session) and disconnects it everywhere.
func (s *Service) RevokeSession(ctx context.Context, user authdash.UserID, id authdash.SessionID) error {
	if err := s.store.DeleteSession(ctx, user, id); err != nil {
		return err
	}
	s.publish(ctx, authdash.Event{Kind: authdash.EventSessionsRevoked, Owner: user, SessionID: id})
	return nil
}

// LogoutAll ends every session of the user, the caller's included, and
// returns how many ended.
func (s *Service) LogoutAll(ctx context.Context, user authdash.UserID) (int, error) {
	n, err := s.store.DeleteSessions(ctx, user, "")
	if err != nil {
		return 0, err
	}
	s.publish(ctx, authdash.Event{Kind: authdash.EventSessionsRevoked, Owner: user})
	return n, nil
}

// Sessions lists the user's live sessions, marking current.
func (s *Service) Sessions(ctx context.Context, user authdash.UserID, current authdash.SessionID) ([]authdash.Session, error) {
	list, err := s.store.ListSessions(ctx, user)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Current = list[i].ID == current
	}
	return list, nil
}

// Profile returns the user's account.
func (s *Service) Profile(ctx context.Context, user authdash.UserID) (*authdash.User, error) {
	return s.store.FindUser(ctx, user)
}

// UpdateProfile changes name and/or email: CodeInvalid, CodeNotFound,
// CodeConflict (email taken). It publishes user.updated.
func (s *Service) UpdateProfile(ctx context.Context, user authdash.UserID, p authdash.UserPatch) (*authdash.User, error) {
	if p.Email != nil {
		e := emailkey.Canonical(*p.Email)
		p.Email = &e
	}
	p.Normalize()
	if p.Email != nil {
		// A new address is proved first (POST /api/me/email): a stolen access token
		// alone must not move the account, and its password resets, elsewhere. The
		// address it already has is no change, so a form may send it back.
		u, err := s.store.FindUser(ctx, user)
		if err != nil {
			return nil, err
		}
		if emailkey.Key(*p.Email) != emailkey.Key(u.Email) {
			msg := "Change the email with POST /api/me/email: a link confirms the new address."
			return nil, &authdash.Error{Code: authdash.CodeInvalid, Message: msg, Fields: map[string]string{"email": msg}}
		}
		p.Email = nil
		if p.Name == nil {
			return u, nil
		}
	}
	if p.Email == nil && p.Name == nil {
		return nil, authdash.Errorf(authdash.CodeInvalid, "The update changes nothing.")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	u, err := s.store.UpdateUser(ctx, user, p)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, authdash.Event{Kind: authdash.EventUserUpdated, Owner: user, User: u, Version: u.Version})
	return u, nil
}

// ChangePassword replaces the password after checking the current one
// (CodeForbidden with field currentPassword otherwise) and ends every
// session but current.
func (s *Service) ChangePassword(ctx context.Context, user authdash.UserID, current authdash.SessionID, pc authdash.PasswordChange) error {
	if err := pc.Validate(); err != nil {
		return err
	}
	u, err := s.store.FindUser(ctx, user)
	if err != nil {
		return err
	}
	if err := s.judgePassword("newPassword", pc.NewPassword, u.Email, u.Name); err != nil {
		return err
	}
	if err := s.confirmPassword(ctx, user, pc.CurrentPassword, "currentPassword"); err != nil {
		return err
	}
	hash, err := s.hasher.hash(ctx, pc.NewPassword)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, user, hash, current); err != nil {
		return err
	}
	s.publish(ctx, authdash.Event{Kind: authdash.EventSessionsRevoked, Owner: user, Keep: current})
	return nil
}

// DeleteAccount removes the account with its tasks and sessions after
// checking the password (CodeForbidden with field password otherwise).
func (s *Service) DeleteAccount(ctx context.Context, user authdash.UserID, password string) error {
	if err := s.confirmPassword(ctx, user, password, "password"); err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, user); err != nil {
		return err
	}
	s.publish(ctx, authdash.Event{Kind: authdash.EventUserDeleted, Owner: user})
	return nil
}

// confirmPassword re-checks the password of a signed-in user before a
// sensitive change; field names the request member that carried it.
func (s *Service) confirmPassword(ctx context.Context, user authdash.UserID, password, field string) error {
	// Forbidden, not Unauthorized: the caller is signed in and its token is
	// good, so a 401 would send clients to refresh it and try again for
	// nothing.
	wrong := &authdash.Error{
		Code:    authdash.CodeForbidden,
		Message: "Password is incorrect.",
		Fields:  map[string]string{field: "Password is incorrect."},
	}
	if password == "" || len(password) > 4*authdash.MaxPasswordLen {
		return wrong
	}
	hash, err := s.store.PasswordHash(ctx, user)
	if err != nil {
		return err
	}
	if hash == "" {
		msg := "This account has no password yet: set one with \"Forgot your password?\" on the sign-in page."
		return &authdash.Error{Code: authdash.CodeForbidden, Message: msg, Fields: map[string]string{field: msg}}
	}
	ok, err := s.checkPassword(ctx, user, password, hash)
	if err != nil {
		return err
	}
	if !ok {
		return wrong
	}
	return nil
}

// judgePassword refuses a new password that is too easy to guess for the
// person with userInputs (their email and name): CodeInvalid, the reason
// on field.
func (s *Service) judgePassword(field, password string, userInputs ...string) error {
	if s.cfg.Strength == nil {
		return nil
	}
	if why := s.cfg.Strength.Weakness(password, userInputs...); why != "" {
		return &authdash.Error{Code: authdash.CodeInvalid, Message: "Some fields are not valid.", Fields: map[string]string{field: why}}
	}
	return nil
}

// cleanDevice makes a client-supplied device label (usually the User-Agent)
// safe to store and show: valid UTF-8, no control characters, bounded.
func cleanDevice(d string) string {
	d = strings.ToValidUTF8(d, "")
	d = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, d)
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > authdash.MaxDeviceLen {
		d = string([]rune(d)[:authdash.MaxDeviceLen])
	}
	return d
}
