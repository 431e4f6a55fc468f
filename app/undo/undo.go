// Package undo keeps the offers to undo what the user just did to a task
// (completed it, deleted it): what a toast with an "Undo" button shows, for
// a few seconds unless the person is on it (Countdown). An offer holds the
// task as it was before, which is what undoing puts back.
package undo

import (
	"slices"
	"time"

	"github.com/authdash/authdash"
)

// Window is how long an offer's toast shows when nobody is on it: long
// enough to notice a slip and reach the button, short enough not to
// linger. While the pointer is over the toast or the focus inside it, the
// toast stays (Countdown), up to Limit.
const Window = 6 * time.Second

// Limit is how long an offer lasts at most, however long its toast is
// held. The server restores a deleted task for authdash.RestoreWindow
// (24 hours) after the deletion, so an undo offered is never one it
// refuses; an undo of done or not done is a plain change, with no window.
// The limit is for the person: a toast held for minutes was forgotten.
const Limit = 10 * time.Minute

// Resume is the least a toast has left once it is let go: one held to
// its last moment does not vanish as the pointer or the focus leaves it.
const Resume = 2 * time.Second

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

// Add records an action done at now and returns its offer, which expires
// after Limit (its toast goes sooner: Countdown). An older offer about the
// same task is withdrawn: undoing it would now undo more than it says.
func (o *Offers) Add(k Kind, before, after authdash.Task, now time.Time) Offer {
	o.Withdraw(before.ID)
	o.next++
	of := Offer{ID: o.next, Kind: k, Before: before, After: after, Expires: now.Add(Limit)}
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

// Hold is what keeps a toast up: a set of reasons.
type Hold uint8

// Holds.
const (
	Pointer Hold = 1 << iota // the pointer is over the toast
	Focus                    // the focus is inside it
)

// Countdown is the time a toast has left. It runs while nothing holds the
// toast and stands still while something does (the pointer over it, the
// focus inside it), as Gmail's and Google Docs' do; let go, it runs on
// from where it stood, with at least Resume left.
type Countdown struct {
	end  time.Time     // when it runs out, while it runs
	left time.Duration // what is left, while it is held
	hold Hold
}

// Start returns a countdown of d from now.
func Start(d time.Duration, now time.Time) Countdown { return Countdown{end: now.Add(d)} }

// Set turns a reason to hold the toast on or off at now.
func (c *Countdown) Set(h Hold, on bool, now time.Time) {
	was := c.hold
	if on {
		c.hold |= h
	} else {
		c.hold &^= h
	}
	switch {
	case was == 0 && c.hold != 0:
		c.left = max(c.end.Sub(now), 0)
	case was != 0 && c.hold == 0:
		c.end = now.Add(max(c.left, Resume))
	}
}

// Held reports whether something holds the toast.
func (c Countdown) Held() bool { return c.hold != 0 }

// Ends returns when the countdown runs out; false while it is held.
func (c Countdown) Ends() (time.Time, bool) { return c.end, c.hold == 0 }

// Over reports whether the countdown ran out by now.
func (c Countdown) Over(now time.Time) bool { return c.hold == 0 && !now.Before(c.end) }
