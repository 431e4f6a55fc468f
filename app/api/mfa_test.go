//go:build !js

package api_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/e2e/apitest"
)

// TestTwoFactor turns TOTP on, signs in with a code and with a recovery
// code, reads the activity and turns it off, through the client against the
// real API.
func TestTwoFactor(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	c := newClient(t, base, "tabA", nil)
	creds := authdash.Credentials{Email: "ann@example.com", Password: strongPassword}
	if _, err := c.Register(ctx, authdash.Registration{Email: creds.Email, Password: creds.Password, Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	code := func(at time.Time, secret string) string {
		s, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	wantCode(t, func() error { _, err := c.BeginTOTP(ctx, "wrong password"); return err }(), authdash.CodeForbidden)
	setup, err := c.BeginTOTP(ctx, strongPassword)
	if err != nil || setup.Secret == "" || setup.QRSVG == "" {
		t.Fatalf("setup %+v, %v", setup, err)
	}
	recovery, err := c.ConfirmTOTP(ctx, code(time.Now(), setup.Secret))
	if err != nil || len(recovery) != authdash.RecoveryCodeCount {
		t.Fatalf("confirm: %v, %v", recovery, err)
	}
	if st, err := c.MFAStatus(ctx); err != nil || !st.TOTP || st.RecoveryCodes != 10 {
		t.Fatalf("status %+v, %v", st, err)
	}

	other := newClient(t, base, "tabB", nil)
	_, err = other.Login(ctx, creds)
	var need *api.MFARequired
	if !errors.As(err, &need) || need.Token == "" || len(need.Methods) != 2 {
		t.Fatalf("login: %v, want MFARequired", err)
	}
	if other.SignedIn() {
		t.Fatal("signed in before the second factor")
	}
	_, err = other.CompleteMFA(ctx, need.Token, "000000", false)
	wantCode(t, err, authdash.CodeUnauthorized)
	// The next step's code: the confirming one is spent.
	u, err := other.CompleteMFA(ctx, need.Token, code(time.Now().Add(30*time.Second), setup.Secret), false)
	if err != nil || u.Email != creds.Email || !other.SignedIn() {
		t.Fatalf("complete: %+v, %v", u, err)
	}

	third := newClient(t, base, "tabC", nil)
	_, err = third.Login(ctx, creds)
	if !errors.As(err, &need) {
		t.Fatalf("login: %v", err)
	}
	if _, err := third.CompleteMFA(ctx, need.Token, recovery[0], true); err != nil {
		t.Fatal(err)
	}

	events, err := c.SignInActivity(ctx)
	if err != nil || len(events) != 4 || events[0].Method != authdash.SignInRecovery || events[2].Reason != authdash.ReasonWrongCode {
		t.Fatalf("activity %+v, %v", events, err)
	}
	wantCode(t, c.DisableTOTP(ctx, strongPassword, "000000"), authdash.CodeForbidden)
	if err := c.DisableTOTP(ctx, strongPassword, recovery[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := newClient(t, base, "tabD", nil).Login(ctx, creds); err != nil {
		t.Fatalf("login after turning it off: %v", err)
	}
}

// TestNewDeviceNotice: a sign-in from a browser the account has not used
// mails the owner, through the real outbox and SMTP, naming the device and
// the address (that a known device mails nothing is server's
// TestSignInActivity).
func TestNewDeviceNotice(t *testing.T) {
	base, smtp := mustMailServer(t)
	ctx := t.Context()
	c := newClient(t, base, "tabA", nil)
	if _, err := c.Register(ctx, authdash.Registration{Email: "ann@example.com", Password: strongPassword, Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	login := func() {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/auth/login",
			strings.NewReader(`{"email":"ann@example.com","password":"`+strongPassword+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", firefox)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("login: %d", res.StatusCode)
		}
	}
	login()
	m := smtp.Last(t, "ann@example.com", "New sign-in to your Authdash account", mailWait)
	for _, want := range []string{"Firefox on Linux", "127.0.0.1", "UTC", "https://app.test/forgot-password"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("notice lacks %q:\n%s", want, m.Text)
		}
	}
	events, err := c.SignInActivity(ctx)
	if err != nil || len(events) != 2 || events[0].Device != "Firefox on Linux" || events[1].Device != "Go HTTP client" {
		t.Fatalf("activity %+v, %v", events, err)
	}
}

// TestMFAAcrossInstances: the password on one instance, the code on
// another (two instances on one SQLite file, as behind a load balancer that
// does not stick): the challenge lives in the store, and once spent it is
// spent on both.
func TestMFAAcrossInstances(t *testing.T) {
	dir := t.TempDir()
	a := apitest.Start(t, apitest.Options{DataDir: dir}).URL
	b := apitest.Start(t, apitest.Options{DataDir: dir}).URL
	ctx := t.Context()
	owner := newClient(t, a, "tabA", nil)
	creds := authdash.Credentials{Email: "ann@example.com", Password: strongPassword}
	if _, err := owner.Register(ctx, authdash.Registration{Email: creds.Email, Password: creds.Password, Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	setup, err := owner.BeginTOTP(ctx, strongPassword)
	if err != nil {
		t.Fatal(err)
	}
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(setup.Secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := owner.ConfirmTOTP(ctx, code(time.Now())); err != nil {
		t.Fatal(err)
	}

	_, err = newClient(t, a, "tabB", nil).Login(ctx, creds)
	var need *api.MFARequired
	if !errors.As(err, &need) {
		t.Fatalf("login on A: %v, want MFARequired", err)
	}
	onB := newClient(t, b, "tabC", nil)
	if _, err := onB.CompleteMFA(ctx, need.Token, code(time.Now().Add(30*time.Second)), false); err != nil {
		t.Fatalf("code on B: %v", err)
	}
	if _, err := onB.Me(ctx); err != nil {
		t.Fatalf("signed in on B: %v", err)
	}
	_, err = newClient(t, a, "tabD", nil).CompleteMFA(ctx, need.Token, code(time.Now().Add(30*time.Second)), false)
	wantCode(t, err, authdash.CodeUnauthorized)
}
