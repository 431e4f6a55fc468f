// Package oidctest is a small but real OpenID Connect provider for tests:
// discovery, a JWKS, an authorization endpoint that signs the next person in
// at once, and a token endpoint that checks the client, the code (single
// use) and the PKCE verifier and answers with an RS256-signed ID token. A
// test sets who signs in next and how the next ID token is spoiled (wrong
// nonce, expired, wrong audience, foreign key) to see each refused.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Person is who the provider signs in.
type Person struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
}

// Spoil makes the next ID token wrong in one way.
type Spoil int

const (
	SpoilNone     Spoil = iota
	SpoilNonce          // a nonce the client did not send
	SpoilExpired        // expired an hour ago
	SpoilAudience       // issued to another client
	SpoilKey            // signed with a key not in the JWKS
	SpoilIssuer         // from another issuer
)

// Provider is a running provider; close it with Close.
type Provider struct {
	*httptest.Server
	ClientID, ClientSecret string

	key, other *rsa.PrivateKey

	mu     sync.Mutex
	next   Person
	spoil  Spoil
	deny   bool
	codes  map[string]grant
	Tokens int // token requests answered with an ID token
}

type grant struct {
	person    Person
	nonce     string
	challenge string
	redirect  string
	used      bool
}

// Start runs a provider on a loopback port.
func Start() *Provider { return StartOn("127.0.0.1:0") }

// StartOn runs a provider on addr (a provider that was down coming back
// where it was).
func StartOn(addr string) *Provider {
	p := &Provider{ClientID: "authdash-test", ClientSecret: "s3cret", codes: map[string]grant{}}
	var err error
	if p.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if p.other, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /keys", p.keys)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		panic(err)
	}
	p.Server = httptest.NewUnstartedServer(mux)
	p.Server.Listener.Close()
	p.Server.Listener = l
	p.Server.Start()
	return p
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string { return p.URL }

// SignIn sets who the next authorization signs in, and how its ID token is
// spoiled.
func (p *Provider) SignIn(who Person, spoil Spoil) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next, p.spoil, p.deny = who, spoil, false
}

// Deny makes the next authorization end with error=access_denied.
func (p *Provider) Deny() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = true
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (p *Provider) keys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

// authorize signs the next person in without a page: it redirects back with
// a code (or the error the test asked for).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	p.mu.Lock()
	if p.deny {
		p.deny = false
		back.Set("error", "access_denied")
	} else {
		code := rand.Text()
		p.codes[code] = grant{person: p.next, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: redirect.String()}
		back.Set("code", code)
	}
	p.mu.Unlock()
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.ClientSecret {
		tokenError(w, "invalid_client")
		return
	}
	p.mu.Lock()
	g, ok := p.codes[r.PostForm.Get("code")]
	if ok {
		p.codes[r.PostForm.Get("code")] = grant{used: true}
	}
	spoil := p.spoil
	p.spoil = SpoilNone
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !ok || g.used || r.PostForm.Get("redirect_uri") != g.redirect:
		tokenError(w, "invalid_grant")
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		tokenError(w, "invalid_grant") // PKCE
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": p.URL, "sub": g.person.Subject, "aud": p.ClientID, "nonce": g.nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"email": g.person.Email, "email_verified": g.person.EmailVerified, "name": g.person.Name,
	}
	key := p.key
	switch spoil {
	case SpoilNonce:
		claims["nonce"] = "not-the-nonce"
	case SpoilExpired:
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	case SpoilAudience:
		claims["aud"] = "another-client"
	case SpoilKey:
		key = p.other
	case SpoilIssuer:
		claims["iss"] = "https://elsewhere.example"
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	body, _ := json.Marshal(claims)
	jws, err := signer.Sign(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	idToken, _ := jws.CompactSerialize()
	p.mu.Lock()
	p.Tokens++
	p.mu.Unlock()
	writeJSON(w, map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func tokenError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
