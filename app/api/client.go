// Package api is the dashboard's client of the HTTP API and of the realtime
// socket. It speaks the domain types of package authdash and the frames of
// wire, so a field renamed on either side breaks its tests, which
// run the real server.
//
// It does not import go-app: the browser build uses it through package app,
// and tests run it natively.
package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
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

// ListTasks returns one page of tasks.
func (c *Client) ListTasks(ctx context.Context, q authdash.TaskQuery) (authdash.TaskPage, error) {
	var p authdash.TaskPage
	err := c.do(ctx, http.MethodGet, "/api/tasks", QueryValues(q), nil, &p, callOpts{})
	if p.Items == nil {
		p.Items = []authdash.Task{}
	}
	return p, err
}

// QueryValues encodes q as the URL parameters of GET /api/tasks, leaving out
// what is empty so that the server's defaults apply.
func QueryValues(q authdash.TaskQuery) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", q.Search)
	set("status", string(q.Status))
	set("priority", string(q.Priority))
	set("tag", q.Tag)
	if q.DueBefore != nil {
		v.Set("dueBefore", q.DueBefore.UTC().Format(time.RFC3339))
	}
	if q.DueAfter != nil {
		v.Set("dueAfter", q.DueAfter.UTC().Format(time.RFC3339))
	}
	set("sort", string(q.Sort))
	set("order", string(q.Order))
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	set("cursor", q.Cursor)
	return v
}

// Stats counts the user's tasks by status.
func (c *Client) Stats(ctx context.Context) (authdash.TaskStats, error) {
	var s authdash.TaskStats
	err := c.do(ctx, http.MethodGet, "/api/tasks/stats", nil, nil, &s, callOpts{})
	return s, err
}

// CreateTask creates a task.
func (c *Client) CreateTask(ctx context.Context, d authdash.TaskDraft) (*authdash.Task, error) {
	var t authdash.Task
	if err := c.do(ctx, http.MethodPost, "/api/tasks", nil, d, &t, callOpts{}); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateTaskIdempotent creates a task at most once per key: sent again
// with the same key and draft (after a timeout, an outage, a double click)
// it answers with the task the first call created, and creates nothing.
// Use a new key (NewIdempotencyKey) for each task the user means to create,
// and the same one for every retry of it; the server remembers a key for
// 24 hours. The same key with another draft is
// CodeIdempotencyKeyReused; a malformed key is CodeInvalid before anything
// is sent. A retry that finds the first request still in flight (the
// server answers 409) is repeated here after a short wait.
func (c *Client) CreateTaskIdempotent(ctx context.Context, key string, d authdash.TaskDraft) (*authdash.Task, error) {
	if !authdash.ValidIdempotencyKey(key) {
		return nil, &authdash.Error{Code: authdash.CodeInvalid, Message: "The request key is not valid.",
			Fields: map[string]string{wire.HeaderIdempotencyKey: "Must be 1 to 255 visible ASCII characters without quotes or backslashes."}}
	}
	wait := inFlightWait
	for {
		var t authdash.Task
		err := c.do(ctx, http.MethodPost, "/api/tasks", nil, d, &t, callOpts{idempotencyKey: key})
		if err == nil {
			return &t, nil
		}
		if authdash.ErrorCodeOf(err) != authdash.CodeConflict || wait > maxInFlightWait {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctxErr(ctx)
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// The waits before repeating a create whose key is still in flight: 0.25,
// 0.5, 1 and 2 s, then the conflict is the caller's.
const (
	inFlightWait    = 250 * time.Millisecond
	maxInFlightWait = 2 * time.Second
)

// NewIdempotencyKey returns a fresh random key for CreateTaskIdempotent: a
// version 4 UUID.
func NewIdempotencyKey() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// RestoreTask undoes the deletion of a task (within 24 hours of it) and
// returns the task as it was, at a new version; every tab sees it come
// back. CodeNotFound when there is nothing to restore; CodeConflict when
// the task is not deleted (another tab restored it first).
func (c *Client) RestoreTask(ctx context.Context, id authdash.TaskID) (*authdash.Task, error) {
	var t authdash.Task
	if err := c.do(ctx, http.MethodPost, "/api/tasks/"+url.PathEscape(string(id))+"/restore", nil, nil, &t, callOpts{}); err != nil {
		return nil, err
	}
	return &t, nil
}

// Task returns one task.
func (c *Client) Task(ctx context.Context, id authdash.TaskID) (*authdash.Task, error) {
	var t authdash.Task
	if err := c.do(ctx, http.MethodGet, "/api/tasks/"+url.PathEscape(string(id)), nil, nil, &t, callOpts{}); err != nil {
		return nil, err
	}
	return &t, nil
}

// UpdateTask patches a task if its version is still ifVersion (0: whatever
// it is). A stale version yields CodePreconditionFailed.
func (c *Client) UpdateTask(ctx context.Context, id authdash.TaskID, p authdash.TaskPatch, ifVersion int64) (*authdash.Task, error) {
	var t authdash.Task
	if err := c.do(ctx, http.MethodPatch, "/api/tasks/"+url.PathEscape(string(id)), nil, p, &t, callOpts{ifVersion: ifVersion}); err != nil {
		return nil, err
	}
	return &t, nil
}

// DeleteTask deletes a task if its version is still ifVersion (0: whatever
// it is).
func (c *Client) DeleteTask(ctx context.Context, id authdash.TaskID, ifVersion int64) error {
	return c.do(ctx, http.MethodDelete, "/api/tasks/"+url.PathEscape(string(id)), nil, nil, nil, callOpts{ifVersion: ifVersion})
}

type callOpts struct {
	anonymous      bool   // no access token needed (sign-in, refresh, logout)
	ifVersion      int64  // If-Match, when not 0
	idempotencyKey string // Idempotency-Key, when not ""
}

// do sends one request and decodes the answer into out (if not nil). A
// request that needs a token gets a fresh one first, and one 401 answer is
// retried once after a refresh: the token may have been revoked or expired
// in between.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any, o callOpts) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("api: encoding %s %s: %w", method, path, err)
		}
		body = b
	}
	for attempt := 0; ; attempt++ {
		tok := ""
		if !o.anonymous {
			t, err := c.AccessToken(ctx)
			if err != nil {
				return err
			}
			tok = t
		}
		res, err := c.send(ctx, method, path, query, body, tok, o)
		if err != nil {
			return err
		}
		if res.StatusCode == http.StatusUnauthorized && !o.anonymous && attempt == 0 {
			drain(res)
			c.mu.Lock()
			if c.token == tok {
				c.token, c.expiresAt, c.refreshAt = "", time.Time{}, time.Time{}
			}
			c.mu.Unlock()
			continue
		}
		return decodeResponse(res, out)
	}
}

func (c *Client) send(ctx context.Context, method, path string, query url.Values, body []byte, tok string, o callOpts) (*http.Response, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("api: %s %s: %w", method, path, err)
	}
	h := req.Header
	h.Set("Accept", "application/json, application/problem+json")
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	if tok != "" {
		h.Set("Authorization", "Bearer "+tok)
	}
	if c.clientID != "" {
		h.Set(wire.HeaderClientID, c.clientID)
	}
	if o.ifVersion != 0 {
		h.Set("If-Match", `"`+strconv.FormatInt(o.ifVersion, 10)+`"`)
	}
	if o.idempotencyKey != "" {
		h.Set(wire.HeaderIdempotencyKey, `"`+o.idempotencyKey+`"`) // a Structured Field string
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxErr(ctx)
		}
		return nil, &authdash.Error{Code: authdash.CodeUnavailable, Message: "The server cannot be reached.", Err: err}
	}
	return res, nil
}

func ctxErr(ctx context.Context) error {
	return &authdash.Error{Code: authdash.CodeUnavailable, Message: "The request was cancelled.", Err: ctx.Err()}
}

func drain(res *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxResponse))
	res.Body.Close()
}

func decodeResponse(res *http.Response, out any) error {
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return &authdash.Error{Code: authdash.CodeUnavailable, Message: "The connection was interrupted.", Err: err}
	}
	if res.StatusCode >= 300 {
		return problemError(res, b)
	}
	if out == nil || res.StatusCode == http.StatusNoContent || len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &authdash.Error{Code: authdash.CodeInternal, Message: "The server sent an answer this app does not understand.", Err: err}
	}
	return nil
}

// doer sends a request: an *http.Client natively, fetch in the browser.
type doer interface {
	Do(*http.Request) (*http.Response, error)
}

// problemError turns an error answer back into the *authdash.Error it was
// made from, keeping the problem as the cause for logs. An answer that is
// not problem details (a proxy's HTML error page) is classified by status.
func problemError(res *http.Response, b []byte) error {
	p := &wire.Problem{Status: res.StatusCode}
	if err := json.Unmarshal(b, p); err != nil || p.Status == 0 {
		p = &wire.Problem{Status: res.StatusCode}
	}
	code := authdash.ErrorCode(p.Code)
	if code == "" {
		code = wire.CodeOf(res.StatusCode)
	}
	msg := p.Detail
	if msg == "" {
		msg = messageOf(code)
	}
	return &authdash.Error{Code: code, Message: msg, Fields: p.Errors, Err: p}
}

func messageOf(code authdash.ErrorCode) string {
	switch code {
	case authdash.CodeUnavailable:
		return "The server is unavailable. Try again shortly."
	case authdash.CodeRateLimited:
		return "Too many attempts. Wait a moment and try again."
	case authdash.CodeUnauthorized:
		return "Please sign in."
	}
	return "Something went wrong."
}

// IsOffline reports whether err means the server could not be reached (as
// opposed to an answer that says no).
func IsOffline(err error) bool {
	var e *authdash.Error
	if !errors.As(err, &e) || e.Code != authdash.CodeUnavailable {
		return false
	}
	var p *wire.Problem
	return !errors.As(err, &p)
}
