package auth

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authdash/authdash"
)

// VerifierConfig says how access tokens are signed and what makes one
// good. Zero values take the documented defaults.
type VerifierConfig struct {
	Secret   []byte // HS256 key, at least MinSecretLen bytes
	Issuer   string // default "authdash"
	Audience string // default "authdash-api"
	// Revocations, if set, learns of every session that ends (from the
	// Service), and Verify refuses the access tokens it names from then on,
	// rather than at their expiry. Nil: an ended session only stops
	// refreshing.
	Revocations Revocations
	Now         func() time.Time // nil = time.Now
}

// Verifier checks access tokens. It keeps the signing key, so the Service
// signs through it too. It is safe for concurrent use.
type Verifier struct {
	cfg     VerifierConfig
	parser  *jwt.Parser
	keyFunc jwt.Keyfunc
	// verified skips re-parsing tokens seen before.
	verified tokenCache
}

// NewVerifier checks cfg and returns a Verifier.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if len(cfg.Secret) < MinSecretLen {
		return nil, errors.New("auth: secret must be at least 32 bytes")
	}
	cfg.Secret = append([]byte(nil), cfg.Secret...)
	if cfg.Issuer == "" {
		cfg.Issuer = "authdash"
	}
	if cfg.Audience == "" {
		cfg.Audience = "authdash-api"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// Boxed once: converting the slice to any on every verification would
	// allocate.
	var key any = cfg.Secret
	return &Verifier{
		cfg:     cfg,
		parser:  newParser(cfg),
		keyFunc: func(*jwt.Token) (any, error) { return key, nil },
	}, nil
}

// Verify checks an access token and returns whom it speaks for. Every
// failure is CodeUnauthorized; an expired but otherwise valid token says so,
// so a client knows to refresh rather than sign in again, and a token of a
// session that has ended (VerifierConfig.Revocations) says that.
func (v *Verifier) Verify(token string) (authdash.Identity, error) {
	id, err := v.verify(token)
	if err == nil && v.cfg.Revocations != nil && v.cfg.Revocations.Revoked(id.User, id.Session, id.SessionStart) {
		return authdash.Identity{}, &authdash.Error{Code: authdash.CodeUnauthorized, Message: msgSessionEnded}
	}
	return id, err
}

func (v *Verifier) verify(token string) (authdash.Identity, error) {
	if token == "" || len(token) > maxTokenLen {
		return authdash.Identity{}, &authdash.Error{Code: authdash.CodeUnauthorized, Message: msgTokenInvalid}
	}
	now := v.cfg.Now()
	if id, ok := v.verified.get(token, now); ok {
		return id, nil
	}
	var c accessClaims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keyFunc); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return authdash.Identity{}, &authdash.Error{Code: authdash.CodeUnauthorized, Message: msgTokenExpired}
		}
		return authdash.Identity{}, &authdash.Error{Code: authdash.CodeUnauthorized, Message: msgTokenInvalid}
	}
	id := authdash.Identity{
		User:    authdash.UserID(c.Subject),
		Session: authdash.SessionID(c.SessionID),
		Expires: c.ExpiresAt.Time,
	}
	if c.SessionStart > 0 {
		id.SessionStart = time.UnixMilli(c.SessionStart).UTC()
	}
	v.verified.put(token, id, now)
	return id, nil
}
