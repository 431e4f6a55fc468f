// Package taskcache keeps a user's whole task list in the browser, for
// using the dashboard offline: filled over REST (every open task, then the
// done ones, most recently updated first), kept current by the same events
// the live list applies, stored in app/idb so it outlives the page, and
// answered with the server's query rules (authdash.TaskQuery.Matches and
// Compare).
//
// Very large accounts are capped (Limits): the tasks kept are the open ones
// (to do, in progress) before the done ones, each the most recently updated
// first, as many as fit in both the count and the size (the JSON of the
// tasks). The rest are not kept, and Complete reports false. The rule is
// in docs/REALTIME.md, "Offline".
package taskcache

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/idb"
)

// Buckets the cache keeps in the database (its Schema must have them).
const (
	BucketTasks = "tasks" // task ID → the task's JSON
	BucketMeta  = "meta"  // metaKey → meta's JSON
)

const metaKey = "cache"

// Limits cap what is kept: at most Tasks tasks and Bytes bytes of their JSON.
type Limits struct {
	Tasks int
	Bytes int
}

// DefaultLimits keep up to 5,000 tasks or 8 MB, whichever is reached first:
// a refill is then at most 50 pages of the API's largest size.
var DefaultLimits = Limits{Tasks: 5000, Bytes: 8 << 20}

// Lister reads one page of tasks (app/api's Client.ListTasks).
type Lister func(ctx context.Context, q authdash.TaskQuery) (authdash.TaskPage, error)

// meta is what the cache keeps about itself.
type meta struct {
	Owner    authdash.UserID `json:"owner"`
	Complete bool            `json:"complete"`
	Filled   bool            `json:"filled"`
}

type entry struct {
	task authdash.Task
	size int
}

// Cache is one user's tasks. Its methods are safe for concurrent use; the
// writes to the database are made in the order of the changes.
type Cache struct {
	db     *idb.DB
	limits Limits

	mu    sync.Mutex
	meta  meta
	tasks map[authdash.TaskID]entry
	bytes int
	// versions is the newest version seen of each task, deleted ones
	// included, so a late or repeated event cannot bring back an old one.
	versions map[authdash.TaskID]int64
	deleted  map[authdash.TaskID]bool
	// refilling counts the refills under way; touched are the tasks that
	// changed meanwhile, which a refill's older pages must not undo.
	refilling int
	touched   map[authdash.TaskID]bool
}

// Open loads owner's cache from db. A cache of another user (left by a
// session that could not clear it) is emptied first.
func Open(ctx context.Context, db *idb.DB, owner authdash.UserID, limits Limits) (*Cache, error) {
	c := &Cache{db: db, limits: limits, tasks: map[authdash.TaskID]entry{},
		versions: map[authdash.TaskID]int64{}, deleted: map[authdash.TaskID]bool{}, touched: map[authdash.TaskID]bool{}}
	raw, ok, err := db.Get(ctx, BucketMeta, metaKey)
	if err != nil {
		return nil, fmt.Errorf("taskcache: open: %w", err)
	}
	if ok {
		if err := json.Unmarshal(raw, &c.meta); err != nil {
			ok = false
		}
	}
	if !ok || c.meta.Owner != owner {
		c.meta = meta{Owner: owner}
		if err := db.Write(ctx, idb.Clear(BucketTasks), idb.Put(BucketMeta, metaKey, mustJSON(c.meta))); err != nil {
			return nil, fmt.Errorf("taskcache: open: %w", err)
		}
		return c, nil
	}
	es, err := db.All(ctx, BucketTasks)
	if err != nil {
		return nil, fmt.Errorf("taskcache: open: %w", err)
	}
	for _, e := range es {
		var t authdash.Task
		if json.Unmarshal(e.Value, &t) != nil || t.ID == "" {
			continue
		}
		c.tasks[t.ID] = entry{task: t, size: len(e.Value)}
		c.bytes += len(e.Value)
		c.versions[t.ID] = t.Version
	}
	return c, nil
}

// Clear removes every user's cache from db (signing out).
func Clear(ctx context.Context, db *idb.DB) error {
	return db.Write(ctx, idb.Clear(BucketTasks), idb.Clear(BucketMeta))
}

// Owner is the user whose tasks these are.
func (c *Cache) Owner() authdash.UserID { return c.meta.Owner }

// Filled reports whether a refill ever completed: until then the cache
// holds only what events and answers brought.
func (c *Cache) Filled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meta.Filled
}

// Complete reports whether the cache holds every task of the user: filled,
// and nothing left out for the limits since.
func (c *Cache) Complete() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meta.Filled && c.meta.Complete
}

// Len returns how many tasks are kept, and their size.
func (c *Cache) Len() (tasks, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.tasks), c.bytes
}

// Get returns a kept task.
func (c *Cache) Get(id authdash.TaskID) (authdash.Task, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.tasks[id]
	return e.task, ok
}

// Tasks returns every kept task, in no particular order.
func (c *Cache) Tasks() []authdash.Task {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]authdash.Task, 0, len(c.tasks))
	for _, e := range c.tasks {
		out = append(out, e.task)
	}
	return out
}

// Find answers q over tasks as the server would over the same tasks: the
// matching ones in q's order. It ignores q's limit and cursor.
func Find(tasks []authdash.Task, q authdash.TaskQuery) []authdash.Task {
	q.Normalize()
	out := make([]authdash.Task, 0, len(tasks))
	for _, t := range tasks {
		if q.Matches(t) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, q.Compare)
	return out
}

// Apply applies a task event; it reports whether the cache changed.
func (c *Cache) Apply(ctx context.Context, ev authdash.Event) (bool, error) {
	switch ev.Kind {
	case authdash.EventTaskCreated, authdash.EventTaskUpdated:
		if ev.Task == nil {
			return false, nil
		}
		return c.Put(ctx, *ev.Task)
	case authdash.EventTaskDeleted:
		return c.Remove(ctx, ev.TaskID, ev.Version)
	}
	return false, nil
}

// Put keeps t unless a newer version (or its deletion) was seen.
func (c *Cache) Put(ctx context.Context, t authdash.Task) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stale(t.ID, t.Version) {
		return false, nil
	}
	c.versions[t.ID] = t.Version
	delete(c.deleted, t.ID)
	if c.refilling > 0 {
		c.touched[t.ID] = true
	}
	ops := c.setLocked(t)
	ops = append(ops, c.evictLocked()...)
	return true, c.writeLocked(ctx, ops)
}

// Remove applies the deletion of a task at version (0: whichever version
// is kept; the app's own delete, whose answer has none).
func (c *Cache) Remove(ctx context.Context, id authdash.TaskID, version int64) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != 0 && c.stale(id, version) {
		return false, nil
	}
	if version != 0 {
		c.versions[id] = version
	}
	c.deleted[id] = true
	if c.refilling > 0 {
		c.touched[id] = true
	}
	e, ok := c.tasks[id]
	if !ok {
		return false, nil
	}
	delete(c.tasks, id)
	c.bytes -= e.size
	return true, c.writeLocked(ctx, []idb.Op{idb.Delete(BucketTasks, string(id))})
}

// stale reports whether version is not newer than what was seen (as
// app/tasklist's: a deleted task comes back only at a newer version). A
// task evicted for the limits may come back at the version it had.
func (c *Cache) stale(id authdash.TaskID, version int64) bool {
	v, ok := c.versions[id]
	switch {
	case c.deleted[id]:
		return !ok || version <= v
	case !ok:
		return false
	}
	if _, kept := c.tasks[id]; kept {
		return version <= v
	}
	return version < v
}

// setLocked keeps t in memory and returns the op that stores it.
func (c *Cache) setLocked(t authdash.Task) []idb.Op {
	raw := mustJSON(t)
	if old, ok := c.tasks[t.ID]; ok {
		c.bytes -= old.size
	}
	c.tasks[t.ID] = entry{task: t, size: len(raw)}
	c.bytes += len(raw)
	return []idb.Op{idb.Put(BucketTasks, string(t.ID), raw)}
}

// Keep orders tasks by how much they are worth keeping: open before done,
// then the most recently updated, then by ID (to be total).
func Keep(a, b authdash.Task) int {
	ao, bo := a.Status != authdash.StatusDone, b.Status != authdash.StatusDone
	if ao != bo {
		if ao {
			return -1
		}
		return 1
	}
	if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// evictLocked drops the tasks least worth keeping (Keep) until the cache
// is within its limits, and returns the ops that delete them.
func (c *Cache) evictLocked() []idb.Op {
	if len(c.tasks) <= c.limits.Tasks && c.bytes <= c.limits.Bytes {
		return nil
	}
	all := make([]entry, 0, len(c.tasks))
	for _, e := range c.tasks {
		all = append(all, e)
	}
	slices.SortFunc(all, func(a, b entry) int { return Keep(a.task, b.task) })
	var ops []idb.Op
	n, size := 0, 0
	for _, e := range all {
		if n < c.limits.Tasks && size+e.size <= c.limits.Bytes {
			n++
			size += e.size
			continue
		}
		delete(c.tasks, e.task.ID)
		c.bytes -= e.size
		ops = append(ops, idb.Delete(BucketTasks, string(e.task.ID)))
	}
	if len(ops) > 0 && c.meta.Complete {
		c.meta.Complete = false
		ops = append(ops, idb.Put(BucketMeta, metaKey, mustJSON(c.meta)))
	}
	return ops
}

func (c *Cache) writeLocked(ctx context.Context, ops []idb.Op) error {
	if err := c.db.Write(ctx, ops...); err != nil {
		return fmt.Errorf("taskcache: %w", err)
	}
	return nil
}

// Refill reads the user's tasks through list (every open task, then the
// done ones, each most recently updated first, until the limits are
// reached) and makes them the cache. Changes applied while it runs win
// over its pages; a task it did not find, and that did not change
// meanwhile, was deleted and goes.
func (c *Cache) Refill(ctx context.Context, list Lister) error {
	c.mu.Lock()
	c.refilling++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.refilling--
		if c.refilling == 0 {
			clear(c.touched)
		}
		c.mu.Unlock()
	}()

	// Open tasks are read by status (the API filters one status at a
	// time): each of the two is read up to the limits, as no task past
	// that could be kept; the done ones only as far as the open ones
	// leave room. Eviction then keeps the best of what was read.
	var found []authdash.Task
	cut := false
	openN, openBytes := 0, 0
	for _, st := range []authdash.TaskStatus{authdash.StatusTodo, authdash.StatusInProgress, authdash.StatusDone} {
		n, size := 0, 0
		if st == authdash.StatusDone {
			n, size = openN, openBytes
		}
		q := authdash.TaskQuery{Status: st, Sort: authdash.SortUpdated, Order: authdash.Desc, Limit: authdash.MaxPageSize}
		for {
			page, err := list(ctx, q)
			if err != nil {
				return fmt.Errorf("taskcache: refill: %w", err)
			}
			for _, t := range page.Items {
				found = append(found, t)
				n++
				size += len(mustJSON(t))
			}
			if page.NextCursor == "" {
				break
			}
			if n >= c.limits.Tasks || size > c.limits.Bytes {
				cut = true
				break
			}
			q.Cursor = page.NextCursor
		}
		if st != authdash.StatusDone {
			openN, openBytes = openN+n, openBytes+size
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	seen := make(map[authdash.TaskID]bool, len(found))
	ops := []idb.Op{}
	for _, t := range found {
		seen[t.ID] = true
		if c.touched[t.ID] || c.stale(t.ID, t.Version) {
			continue
		}
		c.versions[t.ID] = t.Version
		ops = append(ops, c.setLocked(t)...)
	}
	for id, e := range c.tasks {
		if !seen[id] && !c.touched[id] {
			delete(c.tasks, id)
			c.bytes -= e.size
			ops = append(ops, idb.Delete(BucketTasks, string(id)))
		}
	}
	c.meta.Filled, c.meta.Complete = true, !cut
	ops = append(ops, c.evictLocked()...)
	ops = append(ops, idb.Put(BucketMeta, metaKey, mustJSON(c.meta)))
	return c.writeLocked(ctx, ops)
}

func mustJSON(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("taskcache: %T does not encode: %v", v, err))
	}
	return raw
}
