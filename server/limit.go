package server

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/emailkey"
)

// retryAfter is carried inside a rate-limit error so the problem writer can
// set Retry-After.
type retryAfter time.Duration

func (d retryAfter) Error() string { return "retry after " + time.Duration(d).String() }

// seconds rounds up: telling a client to come back too early only earns it
// another 429.
func (d retryAfter) seconds() int {
	return max(1, int(math.Ceil(time.Duration(d).Seconds())))
}

// rateLimits applies one Limiter under a key prefix naming what is limited.
type rateLimits struct {
	lim     Limiter
	log     *slog.Logger
	trusted []netip.Prefix
}

// check asks the limiter about key. A limiter failure lets the request
// through and is logged (fail open, see Limiter).
func (l rateLimits) check(ctx context.Context, key string) error {
	if l.lim == nil {
		return nil
	}
	ok, after, err := l.lim.Allow(ctx, key)
	if err != nil {
		l.log.LogAttrs(ctx, slog.LevelWarn, "rate limiter failed; allowing request", slog.Any("err", err))
		return nil
	}
	if ok {
		return nil
	}
	ra := retryAfter(after)
	return &authdash.Error{
		Code:    authdash.CodeRateLimited,
		Message: "Too many attempts; try again in " + strconv.Itoa(ra.seconds()) + " s.",
		Err:     ra,
	}
}

// perIP limits a route by client IP before its handler runs.
func (l rateLimits) perIP(scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l.lim == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := l.check(r.Context(), scope+":ip:"+ipKey(clientIP(r, l.trusted))); err != nil {
				writeProblem(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ipKey names the address a limit applies to. An IPv6 client usually holds
// a whole /64, so that is what it is limited as; otherwise each of its
// 2^64 addresses would get a fresh budget.
func ipKey(ip netip.Addr) string {
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// perAccount limits by the normalised email a request names, so a
// credential-stuffing run spread over many IPs still hits one wall per
// account. It runs in the handler, after the body is decoded.
func (l rateLimits) perAccount(ctx context.Context, scope, email string) error {
	// The account's key: look-alike spellings of one address share its limit.
	email = emailkey.Key(email)
	if email == "" || len(email) > authdash.MaxEmailLen {
		return nil // validation answers these
	}
	return l.check(ctx, scope+":acct:"+email)
}

// perUser limits by the signed-in account, for the routes that check its
// password again: without it a stolen access token could guess the password
// as fast as the hasher allows, and bypass the sign-in limits doing it.
func (l rateLimits) perUser(ctx context.Context, scope string, user authdash.UserID) error {
	return l.check(ctx, scope+":user:"+string(user))
}

// clientIP is the address a request came from: the peer's, unless the peer
// is a trusted proxy, in which case X-Forwarded-For is read from the right,
// skipping trusted hops, so a client cannot choose its own address by
// sending the header itself.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		// Not ip:port (a unix socket, a test); use what is there.
		a, _ := netip.ParseAddr(r.RemoteAddr)
		return a
	}
	ip := peer.Addr().Unmap()
	if !isTrusted(ip, trusted) {
		return ip
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		hops := xff[i]
		for hops != "" {
			var hop string
			if j := strings.LastIndexByte(hops, ','); j >= 0 {
				hop, hops = hops[j+1:], hops[:j]
			} else {
				hop, hops = hops, ""
			}
			a, err := netip.ParseAddr(strings.TrimSpace(hop))
			if err != nil {
				return ip // a garbled chain: trust nothing beyond the proxy
			}
			a = a.Unmap()
			if !isTrusted(a, trusted) {
				return a
			}
			ip = a
		}
	}
	return ip
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
