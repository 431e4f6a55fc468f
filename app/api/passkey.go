package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// Passkeys (README "Passkeys"): the begin calls answer the options for
// navigator.credentials (as JSON, binary fields in base64url); the finish
// calls take what the browser answered, as JSON too.

// Passkeys lists the account's passkeys, oldest first.
func (c *Client) Passkeys(ctx context.Context) ([]wire.Passkey, error) {
	var l wire.PasskeyList
	if err := c.do(ctx, http.MethodGet, "/api/me/passkeys", nil, nil, &l, callOpts{}); err != nil {
		return nil, err
	}
	return l.Items, nil
}

// BeginPasskey asks for the options to create a passkey for the account.
func (c *Client) BeginPasskey(ctx context.Context) (json.RawMessage, error) {
	var o json.RawMessage
	err := c.do(ctx, http.MethodPost, "/api/me/passkeys/begin", nil, nil, &o, callOpts{})
	return o, err
}

// FinishPasskey keeps the passkey the browser created under name.
func (c *Client) FinishPasskey(ctx context.Context, name string, credential json.RawMessage) (*wire.Passkey, error) {
	var p wire.Passkey
	if err := c.do(ctx, http.MethodPost, "/api/me/passkeys/finish", nil, wire.PasskeyRegistration{Name: name, Credential: credential}, &p, callOpts{}); err != nil {
		return nil, err
	}
	return &p, nil
}

// RenamePasskey renames one of the account's passkeys.
func (c *Client) RenamePasskey(ctx context.Context, id, name string) (*wire.Passkey, error) {
	var p wire.Passkey
	if err := c.do(ctx, http.MethodPatch, "/api/me/passkeys/"+url.PathEscape(id), nil, wire.PasskeyRename{Name: name}, &p, callOpts{}); err != nil {
		return nil, err
	}
	return &p, nil
}

// DeletePasskey removes one of the account's passkeys.
func (c *Client) DeletePasskey(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/me/passkeys/"+url.PathEscape(id), nil, nil, nil, callOpts{})
}

// BeginPasskeyLogin asks for the options to sign in with a passkey: alone
// (mfaToken empty) or as the second factor of the sign-in Login answered
// with MFARequired.
func (c *Client) BeginPasskeyLogin(ctx context.Context, mfaToken string) (json.RawMessage, error) {
	var o json.RawMessage
	err := c.do(ctx, http.MethodPost, "/api/auth/passkey/begin", nil, wire.PasskeyLoginBegin{MFAToken: mfaToken}, &o, callOpts{anonymous: true})
	return o, err
}

// PasskeyLogin signs in with what the browser's passkey answered.
func (c *Client) PasskeyLogin(ctx context.Context, mfaToken string, credential json.RawMessage) (*authdash.User, error) {
	return c.grant(ctx, "/api/auth/passkey/finish", wire.PasskeyLogin{MFAToken: mfaToken, Credential: credential})
}
