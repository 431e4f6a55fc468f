package auth

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/authdash/authdash"
)

// maxCachedTokens bounds the verified-token cache: each entry is a token
// (~330 bytes) and its claims, so the cache stays under about 8 MB.
const maxCachedTokens = 10_000

// tokenCache remembers access tokens that passed full verification, so the
// many requests a client makes with one token cost a map lookup instead of a
// base64 + JSON + HMAC round each (the profile of an authenticated list put
// that at about 6% of the server's CPU).
//
// It is keyed by the whole token string, so a token only hits if it is
// byte-for-byte one that verified. Of the checks that passed, only expiry
// can change with time (iat and nbf, once in the past, stay there), so a hit
// re-checks expiry alone; an expired entry falls through to the parser,
// which then says "expired". Nothing else is lost: the signature and claims
// cannot change, and Verify checks revocations after the cache, on every
// request.
type tokenCache struct {
	m        sync.Map // token string → authdash.Identity
	n        atomic.Int64
	sweeping sync.Mutex
}

// get returns the identity of a cached token that is still unexpired at now.
func (c *tokenCache) get(token string, now time.Time) (authdash.Identity, bool) {
	v, ok := c.m.Load(token)
	if !ok {
		return authdash.Identity{}, false
	}
	id := v.(authdash.Identity)
	if !now.Before(id.Expires.Add(leeway)) {
		return authdash.Identity{}, false
	}
	return id, true
}

// put remembers a token that just verified.
func (c *tokenCache) put(token string, id authdash.Identity, now time.Time) {
	if _, loaded := c.m.LoadOrStore(token, id); loaded {
		return
	}
	if c.n.Add(1) > maxCachedTokens {
		c.sweep(now)
	}
}

// sweep drops expired entries and, if the cache is still over half full,
// everything: entries are only a shortcut, so dropping them costs a few
// re-verifications, never a wrong answer.
func (c *tokenCache) sweep(now time.Time) {
	if !c.sweeping.TryLock() {
		return
	}
	defer c.sweeping.Unlock()
	var live int64
	c.m.Range(func(k, v any) bool {
		if !now.Before(v.(authdash.Identity).Expires.Add(leeway)) {
			c.m.Delete(k)
		} else {
			live++
		}
		return true
	})
	if live > maxCachedTokens/2 {
		c.m.Clear()
		live = 0
	}
	c.n.Store(live)
}

// len counts the cached tokens (for tests).
func (c *tokenCache) len() int {
	n := 0
	c.m.Range(func(_, _ any) bool { n++; return true })
	return n
}
