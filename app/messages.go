package app

import (
	"slices"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/undo"
)

// offer puts up a toast offering to undo what was just done to a task.
// The toast goes when its countdown runs out (toasts), which stands still
// while the person is on it; the offer ends at the latest after
// undo.Limit, well inside the server's authdash.RestoreWindow.
func (c *controller) offer(ctx app.Context, k undo.Kind, before, after authdash.Task) {
	c.mu.Lock()
	c.offers.Add(k, before, after, time.Now())
	c.mu.Unlock()
	c.publishToasts(ctx)
}

// undo takes back what an offer says was done: the task's status as it
// was, or the deleted task itself (restored by the server, so every tab
// sees it come back; a deletion kept offline and not sent yet is taken
// out of the outbox instead: undoDeletion).
func (c *controller) undo(ctx app.Context, a app.Action) {
	id, _ := a.Value.(int)
	c.mu.Lock()
	of, ok := c.offers.Take(id, time.Now())
	c.mu.Unlock()
	c.publishToasts(ctx)
	if !ok {
		return
	}
	switch of.Kind {
	case undo.Completed, undo.Reopened:
		mine := of.After
		mine.Status = of.Before.Status
		var again func(app.Context)
		again = func(ctx app.Context) {
			theirs, _ := c.latest(of.After.ID, of.After)
			c.save(ctx, "", of.After, mine, theirs, nil, &retryable{
				text: "Not undone: the server cannot be reached. Retry once it is back.",
				do:   again,
			})
		}
		again(ctx)
	case undo.Deleted:
		c.undoDeletion(ctx, of)
	}
}

// restore brings a deleted task back (the undo of a deletion).
func (c *controller) restore(ctx app.Context, task authdash.Task) {
	t, err := c.api().RestoreTask(ctx, task.ID)
	switch authdash.ErrorCodeOf(err) {
	case "":
		c.put(ctx, *t)
	case authdash.CodeConflict:
		// Another tab undid it first: its event brings the task.
	default:
		if api.IsOffline(err) {
			c.toastRetry(ctx, task.ID, "“"+task.Title+"” not brought back: the server cannot be reached. Retry once it is back.",
				func(ctx app.Context) { c.restore(ctx, task) })
			return
		}
		c.toast(ctx, "Could not undo: "+authdash.ErrorMessageOf(err), true)
	}
}

// toast shows a message for a few seconds (errors for longer). Like an
// offer's, its countdown (toasts) stands still while the person is on it,
// so they can read it to the end (WCAG 2.2.1); it ends at the latest after
// undo.Limit, by when a person holding it has forgotten it.
func (c *controller) toast(ctx app.Context, text string, isErr bool) {
	life := undo.Window
	if isErr {
		life = 2 * undo.Window
	}
	c.mu.Lock()
	c.toastSeq++
	c.messages = append(c.messages, message{toast: toast{ID: c.toastSeq, Text: text, Error: isErr, Life: life},
		expires: time.Now().Add(undo.Limit)})
	c.mu.Unlock()
	c.publishToasts(ctx)
}

// toastRetry is an error toast with a Retry button that does retry. It
// does not go by itself: it holds a change that was not sent, which an
// outage of any length must not lose silently; Retry or × ends it.
func (c *controller) toastRetry(ctx app.Context, task authdash.TaskID, text string, retry func(app.Context)) {
	c.mu.Lock()
	c.toastSeq++
	c.messages = append(c.messages, message{toast: toast{ID: c.toastSeq, Text: text, Error: true, Retry: true, Task: task},
		retry: retry})
	c.mu.Unlock()
	c.publishToasts(ctx)
}

// retryToast takes a toast away and does its retry.
func (c *controller) retryToast(ctx app.Context, a app.Action) {
	id, _ := a.Value.(int)
	c.mu.Lock()
	var retry func(app.Context)
	c.messages = slices.DeleteFunc(c.messages, func(m message) bool {
		if m.ID == id {
			retry = m.retry
			return true
		}
		return false
	})
	c.mu.Unlock()
	c.publishToasts(ctx)
	if retry != nil {
		retry(ctx)
	}
}

// message is a toast without an offer, until its countdown runs out
// (toasts) or, held, it expires (never, when expires is zero); retry, if
// set, is what its Retry button does.
type message struct {
	toast
	expires time.Time
	retry   func(app.Context)
}

// dismissToast removes a toast (its close button).
func (c *controller) dismissToast(ctx app.Context, a app.Action) {
	id, _ := a.Value.(int)
	c.mu.Lock()
	c.messages = slices.DeleteFunc(c.messages, func(m message) bool { return m.ID == id })
	for _, of := range c.offers.Open() {
		if -of.ID == id {
			c.offers.Take(of.ID, time.Now())
		}
	}
	c.mu.Unlock()
	c.publishToasts(ctx)
}

// publishToasts shows the open offers and messages, and arranges for the
// next one to go when it expires.
func (c *controller) publishToasts(ctx app.Context) {
	now := time.Now()
	c.mu.Lock()
	c.offers.Expire(now)
	c.messages = slices.DeleteFunc(c.messages, func(m message) bool { return !m.expires.IsZero() && !now.Before(m.expires) })
	var out []toast
	next := c.offers.Next()
	for _, of := range c.offers.Open() {
		// Offers' toasts have negative IDs: apart from the messages'.
		out = append(out, toast{ID: -of.ID, Text: of.Text(), Offer: of.ID, Task: of.Before.ID, Life: undo.Window})
	}
	for _, m := range c.messages {
		out = append(out, m.toast)
		if m.expires.IsZero() {
			continue
		}
		if next.IsZero() || m.expires.Before(next) {
			next = m.expires
		}
	}
	if c.toastTimer != nil {
		c.toastTimer.Stop()
		c.toastTimer = nil
	}
	if !next.IsZero() {
		c.toastTimer = time.AfterFunc(next.Sub(now)+10*time.Millisecond, func() { c.publishToasts(ctx) })
	}
	c.mu.Unlock()
	setState(ctx, stToasts, out)
}
