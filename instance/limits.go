package instance

import (
	"fmt"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authdash/authdash/internal/ratelimit"
	redislimit "github.com/authdash/authdash/internal/ratelimit/redis"
	"github.com/authdash/authdash/metrics"
	"github.com/authdash/authdash/server"
)

// Limit is one rate limit on the auth endpoints: Rate requests a second
// per key on average, Burst at once.
type Limit struct {
	Name  string // LimitSignInIP, LimitSignInAccount, LimitRefreshIP or LimitMail
	Rate  float64
	Burst int
}

// The limits the server knows, by the key they count.
const (
	LimitSignInIP      = "signin-ip"
	LimitSignInAccount = "signin-account"
	LimitRefreshIP     = "refresh-ip"
	LimitMail          = "mail"
)

// DefaultLimits are the limits of RATE_LIMIT=on. Sign-in per IP is generous
// enough for an office behind one NAT; per account it is tight, since no
// person types a password more than a few times a minute; refreshes come
// once per access token lifetime per tab, so a flood of them is a bug or an
// attack.
func DefaultLimits() []Limit {
	return []Limit{
		{LimitSignInIP, 30.0 / 60, 30},     // 30 a minute
		{LimitSignInAccount, 5.0 / 60, 10}, // 10 at once, then 5 a minute
		{LimitRefreshIP, 2, 60},            // 60 at once, then 2 a second
		{LimitMail, 1.0 / 60, 3},           // 3 messages at once, then 1 a minute per address or account
	}
}

// addRateLimits puts cfg's limits into d. With Redis (rdb not nil) they
// live there and hold across every instance, and each instance keeps its own
// (on the clock now) for when Redis is down; without Redis only its own. Either way the rejections are counted in the
// metrics.
func addRateLimits(d *server.Deps, limits []Limit, rdb *goredis.Client, now func() time.Time, m *metrics.Metrics, log *slog.Logger) error {
	for _, l := range limits {
		var dst *server.Limiter
		switch l.Name {
		case LimitSignInIP:
			dst = &d.Limiter
		case LimitSignInAccount:
			dst = &d.AccountLimiter
		case LimitRefreshIP:
			dst = &d.RefreshLimiter
		case LimitMail:
			dst = &d.MailLimiter
		default:
			return fmt.Errorf("rate limit %q: no such limit", l.Name)
		}
		ml, err := ratelimit.NewMemory(l.Rate, l.Burst, ratelimit.WithClock(now))
		if err != nil {
			return err
		}
		var lim metrics.Limiter = ml
		if rdb != nil {
			// While Redis is down this instance's own limiter decides: at
			// worst N instances allow N times the limit, never unlimited.
			rl, err := redislimit.New(rdb, l.Rate, l.Burst, redislimit.Options{
				Prefix: "authdash:ratelimit:" + l.Name + ":", Log: log, Fallback: ml,
			})
			if err != nil {
				return err
			}
			m.LimiterFailures(l.Name, rl.Failures)
			lim = rl
		}
		*dst = m.Limiter(l.Name, lim)
	}
	return nil
}
