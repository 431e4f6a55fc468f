package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/authdash/authdash"
)

// Two-factor sign-in (README "Two-factor authentication"). A person turns it
// on with the password (BeginTOTP), proves the app holds the secret with a
// code (ConfirmTOTP, which hands out the recovery codes once), and from then
// on Login answers a right password with a Challenge instead of a Grant:
// CompleteMFA finishes it with a code or a recovery code.

// The TOTP parameters every authenticator app understands (RFC 6238's
// defaults): 30-second steps, 6 digits, HMAC-SHA1, a 160-bit secret.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	// totpSkew accepts the step before and after the current one: a phone's
	// clock a little off, a code typed as it turned over.
	totpSkew = 1
)

// MFA methods a Challenge can be answered with.
const (
	MethodTOTP     = "totp"
	MethodRecovery = "recovery"
	// MethodPasskey (passkey.go) is answered through POST /api/auth/mfa too.
)

// Challenge is what a right password gets when the account has a second
// factor: a token for CompleteMFA (single-use, MFATokenTTL) and the methods
// it accepts.
type Challenge struct {
	Token     string
	Methods   []string
	ExpiresAt time.Time
}

// TOTPSetup is a new, unconfirmed secret, shown once to be put into an app.
type TOTPSetup struct {
	Secret string // base32, to type in
	URI    string // otpauth://totp/…, for the QR code
}

// MFAStatus says which second factors the account has.
type MFAStatus struct {
	TOTP          bool `json:"totp"`
	RecoveryCodes int  `json:"recoveryCodes"` // unused ones left
}

func errMFAToken() error {
	msg := "This sign-in has expired. Sign in again."
	return &authdash.Error{Code: authdash.CodeUnauthorized, Message: msg, Fields: map[string]string{"mfaToken": msg}}
}

func errWrongCode(code authdash.ErrorCode, field string) error {
	msg := "The code is not right. Check it and try again."
	if field == "recoveryCode" {
		msg = "This recovery code is not right, or was used already."
	}
	return &authdash.Error{Code: code, Message: msg, Fields: map[string]string{field: msg}}
}

// BeginTOTP makes a new secret for the user after checking the password
// (CodeForbidden otherwise), replacing one not yet confirmed. CodeConflict
// when two-factor sign-in is already on.
func (s *Service) BeginTOTP(ctx context.Context, user authdash.UserID, password string) (*TOTPSetup, error) {
	if err := s.confirmPassword(ctx, user, password, "password"); err != nil {
		return nil, err
	}
	u, err := s.store.FindUser(ctx, user)
	if err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.Issuer, AccountName: u.Email,
		Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("auth: make totp secret: %w", err)
	}
	sealed, err := s.sealer.seal(user, key.Secret())
	if err != nil {
		return nil, err
	}
	if err := s.store.SetTOTP(ctx, user, sealed, s.cfg.Now()); err != nil {
		return nil, err
	}
	return &TOTPSetup{Secret: key.Secret(), URI: key.URL()}, nil
}

// ConfirmTOTP turns two-factor sign-in on with a code from the app that holds
// the secret BeginTOTP made, and returns the recovery codes, which are never
// shown again. CodeInvalid for a wrong code, CodeNotFound without a set-up,
// CodeConflict when it is on already.
func (s *Service) ConfirmTOTP(ctx context.Context, user authdash.UserID, code string) ([]string, error) {
	t, err := s.store.FindTOTP(ctx, user)
	if err != nil {
		return nil, err
	}
	if t.Confirmed {
		return nil, authdash.Errorf(authdash.CodeConflict, "Two-factor authentication is already on.")
	}
	secret, err := s.sealer.open(user, t.Secret)
	if err != nil {
		return nil, err
	}
	step, ok := matchStep(secret, code, s.cfg.Now())
	if !ok {
		return nil, errWrongCode(authdash.CodeInvalid, "code")
	}
	codes, hashes := newRecoveryCodes()
	if err := s.store.ConfirmTOTP(ctx, user, step, hashes); err != nil {
		return nil, err
	}
	s.mailNotice(ctx, user, MailTwoFactorOn)
	return codes, nil
}

// mailNotice tells the account's address of a change to its second factor,
// so that a change the owner did not make (someone with the password and an
// access token) does not go unseen.
func (s *Service) mailNotice(ctx context.Context, user authdash.UserID, kind MailKind) {
	u, err := s.store.FindUser(ctx, user)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "notice not mailed", slog.String("kind", string(kind)), slog.Any("err", err))
		return
	}
	s.mail(ctx, AccountMail{Kind: kind, To: u.Email, Name: u.Name})
}

// DisableTOTP turns two-factor sign-in off. It takes the password and a code
// (from the app, or a recovery code for someone who lost it): a stolen access
// token alone must not remove the second factor. CodeForbidden for either
// wrong, CodeNotFound when it is not on.
func (s *Service) DisableTOTP(ctx context.Context, user authdash.UserID, password, code string) error {
	if err := s.confirmPassword(ctx, user, password, "password"); err != nil {
		return err
	}
	t, err := s.store.FindTOTP(ctx, user)
	if err != nil {
		return err
	}
	if !t.Confirmed {
		return authdash.Errorf(authdash.CodeNotFound, "Two-factor authentication is not on.")
	}
	if _, err := s.checkSecondFactor(ctx, user, t, code, ""); err != nil {
		if authdash.ErrorCodeOf(err) == authdash.CodeUnauthorized {
			return errWrongCode(authdash.CodeForbidden, "code")
		}
		return err
	}
	if err := s.store.DeleteTOTP(ctx, user); err != nil {
		return err
	}
	s.mailNotice(ctx, user, MailTwoFactorOff)
	return nil
}

// MFA says which second factors the user has turned on.
func (s *Service) MFA(ctx context.Context, user authdash.UserID) (MFAStatus, error) {
	t, err := s.store.FindTOTP(ctx, user)
	switch {
	case authdash.ErrorCodeOf(err) == authdash.CodeNotFound:
		return MFAStatus{}, nil
	case err != nil:
		return MFAStatus{}, err
	}
	return MFAStatus{TOTP: t.Confirmed, RecoveryCodes: t.RecoveryCodes}, nil
}

// challenge returns the Challenge of a sign-in whose password was right, or
// nil when the account has no second factor.
func (s *Service) challenge(ctx context.Context, u *authdash.User) (*Challenge, error) {
	t, err := s.store.FindTOTP(ctx, u.ID)
	switch {
	case authdash.ErrorCodeOf(err) == authdash.CodeNotFound:
		return nil, nil
	case err != nil:
		return nil, err
	case !t.Confirmed:
		return nil, nil
	}
	methods := []string{MethodTOTP, MethodRecovery}
	// A passkey stands in for the code (options from POST
	// /api/auth/mfa/passkey/begin, the answer to POST /api/auth/mfa).
	keys, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		methods = append(methods, MethodPasskey)
	}
	token, exp, err := s.issue(ctx, authdash.PurposeMFA, u, "")
	if err != nil {
		return nil, err
	}
	return &Challenge{Token: token, Methods: methods, ExpiresAt: exp}, nil
}

// ChallengeUser names the account a sign-in waiting for its second factor
// is for, without spending its token, so the guesses can be limited per
// account before CompleteMFA checks one. CodeUnauthorized for a token that
// does not work (unknown, used or expired).
func (s *Service) ChallengeUser(ctx context.Context, token string) (authdash.UserID, error) {
	t, err := s.findChallenge(ctx, token)
	if err != nil {
		return "", err
	}
	return t.User, nil
}

func (s *Service) findChallenge(ctx context.Context, token string) (*authdash.AccountToken, error) {
	if token == "" || len(token) > 128 {
		return nil, errMFAToken()
	}
	t, err := s.store.FindAccountToken(ctx, authdash.TokenHash(token), authdash.PurposeMFA, s.cfg.Now())
	if authdash.ErrorCodeOf(err) == authdash.CodeInvalid {
		return nil, errors.Join(errMFAToken(), err)
	}
	return t, err
}

// CompleteMFA finishes a sign-in with its second factor and starts the
// session on device. A wrong code leaves the challenge open for another try
// (the caller limits the tries per account); the right one spends it, and a
// code works once. A passkey's answer (to BeginPasskeyLogin's options for
// the token) is checked as FinishPasskeyLogin checks it. CodeInvalid for a malformed answer, CodeUnauthorized for
// a challenge that does not work or a wrong code.
func (s *Service) CompleteMFA(ctx context.Context, a authdash.MFAAnswer, device string) (*Grant, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	ch, err := s.findChallenge(ctx, a.MFAToken)
	if err != nil {
		return nil, err
	}
	u, err := s.store.FindUser(ctx, ch.User)
	if err != nil {
		if authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
			return nil, errors.Join(errMFAToken(), err)
		}
		return nil, err
	}
	t, err := s.store.FindTOTP(ctx, u.ID)
	if authdash.ErrorCodeOf(err) == authdash.CodeNotFound || err == nil && !t.Confirmed {
		// Turned off since the password was checked (perhaps being set up
		// again, whose secret is no second factor yet): sign in again.
		return nil, errors.Join(errMFAToken(), authdash.Errorf(authdash.CodeNotFound, "no second factor on"))
	}
	if err != nil {
		return nil, err
	}
	if a.HasPasskey() {
		// The options came from BeginPasskeyLogin with this token; the
		// ceremony spends the token as a code would.
		g, err := s.finishPasskeyLogin(ctx, a.MFAToken, a.Passkey, device, true)
		return g, renameField(err, "credential", "passkey")
	}
	method, err := s.checkSecondFactor(ctx, u.ID, t, a.Code, a.RecoveryCode)
	if err != nil {
		if authdash.ErrorCodeOf(err) == authdash.CodeUnauthorized {
			s.recordSignIn(ctx, u, method, authdash.SignInFailure, authdash.ReasonWrongCode, device)
		}
		return nil, err
	}
	if _, err := s.store.UseAccountToken(ctx, ch.Hash, authdash.PurposeMFA, s.cfg.Now()); err != nil {
		if authdash.ErrorCodeOf(err) == authdash.CodeInvalid {
			return nil, errors.Join(errMFAToken(), err) // a racing answer won
		}
		return nil, err
	}
	g, err := s.startSession(ctx, u, device)
	if err != nil {
		return nil, err
	}
	s.recordSignIn(ctx, u, method, authdash.SignInSuccess, "", device)
	return g, nil
}

// renameField names field to in err's problem instead of from: the same
// refusal is worded for the request that carried it.
func renameField(err error, from, to string) error {
	var e *authdash.Error
	if !errors.As(err, &e) || e.Fields[from] == "" {
		return err
	}
	fields := make(map[string]string, len(e.Fields))
	for k, v := range e.Fields {
		if k == from {
			k = to
		}
		fields[k] = v
	}
	return errors.Join(&authdash.Error{Code: e.Code, Message: e.Message, Fields: fields}, err)
}

// checkSecondFactor checks a code (or, with code empty, a recovery code)
// against t and spends it, and says which method it was. CodeUnauthorized
// when it is wrong or already used.
func (s *Service) checkSecondFactor(ctx context.Context, user authdash.UserID, t *authdash.TOTP, code, recovery string) (authdash.SignInMethod, error) {
	if code == "" {
		hash, ok := recoveryHash(recovery)
		if !ok {
			return authdash.SignInRecovery, errWrongCode(authdash.CodeUnauthorized, "recoveryCode")
		}
		err := s.store.UseRecoveryCode(ctx, user, hash)
		if authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
			return authdash.SignInRecovery, errors.Join(errWrongCode(authdash.CodeUnauthorized, "recoveryCode"), err)
		}
		return authdash.SignInRecovery, err
	}
	// A code field may also carry a recovery code (the form to turn two-factor
	// sign-in off has one field for both).
	if _, ok := recoveryHash(code); ok {
		method, err := s.checkSecondFactor(ctx, user, t, "", code)
		if err != nil && authdash.ErrorCodeOf(err) == authdash.CodeUnauthorized {
			return method, errors.Join(errWrongCode(authdash.CodeUnauthorized, "code"), err)
		}
		return method, err
	}
	secret, err := s.sealer.open(user, t.Secret)
	if err != nil {
		return authdash.SignInTOTP, err
	}
	step, ok := matchStep(secret, code, s.cfg.Now())
	if !ok || step <= t.LastStep {
		return authdash.SignInTOTP, errWrongCode(authdash.CodeUnauthorized, "code")
	}
	err = s.store.UseTOTPStep(ctx, user, step)
	if authdash.ErrorCodeOf(err) == authdash.CodeConflict {
		// The same code, accepted a moment ago: a replay, or a race.
		return authdash.SignInTOTP, errors.Join(errWrongCode(authdash.CodeUnauthorized, "code"), err)
	}
	return authdash.SignInTOTP, err
}

// matchStep finds the time step around now whose code is code (spaces
// allowed, as apps show "123 456"), checking the current step first.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != totpDigits.Length() {
		return 0, false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	cur := now.Unix() / totpPeriod
	for _, step := range []int64{cur, cur - totpSkew, cur + totpSkew} {
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// Recovery codes are 16 base32 characters (80 random bits) shown in groups of
// four: too many to guess even offline from their SHA-256, so a fast hash is
// enough. They are read case-insensitively, dashes and spaces ignored.
const recoveryLen = 16

var recoveryEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newRecoveryCodes() (codes []string, hashes [][]byte) {
	for range authdash.RecoveryCodeCount {
		var b [10]byte
		_, _ = rand.Read(b[:]) // never fails
		c := recoveryEncoding.EncodeToString(b[:])
		codes = append(codes, c[0:4]+"-"+c[4:8]+"-"+c[8:12]+"-"+c[12:16])
		hashes = append(hashes, authdash.TokenHash(c))
	}
	return codes, hashes
}

func normalizeCode(c string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, c)
}

// recoveryHash is what a store keeps of a recovery code; ok is false for
// something that cannot be one.
func recoveryHash(c string) ([]byte, bool) {
	c = normalizeCode(c)
	if len(c) != recoveryLen {
		return nil, false
	}
	if _, err := recoveryEncoding.DecodeString(c); err != nil {
		return nil, false
	}
	return authdash.TokenHash(c), true
}

// sealer keeps TOTP secrets encrypted at rest when a key is configured
// (MFA_ENCRYPTION_KEY): AES-256-GCM with the user's ID as associated data,
// so a sealed secret copied to another account does not open. Without a key
// a secret is stored as it is, marked so; a key added later still opens
// those, and seals the ones made after.
type sealer struct{ aead cipher.AEAD }

const (
	sealedPlain = "plain:"
	sealedGCM   = "aes-gcm:"
)

// MFAKeyLen is the length of the key that encrypts TOTP secrets.
const MFAKeyLen = 32

func newSealer(key []byte) (sealer, error) {
	if len(key) == 0 {
		return sealer{}, nil
	}
	if len(key) != MFAKeyLen {
		return sealer{}, fmt.Errorf("auth: the MFA key must be %d bytes, not %d", MFAKeyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealer{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, err
	}
	return sealer{aead: aead}, nil
}

func (s sealer) seal(user authdash.UserID, secret string) (string, error) {
	if s.aead == nil {
		return sealedPlain + secret, nil
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	return sealedGCM + base64.RawStdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(secret), []byte(user))), nil
}

func (s sealer) open(user authdash.UserID, sealed string) (string, error) {
	switch {
	case strings.HasPrefix(sealed, sealedPlain):
		return sealed[len(sealedPlain):], nil
	case strings.HasPrefix(sealed, sealedGCM):
		if s.aead == nil {
			return "", fmt.Errorf("auth: user %s: TOTP secret is encrypted and no MFA key is configured", user)
		}
		b, err := base64.RawStdEncoding.DecodeString(sealed[len(sealedGCM):])
		if err != nil || len(b) < s.aead.NonceSize() {
			return "", fmt.Errorf("auth: user %s: sealed TOTP secret is malformed", user)
		}
		plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(user))
		if err != nil {
			return "", fmt.Errorf("auth: user %s: TOTP secret does not open with the MFA key: %w", user, err)
		}
		return string(plain), nil
	}
	return "", fmt.Errorf("auth: user %s: stored TOTP secret has no known form", user)
}
