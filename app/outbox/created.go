package outbox

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/idb"
)

// createdPrefix starts the keys, in the queue's bucket, of the entries
// recording what the server made of a create the device sent: under
// createdPrefix, the create's number (as key pads it), the server's ID and
// the create's LocalID, joined by ":", the server's task. Any tab of the device may still show the local row of
// a create another tab's replay sent (its list not read again since), and
// edit or delete it: the answer must be the device's knowledge, not the
// replaying tab's memory, or that change goes to the local ID, which the
// server never heard of (an edit refused as "deleted elsewhere", a deletion
// that leaves the task). Letters sort after the zero-padded numbers of the
// changes; reread takes these entries apart from them, like the marker.
const createdPrefix = "created:"

// maxCreated bounds the entries recording creates sent: done drops the
// oldest in the write that adds one over the bound. By count, not by age: a
// tab may stay open, offline, for hours or overnight still showing a local
// row, and it should still map when the person edits it then; what bounds
// the need is how many creates were sent since, and a tab behind by more
// than 128 of them is not to be expected. Every reread reads them with the
// changes, so they are few, and their values are decoded only when a local
// row is looked up (answer).
const maxCreated = 128

// created is an entry recording a create sent: its number (the order the
// entries are dropped in; reread keeps the queue's numbers above it, so a
// later create has a higher one even once the bucket holds no change) and
// the server's task, decoded from raw on first use.
type created struct {
	seq    int64
	server authdash.TaskID
	raw    []byte
	task   *authdash.Task
}

// createdKey is the key of the entry recording that the create seq of
// local made the server's task server. The server's IDs hold no ":"; a
// LocalID may (an Idempotency-Key's characters), so it comes last.
func createdKey(seq int64, server, local authdash.TaskID) string {
	return createdPrefix + key(seq) + ":" + string(server) + ":" + string(local)
}

// readCreated records in q.known the entry under k, of value v, from its
// key alone: most rereads never look a local row up. One whose key cannot
// be read is left out: all it can do is map a local row, and its change is
// then refused as before. Called with q.mu held.
func (q *Queue) readCreated(k string, v []byte) {
	n, rest, ok1 := strings.Cut(strings.TrimPrefix(k, createdPrefix), ":")
	server, local, ok2 := strings.Cut(rest, ":")
	seq, err := strconv.ParseInt(n, 10, 64)
	if !ok1 || !ok2 || err != nil || server == "" || !IsLocal(authdash.TaskID(local)) {
		return
	}
	q.known[authdash.TaskID(local)] = &created{seq: seq, server: authdash.TaskID(server), raw: v}
	q.next = max(q.next, seq+1)
}

// taskOf returns the server's task the entry records, decoding it once;
// false if it cannot be read.
func (c *created) taskOf() (authdash.Task, bool) {
	if c.task == nil {
		var t authdash.Task
		if json.Unmarshal(c.raw, &t) != nil || t.ID != c.server {
			return authdash.Task{}, false
		}
		c.task, c.raw = &t, nil
	}
	return *c.task, true
}

// sentElsewhere notes, once reread has read the bucket into q.changes and
// q.known, the creates the queue held before (so the page may show their
// local row) that are gone from the bucket with an answer recorded: a
// replay, another tab's, sent them. View shows the server's task in their
// place until this tab's next replay, as it does for its own (q.created).
// Called with q.mu held.
func (q *Queue) sentElsewhere(before []Change) {
	for _, c := range before {
		if c.Kind != Create {
			continue
		}
		if _, ok := q.known[c.Task.ID]; !ok || slices.ContainsFunc(q.changes, func(l Change) bool { return l.Seq == c.Seq }) {
			continue
		}
		if !slices.Contains(q.elsewhere, c.Task.ID) {
			q.elsewhere = append(q.elsewhere, c.Task.ID)
		}
	}
}

// answer returns the newest version of the server's task a create of
// LocalID id made that the queue knows: this tab's replay's answers
// (q.sent) or the device's record. Called with q.mu held.
func (q *Queue) answer(id authdash.TaskID) (authdash.Task, bool) {
	s, ok := q.sent[id]
	if k, known := q.known[id]; known {
		if t, read := k.taskOf(); read {
			if n, newer := q.sent[t.ID]; newer && n.Version > t.Version {
				t = n
			}
			if !ok || t.Version > s.Version {
				s, ok = t, true
			}
		}
	}
	return s, ok
}

// recordCreated returns the ops that record saved as the server's task for
// the create c, dropping the oldest records over maxCreated, and records it
// in q.known once they are written (the returned func). Called with q.mu
// held, q.known read from the bucket just before.
func (q *Queue) recordCreated(c Change, saved authdash.Task) ([]idb.Op, func()) {
	b, _ := json.Marshal(saved) // always encodes
	ops := []idb.Op{idb.Put(q.bucket, createdKey(c.Seq, saved.ID, c.Task.ID), b)}
	type rec struct {
		id authdash.TaskID
		k  *created
	}
	var old []rec
	for id, k := range q.known {
		if id != c.Task.ID {
			old = append(old, rec{id, k})
		}
	}
	var drop []authdash.TaskID
	if over := len(old) + 1 - maxCreated; over > 0 {
		slices.SortFunc(old, func(a, b rec) int { return cmp.Compare(a.k.seq, b.k.seq) })
		for _, o := range old[:over] {
			drop = append(drop, o.id)
			ops = append(ops, idb.Delete(q.bucket, createdKey(o.k.seq, o.k.server, o.id)))
		}
	}
	return ops, func() {
		for _, id := range drop {
			delete(q.known, id)
		}
		q.known[c.Task.ID] = &created{seq: c.Seq, server: saved.ID, task: &saved}
	}
}

// forgetCreated returns the ops that remove the record of the create the
// server made task id of, now that the device's replay has deleted it, and
// forgets it once they are written (the returned func): a tab that still
// shows the local row no longer shows the task in its place, and a change
// of it goes to the local ID, refused as deleted. Called with q.mu held,
// q.known read from the bucket just before.
func (q *Queue) forgetCreated(id authdash.TaskID) ([]idb.Op, func()) {
	var ops []idb.Op
	var drop []authdash.TaskID
	for local, k := range q.known {
		if k.server == id {
			drop = append(drop, local)
			ops = append(ops, idb.Delete(q.bucket, createdKey(k.seq, k.server, local)))
		}
	}
	return ops, func() {
		for _, local := range drop {
			delete(q.known, local)
		}
	}
}
