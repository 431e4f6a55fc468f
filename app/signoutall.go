package app

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// signOutAllDialog asks before signing out on every device, this one
// included: the focus starts on Cancel, so Enter pressed twice on the
// profile's button signs nobody out.
type signOutAllDialog struct {
	app.Compo
	open  bool
	modal modal
}

func (d *signOutAllDialog) OnMount(ctx app.Context) {
	d.modal = modal{id: "signout-all-dialog", fallback: "signout-all"}
	observe(ctx, stSignOutAll, &d.open).OnChange(func() {
		if d.open {
			d.modal.show(ctx)
			focusSoon("#signout-all-cancel")
		} else {
			d.modal.hide()
		}
	})
}

func (d *signOutAllDialog) cancel(ctx app.Context, _ app.Event) {
	ctx.SetState(string(stSignOutAll), false)
}

func (d *signOutAllDialog) confirm(ctx app.Context, _ app.Event) {
	ctx.SetState(string(stSignOutAll), false)
	ctx.NewAction(string(actSignOutAll))
}

// onClose: Esc is Cancel.
func (d *signOutAllDialog) onClose(ctx app.Context, e app.Event) {
	if d.modal.closedByUser() && d.open {
		d.cancel(ctx, e)
	}
}

func (d *signOutAllDialog) Render() app.UI {
	return app.Dialog().ID("signout-all-dialog").On("keydown", trapTab).Class("dialog small").
		Aria("labelledby", "signout-all-title").Aria("describedby", "signout-all-what").On("close", d.onClose).Body(
		app.If(d.open, func() app.UI {
			return app.Div().Class("dialog-body").Body(
				app.H2().ID("signout-all-title").Text("Sign out everywhere?"),
				app.P().ID("signout-all-what").Text("Every device signed in to your account is signed out, this one too. You sign in again with your password."),
				app.Div().Class("actions").Body(
					app.Button().Type("button").ID("signout-all-confirm").Class("btn danger").OnClick(d.confirm).Text("Sign out everywhere"),
					app.Button().Type("button").ID("signout-all-cancel").Class("btn").OnClick(d.cancel).Text("Cancel"),
				),
			)
		}),
	)
}
