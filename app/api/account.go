package api

import (
	"context"
	"net/http"

	"github.com/authdash/authdash"
)

// The account flows whose links arrive by mail. The routes that spend a
// link's token need no sign-in: the link may be opened in another browser.

// ForgotPassword asks for a reset link. The server answers alike whether or
// not the address has an account, so success says only that the request was
// taken.
func (c *Client) ForgotPassword(ctx context.Context, email string) error {
	return c.do(ctx, http.MethodPost, "/api/auth/password/forgot", nil,
		authdash.PasswordForgotten{Email: email}, nil, callOpts{anonymous: true})
}

// ResetPassword sets a new password with a reset link's token. Every session
// of the account ends: the person then signs in with the new password.
func (c *Client) ResetPassword(ctx context.Context, token, newPassword string) error {
	return c.do(ctx, http.MethodPost, "/api/auth/password/reset", nil,
		authdash.PasswordReset{Token: token, NewPassword: newPassword}, nil, callOpts{anonymous: true})
}

// CheckResetLink tells whether a reset link's token still works (nil) or not (the
// error ResetPassword would give for it), without spending it: the reset page asks
// before a new password is typed.
func (c *Client) CheckResetLink(ctx context.Context, token string) error {
	return c.spend(ctx, "/api/auth/password/reset/check", token)
}

// VerifyEmail proves the account's address with a verification link's token.
func (c *Client) VerifyEmail(ctx context.Context, token string) error {
	return c.spend(ctx, "/api/auth/verify-email", token)
}

// ResendVerification mails the signed-in user a new verification link.
func (c *Client) ResendVerification(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/api/auth/verify-email/resend", nil, struct{}{}, nil, callOpts{})
}

// ChangeEmail asks to move the account to a new address; the password
// proves it is the owner asking. Nothing changes until the link mailed to
// the new address is opened (ConfirmEmail).
func (c *Client) ChangeEmail(ctx context.Context, newEmail, password string) error {
	return c.do(ctx, http.MethodPost, "/api/me/email", nil,
		authdash.EmailChange{NewEmail: newEmail, Password: password}, nil, callOpts{})
}

// ConfirmEmail switches the account to the new address with the token mailed
// there; the old address gets a link that undoes it (RevertEmail).
func (c *Client) ConfirmEmail(ctx context.Context, token string) error {
	return c.spend(ctx, "/api/auth/email/confirm", token)
}

// RevertEmail undoes an email change with the token mailed to the old
// address, and ends every session of the account. The link may be opened in
// a browser signed in as someone else, so the client keeps its own token: a
// session it belonged to fails at its next use.
func (c *Client) RevertEmail(ctx context.Context, token string) error {
	return c.spend(ctx, "/api/auth/email/revert", token)
}

// spend posts a mailed link's token to path (which spends it, or for
// CheckResetLink only checks it).
func (c *Client) spend(ctx context.Context, path, token string) error {
	return c.do(ctx, http.MethodPost, path, nil, authdash.TokenSubmission{Token: token}, nil, callOpts{anonymous: true})
}
