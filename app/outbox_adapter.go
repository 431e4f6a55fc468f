package app

import (
	"context"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/devicelink"
	"github.com/authdash/authdash/app/idb"
	"github.com/authdash/authdash/app/outbox"
)

// openOutbox opens owner's outbox in db (bucket bucketOutbox), sending
// through client. Its replays take turns with the other tabs of the
// browser profile (a Web Lock named for the user), so that a change kept
// by one tab is sent once by whichever replays first.
func openOutbox(ctx context.Context, db *idb.DB, owner authdash.UserID, client *api.Client) (pendingQueue, error) {
	var lock outbox.Lock
	if l, _, ok := devicelink.Browser("authdash-outbox:" + string(owner)); ok {
		lock = l
	}
	q, err := outbox.Open(ctx, db, bucketOutbox, client, lock)
	if err != nil {
		return nil, err
	}
	return queueAdapter{q}, nil
}

// queueAdapter is an outbox.Queue as the page uses it.
type queueAdapter struct{ *outbox.Queue }

func (a queueAdapter) Replay(ctx context.Context) (replayReport, error) {
	rep, err := a.Queue.Replay(ctx)
	out := replayReport{Saved: rep.Saved, Deleted: rep.Deleted, Refused: rep.Refused}
	for _, c := range rep.Conflicts {
		out.Conflicts = append(out.Conflicts, conflict{Open: true, Merge: c.Merge, Delete: c.Delete})
	}
	return out, err
}
