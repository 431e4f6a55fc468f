package app

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
)

// The sign-in activity's state and action. registerMFA installs its
// handler and forgetMFA clears its state, with the second factor's.
const (
	stActivity      stateKey = "authdash.activity"      // activityView
	actLoadActivity action   = "authdash.activity.load" // nil
)

// activityView is the account's recent sign-ins.
type activityView struct {
	Items   []authdash.SignInEvent
	Loaded  bool
	Loading bool
	Err     string
}

func (c *controller) loadActivity(ctx app.Context, _ app.Action) {
	setState(ctx, stActivity, activityView{Loading: true})
	items, err := c.api().SignInActivity(ctx)
	if err != nil {
		setState(ctx, stActivity, activityView{Loaded: true, Err: authdash.ErrorMessageOf(err)})
		return
	}
	setState(ctx, stActivity, activityView{Loaded: true, Items: items})
}

// activityCard is the profile's "Recent sign-in activity" section.
type activityCard struct {
	app.Compo
	view activityView
}

func (c *activityCard) OnMount(ctx app.Context) {
	observe(ctx, stActivity, &c.view)
	ctx.NewAction(string(actLoadActivity))
}

func (c *activityCard) Render() app.UI {
	v := c.view
	return app.Section().Class("card").Aria("labelledby", "activity-title").Body(
		app.H2().ID("activity-title").Text("Recent sign-in activity"),
		formError(v.Err),
		app.P().Class("muted").Role("status").Hidden(!v.Loading).Text("Loading…"),
		app.If(v.Loaded && len(v.Items) == 0 && v.Err == "", func() app.UI { return app.P().Class("muted").Text("No sign-ins yet.") }),
		app.Ul().Class("sessions").ID("activity").Body(
			app.Range(v.Items).Slice(func(i int) app.UI {
				e := v.Items[i]
				return app.Li().Class("session activity-" + string(e.Outcome)).Body(
					app.Div().Body(
						app.Strong().Text(e.Device),
						app.Span().Class("badge").Text(outcomeLabel(e)),
						app.P().Class("muted").Text(e.At.Local().Format("Jan 2, 2006 15:04")+" · "+e.IP+" · "+methodLabel(e.Method)),
					),
				)
			}),
		),
		app.Div().Class("actions").Body(
			app.Button().Type("button").ID("activity-refresh").Class("btn small").OnClick(func(ctx app.Context, e app.Event) {
				ctx.NewAction(string(actLoadActivity))
			}).Text("Refresh"),
		),
	)
}

func outcomeLabel(e authdash.SignInEvent) string {
	switch {
	case e.Outcome == authdash.SignInSuccess:
		return "Signed in"
	case e.Reason == authdash.ReasonWrongPassword:
		return "Failed: wrong password"
	case e.Reason == authdash.ReasonWrongCode:
		return "Failed: wrong code"
	case e.Reason == authdash.ReasonPasskeyRefused:
		return "Failed: passkey refused"
	}
	return "Failed"
}

func methodLabel(m authdash.SignInMethod) string {
	switch m {
	case authdash.SignInTOTP:
		return "password and app code"
	case authdash.SignInRecovery:
		return "password and recovery code"
	case authdash.SignInPasskey:
		return "passkey"
	case authdash.SignInOIDC:
		return "identity provider"
	}
	return "password"
}
