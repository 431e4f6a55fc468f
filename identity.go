package authdash

import (
	"context"
	"time"
)

// Sign-in with an identity provider (OpenID Connect): the provider proves
// who the person is and names them with a subject, stable per provider. An
// account is linked to (provider, subject) pairs; one pair belongs to one
// account at most.

// SignInOIDC is a sign-in through an identity provider.
const SignInOIDC SignInMethod = "oidc"

// The purposes of the server-side state of an OIDC flow, kept as a
// ceremony's challenge (PasskeyChallenge: single-use, short-lived, any
// instance can finish what another began).
const (
	// PurposeOIDCLogin is a begun authorization request: the challenge's
	// hash is the hash of the request's state; its session holds the
	// nonce, the PKCE verifier and where to return; its user, if any, the
	// signed-in account the identity is to be linked to.
	PurposeOIDCLogin TokenPurpose = "oidc-login"
	// PurposeOIDCLink is a link mailed to an account's owner to confirm
	// that an identity whose verified email is the account's may sign in
	// to it: never linked without the owner's say.
	PurposeOIDCLink TokenPurpose = "oidc-link"
)

// How long the OIDC flow's states live: the round trip through the
// provider's sign-in page, and the mailed confirmation.
const (
	OIDCLoginTTL = 10 * time.Minute
	OIDCLinkTTL  = 30 * time.Minute
)

// Identity limits: a provider's name is configured, a subject is the
// provider's (OIDC Core says at most 255 ASCII characters).
const (
	MaxProviderNameLen = 32
	MaxSubjectLen      = 255
)

// LinkedIdentity is an account's link to an identity provider's subject.
type LinkedIdentity struct {
	ID       string
	User     UserID
	Provider string // the configured provider's name ("google")
	Subject  string // the provider's "sub": stable, never reassigned
	// Email is the address the provider gave when the link was made, for
	// the person to recognise it by; sign-in goes by the subject only.
	Email      string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until it signs in
}

// IdentityStore keeps the accounts' links to identity providers.
type IdentityStore interface {
	// LinkIdentity links i (User, Provider, Subject, Email, CreatedAt set
	// by the caller) and returns it with its ID: CodeConflict when the
	// provider's subject is linked already (to any account), CodeNotFound
	// for an unknown user.
	LinkIdentity(ctx context.Context, i LinkedIdentity) (*LinkedIdentity, error)
	// FindLinkedIdentity returns the link of the provider's subject, whoever's it
	// is: CodeNotFound if none.
	FindLinkedIdentity(ctx context.Context, provider, subject string) (*LinkedIdentity, error)
	// LinkedIdentities returns the user's links, oldest first.
	LinkedIdentities(ctx context.Context, user UserID) ([]LinkedIdentity, error)
	// UseLinkedIdentity records a sign-in with the user's link at now:
	// CodeNotFound if the user has none with that ID.
	UseLinkedIdentity(ctx context.Context, user UserID, id string, now time.Time) error
	// UnlinkIdentity removes the user's link: CodeNotFound if the user has
	// none with that ID.
	UnlinkIdentity(ctx context.Context, user UserID, id string) error
}

// ErrIdentityTaken is a provider's subject that is linked to another account.
func ErrIdentityTaken() error {
	return Errorf(CodeConflict, "This sign-in is already connected to another account.")
}
