//go:build !js

package api_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/internal/passkeytest"
)

// TestPasskeys adds a passkey, signs in with it in another tab, renames and
// deletes it, through the client against the real API.
func TestPasskeys(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	c := newClient(t, base, "tabA", nil)
	if _, err := c.Register(ctx, authdash.Registration{Email: "ann@example.com", Password: strongPassword, Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	a := &passkeytest.Authenticator{Origin: "http://localhost:8080", UserVerified: true}
	opts, err := c.BeginPasskey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cred, key, err := a.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.FinishPasskey(ctx, "", cred)
	wantCode(t, err, authdash.CodeInvalid)
	p, err := c.FinishPasskey(ctx, "Laptop", cred)
	if err != nil || p.Name != "Laptop" {
		t.Fatalf("finish: %+v, %v", p, err)
	}

	other := newClient(t, base, "tabB", nil)
	opts, err = other.BeginPasskeyLogin(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	cred, err = a.Get(opts, key)
	if err != nil {
		t.Fatal(err)
	}
	u, err := other.PasskeyLogin(ctx, "", cred)
	if err != nil || u.Email != "ann@example.com" || !other.SignedIn() {
		t.Fatalf("passkey sign-in: %+v, %v", u, err)
	}

	if p, err = other.RenamePasskey(ctx, p.ID, "Work laptop"); err != nil || p.Name != "Work laptop" || p.LastUsedAt == nil {
		t.Fatalf("rename: %+v, %v", p, err)
	}
	if err := c.DeletePasskey(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, c.DeletePasskey(ctx, p.ID), authdash.CodeNotFound)
	if list, err := c.Passkeys(ctx); err != nil || len(list) != 0 {
		t.Fatalf("list after delete: %v, %v", list, err)
	}
}

// TestPasskeySecondFactor answers the second factor of a password sign-in
// with a passkey through POST /api/auth/mfa, after a refused one.
func TestPasskeySecondFactor(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	c := newClient(t, base, "tabA", nil)
	creds := authdash.Credentials{Email: "ann@example.com", Password: strongPassword}
	if _, err := c.Register(ctx, authdash.Registration{Email: creds.Email, Password: creds.Password, Name: "Ann"}); err != nil {
		t.Fatal(err)
	}
	a := &passkeytest.Authenticator{Origin: "http://localhost:8080", UserVerified: true}
	opts, err := c.BeginPasskey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cred, key, err := a.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.FinishPasskey(ctx, "Laptop", cred); err != nil {
		t.Fatal(err)
	}
	setup, err := c.BeginTOTP(ctx, strongPassword)
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(setup.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfirmTOTP(ctx, code); err != nil {
		t.Fatal(err)
	}

	other := newClient(t, base, "tabB", nil)
	_, err = other.Login(ctx, creds)
	var need *api.MFARequired
	if !errors.As(err, &need) || !slices.Contains(need.Methods, "passkey") {
		t.Fatalf("login: %v, want MFARequired offering a passkey", err)
	}
	opts, err = other.BeginMFAPasskey(ctx, need.Token)
	if err != nil {
		t.Fatal(err)
	}
	evil := &passkeytest.Authenticator{Origin: "https://evil.example", UserVerified: true}
	wrong, _ := evil.Get(opts, key)
	_, err = other.CompleteMFAPasskey(ctx, need.Token, wrong)
	wantCode(t, err, authdash.CodeUnauthorized)
	if authdash.ErrorFieldsOf(err)["passkey"] == "" || other.SignedIn() {
		t.Fatalf("refused passkey: %v, fields %v", err, authdash.ErrorFieldsOf(err))
	}
	if opts, err = other.BeginMFAPasskey(ctx, need.Token); err != nil {
		t.Fatal(err)
	}
	right, _ := a.Get(opts, key)
	u, err := other.CompleteMFAPasskey(ctx, need.Token, right)
	if err != nil || u.Email != creds.Email || !other.SignedIn() {
		t.Fatalf("complete: %+v, %v", u, err)
	}
	events, err := c.SignInActivity(ctx)
	if err != nil || len(events) == 0 || events[0].Method != authdash.SignInPasskey || events[0].Outcome != authdash.SignInSuccess {
		t.Fatalf("activity %+v, %v", events, err)
	}
}
