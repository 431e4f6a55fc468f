// Package outbox keeps the task changes a person makes while the server
// cannot be reached, across reloads, and sends them in order when it can
// be again, safely: a create carries the Idempotency-Key it was given when
// it was made, so sending it twice (the answer lost) makes one task; an
// edit or a deletion carries If-Match with the version it was made on, and
// a 412 goes to the three-way merge (app/merge): what only this side
// changed is sent again on top of the newer version, what both sides
// changed differently is handed back as a conflict for the person to
// decide, never overwritten.
//
// The queue is one bucket of an app/idb database: IndexedDB in the
// browser, memory in tests. Each change is stored under its sequence
// number, written before Create, Update or Delete return and removed only
// once the server has answered it; the change a replay is sending is
// marked there too, for all the tabs (sending.go).
package outbox

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/idb"
	"github.com/authdash/authdash/app/merge"
)

// Client is what the outbox sends through (app/api.Client).
type Client interface {
	CreateTaskIdempotent(ctx context.Context, key string, d authdash.TaskDraft) (*authdash.Task, error)
	UpdateTask(ctx context.Context, id authdash.TaskID, p authdash.TaskPatch, ifVersion int64) (*authdash.Task, error)
	DeleteTask(ctx context.Context, id authdash.TaskID, ifVersion int64) error
	Task(ctx context.Context, id authdash.TaskID) (*authdash.Task, error)
}

// Kind is what a change does.
type Kind string

// Kinds of change.
const (
	Create Kind = "create"
	Update Kind = "update"
	Delete Kind = "delete"
)

// Change is one kept change.
type Change struct {
	Seq  int64 `json:"seq"`
	Kind Kind  `json:"kind"`
	// Key is a create's Idempotency-Key, fixed when it was made.
	Key string `json:"key,omitempty"`
	// Task is, for a create, the task as the list shows it until it is
	// sent (its ID LocalID(Key)); for an edit or a deletion, the version
	// it was made on (the base of the merge, its Version the If-Match).
	Task authdash.Task `json:"task"`
	// Patch is an edit's change of Task.
	Patch authdash.TaskPatch `json:"patch,omitzero"`
}

// LocalID is the ID a task made offline has until the server gives it one.
func LocalID(key string) authdash.TaskID { return authdash.TaskID("local-" + key) }

// IsLocal reports whether id is one LocalID made.
func IsLocal(id authdash.TaskID) bool { return strings.HasPrefix(string(id), "local-") }

// Conflict is a change the server's newer version differs from in a field
// this side changed too: for the person to decide. Merge.Theirs is the
// server's version as it now is (what this side could merge silently has
// been saved into it).
type Conflict struct {
	Merge merge.Result
	// Delete: the change was a deletion of a task changed since.
	Delete bool
}

// Report is what a replay did.
type Report struct {
	Saved     []authdash.Task
	Deleted   []authdash.TaskID
	Conflicts []Conflict
	// Refused says, in words, what the server would not take (dropped).
	Refused []string
}

// Lock keeps replays of the same bucket from running at once in several
// tabs of a device (app/devicelink's Lock: a Web Lock in the browser).
// Acquire blocks until the lock is held or ctx ends.
type Lock interface {
	Acquire(ctx context.Context) (release func(), err error)
}

// Queue is one user's outbox. Its methods are safe for concurrent use;
// one Replay runs at a time, on the device when the queue has a Lock.
//
// Other tabs of the device may keep changes in the same bucket: the
// bucket, written before any change is the queue's, is the truth, and the
// queue reads it again before each change it keeps and each replay, so
// that a tab sends what another tab kept (and closed meanwhile) and a
// change another tab already sent is not sent again.
type Queue struct {
	db     *idb.DB
	bucket string
	client Client
	lock   Lock

	mu      sync.Mutex
	changes []Change
	next    int64
	// sending is the Seq of the change a replay of the device is sending
	// (0: none), as the bucket's marker said when last read (sending.go):
	// an edit or deletion made meanwhile, in any tab, is not folded into it
	// (its answer removes it) but kept after it, and moved onto the
	// server's answer.
	sending int64
	// sent holds the server's answers to this replay's changes, by the ID
	// the person saw (a task made offline also under its LocalID), until
	// the next replay: a change made on what the page still shows goes
	// onto them, and View shows them.
	sent    map[authdash.TaskID]authdash.Task
	created []authdash.TaskID // the LocalIDs in sent, in order
	gone    map[authdash.TaskID]bool
	// known is what the server made of the creates the device sent, by
	// LocalID, as the bucket said when last read (created.go): a change
	// made on a local row another tab's replay sent goes onto it.
	known map[authdash.TaskID]*created
	// elsewhere are the LocalIDs of creates this queue held that another
	// tab's replay sent, until this tab's next replay: View shows the
	// server's task in their place, as it does for those in created.
	elsewhere []authdash.TaskID
	replay    sync.Mutex
}

// Open returns the outbox kept in bucket of db, with what an earlier page
// (or another tab) left there, sending through client. lock, if not nil,
// is held by each Replay: the device's tabs that share db take turns.
func Open(ctx context.Context, db *idb.DB, bucket string, client Client, lock Lock) (*Queue, error) {
	q := &Queue{db: db, bucket: bucket, client: client, lock: lock, next: 1, known: map[authdash.TaskID]*created{}}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.reread(ctx); err != nil {
		return nil, err
	}
	return q, nil
}

// reread makes the changes in the bucket the queue's: those another tab
// kept since are added, those it sent are gone; the change a replay of
// the device is sending, that of this tab or another's, q.sending; and
// what the server made of the creates the device sent, q.known.
// Called with q.mu held, so that no change of this queue's is half kept
// meanwhile.
func (q *Queue) reread(ctx context.Context) error {
	es, err := q.db.All(ctx, q.bucket)
	if err != nil {
		return fmt.Errorf("outbox: read: %w", err)
	}
	changes := make([]Change, 0, len(es))
	q.sending = 0
	q.known = map[authdash.TaskID]*created{}
	for _, e := range es {
		if e.Key == sendingKey {
			q.readMarker(e.Value)
			continue
		}
		if strings.HasPrefix(e.Key, createdPrefix) {
			q.readCreated(e.Key, e.Value)
			continue
		}
		var c Change
		if err := json.Unmarshal(e.Value, &c); err != nil {
			return fmt.Errorf("outbox: read: change %s: %w", e.Key, err)
		}
		changes = append(changes, c)
		// Never below a number in use: a change kept under it would
		// overwrite another tab's.
		q.next = max(q.next, c.Seq+1)
	}
	before := q.changes
	q.changes = changes
	q.sentElsewhere(before)
	return nil
}

// key is a change's key in the bucket: zero-padded, so key order is
// sequence order.
func key(seq int64) string { return fmt.Sprintf("%016d", seq) }

func (q *Queue) put(c Change) idb.Op {
	b, _ := json.Marshal(c) // a Change always encodes
	return idb.Put(q.bucket, key(c.Seq), b)
}

// Len counts the changes kept.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.changes)
}

// Changes returns a copy of the changes kept, in order.
func (q *Queue) Changes() []Change {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]Change(nil), q.changes...)
}

// commit stores ops and, once stored, makes changes the queue's.
func (q *Queue) commit(ctx context.Context, changes []Change, ops []idb.Op) error {
	if err := q.db.Write(ctx, ops...); err != nil {
		return fmt.Errorf("outbox: keep: %w", err)
	}
	q.changes = changes
	return nil
}

// Create keeps a new task made from d and returns it as the list shows it
// until it is sent: ID LocalID(key), version 0.
func (q *Queue) Create(ctx context.Context, key string, d authdash.TaskDraft) (authdash.Task, error) {
	if !authdash.ValidIdempotencyKey(key) {
		return authdash.Task{}, authdash.Errorf(authdash.CodeInvalid, "The request key is not valid.")
	}
	d.Normalize()
	if err := d.Validate(); err != nil {
		return authdash.Task{}, err
	}
	t := taskOf(LocalID(key), d)
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.reread(ctx); err != nil {
		return authdash.Task{}, err
	}
	c := Change{Seq: q.next, Kind: Create, Key: key, Task: t}
	if err := q.commit(ctx, append(q.changes[:len(q.changes):len(q.changes)], c), []idb.Op{q.put(c)}); err != nil {
		return authdash.Task{}, err
	}
	q.next++
	return t, nil
}

// taskOf is the task a draft makes, before the server has stamped it.
func taskOf(id authdash.TaskID, d authdash.TaskDraft) authdash.Task {
	tags := d.Tags
	if tags == nil {
		tags = []string{}
	}
	return authdash.Task{ID: id, Title: d.Title, Description: d.Description, Status: d.Status,
		Priority: d.Priority, DueDate: d.DueDate, Tags: tags}
}

// onSent returns base, or the server's answer to a change of it when base
// is what the page showed before that answer: for a task made offline, the
// task the server made of it, whichever tab's replay sent the create (the
// device's record, or this replay's newer answer); for an older version,
// this replay's answer. Called with q.mu held.
func (q *Queue) onSent(base authdash.Task) authdash.Task {
	if IsLocal(base.ID) {
		if s, ok := q.answer(base.ID); ok {
			return s
		}
		return base
	}
	if s, ok := q.sent[base.ID]; ok && base.Version < s.Version {
		return s
	}
	return base
}

// draftOf is the draft that makes t.
func draftOf(t authdash.Task) authdash.TaskDraft {
	return authdash.TaskDraft{Title: t.Title, Description: t.Description, Status: t.Status,
		Priority: t.Priority, DueDate: t.DueDate, Tags: t.Tags}
}

// Update keeps an edit p of base, the version the person saw. An edit of a
// task made offline folds into its create; a second edit of a task folds
// into the first, which keeps its base (so If-Match names the version the
// person first changed).
func (q *Queue) Update(ctx context.Context, base authdash.Task, p authdash.TaskPatch) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.reread(ctx); err != nil {
		return err
	}
	changes := append([]Change(nil), q.changes...)
	for i := len(changes) - 1; i >= 0; i-- {
		c := &changes[i]
		if c.Task.ID != base.ID {
			continue
		}
		if c.Seq == q.sending {
			break // kept after it, moved onto its answer
		}
		switch c.Kind {
		case Create:
			c.Task = p.Apply(c.Task)
			c.Task.Version = 0
			d := draftOf(c.Task)
			d.Normalize()
			if err := d.Validate(); err != nil {
				return err
			}
		case Update:
			mine := p.Apply(c.Patch.Apply(c.Task))
			c.Patch = merge.Diff(c.Task, mine)
		case Delete:
			return authdash.Errorf(authdash.CodeNotFound, "Task not found.")
		}
		return q.commit(ctx, changes, []idb.Op{q.put(*c)})
	}
	c := Change{Seq: q.next, Kind: Update, Task: q.onSent(base), Patch: p}
	if err := q.commit(ctx, append(changes, c), []idb.Op{q.put(c)}); err != nil {
		return err
	}
	q.next++
	return nil
}

// Deletion is a deletion Delete kept, as Withdraw takes it back.
type Deletion struct {
	// Seq is the deletion's change; 0 when none was kept (the task was
	// made offline: its create was dropped, nothing is sent).
	Seq int64
	// Dropped are the changes of the task the deletion replaced (its
	// create, an edit not sent yet), as they were kept.
	Dropped []Change
}

// Delete keeps the deletion of base. Deleting a task made offline drops
// its create; deleting an edited task replaces the edit, on the edit's
// base version. What it returns takes the deletion back (Withdraw).
func (q *Queue) Delete(ctx context.Context, base authdash.Task) (Deletion, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.reread(ctx); err != nil {
		return Deletion{}, err
	}
	var changes []Change
	var ops []idb.Op
	var d Deletion
	local := false
	for _, c := range q.changes {
		if c.Task.ID != base.ID || c.Seq == q.sending {
			changes = append(changes, c)
			continue
		}
		ops = append(ops, idb.Delete(q.bucket, key(c.Seq)))
		d.Dropped = append(d.Dropped, c)
		switch c.Kind {
		case Create:
			local = true
		case Update:
			base = c.Task // the version the person first changed
		}
	}
	if local {
		return d, q.commit(ctx, changes, ops)
	}
	c := Change{Seq: q.next, Kind: Delete, Task: q.onSent(base)}
	if err := q.commit(ctx, append(changes, c), append(ops, q.put(c))); err != nil {
		return Deletion{}, err
	}
	q.next++
	d.Seq = c.Seq
	return d, nil
}

// Withdraw takes back a deletion Delete kept, if it is still kept: the
// deletion goes, never sent, and the changes it replaced come back under
// their own numbers, so in their place in the order. Those are put back
// rather than a plain "the task is not deleted": the person who undoes a
// deletion gets back what they had, an edit not sent yet (or a task made
// offline) included, not the older version the server has. It reports
// false when the deletion is no longer kept (sent, by this tab or
// another): then only the server can bring the task back. A deletion is
// withdrawn once (an offer is taken once): that of a task made offline
// left nothing kept to find again, so a second withdrawal, after its
// create was sent, would keep the create again.
//
// It waits for a replay under way, this tab's or another's (the queue's
// Lock): a deletion a replay has read may be on its way, and must not be
// withdrawn here and done there; once the replay is over, it is either
// still kept (not sent) or gone.
func (q *Queue) Withdraw(ctx context.Context, d Deletion) (bool, error) {
	release, err := q.exclusive(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.reread(ctx); err != nil {
		return false, err
	}
	var ops []idb.Op
	changes := make([]Change, 0, len(q.changes)+len(d.Dropped))
	// By number only: a replay may have moved the deletion onto the
	// server's answer to a create sent meanwhile (another ID), and a
	// number is never used twice while the change under it is kept.
	found := d.Seq == 0
	for _, c := range q.changes {
		if d.Seq != 0 && c.Seq == d.Seq && c.Kind == Delete {
			found = true
			ops = append(ops, idb.Delete(q.bucket, key(c.Seq)))
			continue
		}
		changes = append(changes, c)
	}
	if !found {
		return false, nil
	}
	for _, c := range d.Dropped {
		if slices.ContainsFunc(changes, func(k Change) bool { return k.Seq == c.Seq }) {
			// Not expected (numbers only grow while the bucket holds the
			// deletion); never overwrite another change.
			return false, fmt.Errorf("outbox: withdraw: change %d is in use", c.Seq)
		}
		changes = append(changes, c)
		ops = append(ops, q.put(c))
	}
	slices.SortFunc(changes, func(a, b Change) int { return cmp.Compare(a.Seq, b.Seq) })
	if err := q.commit(ctx, changes, ops); err != nil {
		return false, err
	}
	return true, nil
}

// View lays the kept changes over tasks (the list as last known) and
// returns the result and the IDs of the tasks a change touches. A task
// made offline comes first, as the newest; an edit shows over the newest
// version known, as it will be sent; a deleted task is left out.
func (q *Queue) View(tasks []authdash.Task) ([]authdash.Task, []authdash.TaskID) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := append([]authdash.Task(nil), tasks...)
	var touched []authdash.TaskID
	index := func(id authdash.TaskID) int {
		for i := range out {
			if out[i].ID == id {
				return i
			}
		}
		return -1
	}
	// This replay's answers, until the list has them.
	for i := 0; i < len(out); i++ {
		if s, ok := q.sent[out[i].ID]; ok && out[i].Version < s.Version {
			out[i] = s
		} else if q.gone[out[i].ID] {
			out = append(out[:i], out[i+1:]...)
			i--
		}
	}
	for _, id := range q.created {
		if s := q.sent[id]; index(s.ID) < 0 {
			out = append([]authdash.Task{s}, out...)
		}
	}
	// The creates another tab's replay sent, in place of their local row.
	for _, id := range q.elsewhere {
		s, ok := q.answer(id)
		if !ok || q.gone[s.ID] {
			continue
		}
		if i := index(s.ID); i < 0 {
			out = append([]authdash.Task{s}, out...)
		} else if out[i].Version < s.Version {
			out[i] = s
		}
	}
	for _, c := range q.changes {
		i := index(c.Task.ID)
		switch c.Kind {
		case Create:
			if i < 0 {
				out = append([]authdash.Task{c.Task}, out...)
			}
		case Update:
			if i >= 0 {
				out[i] = c.Patch.Apply(out[i])
			} else {
				out = append(out, c.Patch.Apply(c.Task))
			}
		case Delete:
			if i >= 0 {
				out = append(out[:i], out[i+1:]...)
			}
		}
		touched = append(touched, c.Task.ID)
	}
	return out, touched
}

// exclusive waits until no replay runs on this device, this tab's (replay)
// or another's (the device's lock), and holds both until release: what a
// replay reads from the bucket is then sent, or still kept, and nothing
// between.
func (q *Queue) exclusive(ctx context.Context) (release func(), err error) {
	q.replay.Lock()
	if q.lock == nil {
		return q.replay.Unlock, nil
	}
	unlock, err := q.lock.Acquire(ctx)
	if err != nil {
		q.replay.Unlock()
		return nil, fmt.Errorf("outbox: wait for the other tabs: %w", err)
	}
	return func() { unlock(); q.replay.Unlock() }, nil
}

// Replay sends the kept changes in order. It stops at the first the server
// cannot be reached for, or answers with a fault of its own, keeping that
// one and the rest for the next replay, and returns that error; every
// change it got an answer for is done, and gone from the queue.
func (q *Queue) Replay(ctx context.Context) (Report, error) {
	var rep Report
	release, err := q.exclusive(ctx)
	if err != nil {
		return rep, err
	}
	defer release()
	q.mu.Lock()
	q.sent, q.created, q.gone = map[authdash.TaskID]authdash.Task{}, nil, map[authdash.TaskID]bool{}
	q.elsewhere = nil
	// What other tabs kept (or sent, holding the lock) since this queue
	// last read the bucket.
	err = q.reread(ctx)
	q.mu.Unlock()
	if err != nil {
		return rep, err
	}
	defer func() {
		q.mu.Lock()
		q.unmark(ctx)
		q.mu.Unlock()
	}()
	for {
		q.mu.Lock()
		c, ok, err := q.mark(ctx)
		q.mu.Unlock()
		if err != nil || !ok {
			return rep, err
		}
		saved, deleted := len(rep.Saved), len(rep.Deleted)
		if err := q.send(ctx, c, &rep); err != nil {
			return rep, err
		}
		var answer *authdash.Task
		if len(rep.Saved) > saved {
			answer = &rep.Saved[len(rep.Saved)-1]
		}
		if err := q.done(ctx, c, answer, len(rep.Deleted) > deleted); err != nil {
			return rep, err
		}
	}
}

// done removes the change c, answered with the task saved (nil if none)
// or its deletion, and the marker naming it. The changes of the same task
// made while it was sent, in this tab or another (so read again), on what
// the page showed, go onto the answer; when a create was not saved, they
// go with it (its refusal said so). A create saved is recorded in the
// bucket, in the same write, for the device's other tabs, and forgotten
// there once its deletion is (created.go).
func (q *Queue) done(ctx context.Context, c Change, saved *authdash.Task, deleted bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.reread(ctx); err != nil {
		return err
	}
	if saved != nil {
		q.sent[c.Task.ID] = *saved
		q.sent[saved.ID] = *saved
		if c.Kind == Create {
			q.created = append(q.created, c.Task.ID)
		}
	}
	if deleted {
		q.gone[c.Task.ID] = true
	}
	ops := []idb.Op{idb.Delete(q.bucket, key(c.Seq)), idb.Delete(q.bucket, sendingKey)}
	record := func() {}
	var rec []idb.Op
	switch {
	case saved != nil && c.Kind == Create:
		rec, record = q.recordCreated(c, *saved)
	case deleted:
		rec, record = q.forgetCreated(c.Task.ID)
	}
	ops = append(ops, rec...)
	var changes []Change
	for _, l := range q.changes {
		changed := false
		if l.Seq == c.Seq {
			if l, changed = rest(c, l); !changed {
				continue
			}
		}
		switch {
		case l.Task.ID != c.Task.ID || deleted:
		case saved == nil && c.Kind == Create:
			ops = append(ops, idb.Delete(q.bucket, key(l.Seq)))
			continue
		case saved != nil && (c.Kind == Create || l.Task.Version <= c.Task.Version):
			l.Task, changed = *saved, true
		}
		if changed {
			ops = append(ops, q.put(l))
		}
		changes = append(changes, l)
	}
	if err := q.commit(ctx, changes, ops); err != nil {
		return err
	}
	record()
	q.sending = 0
	return nil
}

// transient reports whether err means "not now": the change stays.
func transient(err error) bool {
	switch authdash.ErrorCodeOf(err) {
	case authdash.CodeInvalid, authdash.CodeForbidden, authdash.CodeTooLarge, authdash.CodeNotFound,
		authdash.CodeConflict, authdash.CodePreconditionFailed, authdash.CodeIdempotencyKeyReused:
		return false
	}
	return true
}

// send sends one change and records its outcome. It returns an error only
// when the change must stay for later.
func (q *Queue) send(ctx context.Context, c Change, rep *Report) error {
	switch c.Kind {
	case Create:
		t, err := q.client.CreateTaskIdempotent(ctx, c.Key, draftOf(c.Task))
		switch {
		case err == nil:
			rep.Saved = append(rep.Saved, *t)
		case transient(err):
			return err
		default:
			rep.Refused = append(rep.Refused, fmt.Sprintf("“%s” was not saved: %s", c.Task.Title, authdash.ErrorMessageOf(err)))
		}
		return nil
	case Delete:
		err := q.client.DeleteTask(ctx, c.Task.ID, c.Task.Version)
		switch code := authdash.ErrorCodeOf(err); {
		case err == nil, code == authdash.CodeNotFound:
			rep.Deleted = append(rep.Deleted, c.Task.ID)
		case code == authdash.CodePreconditionFailed:
			theirs, err := q.client.Task(ctx, c.Task.ID)
			if err != nil {
				if authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
					rep.Deleted = append(rep.Deleted, c.Task.ID)
					return nil
				}
				return err
			}
			rep.Conflicts = append(rep.Conflicts, Conflict{Merge: merge.Merge(c.Task, c.Task, *theirs), Delete: true})
		case transient(err):
			return err
		default:
			rep.Refused = append(rep.Refused, fmt.Sprintf("“%s” was not deleted: %s", c.Task.Title, authdash.ErrorMessageOf(err)))
		}
		return nil
	default:
		return q.sendUpdate(ctx, c, rep)
	}
}

// maxMerges bounds how often one edit is merged again when the task keeps
// changing under it.
const maxMerges = 3

func (q *Queue) sendUpdate(ctx context.Context, c Change, rep *Report) error {
	base, mine := c.Task, c.Patch.Apply(c.Task)
	p, version := c.Patch, base.Version
	for range maxMerges + 1 {
		var saved *authdash.Task
		var err error
		if p.Empty() {
			saved, err = q.client.Task(ctx, base.ID)
		} else {
			saved, err = q.client.UpdateTask(ctx, base.ID, p, version)
		}
		switch code := authdash.ErrorCodeOf(err); {
		case err == nil:
			rep.Saved = append(rep.Saved, *saved)
			if r := merge.Merge(base, mine, *saved); r.Conflicted() {
				rep.Conflicts = append(rep.Conflicts, Conflict{Merge: r})
			}
			return nil
		case code == authdash.CodeNotFound:
			rep.Refused = append(rep.Refused, fmt.Sprintf("“%s” was deleted elsewhere; your change to it was not saved.", mine.Title))
			return nil
		case code == authdash.CodePreconditionFailed:
			theirs, err := q.client.Task(ctx, base.ID)
			if err != nil {
				if authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
					rep.Refused = append(rep.Refused, fmt.Sprintf("“%s” was deleted elsewhere; your change to it was not saved.", mine.Title))
					return nil
				}
				return err
			}
			// What only this side changed goes on top of theirs; a field
			// both changed keeps theirs and becomes a conflict.
			p, version = merge.Merge(base, mine, *theirs).Patch(false), theirs.Version
		case transient(err):
			return err
		default:
			rep.Refused = append(rep.Refused, fmt.Sprintf("Your change to “%s” was not saved: %s", mine.Title, authdash.ErrorMessageOf(err)))
			return nil
		}
	}
	return errors.New("outbox: the task keeps changing; trying again later")
}
