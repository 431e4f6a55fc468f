package api

import (
	"strings"

	"github.com/authdash/authdash/wire"
)

// MayHaveSession reports whether Refresh could succeed, without asking:
// false only when the API is on the page's own origin (no BaseURL) and the
// page has no wire.SessionHintCookie, which the server sets and clears with
// the refresh cookie. An API on another origin sets its hint there, out of
// the page's sight, so then the answer is always true.
func (c *Client) MayHaveSession() bool {
	return c.base != "" || hasCookie(documentCookie(), wire.SessionHintCookie)
}

// hasCookie reports whether a Cookie header (or document.cookie) names a
// cookie with a value.
func hasCookie(cookies, name string) bool {
	for part := range strings.SplitSeq(cookies, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if k == name && v != "" {
			return true
		}
	}
	return false
}
