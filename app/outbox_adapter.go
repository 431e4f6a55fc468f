package app

import (
	"context"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/idb"
	"github.com/authdash/authdash/app/outbox"
)

// openOutbox opens owner's outbox in db (bucket bucketOutbox), sending
// through client.
func openOutbox(ctx context.Context, db *idb.DB, _ authdash.UserID, client *api.Client) (pendingQueue, error) {
	q, err := outbox.Open(ctx, db, bucketOutbox, client)
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
