package authdash

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Passkeys (WebAuthn): a key pair an authenticator (a phone, a laptop's
// secure enclave, a security key) keeps for the account and signs a fresh
// challenge with. One alone signs in (it is something held, unlocked with
// something known or a fingerprint), and one satisfies the second factor.

// The purposes of a ceremony's challenge (PasskeyChallenge.Purpose).
const (
	PurposePasskeyRegister TokenPurpose = "passkey-register"
	PurposePasskeyLogin    TokenPurpose = "passkey-login"
)

// PasskeyChallengeTTL is how long a begun ceremony can be finished.
const PasskeyChallengeTTL = 5 * time.Minute

// SignInPasskey is a sign-in with a passkey, alone or as the second factor.
const SignInPasskey SignInMethod = "passkey"

// ReasonPasskeyRefused is a sign-in whose passkey's signature, counter or
// flags were refused (SignInEvent.Reason).
const ReasonPasskeyRefused = "passkey_refused"

// Passkey limits.
const (
	MaxPasskeys        = 20
	MaxPasskeyNameLen  = 64
	MaxCredentialIDLen = 1023 // WebAuthn's own limit
)

// Passkey is one registered credential as a store keeps it.
type Passkey struct {
	// ID is the credential's ID, chosen by the authenticator, unique among
	// all accounts.
	ID   []byte
	User UserID
	Name string
	// Credential is the WebAuthn library's record of the credential (public
	// key, attestation, flags) as the auth service encoded it; opaque here.
	Credential []byte
	// SignCount is the authenticator's signature counter at the last use: a
	// counter that does not advance (while either is not zero) may be a
	// cloned authenticator and is refused.
	SignCount uint32
	// BackupEligible says the credential may be synced to other devices
	// (fixed at registration); BackupState that it is.
	BackupEligible bool
	BackupState    bool
	CreatedAt      time.Time
	LastUsedAt     time.Time // zero until it signs in
}

// PasskeyChallenge is a begun ceremony: the hash of its challenge (which the
// authenticator signs and the browser sends back inside clientDataJSON), the
// user it is for (empty for a sign-in that lets the authenticator say whose
// key it is) and the ceremony's state. Single-use; any instance can finish
// it.
type PasskeyChallenge struct {
	Hash      []byte // TokenHash of the challenge
	Purpose   TokenPurpose
	User      UserID
	Session   []byte // the ceremony's state as the auth service encoded it
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PasskeyStore keeps the passkeys and their ceremonies' challenges.
type PasskeyStore interface {
	// CreatePasskey stores p: CodeConflict when its ID is registered
	// already (to any account), CodeNotFound for an unknown user.
	CreatePasskey(ctx context.Context, p Passkey) error
	// Passkeys returns the user's passkeys, oldest first.
	Passkeys(ctx context.Context, user UserID) ([]Passkey, error)
	// FindPasskey returns the passkey with that credential ID, whoever's it
	// is: CodeNotFound if none.
	FindPasskey(ctx context.Context, id []byte) (*Passkey, error)
	// RenamePasskey renames the user's passkey: CodeNotFound if the user has
	// none with that ID.
	RenamePasskey(ctx context.Context, user UserID, id []byte, name string) error
	// DeletePasskey removes the user's passkey: CodeNotFound if the user has
	// none with that ID.
	DeletePasskey(ctx context.Context, user UserID, id []byte) error
	// UsePasskey records a sign-in with the user's passkey: the new counter,
	// backup state and credential record, and now as LastUsedAt. The
	// counter's condition is in the write: CodeConflict when signCount is
	// not above the stored one (unless both are 0, an authenticator without
	// a counter), so of two uses of one signature exactly one wins.
	// CodeNotFound if the user has no such passkey.
	UsePasskey(ctx context.Context, user UserID, id []byte, signCount uint32, backupState bool, credential []byte, now time.Time) error
	// CreatePasskeyChallenge stores c. The user, if any, must exist
	// (CodeNotFound).
	CreatePasskeyChallenge(ctx context.Context, c PasskeyChallenge) error
	// UsePasskeyChallenge spends the challenge with that hash and returns
	// it, if it is for purpose and not expired at now; otherwise it changes
	// nothing and returns ErrChallengeInvalid. Of two racing uses exactly
	// one wins.
	UsePasskeyChallenge(ctx context.Context, hash []byte, purpose TokenPurpose, now time.Time) (*PasskeyChallenge, error)
	// PurgePasskeyChallenges removes the challenges that expired before
	// before and says how many.
	PurgePasskeyChallenges(ctx context.Context, before time.Time) (int, error)
}

// ErrChallengeInvalid is a ceremony that cannot be finished: never begun,
// finished already, expired, or begun for something else.
func ErrChallengeInvalid() error {
	msg := "This passkey request has expired or was used. Try again."
	return &Error{Code: CodeInvalid, Message: msg, Fields: map[string]string{"credential": msg}}
}

// CleanPasskeyName trims name and checks it: a name is what the person calls
// the device ("Work laptop"), 1 to MaxPasskeyNameLen characters, printable.
func CleanPasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	f := fieldErrors{}
	switch {
	case name == "":
		f.add("name", "Give the passkey a name.")
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxPasskeyNameLen:
		f.add("name", "The name is too long (at most 64 characters).")
	case strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		f.add("name", "The name cannot contain control characters.")
	}
	return name, f.err()
}
