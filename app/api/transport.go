package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

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
