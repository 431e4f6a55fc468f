package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authdash/authdash"
)

// Claims are the verified contents of an access token.
type Claims struct {
	UserID    authdash.UserID
	SessionID authdash.SessionID
	// SessionStart is when the session signed in (zero in tokens issued
	// before the claim existed, which a revocation of every session then
	// covers).
	SessionStart time.Time
	ExpiresAt    time.Time
	ID           string // jti
}

// accessClaims is the JWT payload: the registered claims plus the session
// ("sid", as in OpenID Connect) and its start in Unix milliseconds ("sst"),
// so a revocation can name one session, or every session that had signed
// in by then. iat cannot stand in for the start: it has whole seconds, and
// a sign-in in the same second as a sign-out-everywhere must not be caught.
type accessClaims struct {
	jwt.RegisteredClaims
	SessionID    string `json:"sid,omitempty"`
	SessionStart int64  `json:"sst,omitempty"`
}

var errMissingSubject = errors.New("auth: token has no sub or sid")

// Validate is called by the jwt validator after the registered claims pass:
// a token that names no user or no session authorises nothing.
func (c *accessClaims) Validate() error {
	if c.Subject == "" || c.SessionID == "" {
		return errMissingSubject
	}
	return nil
}

// maxTokenLen bounds what we hand to the parser: our tokens are ~300 bytes,
// and anything much larger is garbage or an attempt to make us work.
const maxTokenLen = 2048

// leeway tolerates clock skew between instances that issue and verify.
const leeway = 5 * time.Second

const (
	msgTokenInvalid = "Access token is invalid."
	msgTokenExpired = "Access token expired."
	msgSessionEnded = "Session ended. Please sign in again."
)

// newParser builds the one parser every verification reuses. It pins HS256
// (so neither "none" nor an RS256/HS256 key confusion can pass) and requires
// exp, iss, aud and a sane iat.
func newParser(cfg Config) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(),
	)
}

// issueAccess signs an access token for the session.
func (s *Service) issueAccess(uid authdash.UserID, sess *authdash.Session, now time.Time) (string, time.Time, error) {
	exp := now.Add(s.cfg.AccessTTL)
	c := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			Subject:   string(uid),
			Audience:  jwt.ClaimStrings{s.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        randomToken(16),
		},
		SessionID:    string(sess.ID),
		SessionStart: sess.CreatedAt.UnixMilli(),
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, &c).SignedString(s.cfg.Secret)
	if err != nil {
		return "", time.Time{}, err
	}
	// The token's exp has second precision; report the same instant.
	return tok, c.ExpiresAt.Time, nil
}

// Verify checks an access token and returns its claims. Every failure is
// CodeUnauthorized; an expired but otherwise valid token says so, so a
// client knows to refresh rather than sign in again, and a token of a
// session that has ended (Config.Revocations) says that.
func (s *Service) Verify(token string) (Claims, error) {
	cl, err := s.verify(token)
	if err == nil && s.cfg.Revocations != nil && s.cfg.Revocations.Revoked(cl.UserID, cl.SessionID, cl.SessionStart) {
		return Claims{}, &authdash.Error{Code: authdash.CodeUnauthorized, Message: msgSessionEnded}
	}
	return cl, err
}

func (s *Service) verify(token string) (Claims, error) {
	if token == "" || len(token) > maxTokenLen {
		return Claims{}, &authdash.Error{Code: authdash.CodeUnauthorized, Message: msgTokenInvalid}
	}
	now := s.cfg.Now()
	if cl, ok := s.verified.get(token, now); ok {
		return cl, nil
	}
	var c accessClaims
	if _, err := s.parser.ParseWithClaims(token, &c, s.keyFunc); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Claims{}, &authdash.Error{Code: authdash.CodeUnauthorized, Message: msgTokenExpired}
		}
		return Claims{}, &authdash.Error{Code: authdash.CodeUnauthorized, Message: msgTokenInvalid}
	}
	cl := Claims{
		UserID:    authdash.UserID(c.Subject),
		SessionID: authdash.SessionID(c.SessionID),
		ExpiresAt: c.ExpiresAt.Time,
		ID:        c.ID,
	}
	if c.SessionStart > 0 {
		cl.SessionStart = time.UnixMilli(c.SessionStart).UTC()
	}
	s.verified.put(token, cl, now)
	return cl, nil
}

// VerifyAccess is Verify returning the parts the HTTP layer needs.
func (s *Service) VerifyAccess(token string) (authdash.UserID, authdash.SessionID, time.Time, error) {
	c, err := s.Verify(token)
	return c.UserID, c.SessionID, c.ExpiresAt, err
}

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// refreshLen is the size of a refresh token: 256 bits of entropy.
const refreshLen = 32

// newRefresh returns a fresh refresh token and the hash the store keeps.
func newRefresh() (token string, hash []byte) {
	token = randomToken(refreshLen)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:]
}

// refreshHash returns the stored form of a presented refresh token, or false
// if it cannot be one of ours (saving the store a lookup).
func refreshHash(token string) ([]byte, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(refreshLen) {
		return nil, false
	}
	var raw [refreshLen]byte
	if n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(token)); err != nil || n != refreshLen {
		return nil, false
	}
	sum := sha256.Sum256([]byte(token))
	return sum[:], true
}
