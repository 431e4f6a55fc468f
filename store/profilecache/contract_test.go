package profilecache_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/store/profilecache"
	"github.com/authdash/authdash/store/sqlite"
	"github.com/authdash/authdash/store/storetest"
)

// TestContractThroughCache: the cache wraps the store the server uses, so
// it must pass the whole store contract too, with Redis up: profile reads
// then come from Redis whenever they can, and every update and deletion the
// contract checks must show through it. One redis-server serves the suite;
// each store gets its own key prefix.
func TestContractThroughCache(t *testing.T) {
	srv := testkit.StartRedis(t)
	ro, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(profilecache.ClientOptions(ro))
	t.Cleanup(func() { rdb.Close() })
	var n atomic.Int64
	var mu sync.Mutex
	var caches []*profilecache.Store
	storetest.Run(t, func(t *testing.T) authdash.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authdash.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		cache := profilecache.New(db, rdb, profilecache.Options{Prefix: fmt.Sprintf("contract%d:", n.Add(1))})
		mu.Lock()
		caches = append(caches, cache)
		mu.Unlock()
		return cache
	})
	var total profilecache.Stats
	for _, c := range caches {
		st := c.Stats()
		total.Hits += st.Hits
		total.Misses += st.Misses
		total.Errors += st.Errors
		total.Bypassed += st.Bypassed
	}
	// Reads went through Redis (a miss is a Redis read that found nothing),
	// and none failed: the cancelled-context case must not count.
	if total.Hits+total.Misses == 0 || total.Errors != 0 || total.Bypassed != 0 {
		t.Errorf("cache stats over the suite %+v: want Redis used and never failing", total)
	}
}
