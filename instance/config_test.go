package instance

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// strongSecret is what `openssl rand -base64 48` gives.
func strongSecret(tb testing.TB) string {
	b := make([]byte, 48)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func TestLoadConfig(t *testing.T) {
	secret := strongSecret(t)
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // substrings, each naming the variable
		check   func(t *testing.T, c Config)
	}{
		{name: "DevDefaults", env: nil, check: func(t *testing.T, c Config) {
			if c.Addr != ":8080" || c.DataDir != "./data" || c.Env != "dev" || c.AccessTTL != 15*time.Minute ||
				c.RefreshTTL != 720*time.Hour || c.LogFormat != "text" || c.LogLevel != slog.LevelInfo || len(c.Limits) != 4 ||
				c.JWTSecret != nil || c.Redis != nil || c.MongoURI != "" || c.ShutdownTimeout != 20*time.Second || len(c.AllowedOrigins) != 0 ||
				c.SQLiteSyncFull || c.WSMaxUnauthenticated != 4096 || c.WSMaxUnauthenticatedPerIP != 64 {
				t.Errorf("%+v", c)
			}
		}},
		{name: "ProductionDefaults", env: map[string]string{"ENV": "production", "JWT_SECRET": secret,
			"SMTP_URL": "smtps://mail.example.com", "MAIL_FROM": "a@example.com", "APP_URL": "https://example.com"}, check: func(t *testing.T, c Config) {
			if c.LogFormat != "json" || string(c.JWTSecret) != secret || !c.production() {
				t.Errorf("%+v", c)
			}
		}},
		{name: "Everything", env: map[string]string{
			"ADDR": "127.0.0.1:9000", "DATA_DIR": "/var/lib/authdash", "ACCESS_TOKEN_TTL": "5m", "REFRESH_TOKEN_TTL": "24h",
			"ALLOWED_ORIGINS": "https://app.example.com, http://localhost:3000", "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
			"LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json", "SHUTDOWN_TIMEOUT": "45s", "RATE_LIMIT": "off",
			"REDIS_URL": "redis://:pw@cache:6380/2", "MONGO_URI": "mongodb://db/", "MONGO_DATABASE": "prod",
			"SQLITE_SYNC": "FULL", "WS_MAX_UNAUTHENTICATED": "500", "WS_MAX_UNAUTHENTICATED_PER_IP": " 8 ",
		}, check: func(t *testing.T, c Config) {
			if c.Addr != "127.0.0.1:9000" || c.AccessTTL != 5*time.Minute || c.RefreshTTL != 24*time.Hour ||
				strings.Join(c.AllowedOrigins, " ") != "https://app.example.com http://localhost:3000" ||
				len(c.TrustedProxies) != 2 || c.TrustedProxies[1] != netip.MustParsePrefix("192.168.1.1/32") ||
				c.LogLevel != slog.LevelDebug || c.ShutdownTimeout != 45*time.Second || len(c.Limits) != 0 ||
				c.Redis == nil || c.Redis.Addr != "cache:6380" || c.Redis.Password != "pw" || c.Redis.DB != 2 ||
				c.MongoURI != "mongodb://db/" || c.Mongo.Database != "prod" || !c.SQLiteSyncFull ||
				c.WSMaxUnauthenticated != 500 || c.WSMaxUnauthenticatedPerIP != 8 {
				t.Errorf("%+v", c)
			}
		}},
		{name: "MailDefaults", env: map[string]string{"ADDR": "127.0.0.1:9000"}, check: func(t *testing.T, c Config) {
			if c.SMTP != nil || c.MailFrom != "Authdash <no-reply@localhost>" || c.AppURL.String() != "http://localhost:9000" {
				t.Errorf("SMTP %v, MAIL_FROM %q, APP_URL %v", c.SMTP, c.MailFrom, c.AppURL)
			}
		}},
		{name: "Mail", env: map[string]string{"ENV": "production", "JWT_SECRET": secret, "SMTP_URL": "smtps://mailer:s3cret@mail.example.com",
			"MAIL_FROM": "Tasks <tasks@example.com>", "APP_URL": "https://example.com/tasks"}, check: func(t *testing.T, c Config) {
			if c.SMTP.Scheme != "smtps" || c.SMTP.Host != "mail.example.com" || c.MailFrom != "Tasks <tasks@example.com>" || c.AppURL.String() != "https://example.com/tasks" {
				t.Errorf("SMTP %v, MAIL_FROM %q, APP_URL %v", c.SMTP, c.MailFrom, c.AppURL)
			}
		}},
		{name: "ErrSMTPURL", env: map[string]string{"SMTP_URL": "smtp://u:s3cret@mail.example.com:99999", "MAIL_FROM": "a@example.com"}, wantErr: []string{"SMTP_URL: is not a URL"}},
		{name: "ErrSMTPURLScheme", env: map[string]string{"SMTP_URL": "http://mail.example.com", "MAIL_FROM": "a@example.com"}, wantErr: []string{"SMTP_URL"}},
		{name: "ErrSMTPWithoutFrom", env: map[string]string{"SMTP_URL": "smtp://mail.example.com"}, wantErr: []string{"MAIL_FROM: is required"}},
		{name: "ErrMailFrom", env: map[string]string{"MAIL_FROM": "nobody"}, wantErr: []string{"MAIL_FROM"}},
		{name: "ErrProductionWithoutSMTP", env: map[string]string{"ENV": "production", "JWT_SECRET": secret}, wantErr: []string{"SMTP_URL: is required"}},
		{name: "ErrProductionSMTPWithoutAppURL", env: map[string]string{"ENV": "production", "JWT_SECRET": secret, "SMTP_URL": "smtp://mail.example.com", "MAIL_FROM": "a@example.com"},
			wantErr: []string{"APP_URL: is required"}},
		{name: "PasskeysFromAppURL", env: map[string]string{"APP_URL": "https://app.example.com/tasks"}, check: func(t *testing.T, c Config) {
			if c.Passkeys.RPID != "app.example.com" || len(c.Passkeys.Origins) != 1 || c.Passkeys.Origins[0] != "https://app.example.com" {
				t.Errorf("passkeys %+v", c.Passkeys)
			}
		}},
		{name: "PasskeysOverridden", env: map[string]string{"APP_URL": "https://app.example.com", "WEBAUTHN_RP_ID": "example.com",
			"WEBAUTHN_ORIGINS": "https://app.example.com, https://admin.example.com/"}, check: func(t *testing.T, c Config) {
			if c.Passkeys.RPID != "example.com" || strings.Join(c.Passkeys.Origins, " ") != "https://app.example.com https://admin.example.com" {
				t.Errorf("passkeys %+v", c.Passkeys)
			}
		}},
		{name: "PasskeysNotForAnAddress", env: map[string]string{"APP_URL": "http://127.0.0.1:8080"}, check: func(t *testing.T, c Config) {
			if c.Passkeys.RPID != "" {
				t.Errorf("passkeys %+v: an IP address is no relying party ID", c.Passkeys)
			}
		}},
		{name: "OIDCProviders", env: map[string]string{"APP_URL": "https://app.example.com/tasks",
			"OIDC_PROVIDERS": "google|https://accounts.google.com|id|secret,corp=Corp SSO|https://sso.example.com|c|s"}, check: func(t *testing.T, c Config) {
			if len(c.OIDCProviders) != 2 || c.OIDCProviders[1].DisplayName != "Corp SSO" || c.OIDCRedirectBase != "https://app.example.com" {
				t.Errorf("providers %+v, redirect base %q", c.OIDCProviders, c.OIDCRedirectBase)
			}
		}},
		{name: "OIDCRedirectURL", env: map[string]string{"OIDC_REDIRECT_URL": "https://api.example.com/"}, check: func(t *testing.T, c Config) {
			if c.OIDCRedirectBase != "https://api.example.com" {
				t.Errorf("redirect base %q", c.OIDCRedirectBase)
			}
		}},
		{name: "ErrOIDCProviders", env: map[string]string{"OIDC_PROVIDERS": "google|accounts.google.com|id|secret"}, wantErr: []string{"OIDC_PROVIDERS"}},
		{name: "ErrOIDCRedirectURL", env: map[string]string{"OIDC_REDIRECT_URL": "api.example.com"}, wantErr: []string{"OIDC_REDIRECT_URL"}},
		{name: "ErrWebAuthnRPID", env: map[string]string{"WEBAUTHN_RP_ID": "https://example.com"}, wantErr: []string{"WEBAUTHN_RP_ID"}},
		{name: "ErrWebAuthnOrigins", env: map[string]string{"WEBAUTHN_ORIGINS": "example.com"}, wantErr: []string{"WEBAUTHN_ORIGINS"}},
		{name: "ErrAppURL", env: map[string]string{"APP_URL": "example.com"}, wantErr: []string{"APP_URL"}},
		{name: "ErrAppURLWithQuery", env: map[string]string{"APP_URL": "https://example.com/?x=1"}, wantErr: []string{"APP_URL"}},
		{name: "ErrProductionWithoutSecret", env: map[string]string{"ENV": "production"}, wantErr: []string{"JWT_SECRET: is required"}},
		{name: "ErrShortSecret", env: map[string]string{"ENV": "production", "JWT_SECRET": "tooShort-9f8e7d"}, wantErr: []string{"JWT_SECRET: is 15 bytes"}},
		{name: "ErrWellKnownWord", env: map[string]string{"ENV": "production", "JWT_SECRET": "changeme-Xq81!zLp0-Wv72#kRt5-Jn3@"}, wantErr: []string{"JWT_SECRET", "changeme"}},
		{name: "ErrRepeated", env: map[string]string{"ENV": "production", "JWT_SECRET": strings.Repeat("a", 40)}, wantErr: []string{"JWT_SECRET", "distinct"}},
		{name: "ErrPattern", env: map[string]string{"ENV": "production", "JWT_SECRET": strings.Repeat("q7Zx!mK2p9", 4)}, wantErr: []string{"JWT_SECRET", "repeated pattern"}},
		{name: "ErrSequential", env: map[string]string{"ENV": "production", "JWT_SECRET": "9876zyxwvutsrqponmlkjihgfedcba5432"}, wantErr: []string{"JWT_SECRET", "sequential"}},
		{name: "ErrWeakSecretInDevToo", env: map[string]string{"JWT_SECRET": "short"}, wantErr: []string{"JWT_SECRET"}},
		{name: "ErrEnv", env: map[string]string{"ENV": "staging"}, wantErr: []string{"ENV: \"staging\""}},
		{name: "ErrAccessTTLTooLong", env: map[string]string{"ACCESS_TOKEN_TTL": "1h"}, wantErr: []string{"ACCESS_TOKEN_TTL"}},
		{name: "ErrAccessTTLNotADuration", env: map[string]string{"ACCESS_TOKEN_TTL": "15"}, wantErr: []string{"ACCESS_TOKEN_TTL: \"15\" is not a duration"}},
		{name: "ErrRefreshTTL", env: map[string]string{"REFRESH_TOKEN_TTL": "1m"}, wantErr: []string{"REFRESH_TOKEN_TTL"}},
		{name: "ErrWildcardOrigin", env: map[string]string{"ALLOWED_ORIGINS": "*"}, wantErr: []string{"ALLOWED_ORIGINS: \"*\""}},
		{name: "ErrOriginWithPath", env: map[string]string{"ALLOWED_ORIGINS": "https://app.example.com/"}, wantErr: []string{"ALLOWED_ORIGINS"}},
		{name: "ErrTrustedProxy", env: map[string]string{"TRUSTED_PROXIES": "the-load-balancer"}, wantErr: []string{"TRUSTED_PROXIES"}},
		{name: "ErrLogLevel", env: map[string]string{"LOG_LEVEL": "verbose"}, wantErr: []string{"LOG_LEVEL"}},
		{name: "ErrLogFormat", env: map[string]string{"LOG_FORMAT": "xml"}, wantErr: []string{"LOG_FORMAT"}},
		{name: "ErrShutdownTimeout", env: map[string]string{"SHUTDOWN_TIMEOUT": "0s"}, wantErr: []string{"SHUTDOWN_TIMEOUT"}},
		{name: "MetricsOnLoopback", env: map[string]string{"METRICS_ADDR": "[::1]:9090"}, check: func(t *testing.T, c Config) {}},
		{name: "MetricsOnLocalhost", env: map[string]string{"METRICS_ADDR": "localhost:9090"}, check: func(t *testing.T, c Config) {}},
		{name: "MetricsEverywhereWithToken", env: map[string]string{"METRICS_ADDR": ":9090", "METRICS_TOKEN": "0123456789abcdef0123"}, check: func(t *testing.T, c Config) {
			if c.MetricsAddr != ":9090" || c.MetricsToken != "0123456789abcdef0123" {
				t.Errorf("%+v", c)
			}
		}},
		{name: "ErrMetricsEverywhereWithoutToken", env: map[string]string{"METRICS_ADDR": ":9090"}, wantErr: []string{"METRICS_TOKEN: is required when METRICS_ADDR"}},
		{name: "ErrMetricsOnAllIPv4WithoutToken", env: map[string]string{"METRICS_ADDR": "0.0.0.0:9090"}, wantErr: []string{"METRICS_TOKEN: is required"}},
		{name: "ErrMetricsOnPrivateIPWithoutToken", env: map[string]string{"METRICS_ADDR": "10.1.2.3:9090"}, wantErr: []string{"METRICS_TOKEN: is required"}},
		{name: "ErrMetricsOnHostNameWithoutToken", env: map[string]string{"METRICS_ADDR": "admin.internal:9090"}, wantErr: []string{"METRICS_TOKEN: is required"}},
		{name: "ErrSQLiteSync", env: map[string]string{"SQLITE_SYNC": "extra"}, wantErr: []string{"SQLITE_SYNC: \"extra\""}},
		{name: "ErrWSMaxUnauthenticated", env: map[string]string{"WS_MAX_UNAUTHENTICATED": "0"}, wantErr: []string{"WS_MAX_UNAUTHENTICATED: 0 is outside"}},
		{name: "ErrWSMaxUnauthenticatedPerIP", env: map[string]string{"WS_MAX_UNAUTHENTICATED_PER_IP": "lots"}, wantErr: []string{"WS_MAX_UNAUTHENTICATED_PER_IP: \"lots\""}},
		{name: "ErrWSPerIPAboveTotal", env: map[string]string{"WS_MAX_UNAUTHENTICATED": "10", "WS_MAX_UNAUTHENTICATED_PER_IP": "20"}, wantErr: []string{"WS_MAX_UNAUTHENTICATED_PER_IP: 20 is above"}},
		{name: "ErrRateLimit", env: map[string]string{"RATE_LIMIT": "maybe"}, wantErr: []string{"RATE_LIMIT"}},
		{name: "ErrRedisURLScheme", env: map[string]string{"REDIS_URL": "http://cache:6379"}, wantErr: []string{"REDIS_URL: redis: invalid URL scheme"}},
		{name: "ErrRedisURLHidesPassword", env: map[string]string{"REDIS_URL": "redis://:s3cret@cache:6379/%zz"}, wantErr: []string{"REDIS_URL: is not a URL"}},
		{name: "ErrMongoOptions", env: map[string]string{"MONGO_URI": "mongodb://db/", "MONGO_RETRY": "sometimes"}, wantErr: []string{"MONGO_RETRY"}},
		{name: "MFAKey", env: map[string]string{"MFA_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))}, check: func(t *testing.T, c Config) {
			if string(c.MFAKey) != "0123456789abcdef0123456789abcdef" {
				t.Errorf("MFAKey = %q", c.MFAKey)
			}
		}},
		{name: "ErrMFAKeyShort", env: map[string]string{"MFA_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString([]byte("short"))}, wantErr: []string{"MFA_ENCRYPTION_KEY: must be 32"}},
		{name: "ErrMFAKeyNotBase64", env: map[string]string{"MFA_ENCRYPTION_KEY": "not base64!"}, wantErr: []string{"MFA_ENCRYPTION_KEY"}},
		{name: "ErrSeveralAtOnce", env: map[string]string{"ENV": "production", "LOG_LEVEL": "loud", "ADDR": ":1"},
			wantErr: []string{"JWT_SECRET", "LOG_LEVEL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(func(k string) string { return tt.env[k] })
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, c)
				return
			}
			if err == nil {
				t.Fatalf("no error; config %+v", c)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows a password", err)
			}
		})
	}
}

// TestCheckSecretAcceptsRandomKeys guards against false alarms: keys from a
// random source, in the encodings people use, always pass.
func TestCheckSecretAcceptsRandomKeys(t *testing.T) {
	// Hex keys that once drew a false alarm.
	for _, s := range []string{
		"035c2651f998f721dc436b13d36aec4b3264d353eabcdefd0c693647f9040ec2",
		"9c1e0b77f2a4123456d0e8b5c3a1f6e27d4c9b0a5e8f1d3c6b2a7e4f0d9c8b1a",
	} {
		if err := checkSecret(s); err != nil {
			t.Errorf("random key %q refused: %v", s, err)
		}
	}
	for range 200 {
		b := make([]byte, 32)
		rand.Read(b)
		for _, s := range []string{hex.EncodeToString(b), base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)} {
			if err := checkSecret(s); err != nil {
				t.Fatalf("random key %q refused: %v", s, err)
			}
		}
	}
}
