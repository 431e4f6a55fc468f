package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/auth/revocation"
)

func TestRegister(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	ctx := t.Context()
	g, err := e.svc.Register(ctx, authdash.Registration{Email: "  Ann@Example.COM ", Password: testPassword, Name: " Ann "}, "Firefox\x00 on Linux")
	if err != nil {
		t.Fatal(err)
	}
	if g.User.Email != "ann@example.com" || g.User.Name != "Ann" {
		t.Fatalf("user not normalised: %+v", g.User)
	}
	if g.AccessToken == "" || len(g.RefreshToken) < 43 || g.SessionID == "" {
		t.Fatalf("grant incomplete: %+v", g)
	}
	if d := time.Until(g.RefreshExpiresAt); d < 29*24*time.Hour || d > 30*24*time.Hour {
		t.Fatalf("session lives %v, want 30 days", d)
	}
	sessions, err := e.svc.Sessions(ctx, g.User.ID, g.SessionID)
	if err != nil || len(sessions) != 1 || !sessions[0].Current || sessions[0].Device != "Firefox on Linux" {
		t.Fatalf("sessions = %+v, %v", sessions, err)
	}
	// The stored hash is argon2id, never the password.
	hash, err := e.store.PasswordHash(ctx, g.User.ID)
	if err != nil || !strings.HasPrefix(hash, "$argon2id$v=19$") || strings.Contains(hash, testPassword) {
		t.Fatalf("stored hash %q, %v", hash, err)
	}

	tests := []struct {
		name      string
		reg       authdash.Registration
		wantCode  authdash.ErrorCode
		wantField string
	}{
		{"ErrEmailTaken", authdash.Registration{Email: "ANN@example.com", Password: testPassword, Name: "Other"}, authdash.CodeConflict, ""},
		{"ErrShortPassword", authdash.Registration{Email: "bob@example.com", Password: "short", Name: "Bob"}, authdash.CodeInvalid, "password"},
		{"ErrLongPassword", authdash.Registration{Email: "bob@example.com", Password: strings.Repeat("x", 129), Name: "Bob"}, authdash.CodeInvalid, "password"},
		{"ErrBadEmail", authdash.Registration{Email: "bob", Password: testPassword, Name: "Bob"}, authdash.CodeInvalid, "email"},
		{"ErrNoName", authdash.Registration{Email: "bob@example.com", Password: testPassword}, authdash.CodeInvalid, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Register(ctx, tt.reg, "test")
			wantCode(t, err, tt.wantCode)
			if tt.wantField != "" {
				if _, ok := authdash.ErrorFieldsOf(err)[tt.wantField]; !ok {
					t.Fatalf("no message for field %s in %v", tt.wantField, err)
				}
			}
		})
	}
}

func TestLogin(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	reg := e.mustRegister(t, "ann@example.com")
	tests := []struct {
		name     string
		creds    authdash.Credentials
		wantCode authdash.ErrorCode
	}{
		{"OK", authdash.Credentials{Email: "ann@example.com", Password: testPassword}, ""},
		{"OKEmailCaseAndSpace", authdash.Credentials{Email: " ANN@example.com", Password: testPassword}, ""},
		{"ErrWrongPassword", authdash.Credentials{Email: "ann@example.com", Password: testPassword + "!"}, authdash.CodeUnauthorized},
		{"ErrUnknownEmail", authdash.Credentials{Email: "nobody@example.com", Password: testPassword}, authdash.CodeUnauthorized},
		{"ErrEmptyPassword", authdash.Credentials{Email: "ann@example.com"}, authdash.CodeInvalid},
		{"ErrEmptyEmail", authdash.Credentials{Password: testPassword}, authdash.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := e.svc.Login(t.Context(), tt.creds, "test")
			wantCode(t, err, tt.wantCode)
			if err == nil {
				if g.User.ID != reg.User.ID || g.SessionID == reg.SessionID {
					t.Fatalf("login grant %+v: want same user, new session", g)
				}
			}
		})
	}
}

// TestLoginDoesNotRevealAccounts: an unknown email and a wrong password get
// identical errors, and both cost one hash (counted by the hashing hook).
func TestLoginDoesNotRevealAccounts(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	e.mustRegister(t, "ann@example.com")
	var hashes int
	var mu sync.Mutex
	auth.OnHash(e.svc, func() { mu.Lock(); hashes++; mu.Unlock() })

	_, errUnknown := e.svc.Login(t.Context(), authdash.Credentials{Email: "nobody@example.com", Password: testPassword}, "")
	unknownHashes := hashes
	_, errWrong := e.svc.Login(t.Context(), authdash.Credentials{Email: "ann@example.com", Password: "wrong password"}, "")
	if errUnknown.Error() != errWrong.Error() || authdash.ErrorMessageOf(errWrong) != "Email or password is incorrect." {
		t.Fatalf("unknown email: %v; wrong password: %v", errUnknown, errWrong)
	}
	if unknownHashes != 1 || hashes != 2 {
		t.Fatalf("hashes: unknown email %d, wrong password %d; want 1 each", unknownHashes, hashes-unknownHashes)
	}
}

func TestRefreshRotates(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	ctx := t.Context()
	g1 := e.mustRegister(t, "ann@example.com")
	g2, err := e.svc.Refresh(ctx, g1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if g2.RefreshToken == g1.RefreshToken || g2.AccessToken == g1.AccessToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	if g2.SessionID != g1.SessionID || g2.User.ID != g1.User.ID || g2.User.Email != "ann@example.com" {
		t.Fatalf("refresh grant %+v, want the same session and user", g2)
	}
	if id, err := e.tokens.Verify(g2.AccessToken); err != nil || id.Session != g1.SessionID {
		t.Fatalf("new access token: sid %s, %v", id.Session, err)
	}
	if g2.RefreshExpiresAt.Before(g1.RefreshExpiresAt) {
		t.Fatal("session expiry did not slide")
	}
	g3, err := e.svc.Refresh(ctx, g2.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Refresh(ctx, g3.RefreshToken); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "garbage", strings.Repeat("A", 43), g1.RefreshToken + "A", g1.AccessToken} {
		_, err := e.svc.Refresh(ctx, bad)
		wantCode(t, err, authdash.CodeUnauthorized)
	}
	wantEvents(t, e.events.take())
}

// TestRetryRefresh: the losers of a race retry with the token the winner
// installed, and are let in without replacing it (so they do not race each
// other anew) while it is younger than the grace window; later it rotates.
func TestRetryRefresh(t *testing.T) {
	e := mustEnv(t, auth.Config{RefreshGrace: 10 * time.Second}, nil)
	ctx := t.Context()
	g1 := e.mustRegister(t, "ann@example.com")
	e.clock.Advance(time.Minute)
	won, err := e.svc.Refresh(ctx, g1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Millisecond)
	for i := range 4 {
		_, err := e.svc.Refresh(ctx, g1.RefreshToken)
		wantCode(t, err, authdash.CodeConflict)
		g, err := e.svc.RetryRefresh(ctx, won.RefreshToken)
		if err != nil {
			t.Fatalf("loser %d retrying: %v", i, err)
		}
		if !g.RefreshKept || g.RefreshToken != won.RefreshToken || g.SessionID != won.SessionID || g.User.ID != won.User.ID {
			t.Fatalf("loser %d: kept %v, same token %v, session %s, want the winner's kept", i, g.RefreshKept, g.RefreshToken == won.RefreshToken, g.SessionID)
		}
		wantValid(t, e, "a loser's access token", g.AccessToken, true)
	}
	if won.RefreshKept {
		t.Error("the winner's refresh says kept")
	}
	// Past the window the token rotates, whatever the client says.
	e.clock.Advance(10 * time.Second)
	g, err := e.svc.RetryRefresh(ctx, won.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if g.RefreshKept || g.RefreshToken == won.RefreshToken {
		t.Fatal("a token older than the grace window was kept")
	}
	wantEvents(t, e.events.take())
}

// TestRefreshReuse: a rotated token presented again outside the grace window
// was copied, and ends the whole session; inside the window it is a benign
// race (two tabs), fails alone with CodeConflict (retry, the session is
// fine) and leaves the session be.
func TestRefreshReuse(t *testing.T) {
	tests := []struct {
		name            string
		grace           time.Duration
		wantReuse       authdash.ErrorCode
		wantSessionLive bool
	}{
		{"ErrReuseOutsideGraceEndsSession", time.Nanosecond, authdash.CodeUnauthorized, false},
		{"ErrReuseInsideGraceKeepsSession", time.Minute, authdash.CodeConflict, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEnv(t, auth.Config{RefreshGrace: tt.grace}, revocation.New(nil))
			ctx := t.Context()
			g1 := e.mustRegister(t, "ann@example.com")
			other := e.mustLogin(t, "ann@example.com")
			e.events.take()
			g2, err := e.svc.Refresh(ctx, g1.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			// Stores keep times to the millisecond, so a reuse within the
			// same millisecond is inside any grace window.
			e.clock.Advance(time.Millisecond)
			_, err = e.svc.Refresh(ctx, g1.RefreshToken)
			wantCode(t, err, tt.wantReuse)
			// Saying it lost a race changes nothing for a replay.
			_, err = e.svc.RetryRefresh(ctx, g1.RefreshToken)
			wantCode(t, err, tt.wantReuse)

			_, err = e.svc.Refresh(ctx, g2.RefreshToken)
			if tt.wantSessionLive {
				wantCode(t, err, "")
				wantEvents(t, e.events.take())
			} else {
				wantCode(t, err, authdash.CodeUnauthorized)
				if _, err := e.store.FindSession(ctx, g1.User.ID, g1.SessionID); authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
					t.Fatalf("reused session still there: %v", err)
				}
				// Its access tokens and sockets end with it.
				evs := e.events.take()
				wantEvents(t, evs, authdash.EventSessionsRevoked)
				if evs[0].SessionID != g1.SessionID || evs[0].Owner != g1.User.ID {
					t.Errorf("revoked %s of %s, want %s of %s", evs[0].SessionID, evs[0].Owner, g1.SessionID, g1.User.ID)
				}
				wantValid(t, e, "the reused session's token", g2.AccessToken, false)
				wantValid(t, e, "another session's token", other.AccessToken, true)
			}
			// Only the reused family is affected.
			if _, err := e.svc.Refresh(ctx, other.RefreshToken); err != nil {
				t.Fatalf("another session suffered: %v", err)
			}
		})
	}
}

func TestLogoutToken(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	ctx := t.Context()
	g := e.mustRegister(t, "ann@example.com")
	other := e.mustLogin(t, "ann@example.com")
	e.events.check = func(ev authdash.Event) {
		if _, err := e.store.FindSession(ctx, ev.Owner, ev.SessionID); authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
			t.Errorf("published before the session was gone: %v", err)
		}
	}
	if err := e.svc.LogoutToken(ctx, g.RefreshToken); err != nil {
		t.Fatal(err)
	}
	evs := e.events.take()
	wantEvents(t, evs, authdash.EventSessionsRevoked)
	if evs[0].SessionID != g.SessionID || evs[0].Owner != g.User.ID {
		t.Fatalf("event %+v", evs[0])
	}
	_, err := e.svc.Refresh(ctx, g.RefreshToken)
	wantCode(t, err, authdash.CodeUnauthorized)
	// Idempotent: again, garbage and empty are all fine and publish nothing.
	for _, tok := range []string{g.RefreshToken, "garbage", ""} {
		if err := e.svc.LogoutToken(ctx, tok); err != nil {
			t.Fatalf("LogoutToken(%q) = %v", tok, err)
		}
	}
	wantEvents(t, e.events.take())
	if _, err := e.svc.Refresh(ctx, other.RefreshToken); err != nil {
		t.Fatalf("logout ended another session: %v", err)
	}
}

func TestLogoutAll(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	ctx := t.Context()
	g := e.mustRegister(t, "ann@example.com")
	g2 := e.mustLogin(t, "ann@example.com")
	bob := e.mustRegister(t, "bob@example.com")
	n, err := e.svc.LogoutAll(ctx, g.User.ID)
	if err != nil || n != 2 {
		t.Fatalf("LogoutAll = %d, %v; want 2", n, err)
	}
	for _, tok := range []string{g.RefreshToken, g2.RefreshToken} {
		_, err := e.svc.Refresh(ctx, tok)
		wantCode(t, err, authdash.CodeUnauthorized)
	}
	if _, err := e.svc.Refresh(ctx, bob.RefreshToken); err != nil {
		t.Fatalf("another user's session ended: %v", err)
	}
	evs := e.events.take()
	wantEvents(t, evs, authdash.EventSessionsRevoked)
	if evs[0].Owner != g.User.ID || evs[0].Keep != "" || evs[0].SessionID != "" {
		t.Fatalf("event %+v, want every session of %s", evs[0], g.User.ID)
	}
}

func TestRevokeSession(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	ctx := t.Context()
	ann := e.mustRegister(t, "ann@example.com")
	phone := e.mustLogin(t, "ann@example.com")
	bob := e.mustRegister(t, "bob@example.com")

	tests := []struct {
		name     string
		user     authdash.UserID
		session  authdash.SessionID
		wantCode authdash.ErrorCode
	}{
		{"ErrOtherUsersSession", ann.User.ID, bob.SessionID, authdash.CodeNotFound},
		{"ErrUnknownSession", ann.User.ID, "nope", authdash.CodeNotFound},
		{"OK", ann.User.ID, phone.SessionID, ""},
		{"ErrAlreadyRevoked", ann.User.ID, phone.SessionID, authdash.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.RevokeSession(ctx, tt.user, tt.session)
			wantCode(t, err, tt.wantCode)
			evs := e.events.take()
			if tt.wantCode != "" {
				wantEvents(t, evs)
				return
			}
			wantEvents(t, evs, authdash.EventSessionsRevoked)
			if evs[0].SessionID != tt.session || evs[0].Owner != tt.user {
				t.Fatalf("event %+v", evs[0])
			}
		})
	}
	if _, err := e.svc.Refresh(ctx, phone.RefreshToken); authdash.ErrorCodeOf(err) != authdash.CodeUnauthorized {
		t.Fatalf("revoked session refreshed: %v", err)
	}
	for _, g := range []*auth.Grant{ann, bob} {
		if _, err := e.svc.Refresh(ctx, g.RefreshToken); err != nil {
			t.Fatalf("unrelated session ended: %v", err)
		}
	}
	list, err := e.svc.Sessions(ctx, ann.User.ID, ann.SessionID)
	if err != nil || len(list) != 1 || list[0].ID != ann.SessionID || !list[0].Current {
		t.Fatalf("sessions after revoke: %+v, %v", list, err)
	}
}

func TestUpdateProfile(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	ctx := t.Context()
	ann := e.mustRegister(t, "ann@example.com")
	e.mustRegister(t, "bob@example.com")
	ptr := func(s string) *string { return &s }
	e.events.check = func(ev authdash.Event) {
		u, err := e.store.FindUser(ctx, ev.Owner)
		if err != nil || u.Version != ev.User.Version || u.Name != ev.User.Name {
			t.Errorf("published %+v before the store had it (%+v, %v)", ev.User, u, err)
		}
	}
	tests := []struct {
		name      string
		patch     authdash.UserPatch
		wantCode  authdash.ErrorCode
		wantName  string
		wantEmail string
	}{
		{"OKName", authdash.UserPatch{Name: ptr("  Ann B. ")}, "", "Ann B.", "ann@example.com"},
		// The email moves only by a confirmed link (RequestEmailChange); the address the
		// account has is no change.
		{"OKSameEmailAndName", authdash.UserPatch{Email: ptr(" ANN@example.com "), Name: ptr("Ann C.")}, "", "Ann C.", "ann@example.com"},
		{"ErrEmail", authdash.UserPatch{Email: ptr("ANN.B@example.com")}, authdash.CodeInvalid, "", ""},
		{"ErrEmailTaken", authdash.UserPatch{Email: ptr("bob@example.com")}, authdash.CodeInvalid, "", ""},
		{"ErrBadEmail", authdash.UserPatch{Email: ptr("nope")}, authdash.CodeInvalid, "", ""},
		{"ErrEmptyName", authdash.UserPatch{Name: ptr("  ")}, authdash.CodeInvalid, "", ""},
		{"ErrNothing", authdash.UserPatch{}, authdash.CodeInvalid, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := e.svc.UpdateProfile(ctx, ann.User.ID, tt.patch)
			wantCode(t, err, tt.wantCode)
			evs := e.events.take()
			if tt.wantCode != "" {
				wantEvents(t, evs)
				return
			}
			if u.Name != tt.wantName || u.Email != tt.wantEmail {
				t.Fatalf("user %+v", u)
			}
			wantEvents(t, evs, authdash.EventUserUpdated)
			if evs[0].Owner != ann.User.ID || evs[0].User == nil || evs[0].User.Email != tt.wantEmail {
				t.Fatalf("event %+v", evs[0])
			}
		})
	}
	if _, err := e.svc.Login(ctx, authdash.Credentials{Email: "ann@example.com", Password: testPassword}, ""); err != nil {
		t.Fatalf("login with the email: %v", err)
	}
	u, err := e.svc.Profile(ctx, ann.User.ID)
	if err != nil || u.Email != "ann@example.com" || u.Name != "Ann C." {
		t.Fatalf("Profile = %+v, %v", u, err)
	}
}

func TestChangePassword(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	ctx := t.Context()
	ann := e.mustRegister(t, "ann@example.com")
	laptop := e.mustLogin(t, "ann@example.com")
	const newPassword = "a brand new passphrase"

	tests := []struct {
		name      string
		pc        authdash.PasswordChange
		wantCode  authdash.ErrorCode
		wantField string
	}{
		{"ErrWrongCurrent", authdash.PasswordChange{CurrentPassword: "not my password", NewPassword: newPassword}, authdash.CodeForbidden, "currentPassword"},
		{"ErrNoCurrent", authdash.PasswordChange{NewPassword: newPassword}, authdash.CodeInvalid, "currentPassword"},
		{"ErrShortNew", authdash.PasswordChange{CurrentPassword: testPassword, NewPassword: "short"}, authdash.CodeInvalid, "newPassword"},
		{"OK", authdash.PasswordChange{CurrentPassword: testPassword, NewPassword: newPassword}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.ChangePassword(ctx, ann.User.ID, ann.SessionID, tt.pc)
			wantCode(t, err, tt.wantCode)
			if tt.wantField != "" {
				if _, ok := authdash.ErrorFieldsOf(err)[tt.wantField]; !ok {
					t.Fatalf("no message for %s in %v", tt.wantField, err)
				}
			}
			evs := e.events.take()
			if tt.wantCode != "" {
				wantEvents(t, evs)
				return
			}
			wantEvents(t, evs, authdash.EventSessionsRevoked)
			if evs[0].Keep != ann.SessionID || evs[0].Owner != ann.User.ID || evs[0].SessionID != "" {
				t.Fatalf("event %+v, want every session but the current one", evs[0])
			}
		})
	}
	if _, err := e.svc.Refresh(ctx, laptop.RefreshToken); authdash.ErrorCodeOf(err) != authdash.CodeUnauthorized {
		t.Fatalf("another session survived the password change: %v", err)
	}
	if _, err := e.svc.Refresh(ctx, ann.RefreshToken); err != nil {
		t.Fatalf("the current session ended: %v", err)
	}
	_, err := e.svc.Login(ctx, authdash.Credentials{Email: "ann@example.com", Password: testPassword}, "")
	wantCode(t, err, authdash.CodeUnauthorized)
	if _, err := e.svc.Login(ctx, authdash.Credentials{Email: "ann@example.com", Password: newPassword}, ""); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
}

// TestCheckResetToken: the check gives, without spending the link, the answer the
// reset would give for its token; a good link stays good after it.
func TestCheckResetToken(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	ctx := t.Context()
	// mint stores a link of purpose for the account of email, as the service would
	// mail it, and returns its token.
	mint := func(t *testing.T, email string, purpose authdash.TokenPurpose) string {
		t.Helper()
		u, _, err := e.store.FindLogin(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		token, hash := authdash.NewAccountToken()
		now := e.clock.Now()
		if err := e.store.CreateAccountToken(ctx, authdash.AccountToken{Hash: hash, Purpose: purpose, User: u.ID, Email: u.Email,
			CreatedAt: now, ExpiresAt: now.Add(purpose.TTL())}); err != nil {
			t.Fatal(err)
		}
		return token
	}
	tests := []struct {
		name    string
		link    func(t *testing.T, email string) string // the token presented for the account of email
		wantMsg string                                  // what the token error says; "" for a good link
	}{
		{"OK", func(t *testing.T, email string) string { return mint(t, email, authdash.PurposeResetPassword) }, ""},
		{"ErrUsed", func(t *testing.T, email string) string {
			token := mint(t, email, authdash.PurposeResetPassword)
			if _, err := e.store.UseAccountToken(ctx, authdash.TokenHash(token), authdash.PurposeResetPassword, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
			return token
		}, "already used"},
		{"ErrExpired", func(t *testing.T, email string) string {
			token := mint(t, email, authdash.PurposeResetPassword)
			e.clock.Advance(authdash.PurposeResetPassword.TTL())
			return token
		}, "expired"},
		{"ErrOtherPurpose", func(t *testing.T, email string) string { return mint(t, email, authdash.PurposeVerifyEmail) }, "not valid"},
		{"ErrUnknown", func(t *testing.T, email string) string { token, _ := authdash.NewAccountToken(); return token }, "not valid"},
		{"ErrEmpty", func(t *testing.T, email string) string { return "" }, "not valid"},
		{"ErrTooLong", func(t *testing.T, email string) string { return strings.Repeat("x", 129) }, "not valid"},
		{"ErrEmailChangedSince", func(t *testing.T, email string) string {
			token := mint(t, email, authdash.PurposeResetPassword)
			if _, err := e.store.SetEmail(ctx, e.mustLogin(t, email).User.ID, email, "moved-"+email); err != nil {
				t.Fatal(err)
			}
			return token
		}, "no longer uses"},
		{"ErrAccountDeleted", func(t *testing.T, email string) string {
			token := mint(t, email, authdash.PurposeResetPassword)
			if err := e.store.DeleteUser(ctx, e.mustLogin(t, email).User.ID); err != nil {
				t.Fatal(err)
			}
			return token
		}, "not valid"}, // the account's links went with it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			email := strings.ToLower(tt.name) + "@example.com"
			e.mustRegister(t, email)
			token := tt.link(t, email)
			reset := authdash.PasswordReset{Token: token, NewPassword: "a brand new passphrase"}
			err := e.svc.CheckResetToken(ctx, token)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("good link refused: %v", err)
				}
				// The check spent nothing: the link still works, once.
				if err := e.svc.CheckResetToken(ctx, token); err != nil {
					t.Fatalf("second check: %v", err)
				}
				if err := e.svc.ResetPassword(ctx, reset); err != nil {
					t.Fatalf("reset after the check: %v", err)
				}
				wantCode(t, e.svc.CheckResetToken(ctx, token), authdash.CodeInvalid)
				return
			}
			wantCode(t, err, authdash.CodeInvalid)
			msg := authdash.ErrorFieldsOf(err)["token"]
			if !strings.Contains(msg, tt.wantMsg) {
				t.Fatalf("token error %q, want %q", msg, tt.wantMsg)
			}
			// The reset says the same of the link (of no token at all, its
			// Validate answers first), and the check did not change it.
			if token == "" {
				return
			}
			if got := authdash.ErrorFieldsOf(e.svc.ResetPassword(ctx, reset))["token"]; got != msg {
				t.Fatalf("reset says %q of the link, the check %q", got, msg)
			}
		})
	}
}

func TestDeleteAccount(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	ctx := t.Context()
	ann := e.mustRegister(t, "ann@example.com")
	e.mustLogin(t, "ann@example.com")
	bob := e.mustRegister(t, "bob@example.com")
	for _, g := range []*auth.Grant{ann, bob} {
		for range 3 {
			if _, _, err := e.store.CreateTask(ctx, g.User.ID, authdash.TaskDraft{Title: "t", Status: authdash.StatusTodo, Priority: authdash.PriorityLow, Tags: []string{}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, pw := range []string{"", "wrong password", strings.Repeat("x", 1000)} {
		err := e.svc.DeleteAccount(ctx, ann.User.ID, pw)
		wantCode(t, err, authdash.CodeForbidden)
		if _, ok := authdash.ErrorFieldsOf(err)["password"]; !ok {
			t.Fatalf("no message for field password in %v", err)
		}
	}
	wantEvents(t, e.events.take())

	e.events.check = func(ev authdash.Event) {
		if _, err := e.store.FindUser(ctx, ev.Owner); authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
			t.Errorf("published before the user was gone: %v", err)
		}
	}
	if err := e.svc.DeleteAccount(ctx, ann.User.ID, testPassword); err != nil {
		t.Fatal(err)
	}
	evs := e.events.take()
	wantEvents(t, evs, authdash.EventUserDeleted)
	if evs[0].Owner != ann.User.ID {
		t.Fatalf("event %+v", evs[0])
	}
	if st, err := e.store.TaskStats(ctx, ann.User.ID); err != nil || st.Total != 0 {
		t.Fatalf("tasks left behind: %+v, %v", st, err)
	}
	if list, err := e.store.ListSessions(ctx, ann.User.ID); err != nil || len(list) != 0 {
		t.Fatalf("sessions left behind: %+v, %v", list, err)
	}
	if _, err := e.svc.Refresh(ctx, ann.RefreshToken); authdash.ErrorCodeOf(err) != authdash.CodeUnauthorized {
		t.Fatalf("deleted account refreshed: %v", err)
	}
	_, err := e.svc.Login(ctx, authdash.Credentials{Email: "ann@example.com", Password: testPassword}, "")
	wantCode(t, err, authdash.CodeUnauthorized)
	err = e.svc.DeleteAccount(ctx, ann.User.ID, testPassword)
	wantCode(t, err, authdash.CodeNotFound)
	if st, err := e.store.TaskStats(ctx, bob.User.ID); err != nil || st.Total != 3 {
		t.Fatalf("another user's tasks touched: %+v, %v", st, err)
	}
}

// TestPublishFailureIsLoggedNotReturned: the write committed, so the caller
// succeeds; the log says what failed and never carries secrets.
func TestPublishFailureIsLoggedNotReturned(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	ctx := t.Context()
	g := e.mustRegister(t, "ann@example.com")
	e.events.err = errors.New("broker down")
	name := "Ann Two"
	if _, err := e.svc.UpdateProfile(ctx, g.User.ID, authdash.UserPatch{Name: &name}); err != nil {
		t.Fatalf("UpdateProfile = %v, want success despite the broker", err)
	}
	if err := e.svc.ChangePassword(ctx, g.User.ID, g.SessionID, authdash.PasswordChange{CurrentPassword: testPassword, NewPassword: "another long password"}); err != nil {
		t.Fatalf("ChangePassword = %v", err)
	}
	logs := e.logs.String()
	if strings.Count(logs, "publish failed") != 2 || !strings.Contains(logs, "broker down") {
		t.Fatalf("publish failures not logged: %s", logs)
	}
	for _, secret := range []string{testPassword, "another long password", g.RefreshToken, g.AccessToken} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log contains a secret: %s", logs)
		}
	}
}

func BenchmarkRefresh(b *testing.B) {
	e := mustEnv(b, auth.Config{}, nil)
	g := e.mustRegister(b, "bench@example.com")
	ctx := context.Background()
	tok := g.RefreshToken
	b.ReportAllocs()
	for b.Loop() {
		g, err := e.svc.Refresh(ctx, tok)
		if err != nil {
			b.Fatal(err)
		}
		tok = g.RefreshToken
	}
}
