package authdash

import "strings"

// PasswordForgotten is a request for a password reset link.
type PasswordForgotten struct {
	Email string `json:"email"`
}

// Validate checks the address's shape only: whether an account has it is never told.
func (p PasswordForgotten) Validate() error {
	f := fieldErrors{}
	validateEmail(f, "email", NormalizeEmail(p.Email))
	return f.err()
}

// PasswordReset sets a new password with the token of a reset link.
type PasswordReset struct {
	Token       string `json:"token"`
	NewPassword string `json:"newPassword"`
}

// Validate applies the password policy; the token is checked when it is spent.
func (p PasswordReset) Validate() error {
	f := fieldErrors{}
	if p.Token == "" {
		f.add("token", "The link's token is required.")
	}
	validatePassword(f, "newPassword", p.NewPassword)
	return f.err()
}

// EmailChange asks to move the account to a new address, confirmed by the password.
type EmailChange struct {
	NewEmail string `json:"newEmail"`
	Password string `json:"password"`
}

// Normalize normalises the new address in place.
func (c *EmailChange) Normalize() { c.NewEmail = NormalizeEmail(c.NewEmail) }

// Validate checks the new address and that a password came.
func (c EmailChange) Validate() error {
	f := fieldErrors{}
	validateEmail(f, "newEmail", c.NewEmail)
	if c.Password == "" {
		f.add("password", "Password is required.")
	} else if len(c.Password) > 4*MaxPasswordLen {
		f.add("password", "Password is too long.")
	}
	return f.err()
}

// TokenSubmission is the body of the routes that spend a mailed link's token.
type TokenSubmission struct {
	Token string `json:"token"`
}

// Validate checks that a token came.
func (t TokenSubmission) Validate() error {
	if strings.TrimSpace(t.Token) == "" {
		return &Error{Code: CodeInvalid, Message: "The link's token is required.", Fields: map[string]string{"token": "The link's token is required."}}
	}
	return nil
}
