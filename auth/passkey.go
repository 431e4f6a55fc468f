package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/authdash/authdash"
)

// Passkeys (README "Passkeys"): WebAuthn registration from the profile, a
// sign-in with a passkey alone (a discoverable credential: the
// authenticator says whose key it is) and a passkey as the second factor of
// a password sign-in. Each ceremony's challenge is stored, by its hash, in
// the store (authdash.PasskeyChallenge): any instance finishes what another
// began, and only once.

// PasskeyConfig is the relying party: the site's domain (RPID) and the
// origins its pages are served from.
type PasskeyConfig struct {
	RPID    string   // default: "localhost"
	Origins []string // default: http://localhost:8080
	Name    string   // shown by the authenticator; default Config.Issuer
}

// PasskeyConfigFor derives the relying party from the frontend's address
// (APP_URL): its host is the RP ID, its scheme and host the one origin.
func PasskeyConfigFor(app *url.URL) PasskeyConfig {
	// An address is no relying party ID (WebAuthn wants a domain): a site
	// served as http://127.0.0.1:… gets the defaults, and no working
	// passkeys, rather than a server that does not start.
	if app == nil || app.Host == "" || net.ParseIP(app.Hostname()) != nil {
		return PasskeyConfig{}
	}
	return PasskeyConfig{RPID: app.Hostname(), Origins: []string{app.Scheme + "://" + app.Host}}
}

// MethodPasskey is a Challenge answered with a passkey.
const MethodPasskey = "passkey"

// PasskeyInfo is a passkey as its owner sees it.
type PasskeyInfo = authdash.Passkey

func newWebAuthn(c PasskeyConfig, issuer string) (*webauthn.WebAuthn, error) {
	if c.RPID == "" {
		c.RPID = "localhost"
	}
	if len(c.Origins) == 0 {
		c.Origins = []string{"http://localhost:8080"}
	}
	if c.Name == "" {
		c.Name = issuer
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: c.RPID, RPDisplayName: c.Name, RPOrigins: c.Origins})
	if err != nil {
		return nil, fmt.Errorf("auth: passkeys: %w", err)
	}
	return wa, nil
}

// passkeyUser is an account as the WebAuthn library sees it: the user
// handle is the account's ID, which names no one outside this service.
type passkeyUser struct {
	u     *authdash.User
	creds []webauthn.Credential
}

func (p passkeyUser) WebAuthnID() []byte   { return []byte(p.u.ID) }
func (p passkeyUser) WebAuthnName() string { return p.u.Email }
func (p passkeyUser) WebAuthnDisplayName() string {
	if p.u.Name != "" {
		return p.u.Name
	}
	return p.u.Email
}
func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// loadPasskeyUser reads the account and its passkeys' records.
func (s *Service) loadPasskeyUser(ctx context.Context, user authdash.UserID) (passkeyUser, []authdash.Passkey, error) {
	u, err := s.store.FindUser(ctx, user)
	if err != nil {
		return passkeyUser{}, nil, err
	}
	keys, err := s.store.Passkeys(ctx, user)
	if err != nil {
		return passkeyUser{}, nil, err
	}
	pu := passkeyUser{u: u}
	for _, k := range keys {
		var c webauthn.Credential
		if err := json.Unmarshal(k.Credential, &c); err != nil {
			return passkeyUser{}, nil, fmt.Errorf("auth: user %s: stored passkey record: %w", user, err)
		}
		pu.creds = append(pu.creds, c)
	}
	return pu, keys, nil
}

func errNotPasskeyAnswer(err error) error {
	msg := "This is not an answer from a passkey."
	return errors.Join(&authdash.Error{Code: authdash.CodeInvalid, Message: msg, Fields: map[string]string{"credential": msg}}, err)
}

func errPasskeyRefused(err error) error {
	msg := "This passkey was not accepted. Try another way to sign in."
	return errors.Join(&authdash.Error{Code: authdash.CodeUnauthorized, Message: msg, Fields: map[string]string{"credential": msg}}, err)
}

// detail adds the library's explanation of a refusal, for the logs.
func detail(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return fmt.Errorf("%w (%s)", err, pe.DevInfo)
	}
	return err
}

// beginCeremony stores the ceremony's state under its challenge's hash.
func (s *Service) beginCeremony(ctx context.Context, purpose authdash.TokenPurpose, user authdash.UserID, sess *webauthn.SessionData) error {
	b, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("auth: passkey session: %w", err)
	}
	now := s.cfg.Now()
	return s.store.CreatePasskeyChallenge(ctx, authdash.PasskeyChallenge{
		Hash: authdash.TokenHash(sess.Challenge), Purpose: purpose, User: user, Session: b,
		CreatedAt: now, ExpiresAt: now.Add(authdash.PasskeyChallengeTTL),
	})
}

// finishCeremony spends the challenge the browser's answer signed and
// returns the ceremony's state.
func (s *Service) finishCeremony(ctx context.Context, purpose authdash.TokenPurpose, challenge string) (*authdash.PasskeyChallenge, webauthn.SessionData, error) {
	var sess webauthn.SessionData
	if challenge == "" || len(challenge) > 128 {
		return nil, sess, authdash.ErrChallengeInvalid()
	}
	ch, err := s.store.UsePasskeyChallenge(ctx, authdash.TokenHash(challenge), purpose, s.cfg.Now())
	if err != nil {
		return nil, sess, err
	}
	if err := json.Unmarshal(ch.Session, &sess); err != nil {
		return nil, sess, fmt.Errorf("auth: stored passkey session: %w", err)
	}
	return ch, sess, nil
}

// BeginPasskeyRegistration starts adding a passkey to the user's account:
// the options for navigator.credentials.create. The passkey must be
// discoverable (it alone signs in), and the ones the user has are excluded
// (an authenticator holds one per account). CodeConflict at MaxPasskeys.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, user authdash.UserID) (*protocol.CredentialCreation, error) {
	pu, keys, err := s.loadPasskeyUser(ctx, user)
	if err != nil {
		return nil, err
	}
	if len(keys) >= authdash.MaxPasskeys {
		return nil, authdash.Errorf(authdash.CodeConflict, "You have %d passkeys, the most an account can have: delete one first.", len(keys))
	}
	creation, sess, err := s.passkeys.BeginRegistration(pu,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()))
	if err != nil {
		return nil, fmt.Errorf("auth: begin passkey registration: %w", err)
	}
	if err := s.beginCeremony(ctx, authdash.PurposePasskeyRegister, user, sess); err != nil {
		return nil, err
	}
	return creation, nil
}

// FinishPasskeyRegistration checks the authenticator's answer to the
// user's registration and keeps the passkey under name. CodeInvalid for a
// bad name, an answer that is not one, a challenge not begun by this user
// (or spent, or expired) or an answer that does not verify; CodeConflict
// for a passkey registered already.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, user authdash.UserID, name string, credential []byte) (*authdash.Passkey, error) {
	name, err := authdash.CleanPasskeyName(name)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(credential)
	if err != nil {
		return nil, errNotPasskeyAnswer(detail(err))
	}
	ch, sess, err := s.finishCeremony(ctx, authdash.PurposePasskeyRegister, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return nil, err
	}
	if ch.User != user {
		return nil, authdash.ErrChallengeInvalid()
	}
	pu, _, err := s.loadPasskeyUser(ctx, user)
	if err != nil {
		return nil, err
	}
	cred, err := s.passkeys.CreateCredential(pu, sess, parsed)
	if err != nil {
		msg := "The passkey could not be verified. Try again."
		return nil, errors.Join(&authdash.Error{Code: authdash.CodeInvalid, Message: msg, Fields: map[string]string{"credential": msg}}, detail(err))
	}
	rec, err := json.Marshal(cred)
	if err != nil {
		return nil, fmt.Errorf("auth: passkey record: %w", err)
	}
	p := authdash.Passkey{ID: cred.ID, User: user, Name: name, Credential: rec, SignCount: cred.Authenticator.SignCount,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, CreatedAt: authdash.Millis(s.cfg.Now())}
	if err := s.store.CreatePasskey(ctx, p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Passkeys lists the user's passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context, user authdash.UserID) ([]authdash.Passkey, error) {
	return s.store.Passkeys(ctx, user)
}

// RenamePasskey renames one of the user's passkeys: CodeInvalid for a bad
// name, CodeNotFound when the user has no such passkey.
func (s *Service) RenamePasskey(ctx context.Context, user authdash.UserID, id []byte, name string) (*authdash.Passkey, error) {
	name, err := authdash.CleanPasskeyName(name)
	if err != nil {
		return nil, err
	}
	if err := s.store.RenamePasskey(ctx, user, id, name); err != nil {
		return nil, err
	}
	p, err := s.store.FindPasskey(ctx, id)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// DeletePasskey removes one of the user's passkeys: CodeNotFound when the
// user has no such passkey.
func (s *Service) DeletePasskey(ctx context.Context, user authdash.UserID, id []byte) error {
	return s.store.DeletePasskey(ctx, user, id)
}

// BeginPasskeyLogin starts a sign-in with a passkey: the options for
// navigator.credentials.get. Without mfaToken any passkey of any account
// may answer (it names its account), and it must verify the person (a PIN,
// a fingerprint), being the only factor. With the token of a sign-in
// waiting for its second factor, only that account's passkeys may.
func (s *Service) BeginPasskeyLogin(ctx context.Context, mfaToken string) (*protocol.CredentialAssertion, error) {
	if mfaToken == "" {
		assertion, sess, err := s.passkeys.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			return nil, fmt.Errorf("auth: begin passkey sign-in: %w", err)
		}
		if err := s.beginCeremony(ctx, authdash.PurposePasskeyLogin, "", sess); err != nil {
			return nil, err
		}
		return assertion, nil
	}
	mfa, err := s.findChallenge(ctx, mfaToken)
	if err != nil {
		return nil, err
	}
	pu, keys, err := s.loadPasskeyUser(ctx, mfa.User)
	if authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
		return nil, errors.Join(errMFAToken(), err)
	}
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		msg := "This account has no passkey. Use a code instead."
		return nil, &authdash.Error{Code: authdash.CodeInvalid, Message: msg, Fields: map[string]string{"mfaToken": msg}}
	}
	assertion, sess, err := s.passkeys.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("auth: begin passkey second factor: %w", err)
	}
	if err := s.beginCeremony(ctx, authdash.PurposePasskeyLogin, mfa.User, sess); err != nil {
		return nil, err
	}
	return assertion, nil
}

// FinishPasskeyLogin checks the authenticator's answer and starts the
// session on device. An answer to a ceremony begun with an mfaToken needs
// that token too, and spends it. A signature counter that did not advance
// (a cloned authenticator?) is refused, as is a passkey that is no longer
// registered. CodeInvalid for an answer that is not one or a ceremony that
// cannot be finished, CodeUnauthorized for a refused passkey.
func (s *Service) FinishPasskeyLogin(ctx context.Context, mfaToken string, credential []byte, device string) (*Grant, error) {
	return s.finishPasskeyLogin(ctx, mfaToken, credential, device, false)
}

// finishPasskeyLogin is FinishPasskeyLogin; with secondFactor, only the
// answer to a ceremony begun with mfaToken finishes it: a passkey alone
// given as a second factor would leave the token unspent.
func (s *Service) finishPasskeyLogin(ctx context.Context, mfaToken string, credential []byte, device string, secondFactor bool) (*Grant, error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(credential)
	if err != nil {
		return nil, errNotPasskeyAnswer(detail(err))
	}
	ch, sess, err := s.finishCeremony(ctx, authdash.PurposePasskeyLogin, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return nil, err
	}
	if secondFactor && ch.User == "" {
		return nil, errors.Join(authdash.ErrChallengeInvalid(), errors.New("a passkey-alone ceremony answered as a second factor"))
	}
	var mfa *authdash.AccountToken
	if ch.User != "" {
		if mfa, err = s.findChallenge(ctx, mfaToken); err != nil {
			return nil, err
		}
		if mfa.User != ch.User {
			return nil, errMFAToken()
		}
	}
	key, err := s.store.FindPasskey(ctx, parsed.RawID)
	if authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
		return nil, errPasskeyRefused(err)
	}
	if err != nil {
		return nil, err
	}
	if ch.User != "" && key.User != ch.User {
		return nil, errPasskeyRefused(errors.New("a passkey of another account"))
	}
	pu, _, err := s.loadPasskeyUser(ctx, key.User)
	if err != nil {
		if authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
			return nil, errPasskeyRefused(err)
		}
		return nil, err
	}
	method := authdash.SignInPasskey
	var cred *webauthn.Credential
	if ch.User != "" {
		cred, err = s.passkeys.ValidateLogin(pu, sess, parsed)
	} else {
		_, cred, err = s.passkeys.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
			if !bytes.Equal(userHandle, pu.WebAuthnID()) {
				return nil, errors.New("the user handle is not the passkey's account")
			}
			return pu, nil
		}, sess, parsed)
	}
	if err == nil && cred.Authenticator.CloneWarning {
		err = errors.New("the signature counter did not advance")
	}
	if err != nil {
		s.recordSignIn(ctx, pu.u, method, authdash.SignInFailure, authdash.ReasonPasskeyRefused, device)
		return nil, errPasskeyRefused(detail(err))
	}
	rec, err := json.Marshal(cred)
	if err != nil {
		return nil, fmt.Errorf("auth: passkey record: %w", err)
	}
	err = s.store.UsePasskey(ctx, pu.u.ID, cred.ID, cred.Authenticator.SignCount, cred.Flags.BackupState, rec, s.cfg.Now())
	if authdash.ErrorCodeOf(err) == authdash.CodeConflict || authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
		// A racing use of the same signature won, or it was deleted.
		s.recordSignIn(ctx, pu.u, method, authdash.SignInFailure, authdash.ReasonPasskeyRefused, device)
		return nil, errPasskeyRefused(err)
	}
	if err != nil {
		return nil, err
	}
	if mfa != nil {
		if _, err := s.store.UseAccountToken(ctx, mfa.Hash, authdash.PurposeMFA, s.cfg.Now()); err != nil {
			if authdash.ErrorCodeOf(err) == authdash.CodeInvalid {
				return nil, errors.Join(errMFAToken(), err) // a racing answer won
			}
			return nil, err
		}
	}
	g, err := s.startSession(ctx, pu.u, device)
	if err != nil {
		return nil, err
	}
	s.recordSignIn(ctx, pu.u, method, authdash.SignInSuccess, "", device)
	return g, nil
}

// PasskeyID is a passkey's ID as the API writes it (base64url, as WebAuthn
// does).
func PasskeyID(id []byte) string { return protocol.URLEncodedBase64(id).String() }

// ParsePasskeyID reads an ID PasskeyID wrote: CodeNotFound when it cannot be
// one.
func ParsePasskeyID(s string) ([]byte, error) {
	var b protocol.URLEncodedBase64
	if s == "" || len(s) > 2*authdash.MaxCredentialIDLen || b.UnmarshalJSON([]byte(`"`+strings.Trim(s, `"`)+`"`)) != nil || len(b) == 0 {
		return nil, authdash.Errorf(authdash.CodeNotFound, "No such passkey.")
	}
	return b, nil
}
