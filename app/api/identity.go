package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/authdash/authdash"
)

// Sign-in with an identity provider (OpenID Connect) and the identities
// connected to the account. The server's side owns the protocol; the app
// lists the providers, starts a sign-in by a full-page navigation to a
// provider's StartURL (app/oidcreturn builds it), finishes a connection
// from its mailed link, and lists and removes the connected identities.

// OIDCProvider is one provider the server offers
// (GET /api/auth/oidc/providers).
type OIDCProvider struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	StartURL    string `json:"startUrl"` // a path on the API
}

// Identity is a provider's account connected to this one
// (GET /api/me/identities).
type Identity struct {
	ID         string     `json:"id"`
	Provider   string     `json:"provider"`
	Email      string     `json:"email"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

// OIDCProviders lists the providers to offer; none is an empty list.
func (c *Client) OIDCProviders(ctx context.Context) ([]OIDCProvider, error) {
	var l []OIDCProvider
	if err := c.do(ctx, http.MethodGet, "/api/auth/oidc/providers", nil, nil, &l, callOpts{anonymous: true}); err != nil {
		return nil, err
	}
	if l == nil {
		l = []OIDCProvider{}
	}
	return l, nil
}

// OIDCLink finishes connecting a provider's identity to an existing account
// with the token of the link mailed to it, which signs in.
func (c *Client) OIDCLink(ctx context.Context, token string) (*authdash.User, error) {
	return c.grant(ctx, "/api/auth/oidc/link", struct {
		Token string `json:"token"`
	}{token})
}

// Identities lists the identities connected to the account.
func (c *Client) Identities(ctx context.Context) ([]Identity, error) {
	var l struct {
		Items []Identity `json:"items"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/me/identities", nil, nil, &l, callOpts{}); err != nil {
		return nil, err
	}
	if l.Items == nil {
		l.Items = []Identity{}
	}
	return l.Items, nil
}

// DeleteIdentity disconnects one. CodeConflict when it is the only way
// left to sign in.
func (c *Client) DeleteIdentity(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/me/identities/"+url.PathEscape(id), nil, nil, nil, callOpts{})
}

// ConnectIdentity starts connecting the provider name's identity to the
// signed-in account: the page then goes to the address it returns, and the
// provider's answer comes back to the app's page back with ?oidc=linked
// (or ?oidcError=…).
func (c *Client) ConnectIdentity(ctx context.Context, name, back string) (string, error) {
	var out struct {
		URL string `json:"url"`
	}
	q := url.Values{"return": {back}}
	if err := c.do(ctx, http.MethodPost, "/api/me/identities/"+url.PathEscape(name)+"/link", q, nil, &out, callOpts{}); err != nil {
		return "", err
	}
	if out.URL == "" {
		return "", authdash.Errorf(authdash.CodeInternal, "The server gave no address to connect the account.")
	}
	return out.URL, nil
}
