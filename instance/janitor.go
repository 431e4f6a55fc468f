package instance

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/store/sqlite"
)

// purger is what the janitor needs of a store. Both stores keep deletions
// (tombstones, so a client that was away learns of them) with the deleted
// content (for an undo), creates' idempotency keys and ended sessions
// until told to forget them.
type purger interface {
	PurgeTombstones(ctx context.Context, olderThan time.Time) (int, error)
	PurgeDeletedContent(ctx context.Context, olderThan time.Time) (int, error)
	PurgeIdempotencyKeys(ctx context.Context, olderThan time.Time) (int, error)
	PurgeExpiredSessions(ctx context.Context, olderThan time.Time) (int, error)
	PurgeAccountTokens(ctx context.Context, before time.Time) (int, error)
	PurgeRevocations(ctx context.Context, before time.Time) (int, error)
	PurgeSignIns(ctx context.Context, before time.Time) (int, error)
	PurgePasskeyChallenges(ctx context.Context, before time.Time) (int, error)
}

// Both stores keep what the janitor purges; run checks for a purger, so
// without these a store that lost a method would silently keep everything.
var (
	_ purger = (*sqlite.DB)(nil)
	_ purger = mongoStore{}
)

// sweeper is what a store needs of the janitor when it lets a deleted
// account's still-valid access token create tasks (MongoDB: a create is one
// round trip, without reading the owner).
type sweeper interface {
	SweepDeletedAccounts(ctx context.Context, asOf time.Time) (int, error)
}

// Retention. A client away longer than tombstoneRetention reloads in full
// (ChangesSince reports the log no longer reaches back); a deleted task can
// be restored for authdash.RestoreWindow and an Idempotency-Key replays for
// authdash.IdempotencyKeyTTL (both stores also refuse older ones when
// asked, so a late janitor round loses nothing); an expired session is kept
// a day for the sessions list and reuse forensics in the logs.
const (
	tombstoneRetention = 30 * 24 * time.Hour
	sessionRetention   = 24 * time.Hour
	// A mailed link past its expiry is kept a day, so that opening it late says
	// "expired" (ask for a new one) rather than "not valid".
	accountTokenRetention = 24 * time.Hour
	janitorInterval       = time.Hour
)

// runJanitor purges on start and then about hourly until ctx ends. Every
// instance runs it; purging is idempotent, and the jitter keeps N replicas
// from purging in lockstep.
func runJanitor(ctx context.Context, p purger, log *slog.Logger) {
	for {
		purgeOnce(ctx, p, time.Now(), log)
		jitter := time.Duration(rand.Int64N(int64(janitorInterval / 4)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(janitorInterval + jitter):
		}
	}
}

// purgeOnce drops what is past retention at now; failures are logged and
// retried on the next round, since nothing depends on a purge being prompt.
func purgeOnce(ctx context.Context, p purger, now time.Time, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if n, err := p.PurgeTombstones(ctx, now.Add(-tombstoneRetention)); err != nil {
		log.Warn("purge tombstones", "err", err)
	} else if n > 0 {
		log.Info("purged tombstones", "count", n)
	}
	if n, err := p.PurgeDeletedContent(ctx, now.Add(-authdash.RestoreWindow)); err != nil {
		log.Warn("purge deleted content", "err", err)
	} else if n > 0 {
		log.Info("cleared the content of deleted tasks past the restore window", "count", n)
	}
	if n, err := p.PurgeIdempotencyKeys(ctx, now.Add(-authdash.IdempotencyKeyTTL)); err != nil {
		log.Warn("purge idempotency keys", "err", err)
	} else if n > 0 {
		log.Info("purged idempotency keys", "count", n)
	}
	if n, err := p.PurgeExpiredSessions(ctx, now.Add(-sessionRetention)); err != nil {
		log.Warn("purge sessions", "err", err)
	} else if n > 0 {
		log.Info("purged expired sessions", "count", n)
	}
	if n, err := p.PurgeAccountTokens(ctx, now.Add(-accountTokenRetention)); err != nil {
		log.Warn("purge account tokens", "err", err)
	} else if n > 0 {
		log.Info("purged expired links", "count", n)
	}
	// A revocation matters until the tokens it covers expire (its Until).
	if n, err := p.PurgeRevocations(ctx, now); err != nil {
		log.Warn("purge revocations", "err", err)
	} else if n > 0 {
		log.Info("purged expired revocations", "count", n)
	}
	if n, err := p.PurgeSignIns(ctx, now.Add(-authdash.SignInRetention)); err != nil {
		log.Warn("purge sign-ins", "err", err)
	} else if n > 0 {
		log.Info("purged old sign-in activity", "count", n)
	}
	if n, err := p.PurgePasskeyChallenges(ctx, now); err != nil {
		log.Warn("purge passkey challenges", "err", err)
	} else if n > 0 {
		log.Info("purged expired passkey challenges", "count", n)
	}
	if s, ok := p.(sweeper); ok {
		if n, err := s.SweepDeletedAccounts(ctx, now); err != nil {
			log.Warn("sweep deleted accounts", "err", err)
		} else if n > 0 {
			log.Info("swept tasks of deleted accounts", "count", n)
		}
	}
}
