package wire

import (
	"time"

	"github.com/authdash/authdash"
)

// OIDCProvider is one identity provider on the sign-in page (GET
// /api/auth/oidc/providers): a browser signs in by navigating to StartURL
// (on the API's origin) with ?return=/path.
type OIDCProvider struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	StartURL    string `json:"startUrl"`
}

// OIDCOutcome answers an API client's callback that did not sign in: the
// identity was connected to the signed-in account that asked (Linked), or
// its email is an account's whose owner was mailed a link to confirm
// (LinkSent, 202).
type OIDCOutcome struct {
	Linked   bool `json:"linked,omitempty"`
	LinkSent bool `json:"linkSent,omitempty"`
}

// OIDCRedirect answers POST /api/me/identities/{name}/link: where the
// browser goes to connect the provider.
type OIDCRedirect struct {
	URL string `json:"url"`
}

// Identity is one of the account's connected providers (GET
// /api/me/identities).
type Identity struct {
	ID         string     `json:"id"`
	Provider   string     `json:"provider"`
	Email      string     `json:"email"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

// IdentityList answers GET /api/me/identities: oldest first.
type IdentityList struct {
	Items []Identity `json:"items"`
}

// IdentityOf is i as the API shows it.
func IdentityOf(i authdash.LinkedIdentity) Identity {
	out := Identity{ID: i.ID, Provider: i.Provider, Email: i.Email, CreatedAt: i.CreatedAt}
	if !i.LastUsedAt.IsZero() {
		t := i.LastUsedAt
		out.LastUsedAt = &t
	}
	return out
}
