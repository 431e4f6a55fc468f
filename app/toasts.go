package app

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
)

// toasts shows short messages at the bottom of the screen, in a live
// region present from the start (so screen readers announce each), with
// "Undo" for the actions that offer it. They go by themselves (the
// controller expires them), or with their close button. The focus stays
// on the control a person is on while other toasts come and go, and goes
// to the toast's task (or the list) when that toast goes.
type toasts struct {
	app.Compo
	items []toast
	asked int // requests for a row's focus made (rowFocus.N)
}

func (t *toasts) OnMount(ctx app.Context) {
	observe(ctx, stToasts, &t.items).OnChange(func() { t.keepFocus(ctx) })
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
			return app.Div().Class(cls).ID("toast-"+id).Body(
				app.Span().Class("toast-text").Text(it.Text),
				app.If(it.Offer != 0, func() app.UI {
					return ctl(app.Button().Type("button").Class("btn small undo").ID("undo-"+strconv.Itoa(it.Offer)), "undo").
						OnClick(func(ctx app.Context, e app.Event) {
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
