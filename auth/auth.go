// Package auth signs people in and keeps them signed in: argon2id password
// hashing behind a concurrency bound, short-lived HS256 access tokens (JWT),
// and opaque refresh tokens that rotate on every use over an
// authdash.SessionStore, with reuse detection that ends the whole session.
//
// Verifier checks access tokens (signature, issuer and audience, expiry,
// revocations) and answers with an authdash.Identity; the HTTP API (through
// Identify and RequireWith) and the realtime hub both ask it. Service is the
// one place account and session changes happen; it signs tokens with its
// Verifier's key and, like authdash.TaskService, publishes what committed
// (user.updated, sessions.revoked, user.deleted) after the store returns.
package auth

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth/idp"
)

// Store is what the service needs of the database.
type Store interface {
	authdash.UserStore
	authdash.SessionStore
	authdash.AccountTokenStore
	authdash.MFAStore
	authdash.SignInStore
	authdash.PasskeyStore
	authdash.IdentityStore
}

// Config tunes the service. Zero values take the documented defaults.
type Config struct {
	AccessTTL    time.Duration // at most 15m (default 15m)
	RefreshTTL   time.Duration // sliding session lifetime (default 30 days)
	RefreshGrace time.Duration // benign concurrent-refresh window (default 10s)
	// HashConcurrency bounds concurrent password hashes (default half the
	// cores, at least 1): a login flood then leaves the other half to
	// everything else, as the issue-2 benchmark measures.
	HashConcurrency int
	// HashWait is how long a request waits for a hashing slot before it is
	// told the server is busy (default 5s).
	HashWait time.Duration
	Now      func() time.Time // nil = time.Now
	// Mail sends the account flows' mail (verification, reset, email change); nil
	// sends nothing.
	Mail Mailer
	// Issuer names the product in authenticator apps (default "Authdash").
	Issuer string
	// MFAKey (MFAKeyLen bytes) encrypts TOTP secrets at rest; without it
	// they are stored as they are (README "Two-factor authentication").
	MFAKey []byte
	// Strength judges every new password (sign-up, password change, reset)
	// beyond the domain's length and blank rules; nil judges none. The
	// instance wires strength.Judge (zxcvbn).
	Strength PasswordJudge
	// Passkeys is the WebAuthn relying party (README "Passkeys"); the
	// instance derives it from APP_URL.
	Passkeys PasskeyConfig
	// Providers are the identity providers people may sign in with
	// (OIDC_PROVIDERS), in the order their buttons show.
	Providers []*idp.Provider
}

// PasswordJudge says why a new password is too easy to guess for the person
// whose email and name come as userInputs, or "" if it is not.
type PasswordJudge interface {
	Weakness(password string, userInputs ...string) string
}

// Revocations remembers ended sessions for as long as their access tokens
// live (package revocation, or revocation/redis to share them between
// instances). Revoked is called on every authenticated request and must
// not do I/O.
type Revocations interface {
	Revoke(ctx context.Context, r authdash.Revocation) error
	Revoked(user authdash.UserID, session authdash.SessionID, started time.Time) bool
}

// Limits and defaults of Config.
const (
	MinSecretLen        = 32
	MaxAccessTTL        = 15 * time.Minute
	DefaultRefreshTTL   = 30 * 24 * time.Hour
	DefaultRefreshGrace = 10 * time.Second
	DefaultHashWait     = 5 * time.Second
)

func (c *Config) setDefaults() error {
	switch {
	case c.AccessTTL == 0:
		c.AccessTTL = MaxAccessTTL
	case c.AccessTTL < time.Second || c.AccessTTL > MaxAccessTTL:
		return errors.New("auth: access token lifetime must be between 1s and 15m")
	}
	switch {
	case c.RefreshTTL == 0:
		c.RefreshTTL = DefaultRefreshTTL
	case c.RefreshTTL < c.AccessTTL:
		return errors.New("auth: refresh lifetime must not be shorter than the access token's")
	}
	switch {
	case c.RefreshGrace == 0:
		c.RefreshGrace = DefaultRefreshGrace
	case c.RefreshGrace < 0 || c.RefreshGrace > time.Minute:
		return errors.New("auth: refresh grace must be between 0 and 1m")
	}
	switch {
	case c.HashConcurrency == 0:
		c.HashConcurrency = max(1, runtime.GOMAXPROCS(0)/2)
	case c.HashConcurrency < 0:
		return errors.New("auth: hash concurrency must be positive")
	}
	switch {
	case c.HashWait == 0:
		c.HashWait = DefaultHashWait
	case c.HashWait < 0:
		return errors.New("auth: hash wait must be positive")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Issuer == "" {
		c.Issuer = "Authdash"
	}
	return nil
}

// Grant is what a successful register, login or refresh returns.
type Grant struct {
	User             *authdash.User
	SessionID        authdash.SessionID
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string // opaque, 256 random bits, base64url; only its SHA-256 is stored
	RefreshExpiresAt time.Time
	// RefreshKept says a refresh redeemed a token installed moments ago
	// without replacing it (authdash.Rotation.Fresh): RefreshToken is the
	// one presented, and a browser's cookie must be left as it is, since a
	// newer one may already be there.
	RefreshKept bool
	// Challenge, when set, is all a Login holds: the password was right and
	// the second factor is still to come (CompleteMFA). No session exists yet.
	Challenge *Challenge
}

// Service registers and signs in users and manages their sessions.
type Service struct {
	store  Store
	tokens *Verifier
	events authdash.Publisher
	log    *slog.Logger
	cfg    Config
	hasher *hasher
	sealer sealer
	// passkeys runs the WebAuthn ceremonies (passkey.go).
	passkeys *webauthn.WebAuthn

	// Background work (forgot-password lookups): bounded by forgot, waited for by
	// Close.
	forgot chan struct{}
	bgMu   sync.Mutex
	bg     sync.WaitGroup
	closed bool
}

// New returns a Service that signs access tokens with the key of tokens and
// hands the sessions it ends to tokens' revocation list. events may be nil
// (nothing is published); log may be nil (nothing is logged).
func New(store Store, tokens *Verifier, events authdash.Publisher, cfg Config, log *slog.Logger) (*Service, error) {
	if store == nil || tokens == nil {
		return nil, errors.New("auth: service needs a store and a verifier")
	}
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sealer, err := newSealer(cfg.MFAKey)
	if err != nil {
		return nil, err
	}
	wa, err := newWebAuthn(cfg.Passkeys, cfg.Issuer)
	if err != nil {
		return nil, err
	}
	return &Service{
		sealer:   sealer,
		passkeys: wa,
		store:    store,
		tokens:   tokens,
		events:   events,
		log:      log,
		cfg:      cfg,
		hasher:   newHasher(defaultParams, cfg.HashConcurrency, cfg.HashWait),
		forgot:   make(chan struct{}, maxForgotInFlight),
	}, nil
}

// publishTimeout bounds how long a committed change waits on a slow broker.
const publishTimeout = 2 * time.Second

// publish hands a committed event to the broker, and first, if it ends
// sessions, to the revocation list. A failure is logged, never returned:
// the change happened, and the rest only makes it felt sooner.
func (s *Service) publish(ctx context.Context, ev authdash.Event) {
	ev.At = s.cfg.Now().UTC()
	s.revoke(ctx, ev)
	if s.events == nil {
		return
	}
	ev.Origin = authdash.OriginFrom(ctx)
	// The request may be cancelled the moment the handler returns; the
	// notice must still go out.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := s.events.Publish(pctx, ev); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "publish failed",
			slog.String("kind", string(ev.Kind)), slog.String("owner", string(ev.Owner)), slog.Any("err", err))
	}
}

// revoke hands the revocation an event means, if any, to the list. The
// store has already deleted the sessions, so ev.At is after every start it
// must cover.
func (s *Service) revoke(ctx context.Context, ev authdash.Event) {
	list := s.tokens.cfg.Revocations
	if list == nil {
		return
	}
	r := authdash.Revocation{User: ev.Owner, At: ev.At, Until: ev.At.Add(s.cfg.AccessTTL + leeway)}
	switch ev.Kind {
	case authdash.EventSessionsRevoked:
		r.Session, r.Keep = ev.SessionID, ev.Keep
	case authdash.EventUserDeleted:
	default:
		return
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := list.Revoke(pctx, r); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "revocation not shared",
			slog.String("owner", string(ev.Owner)), slog.Any("err", err))
	}
}
