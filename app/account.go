package app

import (
	"context"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
)

// The account flows finished from a mailed link: a forgotten password, a
// verified address, an email change and its undo. Their pages are in
// account_pages.go; the work is here, as controller handlers like the rest.

// Routes of the pages the mailed links open (package mail builds the links).
const (
	routeForgotPassword = "/forgot-password"
	routeResetPassword  = "/reset-password"
	routeVerifyEmail    = "/verify-email"
	routeConfirmEmail   = "/confirm-email"
	routeRevertEmail    = "/revert-email"
)

// accountRoutes lists them, for Routes.
func accountRoutes() []string {
	return []string{routeForgotPassword, routeResetPassword, routeVerifyEmail, routeConfirmEmail, routeRevertEmail}
}

// registerAccountRoutes declares their pages.
func registerAccountRoutes() {
	app.Route(routeForgotPassword, func() app.Composer { return &forgotPasswordPage{} })
	app.Route(routeResetPassword, func() app.Composer { return &resetPasswordPage{} })
	app.Route(routeVerifyEmail, func() app.Composer { return &verifyEmailPage{} })
	app.Route(routeConfirmEmail, func() app.Composer { return &confirmEmailPage{spendLinkPage{link: confirmEmailLink()}} })
	app.Route(routeRevertEmail, func() app.Composer { return &revertEmailPage{spendLinkPage{link: revertEmailLink()}} })
}

// Forms of the account flows (formKey).
const (
	formForgot       = "forgot"
	formReset        = "reset"
	formVerify       = "verify"
	formResend       = "resend"
	formChangeEmail  = "change-email"
	formConfirmEmail = "confirm-email"
	formRevertEmail  = "revert-email"
)

// Actions of the account flows.
const (
	actForgotPassword     action = "authdash.forgot-password"     // string: the address
	actResetPassword      action = "authdash.reset-password"      // authdash.PasswordReset
	actCheckResetLink     action = "authdash.check-reset-link"    // string: the token
	actVerifyEmail        action = "authdash.verify-email"        // string: the token
	actResendVerification action = "authdash.resend-verification" // nil
	actChangeEmail        action = "authdash.change-email"        // authdash.EmailChange
	actConfirmEmail       action = "authdash.confirm-email"       // string: the token
	actRevertEmail        action = "authdash.revert-email"        // string: the token
)

// registerAccount installs the account flows' handlers.
func (c *controller) registerAccount() {
	app.Handle(string(actForgotPassword), c.forgotPassword)
	app.Handle(string(actResetPassword), c.resetPassword)
	app.Handle(string(actCheckResetLink), c.checkResetLink)
	app.Handle(string(actVerifyEmail), c.spendToken(formVerify, (*api.Client).VerifyEmail, c.verified))
	app.Handle(string(actResendVerification), c.resendVerification)
	app.Handle(string(actChangeEmail), c.changeEmail)
	app.Handle(string(actConfirmEmail), c.spendToken(formConfirmEmail, (*api.Client).ConfirmEmail, c.verified))
	app.Handle(string(actRevertEmail), c.spendToken(formRevertEmail, (*api.Client).RevertEmail, c.sessionMayHaveEnded))
}

func (c *controller) forgotPassword(ctx app.Context, a app.Action) {
	email, _ := a.Value.(string)
	p := authdash.PasswordForgotten{Email: authdash.NormalizeEmail(email)}
	if err := p.Validate(); err != nil {
		setForm(ctx, formForgot, formState{}, err)
		return
	}
	setForm(ctx, formForgot, formState{Busy: true}, nil)
	if err := c.api().ForgotPassword(ctx, p.Email); err != nil {
		setForm(ctx, formForgot, formState{}, err)
		return
	}
	setForm(ctx, formForgot, formState{Done: 1}, nil)
}

func (c *controller) resetPassword(ctx app.Context, a app.Action) {
	r, _ := a.Value.(authdash.PasswordReset)
	if err := r.Validate(); err != nil {
		setForm(ctx, formReset, formState{}, err)
		return
	}
	setForm(ctx, formReset, formState{Busy: true}, nil)
	if err := c.api().ResetPassword(ctx, r.Token, r.NewPassword); err != nil {
		setForm(ctx, formReset, formState{}, err)
		return
	}
	setForm(ctx, formReset, formState{Done: 1}, nil)
	c.sessionMayHaveEnded(ctx)
}

// resetLinkVerdict is what the server said of a reset link when the page
// opened: Bad is why Token does not work. The token is part of it so that a
// verdict about one link never shows on the page of another.
type resetLinkVerdict struct {
	Token, Bad string
}

// checkResetLink asks whether the reset page's link still works, so that a
// used or expired one says so before a new password is typed. Only a
// definite "this link does not work" is published: a check that could not be
// made leaves the form, whose reset then tells.
func (c *controller) checkResetLink(ctx app.Context, a app.Action) {
	tok, _ := a.Value.(string)
	if bad, ok := linkRefusal(c.api().CheckResetLink(ctx, tok)); ok {
		setState(ctx, stResetLink, resetLinkVerdict{Token: tok, Bad: bad})
	}
}

// linkRefusal reads the answer to a link's check: the server's words when the
// link itself was refused (CodeInvalid naming the token), else nothing; a
// network failure, a rate limit or a server fault says nothing of the link.
func linkRefusal(err error) (string, bool) {
	if authdash.ErrorCodeOf(err) != authdash.CodeInvalid {
		return "", false
	}
	bad := authdash.ErrorFieldsOf(err)["token"]
	return bad, bad != ""
}

// spendToken returns the handler of an action that spends a mailed link's
// token (verify, confirm, undo) with spend: the form's state tells the page
// how it went, then after runs.
func (c *controller) spendToken(form string, spend func(*api.Client, context.Context, string) error, after func(ctx app.Context)) func(ctx app.Context, a app.Action) {
	return func(ctx app.Context, a app.Action) {
		tok, _ := a.Value.(string)
		setForm(ctx, form, formState{Busy: true}, nil)
		if err := spend(c.api(), ctx, tok); err != nil {
			setForm(ctx, form, formState{}, err)
			return
		}
		setForm(ctx, form, formState{Done: 1}, nil)
		after(ctx)
	}
}

// verified reloads the profile of a signed-in tab, whose address has just
// been verified or changed (the socket brings the change too, but a tab
// without one would show the old state).
func (c *controller) verified(ctx app.Context) {
	if !c.api().SignedIn() {
		return
	}
	if u, err := c.api().Me(ctx); err == nil {
		c.setUser(ctx, *u)
	}
}

// sessionMayHaveEnded follows a flow that ended every session of an account,
// perhaps this tab's: if a profile call is refused, this tab signs out as it
// would on its next call.
func (c *controller) sessionMayHaveEnded(ctx app.Context) {
	if !c.api().SignedIn() {
		return
	}
	if _, err := c.api().Me(ctx); authdash.ErrorCodeOf(err) == authdash.CodeUnauthorized {
		c.endSession(ctx, "Every device was signed out.")
	}
}

func (c *controller) resendVerification(ctx app.Context, _ app.Action) {
	setForm(ctx, formResend, formState{Busy: true}, nil)
	if err := c.api().ResendVerification(ctx); err != nil {
		setForm(ctx, formResend, formState{}, err)
		return
	}
	setForm(ctx, formResend, formState{Done: 1}, nil)
}

func (c *controller) changeEmail(ctx app.Context, a app.Action) {
	ch, _ := a.Value.(authdash.EmailChange)
	ch.Normalize()
	if err := ch.Validate(); err != nil {
		setForm(ctx, formChangeEmail, formState{}, err)
		return
	}
	setForm(ctx, formChangeEmail, formState{Busy: true}, nil)
	if err := c.api().ChangeEmail(ctx, ch.NewEmail, ch.Password); err != nil {
		setForm(ctx, formChangeEmail, formState{}, err)
		return
	}
	setForm(ctx, formChangeEmail, formState{Done: 1}, nil)
}
