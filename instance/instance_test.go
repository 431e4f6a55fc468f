package instance_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/authdash/authdash/instance"
	"github.com/authdash/authdash/internal/testkit"
)

var testSecret = []byte("Vb3q-instance-test-signing-key-Hs8kP1zR6")

// mustBuild builds an instance on its own DATA_DIR and closes it when the
// test ends.
func mustBuild(t *testing.T, redis *goredis.Options) *instance.Instance {
	t.Helper()
	in, err := instance.Build(t.Context(), instance.Config{
		DataDir: t.TempDir(), Env: "dev", JWTSecret: testSecret, Redis: redis,
		HashWait: time.Minute, StoreTimeout: time.Minute,
	}, instance.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	return in
}

func call(t *testing.T, h http.Handler, method, path, body, token string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Auth-Mode", "token")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestBuildWithRedis builds two instances on one Redis, as a cluster runs:
// a sign-out everywhere on one ends the access token on the other (the
// verifier reads the revocation list Build shares through Redis), and
// /readyz of both reports Redis. Close then leaves no goroutine behind.
func TestBuildWithRedis(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := testkit.StartRedis(t)
	opt, err := goredis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("", func(t *testing.T) { // its cleanups (Close) run before the leak check
		a, b := mustBuild(t, opt), mustBuild(t, opt)
		code, body := call(t, a.Handler, "POST", "/api/auth/register", `{"email":"ann@example.com","password":"correct horse battery","name":"Ann"}`, "")
		if code != http.StatusCreated {
			t.Fatalf("register: %d %s", code, body)
		}
		var g struct{ AccessToken string }
		if err := json.Unmarshal([]byte(body), &g); err != nil {
			t.Fatal(err)
		}
		if code, body := call(t, b.Handler, "GET", "/api/tasks", "", g.AccessToken); code != http.StatusOK {
			t.Fatalf("the other instance refuses a good token: %d %s", code, body)
		}
		for _, in := range []*instance.Instance{a, b} {
			if code, body := call(t, in.Handler, "GET", "/readyz", "", ""); code != http.StatusOK || !strings.Contains(body, `"redis":"ok"`) {
				t.Errorf("readyz: %d %s", code, body)
			}
		}
		if code, body := call(t, a.Handler, "POST", "/api/auth/logout-all", `{}`, g.AccessToken); code != http.StatusOK {
			t.Fatalf("logout-all: %d %s", code, body)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, _ := call(t, b.Handler, "GET", "/api/tasks", "", g.AccessToken)
			if code == http.StatusUnauthorized {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other instance still accepts the ended session's token: %d", code)
			}
			time.Sleep(10 * time.Millisecond) // the revocation travels by pub/sub; nothing here to wait on
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for _, in := range []*instance.Instance{a, b} {
			if err := in.Shutdown(ctx); err != nil {
				t.Error(err)
			}
		}
	})
}

// TestBuildFailsCleanly: a store that cannot open fails Build with the
// reason and without leaving anything running.
func TestBuildFailsCleanly(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	_, err := instance.Build(t.Context(), instance.Config{
		DataDir: "/dev/null/nowhere", Env: "dev", JWTSecret: testSecret,
	}, instance.Env{})
	if err == nil || !strings.Contains(err.Error(), "DATA_DIR") {
		t.Fatalf("Build error %v, want one naming DATA_DIR", err)
	}
	_, err = instance.Build(t.Context(), instance.Config{
		DataDir: t.TempDir(), Env: "dev", JWTSecret: testSecret,
		Limits: []instance.Limit{{Name: "signin-planet", Rate: 1, Burst: 1}},
	}, instance.Env{})
	if err == nil || !strings.Contains(err.Error(), "signin-planet") {
		t.Fatalf("Build error %v, want one naming the unknown limit", err)
	}
}

// buildOn builds an instance on dir, without Redis.
func buildOn(t *testing.T, dir string) *instance.Instance {
	t.Helper()
	in, err := instance.Build(t.Context(), instance.Config{
		DataDir: dir, Env: "dev", JWTSecret: testSecret,
		HashWait: time.Minute, StoreTimeout: time.Minute, RevocationPoll: 20 * time.Millisecond,
	}, instance.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func register(t *testing.T, h http.Handler, email string) string {
	t.Helper()
	code, body := call(t, h, "POST", "/api/auth/register", `{"email":"`+email+`","password":"correct horse battery","name":"A"}`, "")
	if code != http.StatusCreated {
		t.Fatalf("register: %d %s", code, body)
	}
	var g struct{ AccessToken string }
	if err := json.Unmarshal([]byte(body), &g); err != nil {
		t.Fatal(err)
	}
	return g.AccessToken
}

// TestSessionsStayEndedWithoutRedis: without REDIS_URL, a sign-out
// everywhere holds across a restart on the same DATA_DIR and reaches
// another instance sharing the store (the review found the ended tokens
// working again after a restart).
func TestSessionsStayEndedWithoutRedis(t *testing.T) {
	t.Run("Restart", func(t *testing.T) {
		dir := t.TempDir()
		a := buildOn(t, dir)
		ended, kept := register(t, a.Handler, "ann@example.com"), register(t, a.Handler, "bob@example.com")
		if code, body := call(t, a.Handler, "POST", "/api/auth/logout-all", `{}`, ended); code != http.StatusOK {
			t.Fatalf("logout-all: %d %s", code, body)
		}
		a.Close()
		b := buildOn(t, dir)
		defer b.Close()
		if code, _ := call(t, b.Handler, "GET", "/api/me", "", ended); code != http.StatusUnauthorized {
			t.Errorf("after a restart the ended session's token gets %d, want 401", code)
		}
		if code, _ := call(t, b.Handler, "POST", "/api/tasks", `{"title":"x"}`, ended); code != http.StatusUnauthorized {
			t.Errorf("after a restart the ended session's token creates: %d, want 401", code)
		}
		if code, body := call(t, b.Handler, "GET", "/api/me", "", kept); code != http.StatusOK {
			t.Errorf("a session nobody ended: %d %s", code, body)
		}
	})
	t.Run("SharedStore", func(t *testing.T) {
		dir := t.TempDir()
		a, b := buildOn(t, dir), buildOn(t, dir)
		defer a.Close()
		defer b.Close()
		tok := register(t, a.Handler, "ann@example.com")
		if code, body := call(t, b.Handler, "GET", "/api/me", "", tok); code != http.StatusOK {
			t.Fatalf("the other instance refuses a good token: %d %s", code, body)
		}
		if code, body := call(t, a.Handler, "DELETE", "/api/me", `{"password":"correct horse battery"}`, tok); code != http.StatusNoContent {
			t.Fatalf("delete account: %d %s", code, body)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, _ := call(t, b.Handler, "GET", "/api/tasks", "", tok)
			if code == http.StatusUnauthorized {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the other instance still lists tasks for a deleted account's token: %d", code)
			}
			time.Sleep(10 * time.Millisecond) // the revocation arrives with b's next poll of the store
		}
	})
}

// slowRefill keeps the limits' bursts but refills them once an hour, so a
// count of refusals does not depend on how long the requests took: with
// Redis gone each one waits for its dial attempts, and on a busy machine the
// default 5 a minute gave back a guess during the loop (11 × 401).
func slowRefill(limits []instance.Limit) []instance.Limit {
	for i := range limits {
		limits[i].Rate = 1.0 / 3600
	}
	return limits
}

// TestRateLimitsHoldWithRedisDown: with REDIS_URL set and Redis gone,
// guessing one account's password still meets 429 (each instance limits on
// its own), where the review got 45 × 401.
func TestRateLimitsHoldWithRedisDown(t *testing.T) {
	srv := testkit.StartRedis(t)
	opt, err := goredis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	in, err := instance.Build(t.Context(), instance.Config{
		DataDir: t.TempDir(), Env: "dev", JWTSecret: testSecret, Redis: opt,
		HashWait: time.Minute, StoreTimeout: time.Minute, Limits: slowRefill(instance.DefaultLimits()),
	}, instance.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	register(t, in.Handler, "ann@example.com")
	srv.Kill()
	codes := map[int]int{}
	for range 15 {
		code, _ := call(t, in.Handler, "POST", "/api/auth/login", `{"email":"ann@example.com","password":"wrong guess number"}`, "")
		codes[code]++
	}
	if codes[http.StatusUnauthorized] != 10 || codes[http.StatusTooManyRequests] != 5 {
		t.Errorf("15 wrong passwords with Redis down: %v, want 10 × 401 (the burst) then 5 × 429", codes)
	}
}
