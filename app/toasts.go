package app

import (
	"maps"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/undo"
)

// toasts shows short messages at the bottom of the screen, in a live
// region present from the start (so screen readers announce each), with
// "Undo" for the actions that offer it. They go by themselves, or with
// their close button: when their countdown (toast.Life) runs out, which
// stands still while the pointer is over the toast or the focus inside it
// (so a person can read it to the end, or reach Undo by Tab however far
// it is), up to undo.Limit, when the controller ends the offer or the
// message. Those with Retry have no countdown: only a press ends them.
// The newest offer is also taken up by Ctrl+Z (shortcuts.go). The focus
// stays on the control a person is on while other toasts come and go,
// and goes to the toast's task (or the list) when that toast goes.
type toasts struct {
	app.Compo
	items []toast
	asked int // requests for a row's focus made (rowFocus.N)
	// clocks are the countdowns of the toasts that have one, by toast ID.
	clocks map[int]*undo.Countdown
	timers int // timers set: one set before the last does nothing
}

func (t *toasts) OnMount(ctx app.Context) {
	observe(ctx, stToasts, &t.items).OnChange(func() {
		t.keepFocus(ctx)
		t.count(ctx)
	})
	t.count(ctx)
}

// count starts the countdowns of the toasts as they show and drops those
// of the toasts gone.
func (t *toasts) count(ctx app.Context) {
	now := time.Now()
	if t.clocks == nil {
		t.clocks = make(map[int]*undo.Countdown)
	}
	keepClocks(t.clocks, t.items, now)
	t.tick(ctx, now)
}

// keepClocks starts at now the countdown of each toast with a Life that
// has none yet, leaves those running alone, and drops those of the toasts
// no longer shown.
func keepClocks(clocks map[int]*undo.Countdown, items []toast, now time.Time) {
	shown := make(map[int]bool, len(items))
	for _, it := range items {
		if it.Life <= 0 {
			continue
		}
		shown[it.ID] = true
		if clocks[it.ID] == nil {
			c := undo.Start(it.Life, now)
			clocks[it.ID] = &c
		}
	}
	maps.DeleteFunc(clocks, func(id int, _ *undo.Countdown) bool { return !shown[id] })
}

// tick dismisses the toasts whose countdown ran out by now and sets a
// timer for the next to run out.
func (t *toasts) tick(ctx app.Context, now time.Time) {
	t.timers++
	n := t.timers
	var next time.Time
	for id, c := range t.clocks {
		if c.Over(now) {
			ctx.NewActionWithValue(string(actDismissToast), id)
			continue
		}
		if end, ok := c.Ends(); ok && (next.IsZero() || end.Before(next)) {
			next = end
		}
	}
	if next.IsZero() {
		return
	}
	ctx.After(next.Sub(now), func(ctx app.Context) {
		if t.timers == n {
			t.tick(ctx, time.Now())
		}
	})
}

// hold returns the handler that turns a reason to keep a toast up on or
// off (the pointer entering or leaving it, the focus coming in or going
// out).
func (t *toasts) hold(toastID int, h undo.Hold, on bool) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		c := t.clocks[toastID]
		if c == nil {
			return
		}
		if h == undo.Focus && !on {
			// From one of the toast's buttons to another: still inside.
			to, el := e.Get("relatedTarget"), byID("toast-"+strconv.Itoa(toastID))
			if to.Truthy() && el.Truthy() && el.Call("contains", to).Bool() {
				return
			}
		}
		now := time.Now()
		c.Set(h, on, now)
		t.tick(ctx, now)
	}
}

// newestOffer returns the ID of the toast of the newest offer (offers
// come first, oldest first), 0 if none.
func newestOffer(items []toast) int {
	id := 0
	for _, it := range items {
		if it.Offer != 0 {
			id = it.ID
		}
	}
	return id
}

// keepFocus runs as the toasts change, before the page shows it: it notes
// where the focus is among them, and puts it back by name once the page
// has changed.
func (t *toasts) keepFocus(ctx app.Context) {
	if !app.IsClient {
		return
	}
	el := document().Get("activeElement")
	if !el.Truthy() || !el.Get("dataset").Get("toast").Truthy() || !el.Call("closest", "#toasts").Truthy() {
		return
	}
	ds := el.Get("dataset")
	id, err := strconv.Atoi(ds.Get("toast").String())
	if err != nil {
		return
	}
	f := toastFocus{Toast: id, Ctl: ds.Get("ctl").String()}
	if task := ds.Get("for"); task.Truthy() {
		f.Task = authdash.TaskID(task.String())
	}
	ctx.Defer(func(ctx app.Context) {
		sel, row := focusAfterToasts(f, t.items)
		if row != "" {
			// The list owns the rows' focus (it follows a task as rows
			// are reused): it is asked, not bypassed.
			t.asked++
			ctx.SetState(string(stFocusRow), rowFocus{Task: row, N: t.asked})
			return
		}
		if el := query(sel); !el.Equal(document().Get("activeElement")) {
			focusEl(el)
		}
	})
}

func (t *toasts) Render() app.UI {
	newest := newestOffer(t.items)
	return app.Div().ID("toasts").Class("toasts").Role("status").Aria("live", "polite").Body(
		app.Range(t.items).Slice(func(i int) app.UI {
			it := t.items[i]
			id := strconv.Itoa(it.ID)
			cls := "toast"
			if it.Error {
				cls += " error"
			}
			// The controls name their toast and its task (data-toast,
			// data-for): keepToastFocus finds them again by these.
			ctl := func(b app.HTMLButton, name string) app.HTMLButton {
				return b.DataSet("toast", it.ID).DataSet("ctl", name).DataSet("for", string(it.Task))
			}
			return app.Div().Class(cls).ID("toast-"+id).
				On("pointerenter", t.hold(it.ID, undo.Pointer, true), app.EventScope(id)).
				On("pointerleave", t.hold(it.ID, undo.Pointer, false), app.EventScope(id)).
				On("focusin", t.hold(it.ID, undo.Focus, true), app.EventScope(id)).
				On("focusout", t.hold(it.ID, undo.Focus, false), app.EventScope(id)).Body(
				app.Span().Class("toast-text").Text(it.Text),
				app.If(it.Offer != 0, func() app.UI {
					b := ctl(app.Button().Type("button").Class("btn small undo").ID("undo-"+strconv.Itoa(it.Offer)), "undo")
					if it.ID == newest {
						// Ctrl+Z (⌘Z) presses this one.
						b = b.Title("Undo (Ctrl+Z)").Aria("keyshortcuts", "Control+Z Meta+Z")
					}
					return b.OnClick(func(ctx app.Context, e app.Event) {
						ctx.NewActionWithValue(string(actUndo), it.Offer)
					}, app.EventScope(id)).Text("Undo")
				}),
				app.If(it.Retry, func() app.UI {
					return ctl(app.Button().Type("button").Class("btn small retry").ID("retry-"+id), "retry").
						OnClick(func(ctx app.Context, e app.Event) {
							ctx.NewActionWithValue(string(actRetry), it.ID)
						}, app.EventScope(id)).Text("Retry")
				}),
				ctl(app.Button().Type("button").Class("btn small ghost").Aria("label", "Dismiss"), "dismiss").
					OnClick(func(ctx app.Context, e app.Event) {
						ctx.NewActionWithValue(string(actDismissToast), it.ID)
					}, app.EventScope(id)).Text("×"),
			)
		}),
	)
}
