//go:build !js

package api_test

import (
	"testing"

	"github.com/authdash/authdash"
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
