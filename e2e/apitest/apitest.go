// Package apitest runs the real API in-process for the tests of its
// clients: instance.Build, as cmd/authdash builds it (SQLite in a temporary
// directory, the in-process broker), behind an httptest listener. A field
// renamed on either side of the wire then fails the client's tests.
package apitest

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/authdash/authdash/auth/idp"
	"github.com/authdash/authdash/instance"
	"github.com/authdash/authdash/server"
)

// Options adjust the server; the zero value is the plain API, without rate
// limits.
type Options struct {
	// Secret signs access tokens; nil uses a fixed test key.
	Secret []byte
	// Limits, if set, are the rate limits (instance.Config.Limits).
	Limits []instance.Limit
	// Ready are readiness checks run after the store's.
	Ready []server.Check
	// Now is the clock of the stores, tokens and limits; nil is time.Now.
	Now func() time.Time
	// AccessTTL is the access tokens' lifetime; 0 is the default.
	AccessTTL time.Duration
	// SMTP, if set, is where mail goes (SMTP_URL), trusting MailRootCAs; without
	// it mail is written under the temporary DATA_DIR. AppURL is APP_URL.
	SMTP        *url.URL
	MailRootCAs *x509.CertPool
	AppURL      *url.URL
	// DataDir is DATA_DIR; "" is a fresh temporary one. Two servers given
	// the same share one SQLite file, as two instances can.
	DataDir string
	// OIDCProviders are the identity providers (OIDC_PROVIDERS), whose
	// callbacks are on OIDCRedirectBase (OIDC_REDIRECT_URL).
	OIDCProviders    []idp.Config
	OIDCRedirectBase string
}

// Server is a running API.
type Server struct {
	URL string
	*instance.Instance
}

// Start runs the API until the test ends.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	secret := o.Secret
	if secret == nil {
		secret = []byte("Zr8p-apitest-signing-key-Wq4mN7xK2vB9")
	}
	dir := o.DataDir
	if dir == "" {
		dir = tb.TempDir()
	}
	cfg := instance.Config{
		DataDir:   dir,
		Env:       "dev",
		JWTSecret: secret,
		Limits:    o.Limits,
		AccessTTL: o.AccessTTL,
		// A loaded test machine must not turn a slow hash or a slow store
		// read into a 503.
		HashWait:     time.Minute,
		StoreTimeout: time.Minute,
		SMTP:         o.SMTP,
		AppURL:       o.AppURL,

		OIDCProviders:    o.OIDCProviders,
		OIDCRedirectBase: o.OIDCRedirectBase,
	}
	if o.SMTP != nil {
		cfg.MailFrom = "Authdash <no-reply@authdash.test>"
	}
	in, err := instance.Build(context.Background(), cfg, instance.Env{
		Log: slog.New(slog.DiscardHandler), Now: o.Now, Ready: o.Ready, Version: "test", MailRootCAs: o.MailRootCAs,
	})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(in.Handler)
	tb.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		in.Shutdown(sctx)
		srv.Close()
		in.Close()
	})
	return &Server{URL: srv.URL, Instance: in}
}
