package app

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
)

// verifyBanner asks a signed-in person whose address is not verified to open
// the link we sent, and offers to send it again.
type verifyBanner struct {
	app.Compo
	sess sessionView
	form formState
	done doneWatch
	sent bool
}

func (b *verifyBanner) OnMount(ctx app.Context) {
	observe(ctx, stSession, &b.sess)
	observe(ctx, formKey(formResend), &b.form).OnChange(func() {
		if b.done.moved(b.form) {
			b.sent = true
		}
	})
	b.done.seen = b.form.Done
}

func (b *verifyBanner) Render() app.UI {
	show := b.sess.Phase == phaseSignedIn && b.sess.User.ID != "" && !b.sess.User.EmailVerified
	text := "Please confirm your email address: open the link we sent to " + b.sess.User.Email + "."
	if b.sent {
		text = "A new link is on its way to " + b.sess.User.Email + ". It works for 48 hours."
	}
	if b.form.Err != "" {
		text = b.form.Err
	}
	return app.Div().ID("verify-banner").Class("banner update verify").Role("status").Hidden(!show).Body(
		app.Span().Text(text),
		app.Button().ID("verify-resend").Type("button").Class("btn small").Disabled(b.form.Busy || b.sent).
			OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(string(actResendVerification)) }).
			Text(busyText(b.form.Busy, "Send the link again", "Sending…")),
	)
}

// emailChangeCard moves the account to a new address: the password, then the
// link mailed to the new address (confirmEmailLink).
type emailChangeCard struct {
	app.Compo
	sess               sessionView
	form               formState
	done               doneWatch
	newEmail, password string
	sentTo             string
}

func (c *emailChangeCard) OnMount(ctx app.Context) {
	observe(ctx, stSession, &c.sess)
	observe(ctx, formKey(formChangeEmail), &c.form).OnChange(func() {
		if c.done.moved(c.form) {
			c.sentTo, c.newEmail, c.password = authdash.NormalizeEmail(c.newEmail), "", ""
			clearInputs("email-new", "email-password")
			focusLater(ctx, "email-sent")
		}
	})
	c.done.seen = c.form.Done
}

func (c *emailChangeCard) Render() app.UI {
	u := c.sess.User
	state := "not confirmed yet"
	if u.EmailVerified {
		state = "confirmed"
	}
	f := c.form.Fields
	return app.Section().Class("card").Aria("labelledby", "email-title").Body(
		app.H2().ID("email-title").Text("Email address"),
		app.P().ID("email-current").Body(app.Text("Your account uses "), app.Strong().Text(u.Email), app.Text(" ("+state+").")),
		app.P().ID("email-sent").Class("muted").TabIndex(-1).Role("status").Hidden(c.sentTo == "").
			Text("We sent a link to "+c.sentTo+". Your address changes when you open it (within 24 hours)."),
		app.Form().ID("email-form").Class("form").Method("post").NoValidate(true).OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			ctx.NewActionWithValue(string(actChangeEmail), authdash.EmailChange{NewEmail: c.newEmail, Password: c.password})
		}).Body(
			formError(c.form.Err),
			accountField(c.sess.User.Email),
			field{ID: "email-new", Label: "New email address", Type: "email", Value: c.newEmail, Err: f["newEmail"],
				AutoComplete: "email", Required: true, OnInput: value(&c.newEmail)}.render(),
			field{ID: "email-password", Label: "Current password", Type: "password", Value: c.password, Err: f["password"],
				AutoComplete: "current-password", Required: true, Hint: "So that nobody else signed in here can move your account.",
				OnInput: value(&c.password)}.render(),
			app.Button().Type("submit").Class("btn primary").Disabled(c.form.Busy).Text(busyText(c.form.Busy, "Send a confirmation link", "Sending…")),
		),
	)
}
