package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/auth/revocation"
)

// TestEndedSessionsLoseTheirAccessTokens: every way a session ends makes
// its access token fail verification at once, not at expiry; the sessions
// that go on, and sign-ins after the end, keep working.
func TestEndedSessionsLoseTheirAccessTokens(t *testing.T) {
	type grants struct{ phone, laptop, other *auth.Grant }
	tests := []struct {
		name        string
		end         func(t *testing.T, e *env, g grants)
		wantPhone   bool // phone's token still valid
		wantLaptop  bool
		signInAfter bool // a fresh sign-in of the same user works
	}{
		{"Logout", func(t *testing.T, e *env, g grants) {
			mustOK(t, e.svc.LogoutToken(t.Context(), g.phone.RefreshToken))
		}, false, true, true},
		{"RevokeSession", func(t *testing.T, e *env, g grants) {
			mustOK(t, e.svc.RevokeSession(t.Context(), g.phone.User.ID, g.laptop.SessionID))
		}, true, false, true},
		{"LogoutAll", func(t *testing.T, e *env, g grants) {
			_, err := e.svc.LogoutAll(t.Context(), g.phone.User.ID)
			mustOK(t, err)
		}, false, false, true},
		{"ChangePassword", func(t *testing.T, e *env, g grants) {
			mustOK(t, e.svc.ChangePassword(t.Context(), g.phone.User.ID, g.phone.SessionID,
				authdash.PasswordChange{CurrentPassword: testPassword, NewPassword: testPassword + " 2"}))
		}, true, false, false},
		{"DeleteAccount", func(t *testing.T, e *env, g grants) {
			mustOK(t, e.svc.DeleteAccount(t.Context(), g.phone.User.ID, testPassword))
		}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEnv(t, auth.Config{}, revocation.New(nil))
			g := grants{phone: e.mustRegister(t, "ann@example.com"), laptop: e.mustLogin(t, "ann@example.com"),
				other: e.mustRegister(t, "bob@example.com")}
			for _, gr := range []*auth.Grant{g.phone, g.laptop, g.other} {
				if _, err := e.tokens.Verify(gr.AccessToken); err != nil {
					t.Fatalf("before: %v", err)
				}
			}
			// Session starts are kept to the millisecond, and a revocation
			// lets a start in its own millisecond through (see
			// authdash.Revocation); real sign-outs come later than that.
			e.clock.Advance(time.Millisecond)
			tt.end(t, e, g)
			wantValid(t, e, "phone", g.phone.AccessToken, tt.wantPhone)
			wantValid(t, e, "laptop", g.laptop.AccessToken, tt.wantLaptop)
			wantValid(t, e, "another user", g.other.AccessToken, true)
			if tt.signInAfter {
				e.clock.Advance(time.Millisecond)
				wantValid(t, e, "a sign-in after", e.mustLogin(t, "ann@example.com").AccessToken, true)
			}
		})
	}
}

// TestWithoutRevocationsTokensLive: with no list configured an ended
// session's access token lives until it expires, as documented.
func TestWithoutRevocationsTokensLive(t *testing.T) {
	e := mustEnv(t, auth.Config{}, nil)
	g := e.mustRegister(t, "ann@example.com")
	_, err := e.svc.LogoutAll(t.Context(), g.User.ID)
	mustOK(t, err)
	wantValid(t, e, "after logout-all", g.AccessToken, true)
}

// TestRevocationFailureIsLogged: a list that cannot share the revocation
// does not fail the sign-out.
func TestRevocationFailureIsLogged(t *testing.T) {
	e := mustEnv(t, auth.Config{}, failingRevocations{revocation.New(nil)})
	g := e.mustRegister(t, "ann@example.com")
	e.clock.Advance(time.Millisecond) // see TestEndedSessionsLoseTheirAccessTokens
	_, err := e.svc.LogoutAll(t.Context(), g.User.ID)
	mustOK(t, err)
	wantValid(t, e, "after logout-all", g.AccessToken, false)
	if !strings.Contains(e.logs.String(), "revocation not shared") {
		t.Errorf("nothing logged: %s", e.logs.String())
	}
}

type failingRevocations struct{ *revocation.List }

func (f failingRevocations) Revoke(ctx context.Context, r authdash.Revocation) error {
	f.List.Revoke(ctx, r)
	return errors.New("redis: connection refused")
}

func wantValid(t *testing.T, e *env, what, token string, valid bool) {
	t.Helper()
	_, err := e.tokens.Verify(token)
	switch {
	case valid && err != nil:
		t.Errorf("%s: token refused: %v", what, err)
	case !valid && authdash.ErrorCodeOf(err) != authdash.CodeUnauthorized:
		t.Errorf("%s: token still accepted (err %v)", what, err)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
