// Package idp signs people in through OpenID Connect identity providers: it
// holds each configured provider (discovered lazily, so a provider that is
// down at start-up costs only its own button), builds the authorization
// request (code flow with PKCE, state and nonce) and turns the provider's
// answer into verified claims (code exchange, the ID token's signature
// against the provider's keys, issuer, audience, expiry and nonce). What an
// account does with the claims is package auth's.
package idp

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is one provider as OIDC_PROVIDERS names it:
// "name|issuer|clientId|clientSecret", several separated by commas; a name
// may carry its display name as "name=Display Name".
type Config struct {
	Name         string // lowercase, in URLs: [a-z0-9-]{1,32}
	DisplayName  string // on the button: "Continue with Google"
	Issuer       string
	ClientID     string
	ClientSecret string
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ParseProviders reads OIDC_PROVIDERS. Empty is none.
func ParseProviders(s string) ([]Config, error) {
	var out []Config
	seen := map[string]bool{}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		f := strings.Split(item, "|")
		if len(f) != 4 {
			return nil, fmt.Errorf("OIDC_PROVIDERS entry %d: want name|issuer|clientId|clientSecret, got %d fields", i+1, len(f))
		}
		name, display, _ := strings.Cut(strings.TrimSpace(f[0]), "=")
		c := Config{Name: name, DisplayName: strings.TrimSpace(display), Issuer: strings.TrimSpace(f[1]),
			ClientID: strings.TrimSpace(f[2]), ClientSecret: strings.TrimSpace(f[3])}
		if !nameRE.MatchString(c.Name) {
			return nil, fmt.Errorf("OIDC_PROVIDERS entry %d: name %q: want 1 to 32 of a-z, 0-9 and -", i+1, c.Name)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("OIDC_PROVIDERS: provider %q named twice", c.Name)
		}
		seen[c.Name] = true
		if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("OIDC_PROVIDERS %s: issuer %q is not an http(s) URL", c.Name, c.Issuer)
		}
		if c.ClientID == "" {
			return nil, fmt.Errorf("OIDC_PROVIDERS %s: client ID is empty", c.Name)
		}
		if c.DisplayName == "" {
			c.DisplayName = strings.ToUpper(c.Name[:1]) + c.Name[1:]
		}
		out = append(out, c)
	}
	return out, nil
}

// Claims is what a verified ID token says of the person.
type Claims struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// The ways a provider's answer fails; each is its own error so that the
// HTTP layer can say which (and the browser's page can show it).
var (
	ErrUnavailable = errors.New("the identity provider cannot be reached")
	ErrCode        = errors.New("the provider refused the authorization code")
	ErrToken       = errors.New("the ID token is not valid")
	ErrNonce       = errors.New("the ID token's nonce does not match")
)

// Provider is one configured identity provider.
type Provider struct {
	cfg      Config
	redirect string
	client   func(ctx context.Context) context.Context // the HTTP client for the provider's endpoints
	retry    time.Duration
	now      func() time.Time

	mu       sync.Mutex
	p        *oidc.Provider
	failedAt time.Time
}

// Options tune New.
type Options struct {
	// Client, if set, is put in the context of every call to the provider
	// (oidc.ClientContext): tests and proxies.
	Client func(ctx context.Context) context.Context
	// RetryAfter is how long a failed discovery is remembered before the
	// next request tries again (default 10 s).
	RetryAfter time.Duration
	Now        func() time.Time
}

// New makes a provider whose callback is redirectURL. Nothing is fetched
// until the first sign-in.
func New(c Config, redirectURL string, o Options) *Provider {
	if o.RetryAfter <= 0 {
		o.RetryAfter = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Client == nil {
		o.Client = func(ctx context.Context) context.Context { return ctx }
	}
	return &Provider{cfg: c, redirect: redirectURL, client: o.Client, retry: o.RetryAfter, now: o.Now}
}

// Name and DisplayName say which provider this is.
func (p *Provider) Name() string        { return p.cfg.Name }
func (p *Provider) DisplayName() string { return p.cfg.DisplayName }

// discover returns the provider's metadata and keys, fetching them on first
// use; a failure is remembered for RetryAfter, so a provider that is down
// is not asked on every click, and then asked again.
func (p *Provider) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p != nil {
		return p.p, nil
	}
	if !p.failedAt.IsZero() && p.now().Sub(p.failedAt) < p.retry {
		return nil, ErrUnavailable
	}
	// The provider's keys are fetched later with this context's client;
	// its lifetime must not end with the request.
	op, err := oidc.NewProvider(p.client(context.WithoutCancel(ctx)), p.cfg.Issuer)
	if err != nil {
		p.failedAt = p.now()
		return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, p.cfg.Name, err)
	}
	p.p, p.failedAt = op, time.Time{}
	return op, nil
}

func (p *Provider) oauth(op *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: op.Endpoint(),
		RedirectURL: p.redirect, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// AuthCodeURL is where the browser goes to sign in: the code flow with
// state, nonce and the PKCE challenge of verifier (S256).
func (p *Provider) AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	op, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	return p.oauth(op).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Exchange redeems code with verifier and verifies the ID token it brings:
// signature against the provider's keys, issuer, audience (this client),
// expiry, and that its nonce is nonce.
func (p *Provider) Exchange(ctx context.Context, code, verifier, nonce string) (Claims, error) {
	op, err := p.discover(ctx)
	if err != nil {
		return Claims{}, err
	}
	cctx := p.client(ctx)
	tok, err := p.oauth(op).Exchange(cctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Claims{}, fmt.Errorf("%w: %w", ErrCode, err)
		}
		return Claims{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Claims{}, fmt.Errorf("%w: the answer has no id_token", ErrToken)
	}
	idt, err := op.VerifierContext(cctx, &oidc.Config{ClientID: p.cfg.ClientID, Now: p.now}).Verify(cctx, raw)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 || nonce == "" {
		return Claims{}, ErrNonce
	}
	var c struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&c); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrToken, err)
	}
	if idt.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no subject", ErrToken)
	}
	return Claims{Subject: idt.Subject, Email: c.Email, EmailVerified: verified(c.EmailVerified), Name: c.Name}, nil
}

// verified reads email_verified, which some providers send as a string.
func verified(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}
