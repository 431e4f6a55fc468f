package main

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authdash/authdash/auth"
	"github.com/authdash/authdash/auth/revocation"
	redisrevocation "github.com/authdash/authdash/auth/revocation/redis"
)

// startRevocations returns the list of ended sessions the auth service
// checks every access token against: shared through Redis with REDIS_URL,
// so a sign-out on one instance stops the token on all of them, or this
// instance's own otherwise. stop ends its receiving loop and closes its
// connection.
func startRevocations(ctx context.Context, cfg config, log *slog.Logger) (list auth.Revocations, stop func(), err error) {
	if cfg.RedisURL == "" {
		return revocation.New(nil), func() {}, nil
	}
	opt, err := goredis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := goredis.NewClient(opt)
	shared, err := redisrevocation.New(rdb, redisrevocation.Options{Log: log})
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		shared.Run(runCtx)
	}()
	log.Info("session revocations", "kind", "redis", "addr", opt.Addr)
	return shared, func() { cancel(); <-done; rdb.Close() }, nil
}

// redisLog routes go-redis's own messages (a dial that failed, a pub/sub
// connection dropped: dozens a second during an outage) into our log at
// debug level. Our Redis users report an outage and its end once each at
// warn; without this go-redis would print every retry to stderr in a
// format of its own, between the JSON lines. go-redis has one process-wide
// logger, so main sets it once, reading the logger run installs as slog's
// default.
type redisLog struct{ log func() *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	log := l.log()
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	log.LogAttrs(ctx, slog.LevelDebug, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}
