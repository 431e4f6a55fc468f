package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/idb"
	"github.com/authdash/authdash/app/taskcache"
)

// bucketOutbox holds the changes made offline, waiting to be sent.
const bucketOutbox = "outbox"

// storageSchema is the app's one IndexedDB database. Raise Version with
// every bucket added.
var storageSchema = idb.Schema{
	Name:    "authdash",
	Version: 1,
	Buckets: []string{taskcache.BucketTasks, taskcache.BucketMeta, bucketOutbox},
}

// storageWait bounds opening the database (another tab may hold it open at
// an older version for a while).
const storageWait = 5 * time.Second

// offlineState is what the controller keeps for working offline: the
// database, the user's whole task list in it (docs/REALTIME.md "Offline"),
// and, while the page shows that list instead of the server's (phaseOffline),
// the query it answers and how many of its tasks are shown. Behind c.mu.
type offlineState struct {
	open  sync.Once
	db    *idb.DB
	cache *taskcache.Cache
	// refilling: a refill of the cache is under way.
	refilling bool
	showing   bool
	shown     int
}

// storage returns the database, opened on first use; when IndexedDB cannot
// be opened, a database in memory (nothing outlives the page).
func (c *controller) storage() *idb.DB {
	c.off.open.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), storageWait)
		defer cancel()
		db, err := idb.Open(ctx, storageSchema)
		if err != nil {
			slog.Warn("offline storage: kept in memory", "err", err)
			db = idb.NewMemory(storageSchema.Buckets...)
		}
		c.off.db = db
	})
	return c.off.db
}

// useCache returns the cache of owner's tasks, opening it if the one held
// is another user's (or none).
func (c *controller) useCache(owner authdash.UserID) *taskcache.Cache {
	c.mu.Lock()
	tc := c.off.cache
	c.mu.Unlock()
	if tc != nil && tc.Owner() == owner {
		return tc
	}
	db := c.storage()
	ctx, cancel := context.WithTimeout(context.Background(), storageWait)
	defer cancel()
	tc, err := taskcache.Open(ctx, db, owner, taskcache.DefaultLimits)
	if err != nil {
		slog.Warn("offline cache: not opened", "err", err)
		return nil
	}
	c.mu.Lock()
	c.off.cache = tc
	c.mu.Unlock()
	return tc
}

// cached runs f on the cache, if one is open, and logs what fails.
func (c *controller) cached(what string, f func(ctx context.Context, tc *taskcache.Cache) error) {
	c.mu.Lock()
	tc := c.off.cache
	c.mu.Unlock()
	if tc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageWait)
	defer cancel()
	if err := f(ctx, tc); err != nil {
		slog.Warn("offline cache: "+what, "err", err)
	}
}

// cacheEvent keeps the cache current with a task event.
func (c *controller) cacheEvent(ev authdash.Event) {
	c.cached("event", func(ctx context.Context, tc *taskcache.Cache) error {
		_, err := tc.Apply(ctx, ev)
		return err
	})
}

// cachePut keeps a task the server returned.
func (c *controller) cachePut(t authdash.Task) {
	c.cached("put", func(ctx context.Context, tc *taskcache.Cache) error {
		_, err := tc.Put(ctx, t)
		return err
	})
}

// cacheRemove forgets a task the server deleted.
func (c *controller) cacheRemove(id authdash.TaskID) {
	c.cached("remove", func(ctx context.Context, tc *taskcache.Cache) error {
		_, err := tc.Remove(ctx, id, 0)
		return err
	})
}

// refillCache reads the whole list into the cache again, in the
// background: on the stream's every (re)load, after the list's own.
func (c *controller) refillCache(ctx app.Context, session int) {
	c.mu.Lock()
	tc := c.off.cache
	if tc == nil || c.off.refilling || c.session != session {
		c.mu.Unlock()
		return
	}
	c.off.refilling = true
	cl := c.client
	c.mu.Unlock()
	ctx.Async(func() {
		err := tc.Refill(context.Background(), cl.ListTasks)
		c.mu.Lock()
		c.off.refilling = false
		c.mu.Unlock()
		if err != nil {
			slog.Warn("offline cache: refill", "err", err)
		}
	})
}

// clearStorage forgets every task kept for offline use (signing out).
func (c *controller) clearStorage() {
	c.mu.Lock()
	c.off.cache = nil
	c.off.showing = false
	c.mu.Unlock()
	if !app.IsClient {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageWait)
	defer cancel()
	if err := taskcache.Clear(ctx, c.storage()); err != nil {
		slog.Warn("offline cache: not cleared", "err", err)
	}
}

// showCached makes the page show the cached list, answering the query the
// page asks for, if the cache was ever filled for owner. It reports
// whether it does.
func (c *controller) showCached(ctx app.Context, owner authdash.UserID, fallback authdash.TaskQuery) bool {
	tc := c.useCache(owner)
	if tc == nil || !tc.Filled() {
		return false
	}
	c.mu.Lock()
	if c.want == (authdash.TaskQuery{}) {
		c.want = fallback
	}
	c.off.showing = true
	c.off.shown = 0
	c.mu.Unlock()
	c.publishCached(ctx)
	return true
}

// queryCached answers a query (or, with more, shows a page more of the one
// shown) from the cache, when the page shows it; it reports whether it did.
func (c *controller) queryCached(ctx app.Context, q *authdash.TaskQuery, more bool) bool {
	c.mu.Lock()
	if !c.off.showing {
		c.mu.Unlock()
		return false
	}
	switch {
	case more:
		c.off.shown += c.want.Limit
	case q != nil:
		c.want = *q
		c.off.shown = 0
	}
	c.mu.Unlock()
	c.publishCached(ctx)
	return true
}

// publishCached shows the cached tasks that answer the page's query, a
// page at a time, and counts them when the cache has them all.
func (c *controller) publishCached(ctx app.Context) {
	c.mu.Lock()
	tc, q := c.off.cache, c.want
	q.Normalize()
	c.off.shown = max(c.off.shown, q.Limit)
	n := c.off.shown
	c.mu.Unlock()
	if tc == nil {
		return
	}
	all := tc.Tasks()
	found := taskcache.Find(all, q)
	setState(ctx, stTasks, tasksView{Query: q, Items: found[:min(n, len(found))], HasMore: len(found) > n,
		Loaded: true, ReadOnly: true, Offline: true, Partial: !tc.Complete()})
	if tc.Complete() {
		var st authdash.TaskStats
		for _, t := range all {
			switch t.Status {
			case authdash.StatusTodo:
				st.Todo++
			case authdash.StatusInProgress:
				st.InProgress++
			case authdash.StatusDone:
				st.Done++
			}
		}
		st.Total = len(all)
		setState(ctx, stStats, st)
	}
}
