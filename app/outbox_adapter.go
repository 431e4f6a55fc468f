package app

import (
	"context"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/idb"
)

// openOutbox opens owner's outbox in db (bucket bucketOutbox), sending
// through client. Until app/outbox lands there is none: changes made
// offline are not taken (the page is read-only offline, as before).
func openOutbox(_ context.Context, _ *idb.DB, _ authdash.UserID, _ *api.Client) (pendingQueue, error) {
	return nil, nil
}
