package outbox

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/authdash/authdash/app/idb"
	"github.com/authdash/authdash/app/merge"
)

// sendingKey is the key, in the queue's bucket, of the marker naming the
// change a replay of the device is sending. A replay runs in one tab, but
// any tab may keep a change of the same task meanwhile: the marker, not the
// replaying tab's memory, tells them all not to fold into that change (its
// answer removes it) nor drop it, but to keep theirs after it. Letters sort
// after the zero-padded numbers of the changes, and reread takes the marker
// apart from them.
const sendingKey = "sending"

// marker is the value under sendingKey.
type marker struct {
	Seq int64 `json:"seq"`
}

// readMarker sets q.sending from the marker's value. One that cannot be
// read counts as none: all it can do is stop folding into a change, and
// the next replay overwrites it. Called with q.mu held.
func (q *Queue) readMarker(v []byte) {
	var m marker
	if json.Unmarshal(v, &m) != nil {
		m.Seq = 0
	}
	q.sending = m.Seq
}

// mark names the first change kept as being sent, in the bucket, and
// returns it as the bucket then holds it (false: none is kept). The
// changes are read again once the marker is written, so that what a tab
// kept without seeing the marker is, but for a write landing after that
// read (done's rest takes that one), part of what is sent. A marker left by
// a replay that died (its tab closed) is overwritten here, or removed when
// the replay ends. Called by Replay, holding the device's lock, with q.mu
// held.
func (q *Queue) mark(ctx context.Context) (Change, bool, error) {
	for len(q.changes) > 0 {
		c := q.changes[0]
		if c.Seq == q.sending {
			// Marked, and the bucket read since.
			return c, true, nil
		}
		b, _ := json.Marshal(marker{Seq: c.Seq}) // always encodes
		if err := q.db.Write(ctx, idb.Put(q.bucket, sendingKey, b)); err != nil {
			return Change{}, false, fmt.Errorf("outbox: mark: %w", err)
		}
		if err := q.reread(ctx); err != nil {
			return Change{}, false, err
		}
	}
	return Change{}, false, nil
}

// unmark removes the marker when the replay ends, even when it ends for
// ctx. What fails is left: a marker left behind only keeps edits apart
// from the change it names until the next replay. Called with q.mu held.
func (q *Queue) unmark(ctx context.Context) {
	if q.sending != 0 && q.db.Write(context.WithoutCancel(ctx), idb.Delete(q.bucket, sendingKey)) == nil {
		q.sending = 0
	}
}

// rest is what of l, the bucket's change under the Seq of c just
// answered, was kept after c was read to be sent: nothing, unless a tab
// read the bucket before the marker was written and folded an edit into it
// after the last read before sending. That edit is kept as an edit of c's
// task on c's base, which done then moves onto the answer.
func rest(c, l Change) (Change, bool) {
	p := merge.Diff(c.Patch.Apply(c.Task), l.Patch.Apply(l.Task))
	if c.Kind != l.Kind || c.Kind == Delete || p.Empty() {
		return Change{}, false
	}
	return Change{Seq: c.Seq, Kind: Update, Task: c.Task, Patch: p}, true
}
