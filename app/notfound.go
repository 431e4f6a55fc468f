package app

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// notFoundPage is the page of an address the app does not have, in the
// app's own frame, with the way back (go-app serves it with status 404).
type notFoundPage struct {
	app.Compo
	sess sessionView
}

func (p *notFoundPage) OnMount(ctx app.Context) {
	observe(ctx, stSession, &p.sess)
	ctx.NewAction(string(actBoot))
}

func (p *notFoundPage) OnNav(ctx app.Context) { ctx.Page().SetTitle("Page not found · Authdash") }

func (p *notFoundPage) Render() app.UI {
	return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", "notfound-title").Body(
		app.H1().ID("notfound-title").Text("Page not found"),
		app.P().Text("There is no page at this address. It may have moved, or the link may be mistyped."),
		app.P().Body(app.A().ID("notfound-home").Class("btn primary").Href(routeHome).Text("Go to your tasks")),
	))
}
