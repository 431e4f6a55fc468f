package realtime_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/wire"
)

// TestUnauthenticatedCaps: sockets that have not authenticated are capped
// per client address and per instance (review finding 5: 3,000 from one
// client were all held for the auth timeout). Over a cap the upgrade is
// refused at once with 503 and Retry-After, and counted; a socket that
// authenticates or closes frees its place.
func TestUnauthenticatedCaps(t *testing.T) {
	tests := []struct {
		name       string
		perIP, all int
		ips        []string // the address of each socket opened before the refused one
		refusedIP  string
		wantPerIP  int64
		wantTotal  int64
	}{
		{name: "PerIP", perIP: 3, all: 100, ips: []string{"192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.2"}, refusedIP: "192.0.2.1",
			wantPerIP: 1},
		{name: "Total", perIP: 100, all: 3, ips: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}, refusedIP: "192.0.2.4",
			wantTotal: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *realtime.Config) {
				c.MaxUnauthenticatedPerIP, c.MaxUnauthenticated = tt.perIP, tt.all
				c.AuthTimeout = time.Minute // they stay pending for the whole test
			})
			// The server puts the client's address (behind trusted proxies)
			// in the context; here a header stands in for it.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				e.hub.Handler().ServeHTTP(w, r.WithContext(authdash.WithClientIP(r.Context(), r.Header.Get("X-Test-IP"))))
			}))
			t.Cleanup(srv.Close)
			url := "ws" + strings.TrimPrefix(srv.URL, "http")
			open := func(ip string) *client {
				return dialURL(t, url, &websocket.DialOptions{HTTPHeader: http.Header{"X-Test-IP": {ip}}})
			}
			refused := func(ip string) {
				t.Helper()
				ctx, cancel := context.WithTimeout(t.Context(), wait)
				defer cancel()
				ws, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"X-Test-IP": {ip}}})
				if err == nil {
					ws.CloseNow()
					t.Fatalf("%s: a socket over the cap was accepted", ip)
				}
				if res == nil || res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
					t.Fatalf("%s: %v, want 503 with Retry-After", ip, res)
				}
			}
			var pending []*client
			for _, ip := range tt.ips {
				pending = append(pending, open(ip))
			}
			refused(tt.refusedIP)
			st := e.hub.Stats()
			if st.RefusedPerIP != tt.wantPerIP || st.RefusedTotal != tt.wantTotal {
				t.Errorf("refused per IP %d, in total %d; want %d, %d", st.RefusedPerIP, st.RefusedTotal, tt.wantPerIP, tt.wantTotal)
			}
			// Authenticating frees a place.
			pending[0].send(wire.Auth{Token: e.tokens.issue(e.user("alice"), "s1", time.Hour)})
			pending[0].expectType(wire.TypeAuthed)
			pending[0].expectType(wire.TypeReady)
			next := open(tt.refusedIP)
			refused(tt.refusedIP)
			// So does closing.
			next.ws.Close(websocket.StatusNormalClosure, "")
			// (the server notices the close a moment later)
			for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
				ctx, cancel := context.WithTimeout(t.Context(), wait)
				ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"X-Test-IP": {tt.refusedIP}}})
				cancel()
				if err == nil {
					ws.CloseNow()
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("a closed socket's place is not freed: %v", err)
				}
			}
		})
	}
}
