package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/authdash/authdash/wire"
)

// client speaks the authdash HTTP API in token mode: the refresh token
// travels in JSON bodies, so no cookie jar is needed and every worker can
// hold its own session.
type client struct {
	http *http.Client
	base string // scheme://host[:port], no trailing slash
}

func newClient(base string, conns int, gzip bool) *client {
	tr := &http.Transport{
		Proxy:               nil, // loopback only: never through a proxy
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  !gzip,
		ForceAttemptHTTP2:   false,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &client{
		http: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		base: base,
	}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// apiError is a non-2xx answer, with the problem details' (wire.Problem)
// code and detail when the body had them.
type apiError struct {
	Status     int
	Code       string
	Detail     string
	RetryAfter time.Duration
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Detail)
}

// call sends one request and, for a 2xx answer, decodes the JSON body into
// out when out is not nil. The body is always read to the end so the
// connection goes back to the pool. It returns the status, or 0 when no
// answer came.
func (c *client) call(ctx context.Context, method, path, token string, body []byte, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set(wire.HeaderAuthMode, wire.AuthModeToken)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &apiError{Status: resp.StatusCode}
		var p wire.Problem
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &p) == nil {
			e.Code, e.Detail = p.Code, p.Detail
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, e
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// taskRef is what the load generator keeps of a task it wrote.
type taskRef struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called on values built here
	}
	return b
}
