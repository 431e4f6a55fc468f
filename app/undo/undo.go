// Package undo keeps the offers to undo what the user just did to a task
// (completed it, deleted it), each for a few seconds: what a toast with an
// "Undo" button shows. An offer holds the task as it was before, which is
// what undoing puts back.
package undo

import (
	"slices"
	"time"

	"github.com/authdash/authdash"
)

// Window is how long an offer lasts: long enough to notice a slip and
// reach the button, short enough not to linger.
const Window = 6 * time.Second

// Kind is what was done.
type Kind int

// Kinds.
const (
	Completed Kind = iota + 1 // marked done
	Reopened                  // marked not done
	Deleted                   // deleted
)

// Offer is one undoable action.
type Offer struct {
	ID   int
	Kind Kind
	// Before is the task as it was before the action; After the task the
	// action left (its version is the one an undo must change).
	Before, After authdash.Task
	Expires       time.Time
}

// Text says what happened, for the toast.
func (o Offer) Text() string {
	title := "“" + o.Before.Title + "”"
	switch o.Kind {
	case Completed:
		return title + " marked done."
	case Reopened:
		return title + " marked not done."
	case Deleted:
		return title + " deleted."
	}
	return title + " changed."
}

// Offers is the open offers, oldest first. The zero value is ready.
type Offers struct {
	next  int
	items []Offer
}

// Add records an action done at now and returns its offer. An older offer
// about the same task is withdrawn: undoing it would now undo more than it
// says.
func (o *Offers) Add(k Kind, before, after authdash.Task, now time.Time) Offer {
	o.Withdraw(before.ID)
	o.next++
	of := Offer{ID: o.next, Kind: k, Before: before, After: after, Expires: now.Add(Window)}
	o.items = append(o.items, of)
	return of
}

// Take removes the offer and returns it, unless it is gone or expired.
func (o *Offers) Take(id int, now time.Time) (Offer, bool) {
	i := slices.IndexFunc(o.items, func(of Offer) bool { return of.ID == id })
	if i < 0 {
		return Offer{}, false
	}
	of := o.items[i]
	o.items = slices.Delete(o.items, i, i+1)
	return of, now.Before(of.Expires)
}

// Withdraw removes any offer about the task (it changed again).
func (o *Offers) Withdraw(id authdash.TaskID) {
	o.items = slices.DeleteFunc(o.items, func(of Offer) bool { return of.Before.ID == id })
}

// Expire removes the offers that ran out by now and reports whether any
// did.
func (o *Offers) Expire(now time.Time) bool {
	n := len(o.items)
	o.items = slices.DeleteFunc(o.items, func(of Offer) bool { return !now.Before(of.Expires) })
	return len(o.items) != n
}

// Open returns the offers still open, oldest first.
func (o *Offers) Open() []Offer { return slices.Clone(o.items) }

// Next returns when the next offer expires (zero when none is open).
func (o *Offers) Next() time.Time {
	var t time.Time
	for _, of := range o.items {
		if t.IsZero() || of.Expires.Before(t) {
			t = of.Expires
		}
	}
	return t
}
