package authdash

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// TokenPurpose is what an account token may be used for. A token works for its
// purpose only: a verification link cannot reset a password.
type TokenPurpose string

const (
	PurposeVerifyEmail   TokenPurpose = "verify-email"   // proves the account's address
	PurposeResetPassword TokenPurpose = "reset-password" // sets a new password without the old one
	PurposeChangeEmail   TokenPurpose = "change-email"   // proves the new address of an email change
	PurposeRevertEmail   TokenPurpose = "revert-email"   // undoes an email change from the old address
)

// TTL is how long a token of the purpose works. A reset link is the key to the
// account, so it lives minutes; the undo of an email change lives days, long
// enough for the owner of a hijacked account to notice the notice.
func (p TokenPurpose) TTL() time.Duration {
	switch p {
	case PurposeVerifyEmail:
		return 48 * time.Hour
	case PurposeResetPassword:
		return 30 * time.Minute
	case PurposeChangeEmail:
		return 24 * time.Hour
	case PurposeRevertEmail:
		return 72 * time.Hour
	case PurposeMFA:
		return MFATokenTTL
	case PurposePasskeyRegister, PurposePasskeyLogin:
		return PasskeyChallengeTTL
	case PurposeOIDCLogin:
		return OIDCLoginTTL
	case PurposeOIDCLink:
		return OIDCLinkTTL
	}
	return 0
}

// AccountToken is a single-use token mailed to a person. Only its hash is
// stored: someone who reads the database cannot use a link still in flight.
type AccountToken struct {
	Hash    []byte // TokenHash of the token
	Purpose TokenPurpose
	User    UserID
	// Email is the account's address when the token was made: the token works
	// only while it still is, so a link mailed to an address the account has
	// since left does nothing.
	Email string
	// NewEmail is, for an email change, the address asked for, and for its
	// undo, the address to go back to; empty otherwise.
	NewEmail  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// NewAccountToken returns a fresh token (256 random bits, URL-safe base64:
// it travels in a link) and the hash to store.
func NewAccountToken() (token string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, TokenHash(token)
}

// TokenHash is what a store keeps of a token, and what a presented token is
// looked up by. The token is 256 random bits, so a fast hash is enough: there
// is nothing to guess that a slow one would protect.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// The ways a presented token fails. Each is CodeInvalid (the link is wrong,
// not the server) with the message under the "token" field too, and each
// leaves everything as it was.
func ErrTokenInvalid() error { return tokenError("This link is not valid.") }
func ErrTokenUsed() error    { return tokenError("This link was already used.") }
func ErrTokenExpired() error { return tokenError("This link has expired. Ask for a new one.") }

// ErrTokenStale is a token for an address the account no longer has.
func ErrTokenStale() error {
	return tokenError("This link was sent to an address the account no longer uses.")
}

func tokenError(msg string) error {
	return &Error{Code: CodeInvalid, Message: msg, Fields: map[string]string{"token": msg}}
}

// AccountTokenStore keeps the tokens of the links mailed to people.
type AccountTokenStore interface {
	// CreateAccountToken stores t (Hash, Purpose, User, Email, ExpiresAt set by
	// the caller; CreatedAt too).
	CreateAccountToken(ctx context.Context, t AccountToken) error
	// UseAccountToken spends the token with that hash and returns it, if it is
	// for purpose, unused and not expired at now. Otherwise it changes nothing
	// and returns ErrTokenInvalid (unknown, or for another purpose),
	// ErrTokenUsed or ErrTokenExpired. Of two racing uses exactly one wins.
	UseAccountToken(ctx context.Context, hash []byte, purpose TokenPurpose, now time.Time) (*AccountToken, error)
	// FindAccountToken returns the token with that hash as UseAccountToken
	// would, with the same errors, but does not spend it (a sign-in waiting
	// for its second factor survives a mistyped code).
	FindAccountToken(ctx context.Context, hash []byte, purpose TokenPurpose, now time.Time) (*AccountToken, error)
	// DeleteAccountTokens removes the user's unused tokens of purpose (a new
	// password ends every reset link still out) and says how many went.
	DeleteAccountTokens(ctx context.Context, user UserID, purpose TokenPurpose) (int, error)
	// PurgeAccountTokens removes the tokens that expired before before, used
	// or not; until then a used one still answers ErrTokenUsed.
	PurgeAccountTokens(ctx context.Context, before time.Time) (int, error)
}
