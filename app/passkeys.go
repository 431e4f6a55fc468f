package app

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// Passkeys in the browser: the profile's "Passkeys" card (add, rename,
// delete), the sign-in page's "Sign in with a passkey" button and, where the
// browser offers it, passkeys in the email field's autofill (conditional
// mediation), and a passkey as the second factor.

const (
	stPasskeys stateKey = "authdash.passkeys" // passkeysView
)

const (
	formPasskeyAdd    = "passkey-add"
	formPasskeyList   = "passkey-list" // a rename or a delete
	formPasskeySignIn = "passkey-signin"
)

const (
	actLoadPasskeys       action = "authdash.passkeys.load"        // nil
	actAddPasskey         action = "authdash.passkeys.add"         // string: name
	actRenamePasskey      action = "authdash.passkeys.rename"      // passkeyName
	actDeletePasskey      action = "authdash.passkeys.delete"      // string: ID
	actPasskeySignIn      action = "authdash.passkeys.signin"      // string: mfaToken, "" for a passkey alone
	actPasskeyConditional action = "authdash.passkeys.conditional" // nil: offer passkeys in the autofill
	actPasskeyAbort       action = "authdash.passkeys.abort"       // nil: stop offering them
)

type passkeysView struct {
	Items  []wire.Passkey
	Loaded bool
	Err    string
}

type passkeyName struct{ ID, Name string }

func (c *controller) registerPasskeys() {
	app.Handle(string(actLoadPasskeys), c.loadPasskeys)
	app.Handle(string(actAddPasskey), c.addPasskey)
	app.Handle(string(actRenamePasskey), c.renamePasskey)
	app.Handle(string(actDeletePasskey), c.deletePasskey)
	app.Handle(string(actPasskeySignIn), c.passkeySignIn)
	app.Handle(string(actPasskeyConditional), c.passkeyConditional)
	app.Handle(string(actPasskeyAbort), func(app.Context, app.Action) { c.abortConditional() })
}

func (c *controller) loadPasskeys(ctx app.Context, _ app.Action) {
	items, err := c.api().Passkeys(ctx)
	if err != nil {
		setState(ctx, stPasskeys, passkeysView{Loaded: true, Err: authdash.ErrorMessageOf(err)})
		return
	}
	setState(ctx, stPasskeys, passkeysView{Loaded: true, Items: items})
}

func (c *controller) addPasskey(ctx app.Context, a app.Action) {
	name, _ := a.Value.(string)
	if strings.TrimSpace(name) == "" {
		msg := "Give the passkey a name, such as the device it is on."
		setForm(ctx, formPasskeyAdd, formState{}, &authdash.Error{Code: authdash.CodeInvalid, Message: msg, Fields: map[string]string{"name": msg}})
		return
	}
	setForm(ctx, formPasskeyAdd, formState{Busy: true}, nil)
	opts, err := c.api().BeginPasskey(ctx)
	if err == nil {
		var cred json.RawMessage
		if cred, err = credentials(ctx, "create", opts, ""); err == nil {
			_, err = c.api().FinishPasskey(ctx, name, cred)
		}
	}
	if err != nil {
		setForm(ctx, formPasskeyAdd, formState{}, err)
		return
	}
	setForm(ctx, formPasskeyAdd, formState{Done: 1}, nil)
	c.loadPasskeys(ctx, app.Action{})
}

func (c *controller) renamePasskey(ctx app.Context, a app.Action) {
	n, _ := a.Value.(passkeyName)
	c.changePasskeys(ctx, func() error {
		_, err := c.api().RenamePasskey(ctx, n.ID, n.Name)
		return err
	})
}

func (c *controller) deletePasskey(ctx app.Context, a app.Action) {
	id, _ := a.Value.(string)
	c.changePasskeys(ctx, func() error { return c.api().DeletePasskey(ctx, id) })
}

// changePasskeys runs one change to the list (rename, delete) with the list
// form busy meanwhile, then shows its error or reloads the list.
func (c *controller) changePasskeys(ctx app.Context, change func() error) {
	setForm(ctx, formPasskeyList, formState{Busy: true}, nil)
	if err := change(); err != nil {
		setForm(ctx, formPasskeyList, formState{}, err)
		return
	}
	setForm(ctx, formPasskeyList, formState{Done: 1}, nil)
	c.loadPasskeys(ctx, app.Action{})
}

// passkeySignIn signs in with a passkey the person picks, alone or as the
// second factor of the challenge whose token comes as the value.
func (c *controller) passkeySignIn(ctx app.Context, a app.Action) {
	token, _ := a.Value.(string)
	c.abortConditional()
	setForm(ctx, formPasskeySignIn, formState{Busy: true}, nil)
	// The second step goes the way a code does (POST /api/auth/mfa), the
	// passkey alone its own.
	begin := c.api().BeginPasskeyLogin
	if token != "" {
		begin = c.api().BeginMFAPasskey
	}
	opts, err := begin(ctx, token)
	var cred json.RawMessage
	if err == nil {
		cred, err = credentials(ctx, "get", opts, "")
	}
	if err == nil {
		c.finishPasskeySignIn(ctx, token, cred)
		return
	}
	setForm(ctx, formPasskeySignIn, formState{}, err)
}

func (c *controller) finishPasskeySignIn(ctx app.Context, token string, cred json.RawMessage) {
	finish := c.api().PasskeyLogin
	if token != "" {
		finish = c.api().CompleteMFAPasskey
	}
	u, err := finish(ctx, token, cred)
	if err != nil {
		if authdash.ErrorFieldsOf(err)["mfaToken"] != "" {
			setState(ctx, stChallenge, mfaChallenge{})
			setForm(ctx, formSignIn, formState{}, err)
		}
		setForm(ctx, formPasskeySignIn, formState{}, err)
		return
	}
	c.signedIn(ctx, *u, formPasskeySignIn, formSignIn)
}

// passkeyConditional offers the passkeys the browser holds for this site in
// the email field's autofill, where the browser can: the request waits
// until one is picked (then signs in) or it is aborted (the button, or
// leaving the page).
func (c *controller) passkeyConditional(ctx app.Context, _ app.Action) {
	pkc := app.Window().Get("PublicKeyCredential")
	if !pkc.Truthy() || !pkc.Get("isConditionalMediationAvailable").Truthy() {
		return
	}
	ok, err := await(ctx, pkc.Call("isConditionalMediationAvailable"), nil)
	if err != nil || !ok.Truthy() {
		return
	}
	opts, err := c.api().BeginPasskeyLogin(ctx, "")
	if err != nil {
		return
	}
	abort := app.Window().Get("AbortController").New()
	c.abortConditional()
	c.mu.Lock()
	c.conditional = abort
	c.conditionalSeq++
	seq := c.conditionalSeq
	c.mu.Unlock()
	cred, err := credentials(ctx, "get", opts, "conditional", abort)
	c.mu.Lock()
	if c.conditionalSeq == seq {
		c.conditional = nil
	}
	c.mu.Unlock()
	if err != nil {
		return // aborted, or nothing picked: the other ways stay
	}
	setForm(ctx, formPasskeySignIn, formState{Busy: true}, nil)
	c.finishPasskeySignIn(ctx, "", cred)
}

// abortConditional ends a pending autofill request: the browser runs one
// WebAuthn request at a time.
func (c *controller) abortConditional() {
	c.mu.Lock()
	a := c.conditional
	c.conditional = nil
	c.mu.Unlock()
	if a != nil {
		a.Call("abort")
	}
}

// passkeysCard is the profile's "Passkeys" section.
type passkeysCard struct {
	app.Compo
	view     passkeysView
	add      formState
	list     formState
	name     string
	addDone  int
	renaming map[string]string
}

func (c *passkeysCard) OnMount(ctx app.Context) {
	observe(ctx, stPasskeys, &c.view).OnChange(func() { c.renaming = nil })
	observe(ctx, formKey(formPasskeyList), &c.list)
	observe(ctx, formKey(formPasskeyAdd), &c.add).OnChange(func() {
		if c.add.Done != c.addDone {
			c.addDone = c.add.Done
			c.name = ""
			clearInputs("passkey-name")
		}
	})
	c.addDone = c.add.Done
	ctx.NewAction(string(actLoadPasskeys))
}

func (c *passkeysCard) Render() app.UI {
	v := c.view
	return app.Section().Class("card").ID("passkeys").Aria("labelledby", "passkeys-title").Body(
		app.H2().ID("passkeys-title").Text("Passkeys"),
		app.P().Class("muted").Text("A passkey signs you in with your device's fingerprint, face or screen lock instead of the password, and can stand in for the code from your authenticator app."),
		formError(v.Err),
		formError(c.list.Err),
		app.If(v.Loaded && len(v.Items) == 0 && v.Err == "", func() app.UI { return app.P().ID("passkeys-none").Class("muted").Text("No passkeys yet.") }),
		app.Ul().Class("sessions").ID("passkey-list").Body(
			app.Range(v.Items).Slice(func(i int) app.UI { return c.row(i, v.Items[i]) }),
		),
		app.Form().ID("passkey-add-form").Class("form").NoValidate(true).OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			ctx.NewActionWithValue(string(actAddPasskey), c.name)
		}).Body(
			formError(c.add.summary("name")),
			field{ID: "passkey-name", Label: "Name of the new passkey", Value: c.name, Err: c.add.Fields["name"], Max: authdash.MaxPasskeyNameLen,
				Hint: "Such as the device it is on: \"Work laptop\".", Required: true, OnInput: value(&c.name)}.render(),
			app.Button().Type("submit").ID("passkey-add").Class("btn primary").Disabled(c.add.Busy).Text(busyText(c.add.Busy, "Add a passkey", "Waiting for your device…")),
		),
	)
}

func (c *passkeysCard) row(i int, p wire.Passkey) app.UI {
	used := "Never used"
	if p.LastUsedAt != nil {
		used = "Last used " + p.LastUsedAt.Local().Format("Jan 2, 2006 15:04")
	}
	synced := ""
	if p.BackupState {
		synced = " · synced"
	}
	id := "passkey-rename-" + strconv.Itoa(i)
	name, editing := c.renaming[p.ID]
	if !editing {
		name = p.Name
	}
	return app.Li().Class("session passkey").Body(
		app.Div().Body(
			app.Strong().Class("passkey-name").Text(p.Name),
			app.P().Class("muted").Text("Added "+p.CreatedAt.Local().Format("Jan 2, 2006")+" · "+used+synced),
		),
		app.Form().Class("form inline").NoValidate(true).OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			// The field as it is now: the row may have been drawn before the
			// last keystroke.
			typed := name
			if el := app.Window().GetElementByID(id); el.Truthy() {
				typed = el.Get("value").String()
			}
			ctx.NewActionWithValue(string(actRenamePasskey), passkeyName{ID: p.ID, Name: typed})
		}).Body(
			field{ID: id, Label: "Name", Value: name, Max: authdash.MaxPasskeyNameLen, Required: true, OnInput: func(ctx app.Context, e app.Event) {
				if c.renaming == nil {
					c.renaming = map[string]string{}
				}
				c.renaming[p.ID] = ctx.JSSrc().Get("value").String()
			}}.render(),
			app.Div().Class("actions").Body(
				app.Button().Type("submit").Class("btn small").Disabled(c.list.Busy).Text("Rename"),
				app.Button().Type("button").Class("btn small danger").Disabled(c.list.Busy).
					Aria("label", "Delete the passkey "+p.Name).OnClick(func(ctx app.Context, e app.Event) {
					ctx.NewActionWithValue(string(actDeletePasskey), p.ID)
				}).Text("Delete"),
			),
		),
	)
}

// passkeySignInButton is the sign-in page's "Sign in with a passkey" (token
// empty) or the second step's "Use a passkey" (the challenge's token).
type passkeySignInButton struct {
	app.Compo
	Token   string
	form    formState
	ctx     app.Context
	mounted bool
}

func (b *passkeySignInButton) OnMount(ctx app.Context) {
	observe(ctx, formKey(formPasskeySignIn), &b.form)
	b.ctx, b.mounted = ctx, true
	if b.Token == "" {
		ctx.NewAction(string(actPasskeyConditional))
	}
}

// OnDismount stops offering passkeys in the autofill once the page goes.
func (b *passkeySignInButton) OnDismount() {
	if b.Token == "" && b.mounted {
		b.ctx.NewAction(string(actPasskeyAbort))
	}
}

func (b *passkeySignInButton) Render() app.UI {
	label := "Sign in with a passkey"
	if b.Token != "" {
		label = "Use a passkey"
	}
	return app.Div().Class("passkey-signin").Body(
		formError(b.form.Err),
		app.Button().Type("button").ID("passkey-signin").Class("btn wide").Disabled(b.form.Busy).OnClick(func(ctx app.Context, e app.Event) {
			ctx.NewActionWithValue(string(actPasskeySignIn), b.Token)
		}).Text(busyText(b.form.Busy, label, "Waiting for your passkey…")),
	)
}

// forgetPasskeys clears what the passkeys showed when the session ends.
func forgetPasskeys(ctx app.Context) {
	setState(ctx, stPasskeys, passkeysView{})
	for _, f := range []string{formPasskeyAdd, formPasskeyList, formPasskeySignIn} {
		setState(ctx, formKey(f), formState{})
	}
}
