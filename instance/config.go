package instance

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/auth/idp"
	"github.com/authdash/authdash/mail"
	mongostore "github.com/authdash/authdash/store/mongo"
)

// Config is everything an instance is configured with. LoadConfig reads it
// from the environment, and this file is the only place that reads an
// environment variable: README.md "Configuration" documents each; keep the
// two in step. Tests fill a Config in directly; the fields without a
// variable are tuning they may change, zero meaning the default.
type Config struct {
	Addr    string
	DataDir string
	Env     string // "dev" or "production"
	// JWTSecret is the HS256 key. Empty in dev means "use the one kept in
	// DATA_DIR, creating it if needed" (see loadDevSecret).
	JWTSecret []byte
	// MFAKey (MFA_ENCRYPTION_KEY, 32 bytes in base64) encrypts TOTP secrets
	// at rest; nil stores them as they are.
	MFAKey          []byte
	AccessTTL       time.Duration
	RefreshTTL      time.Duration
	AllowedOrigins  []string
	TrustedProxies  []netip.Prefix
	LogLevel        slog.Level
	LogFormat       string // "json" or "text"
	ShutdownTimeout time.Duration
	// Limits are the sign-in and refresh rate limits (DefaultLimits unless
	// RATE_LIMIT=off, which leaves none: load tests on one machine send
	// every request from 127.0.0.1).
	Limits   []Limit
	MongoURI string // see openStore
	// SQLiteSyncFull is SQLITE_SYNC=full: every commit is fsynced
	// (sqlite.WithSyncFull); the default, normal, can lose the last commits
	// to a power cut, never to a crash of the process.
	SQLiteSyncFull bool
	// Mongo holds the MONGO_* tuning; read only when MONGO_URI is set.
	Mongo mongostore.Options
	// Redis is REDIS_URL parsed, or nil without it: the one source of every
	// Redis client (see newRedis).
	Redis *goredis.Options
	// MetricsAddr is the operator's listener (metrics, log level, pprof);
	// "" turns it off. MetricsToken, if set, is required by every request
	// to it, and serves /metrics on Addr to requests bearing it; it must be
	// set when MetricsAddr is not loopback. See serveAdmin.
	MetricsAddr  string
	MetricsToken string
	// SMTP is SMTP_URL parsed (mail.ParseURL), or nil without it: mail is then written
	// to the log and DATA_DIR/mail instead of sent. MailFrom is MAIL_FROM, the sender.
	SMTP     *url.URL
	MailFrom string
	// AppURL is APP_URL, the frontend's origin (with any path prefix) that links in mail
	// point to; default http://localhost and ADDR's port.
	AppURL *url.URL
	// Passkeys is the WebAuthn relying party: WEBAUTHN_RP_ID (default
	// APP_URL's host) and WEBAUTHN_ORIGINS (comma-separated; default
	// APP_URL's origin).
	Passkeys auth.PasskeyConfig
	// OIDCProviders are the identity providers of OIDC_PROVIDERS
	// ("name|issuer|clientId|clientSecret", comma-separated); their
	// callbacks are OIDCRedirectBase (OIDC_REDIRECT_URL, the API's public
	// origin; default APP_URL's origin) + /api/auth/oidc/NAME/callback.
	OIDCProviders    []idp.Config
	OIDCRedirectBase string

	// HashWait is how long a sign-in waits for a password-hashing slot
	// before it is told the server is busy (auth.DefaultHashWait).
	HashWait time.Duration
	// RevocationPoll is how often, without Redis, an instance reads the
	// sessions other instances ended from the store (defaultRevocationPoll).
	RevocationPoll time.Duration
	// StoreTimeout bounds the realtime hub's change-log reads
	// (realtime.Config.StoreTimeout's default).
	StoreTimeout time.Duration
	// WSMaxUnauthenticated and WSMaxUnauthenticatedPerIP are
	// WS_MAX_UNAUTHENTICATED and WS_MAX_UNAUTHENTICATED_PER_IP: the sockets
	// waiting for their auth frame, on the instance and from one client
	// address (realtime.Config's MaxUnauthenticated*; 0 is its default).
	WSMaxUnauthenticated      int
	WSMaxUnauthenticatedPerIP int
}

// defaultMailFrom is the sender without MAIL_FROM (only allowed without SMTP_URL).
const defaultMailFrom = "Authdash <no-reply@localhost>"

func (c Config) production() bool { return c.Env == "production" }

// defaultRevocationPoll bounds how long, without Redis, a session ended on
// one instance stays usable on another sharing its store.
const defaultRevocationPoll = 2 * time.Second

// Bounds of the lifetimes. A longer access token would outlive revocation
// for longer than we promise (README "Refresh tokens").
const (
	maxAccessTTL    = 15 * time.Minute
	minAccessTTL    = 30 * time.Second
	maxRefreshTTL   = 365 * 24 * time.Hour
	maxShutdownWait = 5 * time.Minute
	minSecretLen    = 32
)

// LoadConfig reads and validates the configuration, reporting every bad
// variable at once, each by name.
func LoadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	dur := func(name string, def, lo, hi time.Duration) time.Duration {
		s := str(name, "")
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			bad(name, "%q is not a duration such as 15m or 720h", s)
		case d < lo || d > hi:
			bad(name, "%s is outside %s to %s", d, lo, hi)
		default:
			return d
		}
		return def
	}

	count := func(name string, def, lo, hi int) int {
		s := str(name, "")
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			bad(name, "%q is not a whole number", s)
		case n < lo || n > hi:
			bad(name, "%d is outside %d to %d", n, lo, hi)
		default:
			return n
		}
		return def
	}

	c := Config{
		Addr:     ListenAddr(getenv),
		DataDir:  str("DATA_DIR", "./data"),
		Env:      str("ENV", "dev"),
		MongoURI: str("MONGO_URI", ""),
	}
	if c.MongoURI != "" {
		mo, err := mongoOptions(getenv)
		if err != nil {
			errs = append(errs, err)
		}
		c.Mongo = mo
	}
	if u := str("REDIS_URL", ""); u != "" {
		opt, err := goredis.ParseURL(u)
		switch {
		case err != nil && strings.HasPrefix(err.Error(), "redis: "):
			bad("REDIS_URL", "%v", err)
		case err != nil:
			// url.Parse's errors quote the URL, password included.
			bad("REDIS_URL", "is not a URL such as redis://host:6379/0")
		}
		c.Redis = opt
	}
	if c.Env != "dev" && c.Env != "production" {
		bad("ENV", "%q must be dev or production", c.Env)
	}
	c.AccessTTL = dur("ACCESS_TOKEN_TTL", maxAccessTTL, minAccessTTL, maxAccessTTL)
	c.RefreshTTL = dur("REFRESH_TOKEN_TTL", 720*time.Hour, time.Hour, maxRefreshTTL)
	c.ShutdownTimeout = dur("SHUTDOWN_TIMEOUT", 20*time.Second, time.Second, maxShutdownWait)
	// Each waiting socket holds a goroutine and a few KiB for at most the
	// auth timeout (10 s); a million is far past what an instance serves.
	c.WSMaxUnauthenticated = count("WS_MAX_UNAUTHENTICATED", 4096, 1, 1<<20)
	c.WSMaxUnauthenticatedPerIP = count("WS_MAX_UNAUTHENTICATED_PER_IP", 64, 1, 1<<20)
	if c.WSMaxUnauthenticatedPerIP > c.WSMaxUnauthenticated {
		bad("WS_MAX_UNAUTHENTICATED_PER_IP", "%d is above WS_MAX_UNAUTHENTICATED (%d)", c.WSMaxUnauthenticatedPerIP, c.WSMaxUnauthenticated)
	}

	if secret := getenv("JWT_SECRET"); secret != "" {
		if err := checkSecret(secret); err != nil {
			bad("JWT_SECRET", "%v; generate one with: openssl rand -base64 48", err)
		}
		c.JWTSecret = []byte(secret)
	} else if c.production() {
		bad("JWT_SECRET", "is required when ENV=production (at least %d random bytes; generate one with: openssl rand -base64 48)", minSecretLen)
	}

	if k := strings.TrimSpace(getenv("MFA_ENCRYPTION_KEY")); k != "" {
		b, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(b) != auth.MFAKeyLen {
			bad("MFA_ENCRYPTION_KEY", "must be %d random bytes in base64; generate one with: openssl rand -base64 32", auth.MFAKeyLen)
		}
		c.MFAKey = b
	}

	for o := range strings.SplitSeq(getenv("ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if err := checkOrigin(o); err != nil {
			bad("ALLOWED_ORIGINS", "%q %v", o, err)
			continue
		}
		c.AllowedOrigins = append(c.AllowedOrigins, o)
	}

	for p := range strings.SplitSeq(getenv("TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				bad("TRUSTED_PROXIES", "%q is neither a CIDR (10.0.0.0/8) nor an IP address", p)
				continue
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}

	switch lv := strings.ToLower(str("LOG_LEVEL", "info")); lv {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		bad("LOG_LEVEL", "%q must be debug, info, warn or error", lv)
	}
	defFormat := "text"
	if c.production() {
		defFormat = "json"
	}
	c.LogFormat = strings.ToLower(str("LOG_FORMAT", defFormat))
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("LOG_FORMAT", "%q must be json or text", c.LogFormat)
	}

	c.MetricsAddr = str("METRICS_ADDR", "127.0.0.1:9090")
	if strings.EqualFold(c.MetricsAddr, "off") {
		c.MetricsAddr = ""
	} else if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
		bad("METRICS_ADDR", "%q is not host:port (or off)", c.MetricsAddr)
	}
	c.MetricsToken = strings.TrimSpace(getenv("METRICS_TOKEN"))
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		bad("METRICS_TOKEN", "must be at least 16 characters")
	}
	// pprof and PUT /debug/loglevel are an operator's tools: reachable
	// beyond this machine only with the token.
	if c.MetricsAddr != "" && c.MetricsToken == "" && !loopbackAddr(c.MetricsAddr) {
		bad("METRICS_TOKEN", "is required when METRICS_ADDR (%q) listens beyond loopback: the admin listener serves pprof and the log level (generate one with: openssl rand -hex 24)", c.MetricsAddr)
	}

	if raw := str("SMTP_URL", ""); raw != "" {
		u, err := mail.ParseURL(raw)
		if err != nil {
			// url.Parse's errors quote the URL, password included.
			bad("SMTP_URL", "is not a URL such as smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465")
		}
		c.SMTP = u
	}
	if c.SMTP == nil && c.production() {
		// Without a mail server every message, password-reset links included,
		// goes to the log: fine on a laptop, an account takeover for anyone who
		// can read a production log pipeline.
		bad("SMTP_URL", "is required when ENV=production: without it mail (password-reset links included) would be written to the log")
	}
	c.MailFrom = str("MAIL_FROM", defaultMailFrom)
	if c.SMTP != nil && getenv("MAIL_FROM") == "" {
		bad("MAIL_FROM", "is required with SMTP_URL (the address mail comes from, such as Authdash <no-reply@example.com>)")
	} else if _, err := netmail.ParseAddress(c.MailFrom); err != nil {
		bad("MAIL_FROM", "%q is not an address such as Authdash <no-reply@example.com>", c.MailFrom)
	}
	appURL := str("APP_URL", "")
	if appURL == "" {
		if c.SMTP != nil && c.production() {
			bad("APP_URL", "is required with SMTP_URL when ENV=production: links in mail must open the real site")
		}
		port := "8080"
		if _, p, err := net.SplitHostPort(c.Addr); err == nil && p != "" && p != "0" {
			port = p
		}
		appURL = "http://localhost:" + port
	}
	if u, err := url.Parse(appURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		bad("APP_URL", "%q is not an origin such as https://app.example.com (a path prefix may follow)", appURL)
	} else {
		c.AppURL = u
	}
	c.Passkeys = auth.PasskeyConfigFor(c.AppURL)
	if id := str("WEBAUTHN_RP_ID", ""); id != "" {
		if strings.ContainsAny(id, ":/ ") {
			bad("WEBAUTHN_RP_ID", "%q must be a domain such as example.com, no scheme or port", id)
		}
		c.Passkeys.RPID = id
	}
	if list := str("WEBAUTHN_ORIGINS", ""); list != "" {
		c.Passkeys.Origins = nil
		for _, o := range strings.Split(list, ",") {
			o = strings.TrimSpace(o)
			if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				bad("WEBAUTHN_ORIGINS", "%q is not an origin such as https://app.example.com", o)
				continue
			}
			c.Passkeys.Origins = append(c.Passkeys.Origins, strings.TrimSuffix(o, "/"))
		}
	}

	if ps, err := idp.ParseProviders(str("OIDC_PROVIDERS", "")); err != nil {
		bad("OIDC_PROVIDERS", "%v", err)
	} else {
		c.OIDCProviders = ps
	}
	c.OIDCRedirectBase = strings.TrimSuffix(str("OIDC_REDIRECT_URL", ""), "/")
	if c.OIDCRedirectBase == "" && c.AppURL != nil {
		c.OIDCRedirectBase = c.AppURL.Scheme + "://" + c.AppURL.Host
	} else if u, err := url.Parse(c.OIDCRedirectBase); c.OIDCRedirectBase != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "") {
		bad("OIDC_REDIRECT_URL", "%q is not an origin such as https://api.example.com", c.OIDCRedirectBase)
	}
	if len(c.OIDCProviders) > 0 && c.production() && !strings.HasPrefix(c.OIDCRedirectBase, "https://") {
		bad("OIDC_REDIRECT_URL", "must be https when ENV=production: the provider sends the authorization code there")
	}

	switch sy := strings.ToLower(str("SQLITE_SYNC", "normal")); sy {
	case "normal":
	case "full":
		c.SQLiteSyncFull = true
	default:
		bad("SQLITE_SYNC", "%q must be normal or full", sy)
	}

	switch rl := strings.ToLower(str("RATE_LIMIT", "on")); rl {
	case "on":
		c.Limits = DefaultLimits()
	case "off":
	default:
		bad("RATE_LIMIT", "%q must be on or off", rl)
	}
	return c, errors.Join(errs...)
}

// loopbackAddr reports whether host:port can be reached only from this
// machine: a loopback IP or "localhost". An empty host (all interfaces),
// 0.0.0.0, another IP or a host name may be reached from elsewhere.
func loopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// ListenAddr is ADDR, the API's listener (default :8080). `authdash
// healthcheck` reads it alone, so a bad unrelated variable does not fail
// the container's health check.
func ListenAddr(getenv func(string) string) string {
	if a := strings.TrimSpace(getenv("ADDR")); a != "" {
		return a
	}
	return ":8080"
}

// mongoOptions reads MONGO_DATABASE, MONGO_MAX_POOL_SIZE,
// MONGO_CONNECT_TIMEOUT, MONGO_SERVER_SELECTION_TIMEOUT, MONGO_OP_TIMEOUT,
// MONGO_RETRY (true/false), MONGO_WRITE_CONCERN and MONGO_READ_PREFERENCE.
// Unset variables keep the store's defaults; malformed ones are an error
// naming the variable.
func mongoOptions(getenv func(string) string) (mongostore.Options, error) {
	var o mongostore.Options
	var errs []error
	dur := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 5s", name, v))
				return
			}
			*dst = d
		}
	}
	o.Database = getenv("MONGO_DATABASE")
	if v := getenv("MONGO_MAX_POOL_SIZE"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			errs = append(errs, fmt.Errorf("MONGO_MAX_POOL_SIZE=%q: want a positive integer", v))
		}
		o.MaxPoolSize = n
	}
	dur("MONGO_CONNECT_TIMEOUT", &o.ConnectTimeout)
	dur("MONGO_SERVER_SELECTION_TIMEOUT", &o.ServerSelectionTimeout)
	dur("MONGO_OP_TIMEOUT", &o.OpTimeout)
	if v := getenv("MONGO_RETRY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("MONGO_RETRY=%q: want true or false", v))
		}
		o.NoRetryReads, o.NoRetryWrites = !b, !b
	}
	o.WriteConcern = getenv("MONGO_WRITE_CONCERN")
	o.ReadPreference = getenv("MONGO_READ_PREFERENCE")
	if err := o.CheckWriteConcern(); err != nil {
		errs = append(errs, fmt.Errorf("MONGO_WRITE_CONCERN: %w", err))
	}
	if err := o.CheckReadPreference(); err != nil {
		errs = append(errs, fmt.Errorf("MONGO_READ_PREFERENCE: %w", err))
	}
	return o, errors.Join(errs...)
}

// checkOrigin accepts a browser origin: scheme and host (and port), nothing
// else. "*" cannot be used: the API allows credentials.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("is not an origin such as https://app.example.com")
	}
	return nil
}

// weakWords are what people type when asked for a secret. A key containing
// one was not generated by a random source. All have six or more letters
// and none is made of hex digits alone ("abcdef", "123456" would be: one
// `openssl rand -hex 32` key in about five thousand contains one), so a
// random key contains one by chance about once in ten million; runs such
// as 123456 are caught when they make up most of a key (checkSecret).
var weakWords = []string{
	"changeme", "change-me", "change_me", "secret", "password", "passw0rd", "letmein",
	"example", "default", "qwerty", "authdash",
}

// checkSecret refuses HS256 keys that are short or evidently not random: an
// attacker who guesses the key can mint a token for any user.
func checkSecret(s string) error {
	if len(s) < minSecretLen {
		return fmt.Errorf("is %d bytes; at least %d are required", len(s), minSecretLen)
	}
	lower := strings.ToLower(s)
	for _, w := range weakWords {
		if strings.Contains(lower, w) {
			return fmt.Errorf("contains the well-known word %q", w)
		}
	}
	distinct := map[rune]bool{}
	for _, r := range s {
		distinct[r] = true
	}
	if len(distinct) < 10 {
		return fmt.Errorf("uses only %d distinct characters", len(distinct))
	}
	// A pattern repeated (abcabc…) or a run stepping by one (0123…, zyx…)
	// over most of the key.
	for p := 1; p <= len(s)/2; p++ {
		if s[p:] == s[:len(s)-p] {
			return errors.New("is a repeated pattern")
		}
	}
	steps := 0
	for i := 1; i < len(s); i++ {
		if d := int(s[i]) - int(s[i-1]); d == 1 || d == -1 || d == 0 {
			steps++
		}
	}
	if steps*2 >= len(s) {
		return errors.New("is mostly sequential or repeated characters")
	}
	return nil
}
