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
func newParser(cfg VerifierConfig) *jwt.Parser {
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

// issue signs an access token for the session that lives for ttl.
func (v *Verifier) issue(uid authdash.UserID, sess *authdash.Session, now time.Time, ttl time.Duration) (string, time.Time, error) {
	exp := now.Add(ttl)
	c := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    v.cfg.Issuer,
			Subject:   string(uid),
			Audience:  jwt.ClaimStrings{v.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        randomToken(16),
		},
		SessionID:    string(sess.ID),
		SessionStart: sess.CreatedAt.UnixMilli(),
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, &c).SignedString(v.cfg.Secret)
	if err != nil {
		return "", time.Time{}, err
	}
	// The token's exp has second precision; report the same instant.
	return tok, c.ExpiresAt.Time, nil
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
