package server_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// TestRefreshRace: a browser restoring several tabs sends their refreshes at
// once with the one cookie they share. Exactly one wins; a loser's answer,
// which the browser may read after the winner's, must not clear the cookie,
// and each loser gets in by retrying once with the cookie the winner set,
// saying it lost a race. Before the fix the losers were 401 with the cookie
// cleared (Max-Age<0), signing out every tab when read last.
func TestRefreshRace(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(map[int]string{3: "Three", 5: "Five"}[n], func(t *testing.T) {
			e := mustEnv(t)
			e.mustUser(t, "alice")
			cookie, _ := e.login(t, "alice", false)
			// Not within the first moments of the session: a rotation
			// then is the ordinary case.
			e.clock.Advance(time.Minute)

			refresh := func(cookie, body string) *httptest.ResponseRecorder {
				return e.do("POST", "/api/auth/refresh", body, map[string]string{"Cookie": cookieName + "=" + cookie}, "")
			}
			answers := make([]*httptest.ResponseRecorder, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { answers[i] = refresh(cookie, `{}`) })
			}
			wg.Wait()

			var winner *httptest.ResponseRecorder
			var losers []*httptest.ResponseRecorder
			for i, res := range answers {
				switch res.Code {
				case http.StatusOK:
					if winner != nil {
						t.Fatalf("two refreshes of one token won")
					}
					winner = res
				case http.StatusConflict:
					wantProblem(t, res, authdash.CodeConflict)
					losers = append(losers, res)
				default:
					t.Fatalf("refresh %d: %d %s", i, res.Code, res.Body)
				}
				// A loser sets no cookie at all: neither a cleared one
				// nor the one it presented, which is no longer current.
				if res.Code != http.StatusOK {
					if c := refreshCookieOf(res); c != nil {
						t.Errorf("refresh %d (%d) sets the refresh cookie %+v", i, res.Code, c)
					}
					if h := hintCookieOf(res); h != nil {
						t.Errorf("refresh %d (%d) sets the session hint %+v", i, res.Code, h)
					}
				}
			}
			if winner == nil || len(losers) != n-1 {
				t.Fatalf("%d refreshes: winner %v, %d losers", n, winner != nil, len(losers))
			}
			won := refreshCookieOf(winner)
			if won == nil || won.Value == "" || won.Value == cookie || won.MaxAge <= 0 {
				t.Fatalf("winner's cookie %+v", won)
			}

			// The browser applies the answers in the worst order, the
			// winner's first: its cookie must still be there.
			jar := map[string]string{cookieName: cookie}
			for _, res := range append([]*httptest.ResponseRecorder{winner}, losers...) {
				for _, c := range res.Result().Cookies() {
					if c.MaxAge < 0 {
						delete(jar, c.Name)
					} else {
						jar[c.Name] = c.Value
					}
				}
			}
			if jar[cookieName] != won.Value {
				t.Fatalf("after every answer the browser holds %q, want the winner's cookie", jar[cookieName])
			}

			// Every loser retries, together, with the winner's cookie and
			// gets in; the cookie stays the winner's.
			retries := make([]*httptest.ResponseRecorder, len(losers))
			for i := range losers {
				wg.Go(func() { retries[i] = refresh(won.Value, `{"raced":true}`) })
			}
			wg.Wait()
			for i, res := range retries {
				if res.Code != http.StatusOK {
					t.Fatalf("loser %d retrying: %d %s", i, res.Code, res.Body)
				}
				if c := refreshCookieOf(res); c != nil {
					t.Errorf("loser %d's retry sets the refresh cookie %+v", i, c)
				}
				var g wire.Grant
				mustDecode(t, res.Body.Bytes(), &g)
				if g.RefreshToken != "" {
					t.Errorf("loser %d's retry shows the refresh token in cookie mode", i)
				}
				me := e.do("GET", "/api/me", "", map[string]string{"Authorization": "Bearer " + g.AccessToken}, "")
				if me.Code != http.StatusOK {
					t.Errorf("loser %d's access token: GET /api/me %d %s", i, me.Code, me.Body)
				}
			}

			// The session lives on: later, the winner's cookie rotates as
			// usual.
			e.clock.Advance(time.Minute)
			res := refresh(won.Value, `{}`)
			if c := refreshCookieOf(res); res.Code != http.StatusOK || c == nil || c.Value == won.Value {
				t.Fatalf("next refresh: %d, cookie %+v", res.Code, c)
			}
		})
	}
}

// TestRefreshRaceFlagRotatesOldToken: saying "raced" keeps only a token
// installed moments ago; an older one rotates, and a token replaced long
// ago still ends its session (theft detection is not weakened).
func TestRefreshRaceFlagRotatesOldToken(t *testing.T) {
	e := mustEnv(t)
	e.mustUser(t, "alice")
	cookie, _ := e.login(t, "alice", false)
	e.clock.Advance(time.Minute)
	refresh := func(cookie string) *httptest.ResponseRecorder {
		return e.do("POST", "/api/auth/refresh", `{"raced":true}`, map[string]string{"Cookie": cookieName + "=" + cookie}, "")
	}
	res := refresh(cookie)
	next := refreshCookieOf(res)
	if res.Code != http.StatusOK || next == nil || next.Value == cookie {
		t.Fatalf("raced refresh of an old token: %d, cookie %+v; want it rotated", res.Code, next)
	}
	e.clock.Advance(time.Minute)
	res = refresh(cookie)
	wantProblem(t, res, authdash.CodeUnauthorized)
	wantCookieCleared(t, e, res, nil)
	if res := refresh(next.Value); res.Code != http.StatusUnauthorized {
		t.Fatalf("the successor of a replayed token: %d, want 401 (session ended)", res.Code)
	}
}
