package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/auth/revocation"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixedVerifier verifies tokens as if it were epoch.
func fixedVerifier(tb testing.TB) *auth.Verifier {
	tb.Helper()
	v, err := auth.NewVerifier(auth.VerifierConfig{Secret: testSecret, Now: func() time.Time { return epoch }})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// goodClaims are the claims of a valid token at epoch.
func goodClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "u1", "sid": "s1", "jti": "j1",
		"iss": "authdash", "aud": []string{"authdash-api"},
		"iat": epoch.Add(-time.Minute).Unix(), "exp": epoch.Add(10 * time.Minute).Unix(),
	}
}

func sign(tb testing.TB, m jwt.SigningMethod, c jwt.MapClaims, key any) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func with(edit func(jwt.MapClaims)) jwt.MapClaims {
	c := goodClaims()
	edit(c)
	return c
}

// hmacToken builds a token by hand, so the header can claim anything.
func hmacToken(header string, c jwt.MapClaims) string {
	p, _ := json.Marshal(c)
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(p)
	mac := hmac.New(sha256.New, testSecret)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

func TestVerify(t *testing.T) {
	svc := fixedVerifier(t)
	good := sign(t, jwt.SigningMethodHS256, goodClaims(), testSecret)
	parts := strings.Split(good, ".")
	otherPayload := base64.RawURLEncoding.EncodeToString(mustJSON(t, with(func(c jwt.MapClaims) { c["sub"] = "u2" })))
	sig := []byte(parts[2])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}

	const expired, invalid = "Access token expired.", "Access token is invalid."
	tests := []struct {
		name    string
		token   string
		wantErr string // "" = valid
	}{
		{"OK", good, ""},
		{"OKAudienceAsString", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["aud"] = "authdash-api" }), testSecret), ""},
		{"OKExpiredWithinLeeway", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["exp"] = epoch.Add(-3 * time.Second).Unix() }), testSecret), ""},
		{"ErrExpired", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["exp"] = epoch.Add(-time.Minute).Unix() }), testSecret), expired},
		{"ErrIssuedInFuture", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["iat"] = epoch.Add(time.Hour).Unix() }), testSecret), invalid},
		{"ErrNotYetValid", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["nbf"] = epoch.Add(time.Hour).Unix() }), testSecret), invalid},
		{"ErrTamperedPayload", parts[0] + "." + otherPayload + "." + parts[2], invalid},
		{"ErrTamperedSignature", parts[0] + "." + parts[1] + "." + string(sig), invalid},
		{"ErrNoSignature", parts[0] + "." + parts[1] + ".", invalid},
		{"ErrAlgNone", sign(t, jwt.SigningMethodNone, goodClaims(), jwt.UnsafeAllowNoneSignatureType), invalid},
		{"ErrAlgNoneHandmade", hmacToken(`{"alg":"none","typ":"JWT"}`, goodClaims()), invalid},
		{"ErrHS512", sign(t, jwt.SigningMethodHS512, goodClaims(), testSecret), invalid},
		{"ErrRS256HeaderSwap", hmacToken(`{"alg":"RS256","typ":"JWT"}`, goodClaims()), invalid},
		{"ErrOtherSecret", sign(t, jwt.SigningMethodHS256, goodClaims(), []byte("another-secret-another-secret-another")), invalid},
		{"ErrWrongIssuer", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["iss"] = "evil" }), testSecret), invalid},
		{"ErrWrongAudience", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["aud"] = []string{"other-api"} }), testSecret), invalid},
		{"ErrMissingIssuer", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { delete(c, "iss") }), testSecret), invalid},
		{"ErrMissingAudience", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { delete(c, "aud") }), testSecret), invalid},
		{"ErrMissingExp", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { delete(c, "exp") }), testSecret), invalid},
		{"ErrMissingSub", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { delete(c, "sub") }), testSecret), invalid},
		{"ErrMissingSid", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { delete(c, "sid") }), testSecret), invalid},
		{"ErrExpAsString", sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["exp"] = "tomorrow" }), testSecret), invalid},
		{"ErrGarbage", "not-a-token", invalid},
		{"ErrThreeGarbageParts", "a.b.c", invalid},
		{"ErrEmpty", "", invalid},
		{"ErrHuge", parts[0] + "." + strings.Repeat("A", 4096) + "." + parts[2], invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := svc.Verify(tt.token)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.User != "u1" || c.Session != "s1" || c.Expires.IsZero() {
					t.Fatalf("identity %+v", c)
				}
				return
			}
			wantCode(t, err, authdash.CodeUnauthorized)
			if got := authdash.ErrorMessageOf(err); got != tt.wantErr {
				t.Fatalf("message %q, want %q", got, tt.wantErr)
			}
			if c != (authdash.Identity{}) {
				t.Fatalf("claims leaked on failure: %+v", c)
			}
		})
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestIssuedTokenVerifies(t *testing.T) {
	e := mustEnv(t, auth.Config{AccessTTL: 5 * time.Minute}, nil)
	g := e.mustRegister(t, "ann@example.com")
	id, err := e.tokens.Verify(g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if id.User != g.User.ID || id.Session != g.SessionID || !id.Expires.Equal(g.AccessExpiresAt) {
		t.Fatalf("Verify = %+v; grant %s %s %v", id, g.User.ID, g.SessionID, g.AccessExpiresAt)
	}
	if d := time.Until(id.Expires); d <= 4*time.Minute || d > 5*time.Minute {
		t.Fatalf("token lives %v, want 5m", d)
	}
	// The payload carries exactly the documented claims.
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(g.AccessToken, ".")[1])
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sub", "sid", "sst", "jti", "iat", "exp", "iss", "aud"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %s missing from %s", k, payload)
		}
	}
	if len(claims) != 8 {
		t.Errorf("unexpected claims in %s", payload)
	}
	sess, err := e.store.FindSession(t.Context(), g.User.ID, g.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if sst, _ := claims["sst"].(float64); int64(sst) != sess.CreatedAt.UnixMilli() {
		t.Errorf("sst %v, session started %d", claims["sst"], sess.CreatedAt.UnixMilli())
	}
	// Two tokens for one session differ (jti).
	g2, err := e.svc.Refresh(t.Context(), g.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	jti := func(token string) any {
		var c map[string]any
		p, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
		if err := json.Unmarshal(p, &c); err != nil {
			t.Fatal(err)
		}
		return c["jti"]
	}
	if j1, j2 := jti(g.AccessToken), jti(g2.AccessToken); j1 == nil || j1 == "" || j1 == j2 {
		t.Fatalf("jti %v then %v, want two different ones", j1, j2)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	db := mustStore(t)
	tokens := fixedVerifier(t)
	tests := []struct {
		name string
		cfg  auth.Config
	}{
		{"ErrLongAccessTTL", auth.Config{AccessTTL: time.Hour}},
		{"ErrRefreshShorterThanAccess", auth.Config{AccessTTL: 10 * time.Minute, RefreshTTL: time.Minute}},
		{"ErrNegativeGrace", auth.Config{RefreshGrace: -time.Second}},
		{"ErrNegativeConcurrency", auth.Config{HashConcurrency: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := auth.New(db, tokens, nil, tt.cfg, nil); err == nil {
				t.Fatal("New accepted a bad config")
			}
		})
	}
	if _, err := auth.New(nil, tokens, nil, auth.Config{}, nil); err == nil {
		t.Fatal("New accepted a nil store")
	}
	if _, err := auth.New(db, nil, nil, auth.Config{}, nil); err == nil {
		t.Fatal("New accepted a nil verifier")
	}
	for name, secret := range map[string][]byte{"ErrNoSecret": nil, "ErrShortSecret": []byte("short")} {
		t.Run(name, func(t *testing.T) {
			if _, err := auth.NewVerifier(auth.VerifierConfig{Secret: secret}); err == nil {
				t.Fatal("NewVerifier accepted a bad secret")
			}
		})
	}
}

func TestIdentifyAndRequire(t *testing.T) {
	svc := fixedVerifier(t)
	good := sign(t, jwt.SigningMethodHS256, goodClaims(), testSecret)
	old := sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["exp"] = epoch.Add(-time.Hour).Unix() }), testSecret)

	// lenient answers who Identify saw; strict is the same behind RequireWith.
	lenient := svc.Identify(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("user=" + string(authdash.UserFrom(r.Context())) + " sid=" + string(authdash.SessionFrom(r.Context()))))
	}))
	onFail := func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(string(authdash.ErrorCodeOf(err)) + ": " + authdash.ErrorMessageOf(err)))
	}
	strict := svc.Identify(auth.RequireWith(onFail)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok " + string(authdash.UserFrom(r.Context()))))
	})))

	tests := []struct {
		name        string
		header      string
		wantLenient string
		wantStrict  string
		wantStatus  int
		wantWWW     string
	}{
		{"OK", "Bearer " + good, "user=u1 sid=s1", "ok u1", 200, ""},
		{"OKLowercaseScheme", "bearer " + good, "user=u1 sid=s1", "ok u1", 200, ""},
		{"ErrNoHeader", "", "user= sid=", "unauthorized: Sign in to continue.", 401, `Bearer realm="authdash"`},
		{"ErrBasic", "Basic dXNlcjpwYXNz", "user= sid=", "unauthorized: Sign in to continue.", 401, `Bearer realm="authdash"`},
		{"ErrBearerOnly", "Bearer ", "user= sid=", "unauthorized: Sign in to continue.", 401, `Bearer realm="authdash"`},
		{"ErrExpired", "Bearer " + old, "user= sid=", "unauthorized: Access token expired.", 401, `error="invalid_token"`},
		{"ErrGarbage", "Bearer xyz", "user= sid=", "unauthorized: Access token is invalid.", 401, `error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api/tasks", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			lenient.ServeHTTP(rec, req)
			if rec.Code != 200 || rec.Body.String() != tt.wantLenient {
				t.Fatalf("Identify: %d %q, want 200 %q", rec.Code, rec.Body, tt.wantLenient)
			}
			rec = httptest.NewRecorder()
			strict.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantStrict {
				t.Fatalf("RequireWith: %d %q, want %d %q", rec.Code, rec.Body, tt.wantStatus, tt.wantStrict)
			}
			if www := rec.Header().Get("WWW-Authenticate"); !strings.Contains(www, tt.wantWWW) || (tt.wantWWW == "") != (www == "") {
				t.Fatalf("WWW-Authenticate %q, want %q", www, tt.wantWWW)
			}
		})
	}
}

// TestVerifiedTokenCache: a token served from the cache still expires on
// time, a token that differs by one byte is not served from it, and the
// cache stays bounded.
func TestVerifiedTokenCache(t *testing.T) {
	now := epoch
	svc, err := auth.NewVerifier(auth.VerifierConfig{Secret: testSecret, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, jwt.SigningMethodHS256, goodClaims(), testSecret)
	for range 2 { // miss, then hit
		if _, err := svc.Verify(good); err != nil {
			t.Fatal(err)
		}
	}
	if n := auth.CachedTokens(svc); n != 1 {
		t.Fatalf("%d cached tokens, want 1", n)
	}
	// Same header and payload, another signature: never a hit.
	forged := good[:strings.LastIndexByte(good, '.')+1] + strings.Repeat("A", 43)
	if _, err := svc.Verify(forged); authdash.ErrorMessageOf(err) != "Access token is invalid." {
		t.Fatalf("forged signature: %v", err)
	}
	now = epoch.Add(10*time.Minute + 4*time.Second) // within leeway
	if _, err := svc.Verify(good); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	now = epoch.Add(10*time.Minute + 5*time.Second)
	if _, err := svc.Verify(good); authdash.ErrorMessageOf(err) != "Access token expired." {
		t.Fatalf("cached token past expiry: %v", err)
	}

	now = epoch
	for i := range auth.MaxCachedTokens + 10 {
		tok := sign(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["jti"] = fmt.Sprint(i) }), testSecret)
		if _, err := svc.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := auth.CachedTokens(svc); n > auth.MaxCachedTokens {
		t.Fatalf("cache grew to %d entries, bound is %d", n, auth.MaxCachedTokens)
	}
}

func BenchmarkVerifyAccess(b *testing.B) {
	// As main wires it, with a revocation list holding a busy quarter
	// hour's sign-outs (1,000 users'). Most users have none; one with a
	// revoked other session has the list walked on every request.
	list := revocation.New(nil)
	now := time.Now()
	for i := range 1000 {
		list.Add(authdash.Revocation{User: authdash.UserID(fmt.Sprint("other", i)), At: now, Until: now.Add(time.Hour)})
	}
	e := mustEnv(b, auth.Config{}, list)
	g := e.mustRegister(b, "bench@example.com")
	h := e.mustRegister(b, "revoked-elsewhere@example.com")
	list.Add(authdash.Revocation{User: h.User.ID, Session: "another", At: now, Until: now.Add(time.Hour)})
	for _, bb := range []struct {
		name  string
		token string
	}{{"Cached", g.AccessToken}, {"CachedUserHasRevocation", h.AccessToken}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.tokens.Verify(bb.token); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
	// Uncached is the first request with a token: the full parse.
	b.Run("Uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			auth.ForgetTokens(e.tokens)
			if _, err := e.tokens.Verify(g.AccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}
