// Package api is the dashboard's client of the HTTP API and of the realtime
// socket. It speaks the domain types of package authdash and the frames of
// wire, so a field renamed on either side breaks its tests, which
// run the real server.
//
// It does not import go-app: the browser build uses it through package app,
// and tests run it natively.
package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/backoff"
	"github.com/authdash/authdash/wire"
)

// refreshAfter is the part of an access token's lifetime after which it is
// replaced: late enough that a short-lived token (ACCESS_TOKEN_TTL=30s) is
// not refreshed before every request, early enough that a request never
// races the expiry and clocks may drift a little.
const refreshAfter = 0.8

// maxResponse bounds how much of a response body the client reads.
const maxResponse = 4 << 20

// Config describes how to reach the API.
type Config struct {
	// BaseURL is the API origin, e.g. "https://api.example.com"; empty means
	// the page's own origin (relative URLs), which is what the browser build
	// uses when the server also serves the app.
	BaseURL string
	// ClientID identifies this tab (X-Client-ID) so that realtime events
	// caused by its own requests carry it as their origin.
	ClientID string
	// HTTP is the client to use natively; nil means a default with a
	// timeout. Native callers give it a cookie jar so the refresh cookie
	// works as in a browser. The browser build ignores it and calls fetch
	// directly (see fetch_js.go).
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Client calls the API on behalf of one signed-in user. The access token
// lives only in memory here; the refresh token is an HttpOnly cookie the
// client never sees. All methods are safe for concurrent use.
type Client struct {
	base     string
	clientID string
	http     doer
	now      func() time.Time

	mu        sync.Mutex
	token     string
	expiresAt time.Time
	// refreshAt is when the token has lived refreshAfter of its lifetime.
	refreshAt time.Time
	// refreshing is non-nil while a refresh is in flight; concurrent callers
	// wait on it instead of each presenting the rotating cookie, which the
	// server would take for a replay once the grace window has passed.
	refreshing chan struct{}
	refreshErr error
}

// New returns a client for the API described by cfg.
func New(cfg Config) *Client {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{base: strings.TrimRight(cfg.BaseURL, "/"), clientID: cfg.ClientID, http: newDoer(cfg.HTTP), now: now}
}

// ClientID returns the tab's client ID.
func (c *Client) ClientID() string { return c.clientID }

// SignedIn reports whether the client holds an access token (which may have
// expired; the next call refreshes it).
func (c *Client) SignedIn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token != ""
}

// Forget drops the access token. The caller also signs out on the server
// (Logout) unless the server already ended the session.
func (c *Client) Forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token, c.expiresAt, c.refreshAt = "", time.Time{}, time.Time{}
}

func (c *Client) setSession(s *wire.Grant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setTokenLocked(s)
}

func (c *Client) setTokenLocked(s *wire.Grant) {
	life := time.Duration(s.ExpiresIn) * time.Second
	now := c.now()
	c.token = s.AccessToken
	c.expiresAt = now.Add(life)
	c.refreshAt = now.Add(time.Duration(float64(life) * refreshAfter))
}

// Register creates an account and signs in.
func (c *Client) Register(ctx context.Context, r authdash.Registration) (*authdash.User, error) {
	return c.grant(ctx, "/api/auth/register", r)
}

// Login signs in. An account with a second factor answers *MFARequired
// (nothing is signed in yet): CompleteMFA finishes it.
func (c *Client) Login(ctx context.Context, cr authdash.Credentials) (*authdash.User, error) {
	return c.login(ctx, cr)
}

func (c *Client) grant(ctx context.Context, path string, body any) (*authdash.User, error) {
	var s wire.Grant
	if err := c.do(ctx, http.MethodPost, path, nil, body, &s, callOpts{anonymous: true}); err != nil {
		return nil, err
	}
	c.setSession(&s)
	return s.User, nil
}

// Refresh trades the refresh cookie for a new access token and returns the
// user, so a reloaded page can restore its session. Concurrent calls share
// one request. CodeUnauthorized means there is no session to restore.
func (c *Client) Refresh(ctx context.Context) (*authdash.User, error) {
	c.mu.Lock()
	if ch := c.refreshing; ch != nil {
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctxErr(ctx)
		}
		c.mu.Lock()
		err := c.refreshErr
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return nil, nil
	}
	ch := make(chan struct{})
	c.refreshing = ch
	c.mu.Unlock()

	s, err := c.redeem(ctx)
	c.mu.Lock()
	if err == nil {
		c.setTokenLocked(s)
	} else if authdash.ErrorCodeOf(err) == authdash.CodeUnauthorized {
		c.token, c.expiresAt, c.refreshAt = "", time.Time{}, time.Time{}
	}
	c.refreshErr = err
	c.refreshing = nil
	c.mu.Unlock()
	close(ch)
	if err != nil {
		return nil, err
	}
	return s.User, nil
}

// refreshRetries bounds the retries of a refresh that lost a race.
const refreshRetries = 4

// redeem posts the refresh cookie. Other tabs of the browser may present
// the same cookie at the same moment (a restored session reloads them all):
// one wins and the others are answered 409, their cookie left alone. They
// retry, saying so, with the cookie the winner set, which the server then
// lets them in with. The winner's answer may reach the browser a moment
// after the loser's, so a retry can still carry the old cookie and lose
// again: hence a short jittered wait before each, and a few of them.
func (c *Client) redeem(ctx context.Context) (*wire.Grant, error) {
	// The server requires a JSON content type on every POST, and the
	// cookie carries the token: the body is {} or only says "raced".
	var body wire.RefreshRequest
	for attempt := 0; ; attempt++ {
		var s wire.Grant
		err := c.do(ctx, http.MethodPost, "/api/auth/refresh", nil, body, &s, callOpts{anonymous: true})
		if err == nil {
			return &s, nil
		}
		if authdash.ErrorCodeOf(err) != authdash.CodeConflict || attempt == refreshRetries {
			return nil, err
		}
		body.Raced = true
		select {
		case <-time.After(backoff.Reconnect.Delay(attempt + 1)):
		case <-ctx.Done():
			return nil, ctxErr(ctx)
		}
	}
}

// AccessToken returns the token, replaced first once it has lived
// refreshAfter of its lifetime. The realtime socket authenticates with it.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	tok, at := c.token, c.refreshAt
	c.mu.Unlock()
	if tok != "" && c.now().Before(at) {
		return tok, nil
	}
	if _, err := c.Refresh(ctx); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == "" {
		return "", authdash.Errorf(authdash.CodeUnauthorized, "Please sign in.")
	}
	return c.token, nil
}

// TokenExpiry returns when the current access token expires (zero if none).
func (c *Client) TokenExpiry() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expiresAt
}

// Logout ends this device's session on the server and forgets the token.
// The token is forgotten even if the server cannot be reached.
func (c *Client) Logout(ctx context.Context) error {
	defer c.Forget()
	return c.do(ctx, http.MethodPost, "/api/auth/logout", nil, struct{}{}, nil, callOpts{anonymous: true})
}

// LogoutAll ends every session of the user, this one included.
func (c *Client) LogoutAll(ctx context.Context) error {
	defer c.Forget()
	return c.do(ctx, http.MethodPost, "/api/auth/logout-all", nil, struct{}{}, nil, callOpts{})
}

// Sessions lists the user's signed-in devices.
func (c *Client) Sessions(ctx context.Context) ([]authdash.Session, error) {
	var out wire.SessionList
	if err := c.do(ctx, http.MethodGet, "/api/auth/sessions", nil, nil, &out, callOpts{}); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// RevokeSession signs one device out.
func (c *Client) RevokeSession(ctx context.Context, id authdash.SessionID) error {
	return c.do(ctx, http.MethodDelete, "/api/auth/sessions/"+url.PathEscape(string(id)), nil, nil, nil, callOpts{})
}

// Me returns the signed-in user's profile.
func (c *Client) Me(ctx context.Context) (*authdash.User, error) {
	var u authdash.User
	if err := c.do(ctx, http.MethodGet, "/api/me", nil, nil, &u, callOpts{}); err != nil {
		return nil, err
	}
	return &u, nil
}

// UpdateMe changes the profile.
func (c *Client) UpdateMe(ctx context.Context, p authdash.UserPatch) (*authdash.User, error) {
	var u authdash.User
	if err := c.do(ctx, http.MethodPatch, "/api/me", nil, p, &u, callOpts{}); err != nil {
		return nil, err
	}
	return &u, nil
}

// ChangePassword replaces the password; the server ends every other session.
func (c *Client) ChangePassword(ctx context.Context, pc authdash.PasswordChange) error {
	return c.do(ctx, http.MethodPost, "/api/me/password", nil, pc, nil, callOpts{})
}

// DeleteAccount deletes the account after checking the password.
func (c *Client) DeleteAccount(ctx context.Context, password string) error {
	err := c.do(ctx, http.MethodDelete, "/api/me", nil, wire.PasswordConfirmation{Password: password}, nil, callOpts{})
	if err == nil {
		c.Forget()
	}
	return err
}
