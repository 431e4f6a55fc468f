package authdash

import (
	"context"
	"encoding/json"
	"time"
)

// Two-factor sign-in with a code from an authenticator app (TOTP, RFC 6238)
// and the recovery codes that stand in for it, and the record of sign-ins.

// PurposeMFA is the token of a sign-in waiting for its second factor: the
// password was right, the code is still to come. It is an AccountToken like
// a mailed link's (stored as its hash, single-use, any instance can finish
// it) that is never mailed.
const PurposeMFA TokenPurpose = "mfa"

// MFATokenTTL is how long a sign-in waits for its second factor.
const MFATokenTTL = 5 * time.Minute

// RecoveryCodeCount is how many recovery codes a confirmed TOTP set-up gets.
const RecoveryCodeCount = 10

// TOTP is a user's authenticator-app set-up as a store keeps it.
type TOTP struct {
	// Secret is the shared secret as the auth service sealed it (encrypted
	// when a key is configured); stores keep it as an opaque string.
	Secret string
	// Confirmed is set once a code from the app proved the person holds the
	// secret; only then does a sign-in ask for a code.
	Confirmed bool
	// LastStep is the last 30-second time step a code was accepted for: a
	// code is accepted once, so one seen over a shoulder or replayed is
	// refused.
	LastStep int64
	// RecoveryCodes counts the unused recovery codes.
	RecoveryCodes int
	CreatedAt     time.Time
}

// MFAStore keeps each user's second factor. Recovery codes are kept as hashes
// (TokenHash) and each works once.
type MFAStore interface {
	// SetTOTP stores an unconfirmed secret for the user, replacing an
	// unconfirmed one. CodeConflict if a confirmed one exists, CodeNotFound
	// for an unknown user.
	SetTOTP(ctx context.Context, user UserID, secret string, now time.Time) error
	// FindTOTP returns the user's set-up, confirmed or not: CodeNotFound if
	// there is none.
	FindTOTP(ctx context.Context, user UserID) (*TOTP, error)
	// ConfirmTOTP confirms the unconfirmed secret, records step as the last
	// used and replaces the recovery codes by those hashes, all at once.
	// CodeNotFound if there is no set-up, CodeConflict if it is confirmed
	// already.
	ConfirmTOTP(ctx context.Context, user UserID, step int64, recovery [][]byte) error
	// UseTOTPStep records step as used if it is above LastStep of a
	// confirmed set-up: CodeConflict when it is not (a replay; of two racing
	// uses of one step exactly one wins), CodeNotFound without a confirmed
	// set-up.
	UseTOTPStep(ctx context.Context, user UserID, step int64) error
	// UseRecoveryCode spends the unused recovery code with that hash:
	// CodeNotFound if the user has none such (unknown, or used). Of two
	// racing uses exactly one wins.
	UseRecoveryCode(ctx context.Context, user UserID, hash []byte) error
	// DeleteTOTP removes the set-up and the recovery codes: CodeNotFound if
	// there was none.
	DeleteTOTP(ctx context.Context, user UserID) error
}

// SignInMethod is how a sign-in proved who it was: with the password alone,
// or with the password and a code or a recovery code.
type SignInMethod string

const (
	SignInPassword SignInMethod = "password"
	SignInTOTP     SignInMethod = "totp"
	SignInRecovery SignInMethod = "recovery"
)

// SignInOutcome says whether a sign-in attempt got in.
type SignInOutcome string

const (
	SignInSuccess SignInOutcome = "success"
	SignInFailure SignInOutcome = "failure"
)

// Why a sign-in attempt failed (SignInEvent.Reason).
const (
	ReasonWrongPassword = "wrong_password"
	ReasonWrongCode     = "wrong_code"
)

// Sign-in activity limits.
const (
	MaxSignInsListed = 100
	// SignInRetention is how long sign-in events are kept (the janitor
	// purges older ones). It is also how far back "a device seen before"
	// reaches.
	SignInRetention = 90 * 24 * time.Hour
)

// SignInEvent is one attempt to sign in to an account: an unknown address
// is no account's, so it is not recorded.
type SignInEvent struct {
	At      time.Time     `json:"at"`
	IP      string        `json:"ip"`
	Device  string        `json:"device"` // the User-Agent summarised, e.g. "Firefox on Linux"
	Method  SignInMethod  `json:"method"`
	Outcome SignInOutcome `json:"outcome"`
	Reason  string        `json:"reason,omitempty"` // for a failure: ReasonWrongPassword, ReasonWrongCode
	// DeviceKey is what counts as the same device: the summary and the
	// network the address is in (IPv4 /24, IPv6 /48). Never shown.
	DeviceKey string `json:"-"`
}

// SignInStore keeps each account's sign-in events.
type SignInStore interface {
	// RecordSignIn stores e. For a success it reports whether it came from a
	// new device: the account had signed in successfully before, but never
	// with e.DeviceKey. CodeNotFound for an unknown user.
	RecordSignIn(ctx context.Context, user UserID, e SignInEvent) (newDevice bool, err error)
	// SignIns returns the user's last limit events, newest first.
	SignIns(ctx context.Context, user UserID, limit int) ([]SignInEvent, error)
	// PurgeSignIns deletes the events before t and says how many.
	PurgeSignIns(ctx context.Context, before time.Time) (int, error)
}

// MFAAnswer is the second step of a sign-in: the token the first step gave
// and one answer: a code from the app, a recovery code, or a passkey's
// assertion (what navigator.credentials.get answered to the options begun
// with the token).
type MFAAnswer struct {
	MFAToken     string          `json:"mfaToken"`
	Code         string          `json:"code,omitempty"`
	RecoveryCode string          `json:"recoveryCode,omitempty"`
	Passkey      json.RawMessage `json:"passkey,omitempty"`
}

// HasPasskey says whether the answer is a passkey's (JSON null is none).
func (a MFAAnswer) HasPasskey() bool {
	return len(a.Passkey) > 0 && string(a.Passkey) != "null"
}

// Validate checks the shape: a token, and exactly one answer.
func (a MFAAnswer) Validate() error {
	f := fieldErrors{}
	if a.MFAToken == "" {
		f.add("mfaToken", "The sign-in's token is required.")
	} else if len(a.MFAToken) > 128 {
		f.add("mfaToken", "The sign-in's token is not valid.")
	}
	answers := 0
	for _, given := range []bool{a.Code != "", a.RecoveryCode != "", a.HasPasskey()} {
		if given {
			answers++
		}
	}
	switch {
	case answers == 0:
		f.add("code", "Enter the code from your authenticator app, or a recovery code.")
	case answers > 1:
		f.add("code", "Send one answer: a code, a recovery code or a passkey.")
	case len(a.Code) > 32:
		f.add("code", "The code is too long.")
	case len(a.RecoveryCode) > 64:
		f.add("recoveryCode", "The recovery code is too long.")
	case a.HasPasskey() && a.Passkey[0] != '{':
		f.add("passkey", "This is not an answer from a passkey.")
	}
	return f.err()
}
