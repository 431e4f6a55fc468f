package app

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// toasts shows short messages at the bottom of the screen, in a live
// region present from the start (so screen readers announce each), with
// "Undo" for the actions that offer it. They go by themselves (the
// controller expires them), or with their close button.
type toasts struct {
	app.Compo
	items []toast
}

func (t *toasts) OnMount(ctx app.Context) { observe(ctx, stToasts, &t.items) }

func (t *toasts) Render() app.UI {
	return app.Div().ID("toasts").Class("toasts").Role("status").Aria("live", "polite").Body(
		app.Range(t.items).Slice(func(i int) app.UI {
			it := t.items[i]
			id := strconv.Itoa(it.ID)
			cls := "toast"
			if it.Error {
				cls += " error"
			}
			return app.Div().Class(cls).ID("toast-"+id).Body(
				app.Span().Class("toast-text").Text(it.Text),
				app.If(it.Offer != 0, func() app.UI {
					return app.Button().Type("button").Class("btn small undo").ID("undo-"+strconv.Itoa(it.Offer)).
						OnClick(func(ctx app.Context, e app.Event) {
							ctx.NewActionWithValue(string(actUndo), it.Offer)
						}, app.EventScope(id)).Text("Undo")
				}),
				app.If(it.Retry, func() app.UI {
					return app.Button().Type("button").Class("btn small retry").ID("retry-"+id).
						OnClick(func(ctx app.Context, e app.Event) {
							ctx.NewActionWithValue(string(actRetry), it.ID)
						}, app.EventScope(id)).Text("Retry")
				}),
				app.Button().Type("button").Class("btn small ghost").Aria("label", "Dismiss").
					OnClick(func(ctx app.Context, e app.Event) {
						ctx.NewActionWithValue(string(actDismissToast), it.ID)
					}, app.EventScope(id)).Text("×"),
			)
		}),
	)
}
