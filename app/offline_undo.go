package app

import (
	"context"
	"errors"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/outbox"
	"github.com/authdash/authdash/app/undo"
)

// queueDelete keeps a deletion in the outbox and, as online, offers to
// undo it: a person who deleted the wrong task offline must not have to
// wait for the network to get it back.
func (c *controller) queueDelete(ctx app.Context, id authdash.TaskID, version int64) bool {
	base := c.keptAt(id, version)
	// The toast names the task as the person saw it: with the edits the
	// outbox keeps for it (base is the version they were made on).
	shown := c.shownOffline(base)
	var d outbox.Deletion
	if !c.queued(ctx, func(sctx context.Context, q pendingQueue) error {
		var err error
		d, err = q.Delete(sctx, base)
		return err
	}) {
		return false
	}
	c.mu.Lock()
	of := c.offers.Add(undo.Deleted, shown, shown, time.Now())
	c.off.withdrawals.keep(c.offers.Open(), of.ID, withdrawal{task: shown.ID, deletion: d})
	c.mu.Unlock()
	c.publishToasts(ctx)
	return true
}

// withdrawal is a deletion kept in the outbox, for the offer to undo it.
type withdrawal struct {
	task     authdash.TaskID
	deletion outbox.Deletion
}

// withdrawals are the deletions kept in the outbox that an open offer of
// undo, by its ID, can withdraw. Only open offers keep theirs: once an
// offer is gone (expired, taken, or replaced by a newer one about its
// task), its deletion is for the outbox to send.
type withdrawals map[int]withdrawal

// keep records that the offer id can withdraw w, and drops the entries of
// the offers no longer open.
func (ws *withdrawals) keep(open []undo.Offer, id int, w withdrawal) {
	kept := withdrawals{}
	for _, o := range open {
		if ow, ok := (*ws)[o.ID]; ok {
			kept[o.ID] = ow
		}
	}
	kept[id] = w
	*ws = kept
}

// take returns the deletion the offer can withdraw, and forgets it: a
// deletion is withdrawn once. False when there is none, or it is of
// another task than the one the offer brings back.
func (ws withdrawals) take(of undo.Offer) (withdrawal, bool) {
	w, ok := ws[of.ID]
	delete(ws, of.ID)
	return w, ok && w.task == of.Before.ID
}

// shownOffline is base as the kept list shows it, with the outbox's
// changes laid over it; base when it does not show it.
func (c *controller) shownOffline(base authdash.Task) authdash.Task {
	c.mu.Lock()
	tc, q := c.off.cache, c.off.queue
	c.mu.Unlock()
	if tc == nil || q == nil {
		return base
	}
	all, _ := q.View(tc.Tasks())
	for _, t := range all {
		if t.ID == base.ID {
			return t
		}
	}
	return base
}

// undoDeletion brings back the task of an offer of undo.Deleted: the
// deletion taken out of the outbox when it is still kept there (never
// sent), the task restored by the server otherwise.
func (c *controller) undoDeletion(ctx app.Context, of undo.Offer) {
	c.mu.Lock()
	w, kept := c.off.withdrawals.take(of)
	c.mu.Unlock()
	if !kept {
		c.restore(ctx, of.Before)
		return
	}
	c.withdraw(ctx, of.Before, w)
}

// withdraw takes a deletion of task back out of the outbox, or has the
// server restore it when it was sent.
func (c *controller) withdraw(ctx app.Context, task authdash.Task, w withdrawal) {
	withdrawn := false
	err := c.keep(ctx, func(sctx context.Context, q pendingQueue) error {
		var err error
		withdrawn, err = q.Withdraw(sctx, w.deletion)
		return err
	})
	switch {
	case errors.Is(err, errNoOutbox):
		// Signed out meanwhile: nothing kept is left to take back.
	case err != nil:
		// Still kept, or being sent by a replay that outlasted the wait:
		// Retry asks again (then withdrawn, or restored once sent).
		c.toastRetry(ctx, task.ID, "“"+task.Title+"” not brought back: "+authdash.ErrorMessageOf(err),
			func(ctx app.Context) { c.withdraw(ctx, task, w) })
	case !withdrawn:
		// Sent meanwhile (back online): the server brings it back.
		c.restore(ctx, task)
	}
}

// keptAt is the task id at version as the kept list has it, so that a
// deletion kept in the outbox names its task should the server refuse it
// ("“Title” was not deleted: …"); only its ID and version when the kept
// list has another version or none.
func (c *controller) keptAt(id authdash.TaskID, version int64) authdash.Task {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off.cache != nil {
		if t, ok := c.off.cache.Get(id); ok && t.Version == version {
			return t
		}
	}
	return authdash.Task{ID: id, Version: version}
}
