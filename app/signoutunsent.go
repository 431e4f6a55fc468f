package app

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// signOutUnsentDialog asks before a sign-out discards changes made offline
// that the server has not had yet: signing out clears this device of the
// account's data, the outbox with it. The focus starts on the way that
// keeps them, so Enter pressed twice on Sign out loses nothing.
type signOutUnsentDialog struct {
	app.Compo
	n     int
	modal modal
}

func (d *signOutUnsentDialog) OnMount(ctx app.Context) {
	d.modal = modal{id: "signout-unsent-dialog", fallback: "signout"}
	observe(ctx, stSignOutUnsent, &d.n).OnChange(func() {
		if d.n > 0 {
			d.modal.show(ctx)
			focusSoon("#signout-unsent-cancel")
		} else {
			d.modal.hide()
		}
	})
}

func (d *signOutUnsentDialog) cancel(ctx app.Context, _ app.Event) {
	ctx.SetState(string(stSignOutUnsent), 0)
}

func (d *signOutUnsentDialog) confirm(ctx app.Context, _ app.Event) {
	ctx.SetState(string(stSignOutUnsent), 0)
	ctx.NewActionWithValue(string(actSignOut), true)
}

// onClose: Esc keeps the changes.
func (d *signOutUnsentDialog) onClose(ctx app.Context, e app.Event) {
	if d.modal.closedByUser() && d.n > 0 {
		d.cancel(ctx, e)
	}
}

func (d *signOutUnsentDialog) Render() app.UI {
	return app.Dialog().ID("signout-unsent-dialog").On("keydown", trapTab).Class("dialog small").
		Aria("labelledby", "signout-unsent-title").Aria("describedby", "signout-unsent-what").On("close", d.onClose).Body(
		app.If(d.n > 0, func() app.UI {
			what := "1 change"
			if d.n != 1 {
				what = fmt.Sprintf("%d changes", d.n)
			}
			return app.Div().Class("dialog-body").Body(
				app.H2().ID("signout-unsent-title").Text("Changes not sent yet"),
				app.P().ID("signout-unsent-what").Text(what+" made on this device have not reached the server yet. "+
					"Signing out now deletes them from this device. Stay signed in and they are sent as soon as the server can be reached."),
				app.Div().Class("actions").Body(
					app.Button().Type("button").ID("signout-unsent-confirm").Class("btn danger").OnClick(d.confirm).Text("Sign out and discard them"),
					app.Button().Type("button").ID("signout-unsent-cancel").Class("btn").OnClick(d.cancel).Text("Stay signed in"),
				),
			)
		}),
	)
}
