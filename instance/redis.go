package instance

import (
	goredis "github.com/redis/go-redis/v9"

	"github.com/authdash/authdash/store/profilecache"
)

// redisClients are every Redis client an instance uses, all derived here
// from the one parsed REDIS_URL (Config.Redis).
type redisClients struct {
	// shared carries the realtime broker, the revocation list and the rate
	// limits, with go-redis's defaults. Each subscription (broker,
	// revocations) takes a connection of its own outside the pool.
	shared *goredis.Client
	// cache is the profile cache's: it fails fast instead of retrying.
	cache *goredis.Client
}

func newRedis(opt *goredis.Options) *redisClients {
	return &redisClients{
		shared: goredis.NewClient(opt),
		cache:  goredis.NewClient(profilecache.ClientOptions(opt)),
	}
}

// Close closes the clients; call it once nothing uses them.
func (r *redisClients) Close() {
	r.shared.Close()
	r.cache.Close()
}
