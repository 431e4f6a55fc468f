package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth/idp"
	"github.com/authdash/authdash/internal/emailkey"
)

// Sign-in with an identity provider (README "Sign in with an identity
// provider"). BeginOIDC stores the request's state server-side (any
// instance finishes it, once) and hands the browser a binding secret for a
// cookie; FinishOIDC checks both, lets package idp redeem the code and
// verify the ID token, and then: a linked subject signs in (through the
// second factor if the account has one); a subject the signed-in owner
// asked to connect is linked; an unknown subject whose verified email is an
// account's is linked only once that account's owner confirms by mail; an
// unknown one with a new verified email gets a new account without a
// password.

// Provider is a configured identity provider as the sign-in page lists it.
type Provider struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

// OIDCStart is a begun sign-in: where to send the browser, and the secret
// the browser must bring back (in a cookie) to finish it.
type OIDCStart struct {
	URL     string
	Binding string
}

// OIDCResult is how a provider's answer ended.
type OIDCResult struct {
	// Grant is the sign-in, or, with Grant.Challenge set, the sign-in
	// waiting for its second factor.
	Grant *Grant
	// Linked: the identity was connected to the account that began the
	// flow while signed in (no new session).
	Linked bool
	// LinkSent: the identity's email is an account's; its owner was mailed
	// a link to confirm the connection.
	LinkSent bool
	// Return is the local path the flow began from.
	Return string
}

// oidcState is the server-side half of a begun sign-in
// (PasskeyChallenge.Session, purpose oidc-login).
type oidcState struct {
	Provider string `json:"p"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Return   string `json:"r"`
	Binding  []byte `json:"b"` // TokenHash of the browser's cookie
}

// oidcLink is a connection waiting for the account owner's confirmation
// (PasskeyChallenge.Session, purpose oidc-link).
type oidcLink struct {
	Provider string `json:"p"`
	Subject  string `json:"s"`
	Email    string `json:"e"`
}

// oidcError is a failed flow: the problem names what failed as its one
// field (state, code, nonce, token, denied, email, provider), which the
// sign-in page shows.
func oidcError(code authdash.ErrorCode, what, msg string, cause error) error {
	return &authdash.Error{Code: code, Message: msg, Fields: map[string]string{what: msg}, Err: cause}
}

func errOIDCState(cause error) error {
	return oidcError(authdash.CodeInvalid, "state", "This sign-in has expired or was already used, or began in another browser. Try again.", cause)
}

// Providers lists the configured identity providers, in their order.
func (s *Service) Providers() []Provider {
	out := []Provider{}
	for _, p := range s.cfg.Providers {
		out = append(out, Provider{Name: p.Name(), DisplayName: p.DisplayName()})
	}
	return out
}

func (s *Service) provider(name string) (*idp.Provider, error) {
	for _, p := range s.cfg.Providers {
		if p.Name() == name {
			return p, nil
		}
	}
	return nil, authdash.Errorf(authdash.CodeNotFound, "No such sign-in provider.")
}

// LocalPath is returnTo when it is a path on this site, "/" when empty; an
// address elsewhere (an open redirect) is CodeInvalid.
func LocalPath(returnTo string) (string, error) {
	if returnTo == "" {
		return "/", nil
	}
	u, err := url.Parse(returnTo)
	if err != nil || !strings.HasPrefix(returnTo, "/") || strings.HasPrefix(returnTo, "//") ||
		strings.ContainsAny(returnTo, "\\\r\n") || u.Scheme != "" || u.Host != "" || len(returnTo) > 512 {
		msg := "Return to a page of this site."
		return "", &authdash.Error{Code: authdash.CodeInvalid, Message: msg, Fields: map[string]string{"return": msg}}
	}
	return returnTo, nil
}

// BeginOIDC starts a sign-in with provider that comes back to returnTo, or,
// with linkTo set (a signed-in account), a connection of the provider's
// identity to that account.
func (s *Service) BeginOIDC(ctx context.Context, provider, returnTo string, linkTo authdash.UserID) (*OIDCStart, error) {
	p, err := s.provider(provider)
	if err != nil {
		return nil, err
	}
	ret, err := LocalPath(returnTo)
	if err != nil {
		return nil, err
	}
	state, stateHash := authdash.NewAccountToken()
	nonce, _ := authdash.NewAccountToken()
	binding, bindingHash := authdash.NewAccountToken()
	verifier := oauth2.GenerateVerifier()
	to, err := p.AuthCodeURL(ctx, state, nonce, verifier)
	if err != nil {
		return nil, oidcError(authdash.CodeUnavailable, "provider", "The sign-in provider cannot be reached. Try again in a minute.", err)
	}
	sess, err := json.Marshal(oidcState{Provider: provider, Nonce: nonce, Verifier: verifier, Return: ret, Binding: bindingHash})
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	err = s.store.CreatePasskeyChallenge(ctx, authdash.PasskeyChallenge{Hash: stateHash, Purpose: authdash.PurposeOIDCLogin,
		User: linkTo, Session: sess, CreatedAt: now, ExpiresAt: now.Add(authdash.OIDCLoginTTL)})
	if err != nil {
		return nil, err
	}
	return &OIDCStart{URL: to, Binding: binding}, nil
}

// OIDCCallback is what the provider sent the browser back with.
type OIDCCallback struct {
	State, Code, Error string
}

// FinishOIDC ends a flow BeginOIDC began, in the browser that holds binding.
func (s *Service) FinishOIDC(ctx context.Context, provider string, cb OIDCCallback, binding, device string) (*OIDCResult, error) {
	if cb.State == "" || len(cb.State) > 128 {
		return nil, errOIDCState(nil)
	}
	ch, err := s.store.UsePasskeyChallenge(ctx, authdash.TokenHash(cb.State), authdash.PurposeOIDCLogin, s.cfg.Now())
	if authdash.ErrorCodeOf(err) == authdash.CodeInvalid {
		return nil, errOIDCState(err)
	}
	if err != nil {
		return nil, err
	}
	var st oidcState
	if err := json.Unmarshal(ch.Session, &st); err != nil {
		return nil, errOIDCState(err)
	}
	// The state is spent whatever follows: a second answer with it, or one
	// in another browser (a login CSRF), fails.
	if st.Provider != provider || binding == "" || subtle.ConstantTimeCompare(authdash.TokenHash(binding), st.Binding) != 1 {
		return nil, errOIDCState(errors.New("provider or browser binding differs"))
	}
	if cb.Error != "" {
		return nil, oidcError(authdash.CodeForbidden, "denied", "The sign-in was cancelled at the provider.", errors.New(cb.Error))
	}
	p, err := s.provider(provider)
	if err != nil {
		return nil, err
	}
	claims, err := p.Exchange(ctx, cb.Code, st.Verifier, st.Nonce)
	switch {
	case errors.Is(err, idp.ErrUnavailable):
		return nil, oidcError(authdash.CodeUnavailable, "provider", "The sign-in provider cannot be reached. Try again in a minute.", err)
	case errors.Is(err, idp.ErrCode):
		return nil, oidcError(authdash.CodeUnauthorized, "code", "The provider did not accept this sign-in. Try again.", err)
	case errors.Is(err, idp.ErrNonce):
		return nil, oidcError(authdash.CodeUnauthorized, "nonce", "This sign-in's answer was not for this request. Try again.", err)
	case err != nil:
		return nil, oidcError(authdash.CodeUnauthorized, "token", "The provider's answer could not be verified. Try again.", err)
	}
	res := &OIDCResult{Return: st.Return}
	if ch.User != "" {
		return res, s.linkSignedIn(ctx, ch.User, provider, claims, res)
	}
	return res, s.signInWith(ctx, provider, claims, device, res)
}

// linkSignedIn connects the identity to the account that asked while signed in.
func (s *Service) linkSignedIn(ctx context.Context, user authdash.UserID, provider string, c idp.Claims, res *OIDCResult) error {
	if i, err := s.store.FindLinkedIdentity(ctx, provider, c.Subject); err == nil {
		if i.User != user {
			return authdash.ErrIdentityTaken()
		}
		res.Linked = true // already this account's
		return nil
	}
	_, err := s.store.LinkIdentity(ctx, authdash.LinkedIdentity{User: user, Provider: provider, Subject: c.Subject,
		Email: c.Email, CreatedAt: s.cfg.Now()})
	if err != nil {
		return err
	}
	res.Linked = true
	return nil
}

// signInWith signs in the account the identity is linked to, or links or
// creates one.
func (s *Service) signInWith(ctx context.Context, provider string, c idp.Claims, device string, res *OIDCResult) error {
	i, err := s.store.FindLinkedIdentity(ctx, provider, c.Subject)
	switch {
	case err == nil:
		u, err := s.store.FindUser(ctx, i.User)
		if err != nil {
			return err
		}
		if err := s.store.UseLinkedIdentity(ctx, u.ID, i.ID, s.cfg.Now()); err != nil {
			return err
		}
		res.Grant, err = s.firstFactorPassed(ctx, u, authdash.SignInOIDC, device)
		return err
	case authdash.ErrorCodeOf(err) != authdash.CodeNotFound:
		return err
	}
	email := emailkey.Canonical(c.Email)
	if !c.EmailVerified || authdash.ValidateEmail(email) != nil {
		return oidcError(authdash.CodeForbidden, "email", "The provider did not confirm an email address for this sign-in.", nil)
	}
	u, _, err := s.store.FindLogin(ctx, email)
	switch {
	case err == nil:
		// An account has this address: never linked without its owner.
		return s.mailLink(ctx, u, oidcLink{Provider: provider, Subject: c.Subject, Email: c.Email}, res)
	case authdash.ErrorCodeOf(err) != authdash.CodeNotFound:
		return err
	}
	name := strings.TrimSpace(c.Name)
	if authdash.ValidateName(name) != nil {
		name, _, _ = strings.Cut(email, "@")
		name = truncate(name, authdash.MaxNameLen)
	}
	// No password: the account signs in through the provider (or a
	// passkey, or a password set later through "Forgot password").
	u, err = s.store.CreateUser(ctx, authdash.NewUser{Email: email, Name: name})
	if err != nil {
		return err
	}
	// The provider verified the address.
	if u, err = s.store.SetEmail(ctx, u.ID, u.Email, u.Email); err != nil {
		return err
	}
	i, err = s.store.LinkIdentity(ctx, authdash.LinkedIdentity{User: u.ID, Provider: provider, Subject: c.Subject,
		Email: c.Email, CreatedAt: s.cfg.Now()})
	if err != nil {
		return err
	}
	// The link has just signed in: its card says so, not "never used".
	if err := s.store.UseLinkedIdentity(ctx, u.ID, i.ID, s.cfg.Now()); err != nil {
		return err
	}
	res.Grant, err = s.firstFactorPassed(ctx, u, authdash.SignInOIDC, device)
	return err
}

func (s *Service) mailLink(ctx context.Context, u *authdash.User, l oidcLink, res *OIDCResult) error {
	sess, err := json.Marshal(l)
	if err != nil {
		return err
	}
	token, hash := authdash.NewAccountToken()
	now := s.cfg.Now()
	exp := now.Add(authdash.OIDCLinkTTL)
	if err := s.store.CreatePasskeyChallenge(ctx, authdash.PasskeyChallenge{Hash: hash, Purpose: authdash.PurposeOIDCLink,
		User: u.ID, Session: sess, CreatedAt: now, ExpiresAt: exp}); err != nil {
		return err
	}
	s.mail(ctx, AccountMail{Kind: MailLinkIdentity, To: u.Email, Name: u.Name, Token: token, Valid: authdash.OIDCLinkTTL,
		Expires: exp, Provider: s.displayName(l.Provider)})
	res.LinkSent = true
	return nil
}

func (s *Service) displayName(provider string) string {
	if p, err := s.provider(provider); err == nil {
		return p.DisplayName()
	}
	return provider
}

// ConfirmOIDCLink connects the identity a mailed link names to its account
// and signs in on device (through the second factor if the account has one).
func (s *Service) ConfirmOIDCLink(ctx context.Context, token, device string) (*Grant, error) {
	if token == "" || len(token) > 128 {
		return nil, authdash.ErrTokenInvalid()
	}
	ch, err := s.store.UsePasskeyChallenge(ctx, authdash.TokenHash(token), authdash.PurposeOIDCLink, s.cfg.Now())
	if authdash.ErrorCodeOf(err) == authdash.CodeInvalid {
		return nil, errors.Join(authdash.ErrTokenInvalid(), err)
	}
	if err != nil {
		return nil, err
	}
	var l oidcLink
	if err := json.Unmarshal(ch.Session, &l); err != nil {
		return nil, errors.Join(authdash.ErrTokenInvalid(), err)
	}
	u, err := s.store.FindUser(ctx, ch.User)
	if err != nil {
		return nil, err
	}
	i, err := s.store.LinkIdentity(ctx, authdash.LinkedIdentity{User: u.ID, Provider: l.Provider, Subject: l.Subject,
		Email: l.Email, CreatedAt: s.cfg.Now()})
	if err != nil {
		return nil, err
	}
	if err := s.store.UseLinkedIdentity(ctx, u.ID, i.ID, s.cfg.Now()); err != nil {
		return nil, err
	}
	return s.firstFactorPassed(ctx, u, authdash.SignInOIDC, device)
}

// Identities lists the account's connected providers.
func (s *Service) Identities(ctx context.Context, user authdash.UserID) ([]authdash.LinkedIdentity, error) {
	return s.store.LinkedIdentities(ctx, user)
}

// Unlink disconnects a provider, unless it is the account's only way to
// sign in (no password, no passkey, no other provider): CodeConflict.
func (s *Service) Unlink(ctx context.Context, user authdash.UserID, id string) error {
	ids, err := s.store.LinkedIdentities(ctx, user)
	if err != nil {
		return err
	}
	if len(ids) == 1 && ids[0].ID == id {
		hash, err := s.store.PasswordHash(ctx, user)
		if err != nil {
			return err
		}
		keys, err := s.store.Passkeys(ctx, user)
		if err != nil {
			return err
		}
		if hash == "" && len(keys) == 0 {
			return authdash.Errorf(authdash.CodeConflict,
				"This is the only way to sign in to this account. Set a password (Forgot password) or add a passkey first.")
		}
	}
	return s.store.UnlinkIdentity(ctx, user, id)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
