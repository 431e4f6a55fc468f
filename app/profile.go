package app

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
)

// profilePage edits the profile and password, lists the signed-in devices
// and deletes the account.
type profilePage struct {
	app.Compo
	sess     sessionView
	sessions sessionsList
	profile  formState
	password formState
	deletion formState

	name                string
	curPw, newPw        string
	delPw               string
	confirmDel          bool
	profileSet          bool
	profileDone, pwDone int
	// pwChanged: the password was changed on this page.
	pwChanged bool
}

func (p *profilePage) OnMount(ctx app.Context) {
	observe(ctx, stSession, &p.sess).OnChange(func() {
		p.fill()
		if p.sess.Phase == phaseSignedOut {
			ctx.Navigate(routeSignIn)
		}
		if p.sess.Phase == phaseSignedIn && !p.sessions.Loading && p.sessions.Items == nil {
			ctx.NewAction(string(actLoadSessions))
		}
	})
	observe(ctx, stSessions, &p.sessions)
	observe(ctx, formKey(formProfile), &p.profile).OnChange(func() {
		if p.profile.Done != p.profileDone {
			p.profileDone = p.profile.Done
			p.profileSet = false
			p.fill()
		}
	})
	observe(ctx, formKey(formPassword), &p.password).OnChange(func() {
		if p.password.Done != p.pwDone {
			p.pwDone = p.password.Done
			p.curPw, p.newPw = "", ""
			clearInputs("current-password", "new-password")
			p.pwChanged = true
			focusLater(ctx, "password-changed")
		}
	})
	observe(ctx, formKey(formDelete), &p.deletion)
	p.profileDone, p.pwDone = p.profile.Done, p.password.Done
	oidcReturnNotice(ctx)
	p.fill()
	if p.sess.Phase == phaseSignedOut {
		ctx.Navigate(routeSignIn)
	}
	if p.sess.Phase == phaseSignedIn {
		ctx.NewAction(string(actLoadSessions))
	}
	ctx.NewAction(string(actBoot))
}

func (p *profilePage) OnNav(ctx app.Context) { ctx.Page().SetTitle("Profile · Authdash") }

// fill puts the current profile in the form, once.
func (p *profilePage) fill() {
	if p.profileSet || p.sess.User.ID == "" {
		return
	}
	p.profileSet = true
	p.name = p.sess.User.Name
}

func (p *profilePage) Render() app.UI {
	if p.sess.Phase != phaseSignedIn {
		msg := "Loading your profile…"
		if p.sess.Phase == phaseOffline {
			msg = "Your profile can be changed when you are back online."
		}
		return layout(p.sess, app.Div().Class("card loading").Role("status").Text(msg))
	}
	return layout(p.sess, app.Div().Class("profile").Body(
		app.H1().Text("Profile"),
		p.renderProfile(),
		&emailChangeCard{},
		p.renderPassword(),
		p.renderSessions(),
		&twoFactorCard{},
		&passkeysCard{},
		&identitiesCard{},
		&activityCard{},
		p.renderDelete(),
	))
}

func (p *profilePage) renderProfile() app.UI {
	f := p.profile.Fields
	return app.Section().Class("card").Aria("labelledby", "profile-title").Body(
		app.H2().ID("profile-title").Text("Your details"),
		app.Form().ID("profile-form").Class("form").NoValidate(true).OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			var patch authdash.UserPatch
			if p.name != p.sess.User.Name {
				patch.Name = &p.name
			}
			if patch.Name == nil {
				return
			}
			ctx.NewActionWithValue(string(actUpdateProfile), patch)
		}).Body(
			formError(p.profile.summary("name")),
			field{ID: "profile-name", Label: "Name", Value: p.name, Err: f["name"], AutoComplete: "name", Required: true,
				Max: authdash.MaxNameLen, OnInput: value(&p.name)}.render(),
			app.Button().Type("submit").Class("btn primary").Disabled(p.profile.Busy).Text(busyText(p.profile.Busy, "Save", "Saving…")),
		),
	)
}

func (p *profilePage) renderPassword() app.UI {
	f := p.password.Fields
	return app.Section().Class("card").Aria("labelledby", "password-title").Body(
		app.H2().ID("password-title").Text("Change password"),
		app.P().ID("password-changed").Class("muted").TabIndex(-1).Role("status").Hidden(!p.pwChanged).
			Text("Password changed. Your other devices were signed out."),
		app.Form().ID("password-form").Class("form").NoValidate(true).OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			ctx.NewActionWithValue(string(actChangePassword), authdash.PasswordChange{CurrentPassword: p.curPw, NewPassword: p.newPw})
		}).Body(
			formError(p.password.summary("currentPassword", "newPassword")),
			accountField(p.sess.User.Email),
			field{ID: "current-password", Label: "Current password", Type: "password", Value: p.curPw, Err: f["currentPassword"],
				AutoComplete: "current-password", Required: true, OnInput: value(&p.curPw)}.render(),
			field{ID: "new-password", Label: "New password", Type: "password", Value: p.newPw, Err: f["newPassword"],
				AutoComplete: "new-password", Required: true, Hint: "At least 8 characters, not a common one or your name. Your other devices will be signed out.",
				OnInput: value(&p.newPw)}.render(),
			app.Button().Type("submit").Class("btn primary").Disabled(p.password.Busy).Text(busyText(p.password.Busy, "Change password", "Changing…")),
		),
	)
}

func (p *profilePage) renderSessions() app.UI {
	s := p.sessions
	return app.Section().Class("card").Aria("labelledby", "sessions-title").Body(
		app.H2().ID("sessions-title").Text("Signed-in devices"),
		formError(s.Err),
		app.P().Class("muted").Role("status").Hidden(!s.Loading).Text("Loading…"),
		app.Ul().Class("sessions").ID("sessions").Body(
			app.Range(s.Items).Slice(func(i int) app.UI {
				se := s.Items[i]
				device := authdash.DeviceName(se.Device)
				return app.Li().Class("session").Body(
					app.Div().Body(
						app.Strong().Title(se.Device).Text(device),
						app.If(se.Current, func() app.UI { return app.Span().Class("badge current").Text("This device") }),
						app.P().Class("muted").Text("Last active "+se.LastUsedAt.Local().Format("Jan 2, 2006 15:04")),
					),
					app.Button().Type("button").Class("btn small").Aria("label", "Sign out "+device).
						OnClick(func(ctx app.Context, e app.Event) {
							ctx.NewActionWithValue(string(actRevokeSession), se.ID)
						}, app.EventScope(string(se.ID))).Text("Sign out"),
				)
			}),
		),
		app.Div().Class("actions").Body(
			app.Button().Type("button").ID("signout-all").Class("btn").
				OnClick(func(ctx app.Context, e app.Event) { ctx.SetState(string(stSignOutAll), true) }).Text("Sign out everywhere…"),
		),
		&signOutAllDialog{},
	)
}

func (p *profilePage) renderDelete() app.UI {
	return app.Section().Class("card danger-zone").Aria("labelledby", "delete-title").Body(
		app.H2().ID("delete-title").Text("Delete account"),
		app.P().Text("This deletes your account and all your tasks. It cannot be undone."),
		app.If(!p.confirmDel, func() app.UI {
			return app.Button().Type("button").ID("delete-start").Class("btn danger").
				OnClick(func(ctx app.Context, e app.Event) {
					p.confirmDel = true
					focusLater(ctx, "delete-password")
				}).Text("Delete my account…")
		}).Else(func() app.UI {
			return app.Form().ID("delete-form").Class("form").NoValidate(true).OnSubmit(func(ctx app.Context, e app.Event) {
				e.PreventDefault()
				ctx.NewActionWithValue(string(actDeleteAccount), p.delPw)
			}).Body(
				formError(p.deletion.summary("password")),
				accountField(p.sess.User.Email),
				field{ID: "delete-password", Label: "Confirm with your password", Type: "password", Value: p.delPw,
					Err: p.deletion.Fields["password"], AutoComplete: "current-password", Required: true, OnInput: value(&p.delPw)}.render(),
				app.Div().Class("actions").Body(
					app.Button().Type("submit").Class("btn danger").Disabled(p.deletion.Busy).Text("Delete account forever"),
					app.Button().Type("button").ID("delete-cancel").Class("btn").OnClick(func(ctx app.Context, e app.Event) {
						p.confirmDel, p.delPw = false, ""
						focusLater(ctx, "delete-start")
					}).Text("Cancel"),
				),
			)
		}),
	)
}
