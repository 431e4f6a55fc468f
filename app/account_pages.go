package app

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
)

// The pages of the account flows (account.go does their work). Each is one
// card. When a step is done its result replaces the form and takes the
// focus, so a screen reader reads it out and the keyboard carries on from
// there; errors go to the form's alert region, as on the other forms.

// focusLater moves the focus to the element with id once it is rendered.
func focusLater(ctx app.Context, id string) {
	ctx.Defer(func(app.Context) {
		if !app.IsClient {
			return
		}
		if el := app.Window().GetElementByID(id); el.Truthy() {
			el.Call("focus")
		}
	})
}

// linkToken is the token of the link that opened the page.
func linkToken(ctx app.Context) string { return ctx.Page().URL().Query().Get("token") }

// result is the card's content once its step is done: a heading that takes
// the focus, what happened, and where to go next.
func result(id, title string, body ...app.UI) app.UI {
	return app.Div().ID(id).Class("result").Body(
		append([]app.UI{app.H1().ID(id + "-title").TabIndex(-1).Text(title)}, body...)...,
	)
}

// doneWatch tells when a form's submission succeeds (its Done count moves
// to a new value), not when the form merely changes.
type doneWatch struct{ seen int }

func (w *doneWatch) moved(f formState) bool {
	moved := f.Done != 0 && f.Done != w.seen
	w.seen = f.Done
	return moved
}

// badLink is what a page opened without its token says; or names another
// way, if there is one.
func badLink(or string) app.UI {
	msg := "This link is incomplete: open the link from the message again"
	if or != "" {
		msg += ", or " + or
	}
	return app.P().Class("form-error").Role("alert").Text(msg + ".")
}

// forgotPasswordPage asks for a reset link.
type forgotPasswordPage struct {
	app.Compo
	sess  sessionView
	form  formState
	done  doneWatch
	email string
	sent  bool
}

func (p *forgotPasswordPage) OnMount(ctx app.Context) {
	observe(ctx, formKey(formForgot), &p.form).OnChange(func() {
		if p.done.moved(p.form) {
			p.sent = true
			focusLater(ctx, "forgot-done-title")
		}
	})
	p.done.seen = p.form.Done
	observe(ctx, stSession, &p.sess)
	ctx.NewAction(string(actBoot))
}

func (p *forgotPasswordPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Forgot your password? · Authdash")
}

func (p *forgotPasswordPage) Render() app.UI {
	if p.sent {
		return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", "forgot-done-title").Body(
			result("forgot-done", "Check your email",
				app.P().Body(app.Text("If an account uses "), app.Strong().Text(p.email),
					app.Text(", a message with a link to choose a new password is on its way. The link works for 30 minutes, once.")),
				app.P().Class("muted").Text("Nothing arrived? Check the spam folder, or ask again in a few minutes."),
				app.P().Body(app.A().Href(routeSignIn).Text("Back to sign in")),
			),
		))
	}
	return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", "forgot-title").Body(
		app.H1().ID("forgot-title").Text("Forgot your password?"),
		app.P().Class("muted").ID("forgot-intro").Text("Enter the email address of your account and we will send you a link to choose a new password."),
		app.Form().ID("forgot-form").Class("form").Method("post").NoValidate(true).Aria("describedby", "forgot-intro").OnSubmit(p.submit).Body(
			formError(p.form.summary("email")),
			field{ID: "forgot-email", Label: "Email", Type: "email", Value: p.email, Err: p.form.Fields["email"],
				AutoComplete: "email", Required: true, OnInput: value(&p.email)}.render(),
			app.Button().Type("submit").Class("btn primary wide").Disabled(p.form.Busy).Text(busyText(p.form.Busy, "Send the link", "Sending…")),
		),
		app.P().Class("muted").Body(app.Text("Remembered it? "), app.A().Href(routeSignIn).Text("Sign in")),
	))
}

func (p *forgotPasswordPage) submit(ctx app.Context, e app.Event) {
	e.PreventDefault()
	ctx.NewActionWithValue(string(actForgotPassword), p.email)
}

// resetPasswordPage sets a new password with the token of a reset link.
// It asks the server about the link as it opens: one that no longer works
// says so at once, instead of after a new password was typed. Until the
// answer comes (and when none does) the form shows, as for a good link.
type resetPasswordPage struct {
	app.Compo
	sess     sessionView
	form     formState
	done     doneWatch
	verdict  resetLinkVerdict
	token    string
	password string
	reset    bool
}

func (p *resetPasswordPage) OnMount(ctx app.Context) {
	p.token = linkToken(ctx)
	observe(ctx, formKey(formReset), &p.form).OnChange(func() {
		if p.done.moved(p.form) {
			p.reset, p.password = true, ""
			focusLater(ctx, "reset-done-title")
		}
	})
	p.done.seen = p.form.Done
	observe(ctx, stResetLink, &p.verdict).OnChange(func() {
		if p.linkBad() {
			ctx.Page().SetTitle("This link no longer works · Authdash")
			focusLater(ctx, "reset-bad-title")
		}
	})
	observe(ctx, stSession, &p.sess)
	ctx.NewAction(string(actBoot))
	if p.token != "" {
		ctx.NewActionWithValue(string(actCheckResetLink), p.token)
	}
}

// linkBad reports whether the server said this page's link does not work.
func (p *resetPasswordPage) linkBad() bool {
	return p.token != "" && p.verdict.Token == p.token && p.verdict.Bad != ""
}

func (p *resetPasswordPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Choose a new password · Authdash")
}

func (p *resetPasswordPage) Render() app.UI {
	if p.reset {
		return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", "reset-done-title").Body(
			result("reset-done", "Your password was changed",
				app.P().Text("Every device that was signed in to your account has been signed out. We have emailed you a note of the change."),
				app.P().Body(app.A().ID("reset-signin").Class("btn primary wide").Href(routeSignIn).Text("Sign in with the new password")),
			),
		))
	}
	if p.linkBad() {
		return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", "reset-bad-title").Body(
			result("reset-bad", "This link no longer works",
				app.P().ID("reset-bad-why").Text(p.verdict.Bad),
				app.P().Text("Reset links work once, for 30 minutes."),
				app.P().Body(app.A().ID("reset-new-link").Class("btn primary wide").Href(routeForgotPassword).Text("Ask for a new link")),
				app.P().Class("muted").Body(app.Text("Remembered your password? "), app.A().Href(routeSignIn).Text("Sign in")),
			),
		))
	}
	tokenErr := p.form.Fields["token"]
	return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", "reset-title").Body(
		app.H1().ID("reset-title").Text("Choose a new password"),
		app.If(p.token == "" && app.IsClient, func() app.UI { return badLink("ask for a new one") }),
		app.Form().ID("reset-form").Class("form").Method("post").NoValidate(true).OnSubmit(p.submit).Body(
			formError(p.form.summary("newPassword")),
			// For password managers: the account the new password belongs to is unknown here,
			// so the field only tells them this is a new password.
			field{ID: "reset-password", Label: "New password", Type: "password", Value: p.password, Err: p.form.Fields["newPassword"],
				AutoComplete: "new-password", Required: true,
				Hint: "At least 8 characters, not a common one. Every signed-in device will be signed out.", OnInput: value(&p.password)}.render(),
			app.Button().Type("submit").Class("btn primary wide").Disabled(p.form.Busy || p.token == "").
				Text(busyText(p.form.Busy, "Set the new password", "Saving…")),
		),
		app.If(tokenErr != "", func() app.UI {
			return app.P().Body(app.A().ID("reset-again").Href(routeForgotPassword).Text("Ask for a new link"))
		}),
	))
}

func (p *resetPasswordPage) submit(ctx app.Context, e app.Event) {
	e.PreventDefault()
	ctx.NewActionWithValue(string(actResetPassword), authdash.PasswordReset{Token: p.token, NewPassword: p.password})
}

// verifyEmailPage proves the account's address: it spends the link's token
// as soon as it opens (the link was the person's click).
type verifyEmailPage struct {
	app.Compo
	sess  sessionView
	form  formState
	done  doneWatch
	token string
	ok    bool
}

func (p *verifyEmailPage) OnMount(ctx app.Context) {
	p.token = linkToken(ctx)
	observe(ctx, formKey(formVerify), &p.form).OnChange(func() {
		if p.done.moved(p.form) {
			p.ok = true
			focusLater(ctx, "verify-done-title")
		}
	})
	p.done.seen = p.form.Done
	observe(ctx, stSession, &p.sess)
	ctx.NewAction(string(actBoot))
	if p.token != "" {
		ctx.NewActionWithValue(string(actVerifyEmail), p.token)
	}
}

func (p *verifyEmailPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Confirm your email address · Authdash")
}

func (p *verifyEmailPage) Render() app.UI {
	if p.ok {
		return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", "verify-done-title").Body(
			result("verify-done", "Your email address is confirmed",
				app.P().Text("Thank you. Messages about your account, such as password resets, will reach you there."),
				app.P().Body(nextStep(p.sess)),
			),
		))
	}
	status := "Confirming your email address…"
	if !p.form.Busy && p.form.Err != "" {
		status = ""
	}
	return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", "verify-title").Body(
		app.H1().ID("verify-title").Text("Confirm your email address"),
		app.If(p.token == "" && app.IsClient, func() app.UI { return badLink("sign in and send yourself a new one") }),
		app.P().ID("verify-status").Role("status").Hidden(status == "" || p.token == "").Text(status),
		formError(p.form.Err),
		app.If(p.form.Err != "" && p.sess.Phase == phaseSignedIn && !p.sess.User.EmailVerified, func() app.UI {
			return app.P().Class("muted").Text("You can send yourself a new link from the banner above.")
		}),
		app.If(p.form.Err != "" && p.sess.Phase == phaseSignedOut, func() app.UI {
			return app.P().Class("muted").Text("Sign in to send yourself a new link.")
		}),
		app.P().Body(nextStep(p.sess)),
	))
}

// nextStep links to the dashboard when signed in, else to the sign-in page.
func nextStep(s sessionView) app.UI {
	if s.Phase == phaseSignedIn || s.Phase == phaseOffline {
		return app.A().ID("next-step").Href(routeHome).Text("Go to your tasks")
	}
	return app.A().ID("next-step").Href(routeSignIn).Text("Sign in")
}

// spendLinkPage is a page a mailed link opens that spends its token on a
// click rather than on opening: confirming or undoing an email change is a
// bigger step than a verification. The two such pages differ only in words,
// so each is this page with its own spendLink.
type spendLinkPage struct {
	app.Compo
	link  *spendLink
	sess  sessionView
	form  formState
	done  doneWatch
	token string
	ok    bool
}

// Each has its own type so that go-app, which updates a component of the
// same type in place when the route changes, mounts a fresh one instead.
type (
	confirmEmailPage struct{ spendLinkPage }
	revertEmailPage  struct{ spendLinkPage }
)

// spendLink is what one spendLinkPage says and does. id prefixes the ids of
// its title, intro, form and result; button is the submit's id.
type spendLink struct {
	id, form         string
	act              action
	pageTitle, title string
	intro, badLinkOr string
	button, btnClass string
	btnText, btnBusy string
	doneTitle        string
	doneBody         func(sessionView) []app.UI
}

// confirmEmailLink finishes an email change from the link sent to the new
// address.
func confirmEmailLink() *spendLink {
	return &spendLink{
		id: "confirm", form: formConfirmEmail, act: actConfirmEmail,
		pageTitle: "Confirm your new email address · Authdash",
		title:     "Confirm your new email address",
		intro:     "Your account will use this address from now on: for signing in, and for messages about your account.",
		badLinkOr: "ask for the change again from your profile",
		button:    "confirm-email", btnClass: "btn primary wide",
		btnText: "Use the new address", btnBusy: "Confirming…",
		doneTitle: "Your email address was changed",
		doneBody: func(s sessionView) []app.UI {
			return []app.UI{
				app.P().Text("Sign in with the new address from now on. We told the old address, with a link that undoes the change within 72 hours."),
				app.P().Body(nextStep(s)),
			}
		},
	}
}

// revertEmailLink undoes an email change from the link sent to the old
// address, and signs every device out.
func revertEmailLink() *spendLink {
	return &spendLink{
		id: "revert", form: formRevertEmail, act: actRevertEmail,
		pageTitle: "Undo the email change · Authdash",
		title:     "Undo the email change?",
		intro:     "This puts this address back on your account and signs out every device, including whoever made the change.",
		button:    "revert-email", btnClass: "btn danger wide",
		btnText: "Undo and sign out everywhere", btnBusy: "Undoing…",
		doneTitle: "The change was undone",
		doneBody: func(sessionView) []app.UI {
			return []app.UI{
				app.P().Text("Your account uses this address again, and every device was signed out."),
				app.P().Text("If you did not ask for the change, someone may know your password: choose a new one now."),
				app.Div().Class("actions").Body(
					app.A().ID("revert-reset").Class("btn primary").Href(routeForgotPassword).Text("Choose a new password"),
					app.A().Class("btn").Href(routeSignIn).Text("Sign in"),
				),
			}
		},
	}
}

func (p *spendLinkPage) OnMount(ctx app.Context) {
	p.token = linkToken(ctx)
	observe(ctx, formKey(p.link.form), &p.form).OnChange(func() {
		if p.done.moved(p.form) {
			p.ok = true
			focusLater(ctx, p.link.id+"-done-title")
		}
	})
	p.done.seen = p.form.Done
	observe(ctx, stSession, &p.sess)
	ctx.NewAction(string(actBoot))
}

func (p *spendLinkPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle(p.link.pageTitle)
}

func (p *spendLinkPage) Render() app.UI {
	l := p.link
	if p.ok {
		return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", l.id+"-done-title").Body(
			result(l.id+"-done", l.doneTitle, l.doneBody(p.sess)...),
		))
	}
	return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", l.id+"-title").Body(
		app.H1().ID(l.id+"-title").Text(l.title),
		app.If(p.token == "" && app.IsClient, func() app.UI { return badLink(l.badLinkOr) }),
		app.P().ID(l.id+"-intro").Text(l.intro),
		app.Form().ID(l.id+"-form").Class("form").Method("post").NoValidate(true).Aria("describedby", l.id+"-intro").
			OnSubmit(func(ctx app.Context, e app.Event) {
				e.PreventDefault()
				ctx.NewActionWithValue(string(l.act), p.token)
			}).Body(
			formError(p.form.Err),
			app.Button().ID(l.button).Type("submit").Class(l.btnClass).Disabled(p.form.Busy || p.token == "").
				Text(busyText(p.form.Busy, l.btnText, l.btnBusy)),
		),
	))
}
