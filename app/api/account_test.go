//go:build !js

package api_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/e2e/apitest"
	"github.com/authdash/authdash/mail/mailtest"
)

const mailWait = 30 * time.Second

// mustMailServer runs the real API sending its mail over SMTP (STARTTLS) to a
// real server in the test, with links on https://app.test.
func mustMailServer(t *testing.T) (string, *mailtest.Server) {
	t.Helper()
	smtp := mailtest.Start(t, mailtest.Options{})
	u := smtp.URL()
	u.Host = "localhost:" + u.Port() // the test certificate names localhost
	app, _ := url.Parse("https://app.test")
	srv := apitest.Start(t, apitest.Options{SMTP: u, MailRootCAs: smtp.Roots, AppURL: app})
	return srv.URL, smtp
}

// tokenIn returns the token of the link to path in the newest message to addr
// about subject, checking the link opens the app's page.
func tokenIn(t *testing.T, smtp *mailtest.Server, addr, subject, path string) string {
	t.Helper()
	m := smtp.Last(t, addr, subject, mailWait)
	link, err := m.Link(path)
	if err != nil {
		t.Fatal(err)
	}
	if link.Scheme != "https" || link.Host != "app.test" {
		t.Fatalf("link %s is not on APP_URL", link)
	}
	tok := link.Query().Get("token")
	if tok == "" {
		t.Fatalf("link %s has no token", link)
	}
	return tok
}

func wantMessage(t *testing.T, err error, code authdash.ErrorCode, msg string) {
	t.Helper()
	wantCode(t, err, code)
	if got := authdash.ErrorMessageOf(err); got != msg {
		t.Fatalf("message %q, want %q", got, msg)
	}
}

const strongPassword = "correct horse battery staple 42"

// TestAccountFlows walks the flows a person finishes from their inbox, through
// the client, against the real API and a real SMTP server.
func TestAccountFlows(t *testing.T) {
	base, smtp := mustMailServer(t)
	ctx := t.Context()
	c := newClient(t, base, "tabA", nil)
	u, err := c.Register(ctx, authdash.Registration{Email: "ann@example.com", Password: strongPassword, Name: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	if u.EmailVerified {
		t.Fatal("a new account is verified")
	}

	t.Run("VerifyEmail", func(t *testing.T) {
		tok := tokenIn(t, smtp, "ann@example.com", "Confirm your email address", "/verify-email")
		if err := c.VerifyEmail(ctx, tok); err != nil {
			t.Fatal(err)
		}
		me, err := c.Me(ctx)
		if err != nil || !me.EmailVerified {
			t.Fatalf("me = %+v, %v; want verified", me, err)
		}
		wantMessage(t, c.VerifyEmail(ctx, tok), authdash.CodeInvalid, authdash.ErrorMessageOf(authdash.ErrTokenUsed()))
		// Verified already: the same answer, and no mail.
		if err := c.ResendVerification(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ResendVerificationSignedOut", func(t *testing.T) {
		wantCode(t, newClient(t, base, "tabX", nil).ResendVerification(ctx), authdash.CodeUnauthorized)
	})

	t.Run("ResetPassword", func(t *testing.T) {
		other := newClient(t, base, "tabB", nil)
		if _, err := other.Login(ctx, authdash.Credentials{Email: "ann@example.com", Password: strongPassword}); err != nil {
			t.Fatal(err)
		}
		// The same answer for an address nobody has.
		if err := other.ForgotPassword(ctx, "nobody@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := c.ForgotPassword(ctx, "ANN@example.com"); err != nil {
			t.Fatal(err)
		}
		tok := tokenIn(t, smtp, "ann@example.com", "Reset your Authdash password", "/reset-password")
		// The token of a reset link verifies nothing, and spends nothing.
		wantMessage(t, c.VerifyEmail(ctx, tok), authdash.CodeInvalid, authdash.ErrorMessageOf(authdash.ErrTokenInvalid()))
		// The page's check of the link spends nothing either.
		if err := c.CheckResetLink(ctx, tok); err != nil {
			t.Fatalf("check of a good link: %v", err)
		}
		// The password policy applies.
		wantCode(t, c.ResetPassword(ctx, tok, "short"), authdash.CodeInvalid)
		const next = "a brand new passphrase 7"
		if err := c.ResetPassword(ctx, tok, next); err != nil {
			t.Fatal(err)
		}
		used := authdash.ErrorMessageOf(authdash.ErrTokenUsed())
		wantMessage(t, c.CheckResetLink(ctx, tok), authdash.CodeInvalid, used)
		if got := authdash.ErrorFieldsOf(c.CheckResetLink(ctx, tok))["token"]; got != used {
			t.Fatalf("the check's token error %q, want %q", got, used)
		}
		// Every session ended, both browsers'.
		for _, cl := range []*api.Client{c, other} {
			if _, err := cl.Me(ctx); authdash.ErrorCodeOf(err) != authdash.CodeUnauthorized {
				t.Fatalf("me after the reset: %v, want unauthorized", err)
			}
		}
		smtp.Last(t, "ann@example.com", "Your Authdash password was changed", mailWait)
		wantCode(t, c.ResetPassword(ctx, tok, "another passphrase 8"), authdash.CodeInvalid)
		if _, err := c.Login(ctx, authdash.Credentials{Email: "ann@example.com", Password: next}); err != nil {
			t.Fatalf("sign in with the new password: %v", err)
		}
	})

	t.Run("ChangeEmailThenUndo", func(t *testing.T) {
		const pw = "a brand new passphrase 7"
		wantCode(t, c.ChangeEmail(ctx, "ann.new@example.com", "wrong password"), authdash.CodeForbidden)
		if err := c.ChangeEmail(ctx, "ann.new@example.com", pw); err != nil {
			t.Fatal(err)
		}
		if me, err := c.Me(ctx); err != nil || me.Email != "ann@example.com" {
			t.Fatalf("before confirming: %+v, %v; want the old address", me, err)
		}
		tok := tokenIn(t, smtp, "ann.new@example.com", "Confirm your new email address", "/confirm-email")
		if err := c.ConfirmEmail(ctx, tok); err != nil {
			t.Fatal(err)
		}
		me, err := c.Me(ctx)
		if err != nil || me.Email != "ann.new@example.com" || !me.EmailVerified {
			t.Fatalf("after confirming: %+v, %v", me, err)
		}
		undo := tokenIn(t, smtp, "ann@example.com", "The email address of your Authdash account was changed", "/revert-email")
		if err := newClient(t, base, "tabC", nil).RevertEmail(ctx, undo); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Me(ctx); authdash.ErrorCodeOf(err) != authdash.CodeUnauthorized {
			t.Fatalf("me after the undo: %v, want unauthorized (every session ends)", err)
		}
		u, err := c.Login(ctx, authdash.Credentials{Email: "ann@example.com", Password: pw})
		if err != nil || u.Email != "ann@example.com" {
			t.Fatalf("sign in at the old address: %+v, %v", u, err)
		}
		wantMessage(t, c.RevertEmail(ctx, undo), authdash.CodeInvalid, authdash.ErrorMessageOf(authdash.ErrTokenUsed()))
	})
}
