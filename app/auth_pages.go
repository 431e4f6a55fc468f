package app

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/oidcreturn"
)

// signInPage signs a user in.
type signInPage struct {
	app.Compo
	sess            sessionView
	form            formState
	email, password string
	mfa             mfaChallenge // the password was right: the code is next
	oidc            oidcreturn.Outcome
}

func (p *signInPage) OnMount(ctx app.Context) {
	observe(ctx, formKey(formSignIn), &p.form)
	observe(ctx, stChallenge, &p.mfa)
	observe(ctx, stSession, &p.sess).OnChange(func() { leaveIfSignedIn(ctx, p.sess) })
	leaveIfSignedIn(ctx, p.sess)
	ctx.NewAction(string(actBoot))
	p.oidc = oidcReturn(ctx)
	// After signing out (or opening the page) the focus is on the form.
	ctx.Defer(func(app.Context) { focusIfLost("signin-email") })
}

func leaveIfSignedIn(ctx app.Context, s sessionView) {
	if s.Phase == phaseSignedIn {
		ctx.Navigate(routeHome)
	}
}

func (p *signInPage) OnNav(ctx app.Context) { ctx.Page().SetTitle("Sign in · Authdash") }

// The auth forms say method=post though the app never lets them submit
// natively: the page is prerendered, and should a form be submitted before
// the app runs, the password must not end up in the URL, the history and
// the logs, as it would with the default GET.

func (p *signInPage) Render() app.UI {
	if p.mfa.Token != "" {
		return layout(p.sess, &secondFactorStep{})
	}
	return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", "signin-title").Body(
		app.H1().ID("signin-title").Text("Sign in"),
		oidcReturnNote(p.oidc),
		app.Form().ID("signin-form").Class("form").Method("post").NoValidate(true).OnSubmit(p.submit).Body(
			formError(p.form.summary("email", "password")),
			field{ID: "signin-email", Label: "Email", Type: "email", Value: p.email, Err: p.form.Fields["email"],
				AutoComplete: "username webauthn", Required: true, OnInput: value(&p.email)}.render(),
			field{ID: "signin-password", Label: "Password", Type: "password", Value: p.password, Err: p.form.Fields["password"],
				AutoComplete: "current-password", Required: true, OnInput: value(&p.password)}.render(),
			app.Button().Type("submit").Class("btn primary wide").Disabled(p.form.Busy).Text(busyText(p.form.Busy, "Sign in", "Signing in…")),
		),
		&passkeySignInButton{},
		&oidcButtons{},
		app.P().Body(app.A().ID("forgot-link").Href(routeForgotPassword).Text("Forgot your password?")),
		app.P().Class("muted").Body(app.Text("New here? "), app.A().Href(routeSignUp).Text("Create an account")),
	))
}

func (p *signInPage) submit(ctx app.Context, e app.Event) {
	e.PreventDefault()
	ctx.NewActionWithValue(string(actSignIn), authdash.Credentials{Email: p.email, Password: p.password})
}

// signUpPage creates an account.
type signUpPage struct {
	app.Compo
	sess                  sessionView
	form                  formState
	name, email, password string
}

func (p *signUpPage) OnMount(ctx app.Context) {
	observe(ctx, formKey(formSignUp), &p.form)
	observe(ctx, stSession, &p.sess).OnChange(func() { leaveIfSignedIn(ctx, p.sess) })
	leaveIfSignedIn(ctx, p.sess)
	ctx.NewAction(string(actBoot))
}

func (p *signUpPage) OnNav(ctx app.Context) { ctx.Page().SetTitle("Create an account · Authdash") }

func (p *signUpPage) Render() app.UI {
	return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", "signup-title").Body(
		app.H1().ID("signup-title").Text("Create your account"),
		app.Form().ID("signup-form").Class("form").Method("post").NoValidate(true).OnSubmit(p.submit).Body(
			formError(p.form.summary("name", "email", "password")),
			field{ID: "signup-name", Label: "Name", Value: p.name, Err: p.form.Fields["name"], AutoComplete: "name",
				Required: true, Max: authdash.MaxNameLen, OnInput: value(&p.name)}.render(),
			field{ID: "signup-email", Label: "Email", Type: "email", Value: p.email, Err: p.form.Fields["email"],
				AutoComplete: "email", Required: true, OnInput: value(&p.email)}.render(),
			field{ID: "signup-password", Label: "Password", Type: "password", Value: p.password, Err: p.form.Fields["password"],
				AutoComplete: "new-password", Required: true, Hint: "At least 8 characters, not a common one or your name.", OnInput: value(&p.password)}.render(),
			app.Button().Type("submit").Class("btn primary wide").Disabled(p.form.Busy).Text(busyText(p.form.Busy, "Create account", "Creating…")),
		),
		&oidcButtons{},
		app.P().Class("muted").Body(app.Text("Already have an account? "), app.A().Href(routeSignIn).Text("Sign in")),
	))
}

func (p *signUpPage) submit(ctx app.Context, e app.Event) {
	e.PreventDefault()
	ctx.NewActionWithValue(string(actSignUp), authdash.Registration{Name: p.name, Email: p.email, Password: p.password})
}

func busyText(busy bool, idle, working string) string {
	if busy {
		return working
	}
	return idle
}
