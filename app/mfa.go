package app

import (
	"errors"
	"slices"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
)

// Two-factor authentication in the browser: the sign-in page's second step
// (when the password was right and the account asks for a code) and the
// profile's "Two-factor authentication" card (set up with the QR code, turn
// on with a code, see the recovery codes once, turn off). Its "Recent
// sign-in activity" card is in activity.go.

// State of the second factor.
const (
	stChallenge stateKey = "authdash.mfa.challenge" // mfaChallenge: a sign-in waiting for its code
	stMFA       stateKey = "authdash.mfa.status"    // mfaStatus
	stTOTPSetup stateKey = "authdash.mfa.setup"     // totpSetup: a secret not yet on
	stRecovery  stateKey = "authdash.mfa.recovery"  // []string: shown once
)

// Forms of the second factor.
const (
	formMFA         = "mfa"          // the sign-in's code
	formTOTPBegin   = "totp-begin"   // the password that starts a set-up
	formTOTPConfirm = "totp-confirm" // the code that turns it on
	formTOTPDisable = "totp-disable" // password and code that turn it off
)

// Actions of the second factor.
const (
	actMFAVerify   action = "authdash.mfa.verify"     // mfaAttempt
	actMFACancel   action = "authdash.mfa.cancel"     // nil
	actLoadMFA     action = "authdash.mfa.load"       // nil
	actBeginTOTP   action = "authdash.mfa.begin"      // string: password
	actConfirmTOTP action = "authdash.mfa.confirm"    // string: code
	actDisableTOTP action = "authdash.mfa.disable"    // totpOff
	actCancelTOTP  action = "authdash.mfa.setup-done" // nil: forget the secret shown
	actCodesSaved  action = "authdash.mfa.codes-done" // nil: forget the recovery codes shown
)

// mfaChallenge is a sign-in whose password was right, waiting for its code.
type mfaChallenge struct {
	Token   string
	Methods []string
}

// mfaAttempt is the code (or recovery code) typed for a challenge.
type mfaAttempt struct {
	Token    string
	Code     string
	Recovery bool
}

// mfaStatus is which second factor the account has.
type mfaStatus struct {
	Loaded       bool
	On           bool
	RecoveryLeft int
	Err          string
}

// totpSetup is a secret made but not yet confirmed.
type totpSetup struct {
	Secret, URI, SVG string
}

// totpOff is what turns two-factor authentication off.
type totpOff struct{ Password, Code string }

// registerMFA installs the second factor's handlers, and the sign-in
// activity's.
func (c *controller) registerMFA() {
	app.Handle(string(actMFAVerify), c.verifyMFA)
	app.Handle(string(actMFACancel), func(ctx app.Context, _ app.Action) {
		setState(ctx, stChallenge, mfaChallenge{})
		setForm(ctx, formMFA, formState{}, nil)
	})
	app.Handle(string(actLoadMFA), c.loadMFA)
	app.Handle(string(actBeginTOTP), c.beginTOTP)
	app.Handle(string(actConfirmTOTP), c.confirmTOTP)
	app.Handle(string(actDisableTOTP), c.disableTOTP)
	app.Handle(string(actCancelTOTP), func(ctx app.Context, _ app.Action) { setState(ctx, stTOTPSetup, totpSetup{}) })
	app.Handle(string(actCodesSaved), func(ctx app.Context, _ app.Action) { setState(ctx, stRecovery, []string(nil)) })
	app.Handle(string(actLoadActivity), c.loadActivity)
}

// askSecondFactor turns a sign-in whose password was right into its second
// step; reports whether err asked for one.
func (c *controller) askSecondFactor(ctx app.Context, err error) bool {
	var need *api.MFARequired
	if !errors.As(err, &need) {
		return false
	}
	setForm(ctx, formSignIn, formState{}, nil)
	setForm(ctx, formMFA, formState{}, nil)
	setState(ctx, stChallenge, mfaChallenge{Token: need.Token, Methods: need.Methods})
	return true
}

func (c *controller) verifyMFA(ctx app.Context, a app.Action) {
	at, _ := a.Value.(mfaAttempt)
	if at.Code == "" {
		msg := "Enter the code from your authenticator app."
		if at.Recovery {
			msg = "Enter one of your recovery codes."
		}
		setState(ctx, formKey(formMFA), formState{Err: msg, Fields: map[string]string{"code": msg}})
		return
	}
	setForm(ctx, formMFA, formState{Busy: true}, nil)
	u, err := c.api().CompleteMFA(ctx, at.Token, at.Code, at.Recovery)
	if err != nil {
		if authdash.ErrorFieldsOf(err)["mfaToken"] != "" {
			// Expired or used: back to the password.
			setState(ctx, stChallenge, mfaChallenge{})
			setForm(ctx, formMFA, formState{}, nil)
			setForm(ctx, formSignIn, formState{}, err)
			return
		}
		st := formState{}
		setForm(ctx, formMFA, st, err)
		return
	}
	c.signedIn(ctx, *u, formMFA, formSignIn)
}

func (c *controller) loadMFA(ctx app.Context, _ app.Action) {
	st, err := c.api().MFAStatus(ctx)
	if err != nil {
		setState(ctx, stMFA, mfaStatus{Loaded: true, Err: authdash.ErrorMessageOf(err)})
		return
	}
	setState(ctx, stMFA, mfaStatus{Loaded: true, On: st.TOTP, RecoveryLeft: st.RecoveryCodes})
}

func (c *controller) beginTOTP(ctx app.Context, a app.Action) {
	pw, _ := a.Value.(string)
	if pw == "" {
		setState(ctx, formKey(formTOTPBegin), formState{Err: "Confirm with your password.", Fields: map[string]string{"password": "Password is required."}})
		return
	}
	setForm(ctx, formTOTPBegin, formState{Busy: true}, nil)
	s, err := c.api().BeginTOTP(ctx, pw)
	if err != nil {
		setForm(ctx, formTOTPBegin, formState{}, err)
		return
	}
	setState(ctx, stTOTPSetup, totpSetup{Secret: s.Secret, URI: s.OtpauthURI, SVG: s.QRSVG})
	setForm(ctx, formTOTPBegin, formState{Done: 1}, nil)
	setForm(ctx, formTOTPConfirm, formState{}, nil)
}

func (c *controller) confirmTOTP(ctx app.Context, a app.Action) {
	code, _ := a.Value.(string)
	setForm(ctx, formTOTPConfirm, formState{Busy: true}, nil)
	codes, err := c.api().ConfirmTOTP(ctx, code)
	if err != nil {
		setForm(ctx, formTOTPConfirm, formState{}, err)
		return
	}
	setState(ctx, stTOTPSetup, totpSetup{})
	setState(ctx, stRecovery, codes)
	setForm(ctx, formTOTPConfirm, formState{Done: 1}, nil)
	c.loadMFA(ctx, app.Action{})
}

func (c *controller) disableTOTP(ctx app.Context, a app.Action) {
	off, _ := a.Value.(totpOff)
	setForm(ctx, formTOTPDisable, formState{Busy: true}, nil)
	if err := c.api().DisableTOTP(ctx, off.Password, off.Code); err != nil {
		setForm(ctx, formTOTPDisable, formState{}, err)
		return
	}
	setForm(ctx, formTOTPDisable, formState{Done: 1}, nil)
	setState(ctx, stRecovery, []string(nil))
	c.loadMFA(ctx, app.Action{})
}

// forgetMFA clears what the second factor showed (a secret being set up,
// recovery codes) when the session ends.
func forgetMFA(ctx app.Context) {
	setState(ctx, stChallenge, mfaChallenge{})
	setState(ctx, stMFA, mfaStatus{})
	setState(ctx, stTOTPSetup, totpSetup{})
	setState(ctx, stRecovery, []string(nil))
	setState(ctx, stActivity, activityView{})
	for _, f := range []string{formMFA, formTOTPBegin, formTOTPConfirm, formTOTPDisable} {
		setState(ctx, formKey(f), formState{})
	}
}

// secondFactorStep is the sign-in page's second step: the code from the
// app, or a recovery code.
type secondFactorStep struct {
	app.Compo
	ch       mfaChallenge
	form     formState
	code     string
	recovery bool
}

func (s *secondFactorStep) OnMount(ctx app.Context) {
	observe(ctx, stChallenge, &s.ch)
	observe(ctx, formKey(formMFA), &s.form)
	ctx.Defer(func(app.Context) { focusID("mfa-code") })
}

func (s *secondFactorStep) Render() app.UI {
	// A code from the app is digits: a phone shows its number pad.
	// Recovery codes have letters too.
	label, hint, auto, mode := "Code", "The 6-digit code your authenticator app shows for this account.", "one-time-code", "numeric"
	if s.recovery {
		label, hint, auto, mode = "Recovery code", "One of the codes you saved when you turned two-factor authentication on. Each works once.", "off", "text"
	}
	return app.Section().Class("card auth-card").Aria("labelledby", "mfa-title").Body(
		app.H1().ID("mfa-title").Text("Two-factor authentication"),
		app.Form().ID("mfa-form").Class("form").Method("post").NoValidate(true).OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			ctx.NewActionWithValue(string(actMFAVerify), mfaAttempt{Token: s.ch.Token, Code: s.code, Recovery: s.recovery})
		}).Body(
			formError(s.form.summary("code", "recoveryCode")),
			field{ID: "mfa-code", Label: label, Value: s.code, Err: firstOf(s.form.Fields, "code", "recoveryCode"),
				AutoComplete: auto, InputMode: mode, Required: true, Hint: hint, OnInput: value(&s.code)}.render(),
			app.Button().Type("submit").Class("btn primary wide").Disabled(s.form.Busy).Text(busyText(s.form.Busy, "Verify", "Verifying…")),
		),
		app.P().Body(app.Button().Type("button").ID("mfa-switch").Class("btn ghost").OnClick(func(ctx app.Context, e app.Event) {
			s.recovery, s.code = !s.recovery, ""
			clearInputs("mfa-code")
			ctx.SetState(string(formKey(formMFA)), formState{})
			ctx.Defer(func(app.Context) { focusID("mfa-code") })
		}).Text(switchText(s.recovery))),
		app.If(slices.Contains(s.ch.Methods, "passkey"), func() app.UI { return &passkeySignInButton{Token: s.ch.Token} }),
		app.P().Body(app.Button().Type("button").ID("mfa-cancel").Class("btn ghost").OnClick(func(ctx app.Context, e app.Event) {
			ctx.NewAction(string(actMFACancel))
		}).Text("Cancel and sign in again")),
	)
}

func switchText(recovery bool) string {
	if recovery {
		return "Use a code from the app instead"
	}
	return "Use a recovery code instead"
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if m[k] != "" {
			return m[k]
		}
	}
	return ""
}

// twoFactorCard is the profile's "Two-factor authentication" section.
type twoFactorCard struct {
	app.Compo
	sess                   sessionView
	status                 mfaStatus
	setup                  totpSetup
	recovery               []string
	begin, confirm, off    formState
	pw, code, offPw, offCd string
	offDone                int
	// hadCodes: the recovery codes were showing.
	hadCodes bool
}

func (c *twoFactorCard) OnMount(ctx app.Context) {
	observe(ctx, stSession, &c.sess)
	observe(ctx, stMFA, &c.status)
	// Each step puts the focus on what comes next, since the control that
	// led to it is gone: the code field, the recovery codes, the status.
	observe(ctx, stTOTPSetup, &c.setup).OnChange(func() {
		c.pw, c.code = "", ""
		if c.setup.Secret != "" {
			focusLater(ctx, "totp-code")
		}
	})
	observe(ctx, stRecovery, &c.recovery).OnChange(func() {
		switch {
		case len(c.recovery) > 0:
			focusLater(ctx, "recovery-status")
		case c.hadCodes: // saved
			focusLater(ctx, "two-factor-status")
		}
		c.hadCodes = len(c.recovery) > 0
	})
	observe(ctx, formKey(formTOTPBegin), &c.begin)
	observe(ctx, formKey(formTOTPConfirm), &c.confirm)
	observe(ctx, formKey(formTOTPDisable), &c.off).OnChange(func() {
		if c.off.Done != c.offDone {
			c.offDone = c.off.Done
			c.offPw, c.offCd = "", ""
			focusLater(ctx, "two-factor-status")
		}
	})
	c.offDone = c.off.Done
	ctx.NewAction(string(actLoadMFA))
}

func (c *twoFactorCard) Render() app.UI {
	return app.Section().Class("card").ID("two-factor").Aria("labelledby", "two-factor-title").Body(
		app.H2().ID("two-factor-title").Text("Two-factor authentication"),
		formError(c.status.Err),
		c.body(),
	)
}

func (c *twoFactorCard) body() app.UI {
	switch {
	case len(c.recovery) > 0:
		return app.Div().ID("recovery-codes-box").Body(
			app.P().ID("recovery-status").TabIndex(-1).Role("status").Text("Two-factor authentication is on."),
			app.P().Text("Save these recovery codes somewhere safe. Each one signs you in once if you lose your authenticator app. They will not be shown again."),
			app.Ol().ID("recovery-codes").Class("recovery-codes").Body(
				app.Range(c.recovery).Slice(func(i int) app.UI { return app.Li().Body(app.Code().Text(c.recovery[i])) }),
			),
			app.Button().Type("button").ID("recovery-saved").Class("btn primary").OnClick(func(ctx app.Context, e app.Event) {
				ctx.NewAction(string(actCodesSaved))
			}).Text("I have saved them"),
		)
	case c.status.On:
		return app.Div().Body(
			app.P().ID("two-factor-status").TabIndex(-1).Text("On: signing in asks for a code from your authenticator app. "+
				strconv.Itoa(c.status.RecoveryLeft)+" recovery codes left."),
			app.Form().ID("totp-disable-form").Class("form").NoValidate(true).OnSubmit(func(ctx app.Context, e app.Event) {
				e.PreventDefault()
				ctx.NewActionWithValue(string(actDisableTOTP), totpOff{Password: c.offPw, Code: c.offCd})
			}).Body(
				formError(c.off.summary("password", "code")),
				accountField(c.sess.User.Email),
				field{ID: "totp-off-password", Label: "Password", Type: "password", Value: c.offPw, Err: c.off.Fields["password"],
					AutoComplete: "current-password", Required: true, OnInput: value(&c.offPw)}.render(),
				field{ID: "totp-off-code", Label: "Code from your app, or a recovery code", Value: c.offCd, Err: c.off.Fields["code"],
					AutoComplete: "one-time-code", Required: true, OnInput: value(&c.offCd)}.render(),
				app.Button().Type("submit").Class("btn danger").Disabled(c.off.Busy).Text(busyText(c.off.Busy, "Turn off", "Turning off…")),
			),
		)
	case c.setup.Secret != "":
		return app.Div().Body(
			app.P().Text("Scan this QR code with your authenticator app, or type the key into it. Then enter the code it shows."),
			app.Div().ID("totp-qr").Class("qr").Body(app.Raw(c.setup.SVG)),
			app.P().Body(app.Text("Key: "), app.Code().ID("totp-secret").Text(c.setup.Secret)),
			app.Form().ID("totp-confirm-form").Class("form").NoValidate(true).OnSubmit(func(ctx app.Context, e app.Event) {
				e.PreventDefault()
				ctx.NewActionWithValue(string(actConfirmTOTP), c.code)
			}).Body(
				formError(c.confirm.summary("code")),
				field{ID: "totp-code", Label: "Code from your app", Value: c.code, Err: c.confirm.Fields["code"],
					AutoComplete: "one-time-code", InputMode: "numeric", Required: true, OnInput: value(&c.code)}.render(),
				app.Div().Class("actions").Body(
					app.Button().Type("submit").Class("btn primary").Disabled(c.confirm.Busy).Text(busyText(c.confirm.Busy, "Turn on", "Checking…")),
					app.Button().Type("button").Class("btn").OnClick(func(ctx app.Context, e app.Event) {
						ctx.NewAction(string(actCancelTOTP))
					}).Text("Cancel"),
				),
			),
		)
	case !c.status.Loaded:
		return app.P().Class("muted").Role("status").Text("Loading…")
	}
	return app.Div().Body(
		app.P().ID("two-factor-status").TabIndex(-1).Text("Off. With it on, signing in also asks for a code from an authenticator app on your phone, so a stolen password alone cannot get in."),
		app.Form().ID("totp-begin-form").Class("form").NoValidate(true).OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			ctx.NewActionWithValue(string(actBeginTOTP), c.pw)
		}).Body(
			formError(c.begin.summary("password")),
			accountField(c.sess.User.Email),
			field{ID: "totp-password", Label: "Confirm with your password", Type: "password", Value: c.pw, Err: c.begin.Fields["password"],
				AutoComplete: "current-password", Required: true, OnInput: value(&c.pw)}.render(),
			app.Button().Type("submit").Class("btn primary").Disabled(c.begin.Busy).Text(busyText(c.begin.Busy, "Set up", "Setting up…")),
		),
	)
}
