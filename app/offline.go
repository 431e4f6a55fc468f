package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/backoff"
	"github.com/authdash/authdash/app/idb"
	"github.com/authdash/authdash/app/outbox"
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
	// queue is the outbox of the user's changes made offline; replaying
	// while it is being sent; conflicts are those a replay left, shown
	// one after another.
	queue      pendingQueue
	queueOwner authdash.UserID
	replaying  bool
	conflicts  []conflict
	// withdrawals are the deletions kept in the outbox that an open offer
	// (by its ID) can take back: its Undo withdraws the deletion before
	// it is ever sent (queueDelete).
	withdrawals withdrawals
	// netDown: the browser said the network is gone while signed in, and
	// has not said it is back (network.go).
	netDown bool
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

// showingCached reports whether the page shows the kept list.
func (c *controller) showingCached() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.off.showing
}

// useQueue returns owner's outbox, opening it (with what a reload left)
// if the one held is another user's, or none; nil when it cannot be.
func (c *controller) useQueue(owner authdash.UserID) pendingQueue {
	c.mu.Lock()
	q, qOwner := c.off.queue, c.off.queueOwner
	c.mu.Unlock()
	if q != nil && qOwner == owner {
		return q
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageWait)
	defer cancel()
	q, err := openOutbox(ctx, c.storage(), owner, c.api())
	if err != nil {
		slog.Warn("outbox: not opened", "err", err)
		q = nil
	}
	c.mu.Lock()
	c.off.queue, c.off.queueOwner = q, owner
	c.mu.Unlock()
	return q
}

// clearStorage forgets every task kept for offline use and every change
// not yet sent (signing out: nothing of the person may stay).
func (c *controller) clearStorage() {
	c.mu.Lock()
	c.off.cache = nil
	c.off.showing = false
	c.off.queue, c.off.queueOwner = nil, ""
	c.off.conflicts = nil
	c.mu.Unlock()
	if !app.IsClient {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageWait)
	defer cancel()
	if err := taskcache.Clear(ctx, c.storage()); err != nil {
		slog.Warn("offline cache: not cleared", "err", err)
	}
	if err := c.storage().Write(ctx, idb.Clear(bucketOutbox)); err != nil {
		slog.Warn("outbox: not cleared", "err", err)
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
	var pending []authdash.TaskID
	c.mu.Lock()
	queue := c.off.queue
	c.mu.Unlock()
	if queue != nil {
		all, pending = queue.View(all)
	}
	found := taskcache.Find(all, q)
	setState(ctx, stTasks, tasksView{Query: q, Items: found[:min(n, len(found))], HasMore: len(found) > n,
		Loaded: true, ReadOnly: queue == nil, Offline: true, Partial: !tc.Complete(), Pending: pending})
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

// pendingQueue is the outbox (app/outbox) as the page uses it: the changes
// made offline, kept in the database across reloads, shown over the kept
// list, and sent in order when the network is back.
type pendingQueue interface {
	// Create keeps a new task and returns it as the list shows it until it
	// is sent (an ID of its own; key is its Idempotency-Key).
	Create(ctx context.Context, key string, d authdash.TaskDraft) (authdash.Task, error)
	// Update keeps an edit made on base (the version shown).
	Update(ctx context.Context, base authdash.Task, p authdash.TaskPatch) error
	// Delete keeps the deletion of base, the task as shown (ID and
	// version; the rest names it in a refusal and a conflict), and
	// returns what Withdraw takes back.
	Delete(ctx context.Context, base authdash.Task) (outbox.Deletion, error)
	// Withdraw takes a kept deletion back, with the changes it replaced;
	// false when it is no longer kept (sent).
	Withdraw(ctx context.Context, d outbox.Deletion) (bool, error)
	// View lays the kept changes over tasks, and names the changed ones.
	View(tasks []authdash.Task) ([]authdash.Task, []authdash.TaskID)
	// Len counts the changes kept.
	Len() int
	// Replay sends the changes in order, stopping at the first the server
	// cannot be reached for (kept, with the rest).
	Replay(ctx context.Context) (replayReport, error)
}

// replayReport is what sending the kept changes did.
type replayReport struct {
	Saved   []authdash.Task
	Deleted []authdash.TaskID
	// Conflicts are edits (or deletions) the server's version meanwhile
	// differs from in the same fields: for the person to decide.
	Conflicts []conflict
	// Refused are what the server would not take (a task deleted
	// meanwhile, say), in words.
	Refused []string
}

// unsent counts the changes the outbox keeps that the server has not
// had yet.
func (c *controller) unsent() int {
	c.mu.Lock()
	q := c.off.queue
	c.mu.Unlock()
	if q == nil {
		return 0
	}
	return q.Len()
}

// editingOffline reports whether changes go to the outbox rather than to
// the server: the page shows the kept list (offline, or changes still
// wait to be sent).
func (c *controller) editingOffline() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.off.showing && c.off.queue != nil
}

// goOffline makes a signed-in page whose device has lost the network show
// the kept list, so that what is changed from now on goes to the outbox.
// It reports whether it did: the browser says it is offline, and there are
// a kept list and an outbox. A server that cannot be reached while the
// device is online (down, or restarting) keeps the change on the page with
// a Retry instead, as before: a deterministic rule, not a race with the
// kept list's refill.
func (c *controller) goOffline(ctx app.Context) bool {
	if app.IsClient && app.Window().Get("navigator").Get("onLine").Bool() {
		return false
	}
	c.mu.Lock()
	ok := c.off.cache != nil && c.off.queue != nil && c.off.cache.Filled()
	if ok && !c.off.showing {
		c.off.showing, c.off.shown = true, 0
	}
	if ok {
		c.off.netDown = true
	}
	c.mu.Unlock()
	if ok {
		c.publishCached(ctx)
		// Said, not only done: the banner and the live badge (network.go).
		c.showPresence(ctx)
	}
	return ok
}

// queued runs f on the outbox and shows the result; it reports whether
// the change is kept.
func (c *controller) queued(ctx app.Context, f func(ctx context.Context, q pendingQueue) error) bool {
	err := c.keep(ctx, f)
	if err != nil && !errors.Is(err, errNoOutbox) {
		c.toast(ctx, "Not kept on this device: "+authdash.ErrorMessageOf(err), true)
	}
	return err == nil
}

// errNoOutbox is keep's error when there is no outbox (signed out, or
// IndexedDB not opened).
var errNoOutbox = errors.New("no outbox")

// keep runs f on the outbox and, once it is done, shows the result and
// sends what is kept.
func (c *controller) keep(ctx app.Context, f func(ctx context.Context, q pendingQueue) error) error {
	c.mu.Lock()
	q := c.off.queue
	c.mu.Unlock()
	if q == nil {
		return errNoOutbox
	}
	sctx, cancel := context.WithTimeout(context.Background(), storageWait)
	defer cancel()
	if err := f(sctx, q); err != nil {
		return err
	}
	c.publishCached(ctx)
	// Signed in (not a page opened offline): try to send it at once, and
	// keep trying until the server answers.
	c.replay(ctx)
	return nil
}

func (c *controller) queueCreate(ctx app.Context, key string, d authdash.TaskDraft) bool {
	return c.queued(ctx, func(sctx context.Context, q pendingQueue) error {
		_, err := q.Create(sctx, key, d)
		return err
	})
}

func (c *controller) queueUpdate(ctx app.Context, base authdash.Task, p authdash.TaskPatch) bool {
	return c.queued(ctx, func(sctx context.Context, q pendingQueue) error { return q.Update(sctx, base, p) })
}

// replay sends what the outbox keeps, once the server answers again (the
// session restored, the stream live, the browser's online event, a change
// kept while the session is live). While the server cannot be reached it
// tries again after the reconnection backoff; while the browser says the
// network is gone it does not try at all, and networkBack starts it
// again. When nothing is left, the page goes back to the server's list.
func (c *controller) replay(ctx app.Context) {
	c.mu.Lock()
	q, session, live := c.off.queue, c.session, c.live
	// Not only when this tab's queue holds changes: Replay reads the
	// device's outbox again, with what the other tabs kept (a tab closed
	// offline leaves its changes to the others).
	if q == nil || c.off.replaying || c.stop == nil || c.off.netDown {
		c.mu.Unlock()
		return
	}
	c.off.replaying = true
	c.mu.Unlock()
	ctx.Async(func() {
		// The replay runs in the session's context: a sign-out that
		// discards the kept changes (signOutUnsentDialog) must also stop
		// the attempt under way and the ones it would make next, or a
		// change discarded offline reached the server once it came back
		// (TestSignOutAsksBeforeDiscarding).
		for attempt := 1; c.replayOn(); attempt++ {
			rep, err := q.Replay(live)
			if live.Err() != nil || c.settle(ctx, session, q, rep, err) || !api.IsOffline(err) || !c.current(session) {
				c.replayOff()
				return
			}
			select {
			case <-live.Done():
				c.replayOff()
				return
			case <-time.After(backoff.Reconnect.Delay(attempt)):
			}
		}
	})
}

// replayOn reports whether a replay under way goes on to its next
// attempt: not while the browser says the network is gone. An attempt
// then fails before it reaches the network, but not before it has marked
// the change it sends (app/outbox): a deletion made meanwhile would keep
// the edit it replaces, as one that might be on its way (two changes to
// send where one does). It ends the replay, in the same hold of c.mu as
// networkBack's turn of netDown, so that networkBack starts one again.
func (c *controller) replayOn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off.netDown {
		c.off.replaying = false
	}
	return !c.off.netDown
}

// replayOff ends the replay under way.
func (c *controller) replayOff() {
	c.mu.Lock()
	c.off.replaying = false
	c.mu.Unlock()
}

// settle applies what a replay did: the tasks saved and deleted to the
// kept list, what was refused said, the conflicts shown. When nothing is
// left to send, the page shows the server's list again; it reports so.
func (c *controller) settle(ctx app.Context, session int, q pendingQueue, rep replayReport, err error) bool {
	for _, t := range rep.Saved {
		c.cachePut(t)
	}
	for _, id := range rep.Deleted {
		c.cacheRemove(id)
	}
	for _, msg := range rep.Refused {
		c.toast(ctx, msg, true)
	}
	if err != nil && !api.IsOffline(err) {
		c.toast(ctx, "Changes made offline not sent: "+authdash.ErrorMessageOf(err), true)
	}
	c.mu.Lock()
	c.off.conflicts = append(c.off.conflicts, rep.Conflicts...)
	done := q.Len() == 0 && c.session == session && c.stop != nil
	// While the browser says the network is gone, the kept list stays,
	// though nothing is left to send (an Undo took the last change back,
	// a task made offline was deleted): the server's list cannot be loaded
	// (before, the page said "The server cannot be reached" over a list as
	// it was before the outage), and networkBack turns to it once it can.
	leave := done && !c.off.netDown
	// The list is loaded again only when the replay changed something or
	// the kept list was shown: most replays find nothing to send.
	changed := leave && (c.off.showing || len(rep.Saved)+len(rep.Deleted) > 0)
	if leave {
		c.off.showing = false
	}
	c.mu.Unlock()
	c.nextConflict(ctx)
	if changed {
		c.reload(ctx, session)
	} else if !leave {
		c.publishCached(ctx)
	}
	return done
}

// nextConflict shows the next conflict a replay left, if none is shown.
func (c *controller) nextConflict(ctx app.Context) {
	var cur conflict
	ctx.GetState(string(stConflict), &cur)
	c.mu.Lock()
	if cur.Open || len(c.off.conflicts) == 0 {
		c.mu.Unlock()
		return
	}
	next := c.off.conflicts[0]
	c.off.conflicts = c.off.conflicts[1:]
	c.mu.Unlock()
	next.Open = true
	setState(ctx, stConflict, next)
}
