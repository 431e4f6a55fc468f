package app

// The signed-in user's settings: profile, password, devices, deleting the
// account.

import (
	"errors"
	"slices"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
)

func (c *controller) updateProfile(ctx app.Context, a app.Action) {
	p, _ := a.Value.(authdash.UserPatch)
	p.Normalize()
	if err := p.Validate(); err != nil {
		setForm(ctx, formProfile, formState{}, err)
		return
	}
	setForm(ctx, formProfile, formState{Busy: true}, nil)
	u, err := c.api().UpdateMe(ctx, p)
	if err != nil {
		setForm(ctx, formProfile, formState{}, err)
		return
	}
	c.setUser(ctx, *u)
	setForm(ctx, formProfile, formState{Done: 1}, nil)
	setState(ctx, stNotice, notice{Text: "Profile saved."})
}

func (c *controller) changePassword(ctx app.Context, a app.Action) {
	pc, _ := a.Value.(authdash.PasswordChange)
	if err := pc.Validate(); err != nil {
		setForm(ctx, formPassword, formState{}, err)
		return
	}
	setForm(ctx, formPassword, formState{Busy: true}, nil)
	if err := c.api().ChangePassword(ctx, pc); err != nil {
		setForm(ctx, formPassword, formState{}, err)
		return
	}
	// Said in the form's card (profilePage), not in the notice at the top
	// of the page, which is out of view from the form.
	setForm(ctx, formPassword, formState{Done: 1}, nil)
	c.loadSessions(ctx, app.Action{})
}

func (c *controller) loadSessions(ctx app.Context, _ app.Action) {
	c.mu.Lock()
	session := c.session
	c.mu.Unlock()
	setState(ctx, stSessions, sessionsList{Loading: true})
	list, err := c.api().Sessions(ctx)
	if !c.current(session) {
		return
	}
	setState(ctx, stSessions, sessionsList{Items: list, Err: authdash.ErrorMessageOf(err)})
}

func (c *controller) revokeSession(ctx app.Context, a app.Action) {
	id, _ := a.Value.(authdash.SessionID)
	var list sessionsList
	ctx.GetState(string(stSessions), &list)
	current := slices.ContainsFunc(list.Items, func(s authdash.Session) bool { return s.ID == id && s.Current })
	if err := c.api().RevokeSession(ctx, id); err != nil {
		setState(ctx, stNotice, notice{Text: authdash.ErrorMessageOf(err), Error: true})
		return
	}
	if current {
		c.endSession(ctx, "This device was signed out.")
		return
	}
	c.loadSessions(ctx, app.Action{})
}

func (c *controller) deleteAccount(ctx app.Context, a app.Action) {
	pw, _ := a.Value.(string)
	if pw == "" {
		setForm(ctx, formDelete, formState{}, &authdash.Error{Code: authdash.CodeInvalid, Message: "Enter your password to confirm.",
			Fields: map[string]string{"password": "Password is required."}})
		return
	}
	setForm(ctx, formDelete, formState{Busy: true}, nil)
	if err := c.api().DeleteAccount(ctx, pw); err != nil {
		setForm(ctx, formDelete, formState{}, err)
		return
	}
	c.endSession(ctx, "Your account was deleted.")
}

// setForm publishes a form's state, with err's message and field errors.
func setForm(ctx app.Context, form string, st formState, err error) {
	if err != nil {
		st.Err = authdash.ErrorMessageOf(err)
		st.Fields = authdash.ErrorFieldsOf(err)
		var e *authdash.Error
		if !errors.As(err, &e) {
			st.Err = "Something went wrong."
		}
	}
	setState(ctx, formKey(form), st)
}

func fieldText(err error) string {
	var parts []string
	for _, v := range authdash.ErrorFieldsOf(err) {
		parts = append(parts, v)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
