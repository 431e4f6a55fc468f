package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// Two-factor sign-in and the sign-in activity (README "Two-factor
// authentication").

// MFARequired is what Login returns when the password was right and the
// account asks for its second factor: CompleteMFA finishes the sign-in with
// Token and a code. Nothing is signed in until then.
type MFARequired struct {
	Token   string
	Methods []string
}

func (e *MFARequired) Error() string { return "api: the sign-in needs a second factor" }

// loginAnswer is a login's answer: a grant, or a challenge for the second
// factor.
type loginAnswer struct {
	wire.Grant
	MFARequired bool     `json:"mfaRequired"`
	MFAToken    string   `json:"mfaToken"`
	Methods     []string `json:"methods"`
}

func (c *Client) login(ctx context.Context, cr authdash.Credentials) (*authdash.User, error) {
	var a loginAnswer
	if err := c.do(ctx, http.MethodPost, "/api/auth/login", nil, cr, &a, callOpts{anonymous: true}); err != nil {
		return nil, err
	}
	if a.MFARequired {
		return nil, &MFARequired{Token: a.MFAToken, Methods: a.Methods}
	}
	c.setSession(&a.Grant)
	return a.User, nil
}

// CompleteMFA finishes a sign-in that Login answered with MFARequired, with
// a code from the authenticator app or, with recovery set, a recovery code.
// A wrong code is CodeUnauthorized naming the field; the challenge stays
// open for another try until it expires (CodeUnauthorized naming mfaToken).
func (c *Client) CompleteMFA(ctx context.Context, token, code string, recovery bool) (*authdash.User, error) {
	a := authdash.MFAAnswer{MFAToken: token, Code: code}
	if recovery {
		a = authdash.MFAAnswer{MFAToken: token, RecoveryCode: code}
	}
	return c.grant(ctx, "/api/auth/mfa", a)
}

// BeginMFAPasskey asks for the options to answer the second factor of the
// sign-in Login answered with MFARequired (its Methods list "passkey") with
// one of the account's passkeys.
func (c *Client) BeginMFAPasskey(ctx context.Context, token string) (json.RawMessage, error) {
	var o json.RawMessage
	err := c.do(ctx, http.MethodPost, "/api/auth/mfa/passkey/begin", nil, wire.PasskeyLoginBegin{MFAToken: token}, &o, callOpts{anonymous: true})
	return o, err
}

// CompleteMFAPasskey finishes that sign-in with what the browser's passkey
// answered to BeginMFAPasskey's options. A refused passkey is
// CodeUnauthorized naming the field passkey; the challenge stays open.
func (c *Client) CompleteMFAPasskey(ctx context.Context, token string, credential json.RawMessage) (*authdash.User, error) {
	return c.grant(ctx, "/api/auth/mfa", authdash.MFAAnswer{MFAToken: token, Passkey: credential})
}

// MFAStatus says which second factors the account has on.
func (c *Client) MFAStatus(ctx context.Context) (wire.MFAStatus, error) {
	var st wire.MFAStatus
	err := c.do(ctx, http.MethodGet, "/api/me/mfa", nil, nil, &st, callOpts{})
	return st, err
}

// BeginTOTP makes a new authenticator-app secret (not yet on) after the
// password.
func (c *Client) BeginTOTP(ctx context.Context, password string) (*wire.TOTPSetup, error) {
	var s wire.TOTPSetup
	if err := c.do(ctx, http.MethodPost, "/api/me/mfa/totp", nil, wire.PasswordConfirmation{Password: password}, &s, callOpts{}); err != nil {
		return nil, err
	}
	return &s, nil
}

// ConfirmTOTP turns two-factor sign-in on with a code from the app and
// returns the recovery codes, which the server never shows again.
func (c *Client) ConfirmTOTP(ctx context.Context, code string) ([]string, error) {
	var rc wire.RecoveryCodes
	if err := c.do(ctx, http.MethodPost, "/api/me/mfa/totp/confirm", nil, wire.TOTPCode{Code: code}, &rc, callOpts{}); err != nil {
		return nil, err
	}
	return rc.RecoveryCodes, nil
}

// DisableTOTP turns two-factor sign-in off with the password and a code (or
// a recovery code).
func (c *Client) DisableTOTP(ctx context.Context, password, code string) error {
	return c.do(ctx, http.MethodDelete, "/api/me/mfa/totp", nil, wire.TOTPDisable{Password: password, Code: code}, nil, callOpts{})
}

// SignInActivity lists the account's recent sign-in attempts, newest first.
func (c *Client) SignInActivity(ctx context.Context) ([]authdash.SignInEvent, error) {
	var l wire.SignInList
	if err := c.do(ctx, http.MethodGet, "/api/me/activity", nil, nil, &l, callOpts{}); err != nil {
		return nil, err
	}
	return l.Items, nil
}
