package app

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/oidcreturn"
)

// Sign-in with an identity provider (OpenID Connect) in the browser: the
// "Continue with …" buttons of the sign-in and sign-up pages (listed after
// the page is drawn, hidden when there are none), what the provider's round
// trip left in the sign-in page's address (app/oidcreturn reads and words
// it), the page a mailed link to connect an account opens, and the
// profile's "Connected accounts" card.

const routeOIDCLink = "/oidc/link"

const (
	stOIDCProviders stateKey = "authdash.oidc.providers" // oidcProvidersView
	stIdentities    stateKey = "authdash.identities"     // identitiesView
)

const (
	formOIDCLink   = "oidc-link"
	formIdentities = "identities" // a connect or a disconnect
)

const (
	actLoadOIDCProviders  action = "authdash.oidc.providers"     // nil
	actOIDCStart          action = "authdash.oidc.start"         // api.OIDCProvider
	actOIDCLink           action = "authdash.oidc.link"          // string: the link's token
	actLoadIdentities     action = "authdash.identities.load"    // nil
	actConnectIdentity    action = "authdash.identities.connect" // string: the provider's name
	actDisconnectIdentity action = "authdash.identities.delete"  // string: the identity's ID
)

type oidcProvidersView struct {
	Items  []api.OIDCProvider
	Loaded bool
}

type identitiesView struct {
	Items  []api.Identity
	Loaded bool
	Err    string
}

func (c *controller) registerOIDC() {
	app.Handle(string(actLoadOIDCProviders), c.loadOIDCProviders)
	app.Handle(string(actOIDCStart), c.oidcStart)
	app.Handle(string(actOIDCLink), c.oidcLink)
	app.Handle(string(actLoadIdentities), c.loadIdentities)
	app.Handle(string(actConnectIdentity), c.connectIdentity)
	app.Handle(string(actDisconnectIdentity), c.disconnectIdentity)
}

// loadOIDCProviders lists the providers once per page load. A failure
// (the server has none configured, or is unreachable) offers none: the
// password and passkeys are still there.
func (c *controller) loadOIDCProviders(ctx app.Context, _ app.Action) {
	var v oidcProvidersView
	ctx.GetState(string(stOIDCProviders), &v)
	if v.Loaded {
		return
	}
	items, err := c.api().OIDCProviders(ctx)
	if err != nil {
		items = nil
	}
	setState(ctx, stOIDCProviders, oidcProvidersView{Items: items, Loaded: true})
}

// goTo leaves the app for href: a provider's pages, or the API's route that
// sends there (go-app would route a same-origin path inside the app).
func goTo(href string) {
	if app.IsClient {
		app.Window().Get("location").Call("assign", href)
	}
}

func (c *controller) oidcStart(_ app.Context, a app.Action) {
	p, _ := a.Value.(api.OIDCProvider)
	if p.StartURL == "" {
		return
	}
	goTo(oidcreturn.StartURL(app.Getenv(envAPIURL), p.StartURL, routeHome))
}

func (c *controller) oidcLink(ctx app.Context, a app.Action) {
	tok, _ := a.Value.(string)
	setForm(ctx, formOIDCLink, formState{Busy: true}, nil)
	u, err := c.api().OIDCLink(ctx, tok)
	if err != nil {
		setForm(ctx, formOIDCLink, formState{}, err)
		// Not signed in by the link: the session, if any, is the refresh
		// cookie's, as on any other page.
		ctx.NewAction(string(actBoot))
		return
	}
	c.signedIn(ctx, *u, formOIDCLink)
	ctx.Navigate(routeHome)
}

func (c *controller) loadIdentities(ctx app.Context, _ app.Action) {
	items, err := c.api().Identities(ctx)
	if err != nil {
		setState(ctx, stIdentities, identitiesView{Loaded: true, Err: authdash.ErrorMessageOf(err)})
		return
	}
	setState(ctx, stIdentities, identitiesView{Loaded: true, Items: items})
}

func (c *controller) connectIdentity(ctx app.Context, a app.Action) {
	name, _ := a.Value.(string)
	setForm(ctx, formIdentities, formState{Busy: true}, nil)
	href, err := c.api().ConnectIdentity(ctx, name, routeProfile)
	if err != nil {
		setForm(ctx, formIdentities, formState{}, err)
		return
	}
	goTo(href)
}

func (c *controller) disconnectIdentity(ctx app.Context, a app.Action) {
	id, _ := a.Value.(string)
	setForm(ctx, formIdentities, formState{Busy: true}, nil)
	if err := c.api().DeleteIdentity(ctx, id); err != nil {
		setForm(ctx, formIdentities, formState{}, err)
		return
	}
	setForm(ctx, formIdentities, formState{Done: 1}, nil)
	c.loadIdentities(ctx, app.Action{})
}

// oidcButtons are the "Continue with …" buttons, drawn once the list
// comes (after the page's first paint) and not at all when it is empty.
type oidcButtons struct {
	app.Compo
	view oidcProvidersView
}

func (b *oidcButtons) OnMount(ctx app.Context) {
	observe(ctx, stOIDCProviders, &b.view)
	ctx.NewAction(string(actLoadOIDCProviders))
}

func (b *oidcButtons) Render() app.UI {
	if len(b.view.Items) == 0 {
		return app.Div().Class("oidc-providers").Hidden(true)
	}
	return app.Div().Class("oidc-providers").Body(
		app.P().Class("divider").Aria("hidden", "true").Text("or"),
		app.Range(b.view.Items).Slice(func(i int) app.UI {
			p := b.view.Items[i]
			return app.Button().Type("button").ID("oidc-"+p.Name).Class("btn wide oidc").
				OnClick(func(ctx app.Context, e app.Event) {
					ctx.NewActionWithValue(string(actOIDCStart), p)
				}, app.EventScope(p.Name)).Text("Continue with " + p.DisplayName)
		}),
	)
}

// oidcReturn reads what a provider's round trip put in the sign-in page's
// address, once, and takes it out of the address: a second factor becomes
// the page's challenge, the rest a message (see oidcReturnNote).
func oidcReturn(ctx app.Context) oidcreturn.Outcome {
	u := ctx.Page().URL()
	o := oidcreturn.Parse(u.Query())
	if o.Kind == oidcreturn.None {
		return o
	}
	ctx.Page().ReplaceURL(oidcreturn.Without(u))
	if o.Kind == oidcreturn.SecondFactor {
		setState(ctx, stChallenge, mfaChallenge{Token: o.MFAToken, Methods: o.Methods})
	}
	return o
}

// oidcReturnNotice says, on a signed-in page, how connecting an account
// with a provider ended (?oidc=linked, or ?oidcError=…) in a notice, and
// takes the parameters out of the address.
func oidcReturnNotice(ctx app.Context) {
	if !app.IsClient {
		return
	}
	u := ctx.Page().URL()
	o := oidcreturn.Parse(u.Query())
	switch o.Kind {
	case oidcreturn.Linked:
		setState(ctx, stNotice, notice{Text: o.Message})
		setState(ctx, stIdentities, identitiesView{}) // listed again by the card
	case oidcreturn.Failed:
		setState(ctx, stNotice, notice{Text: o.Message, Error: true})
	default:
		return
	}
	ctx.Page().ReplaceURL(oidcreturn.Without(u))
}

// oidcReturnNote shows a round trip's failure (an alert) or the link sent
// (a status).
func oidcReturnNote(o oidcreturn.Outcome) app.UI {
	switch o.Kind {
	case oidcreturn.Failed:
		return app.P().ID("oidc-error").Class("form-error").Role("alert").Text(o.Message)
	case oidcreturn.LinkSent:
		return app.P().ID("oidc-link-sent").Class("notice-box").Role("status").Text(o.Message)
	}
	return nil
}

// oidcLinkPage finishes connecting a provider's identity to an account from
// the link mailed to the account's address: it spends the token on opening
// (the click on the mailed link was the owner's confirmation), which signs
// in, and goes to the dashboard.
type oidcLinkPage struct {
	app.Compo
	sess  sessionView
	form  formState
	token string
}

func (p *oidcLinkPage) OnMount(ctx app.Context) {
	p.token = linkToken(ctx)
	observe(ctx, formKey(formOIDCLink), &p.form)
	observe(ctx, stSession, &p.sess)
	if p.token != "" {
		ctx.NewActionWithValue(string(actOIDCLink), p.token)
	} else {
		ctx.NewAction(string(actBoot))
	}
}

func (p *oidcLinkPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Connecting your account · Authdash")
}

func (p *oidcLinkPage) Render() app.UI {
	failed := p.form.Err != "" || (p.token == "" && app.IsClient)
	return layout(p.sess, app.Section().Class("card auth-card").Aria("labelledby", "oidc-link-title").Body(
		app.H1().ID("oidc-link-title").Text("Connecting your account"),
		app.If(p.token == "" && app.IsClient, func() app.UI { return badLink("sign in with the provider again") }),
		formError(p.form.Err),
		app.If(!failed, func() app.UI {
			return app.P().Class("muted").Role("status").Text("Connecting the account and signing you in…")
		}),
		app.If(failed, func() app.UI {
			return app.P().Body(app.A().ID("oidc-link-signin").Class("btn primary wide").Href(routeSignIn).Text("Back to sign in"))
		}),
	))
}

// identitiesCard is the profile's "Connected accounts" section: the
// providers' accounts that sign in to this one, each disconnected after a
// confirmation, and a button to connect each provider not yet connected.
type identitiesCard struct {
	app.Compo
	view      identitiesView
	providers oidcProvidersView
	form      formState
	confirm   string // the ID of the identity asked about
}

func (c *identitiesCard) OnMount(ctx app.Context) {
	observe(ctx, stIdentities, &c.view).OnChange(func() { c.confirm = "" })
	observe(ctx, stOIDCProviders, &c.providers)
	observe(ctx, formKey(formIdentities), &c.form)
	ctx.NewAction(string(actLoadIdentities))
	ctx.NewAction(string(actLoadOIDCProviders))
}

func (c *identitiesCard) Render() app.UI {
	v := c.view
	if len(v.Items) == 0 && len(c.providers.Items) == 0 {
		// Nothing connected and nothing to connect (a server without
		// providers, whose list may not even load): no card.
		return app.Section().ID("identities").Hidden(true)
	}
	var connect []api.OIDCProvider
	for _, p := range c.providers.Items {
		if !c.connected(p.Name) {
			connect = append(connect, p)
		}
	}
	return app.Section().Class("card").ID("identities").Aria("labelledby", "identities-title").Body(
		app.H2().ID("identities-title").Text("Connected accounts"),
		app.P().Class("muted").Text("Accounts at other services you can sign in with."),
		formError(v.Err),
		formError(c.form.Err),
		app.If(v.Loaded && len(v.Items) == 0 && v.Err == "", func() app.UI {
			return app.P().ID("identities-none").Class("muted").Text("No accounts connected yet.")
		}),
		app.Ul().Class("sessions").ID("identity-list").Body(
			app.Range(v.Items).Slice(func(i int) app.UI { return c.row(v.Items[i]) }),
		),
		app.If(len(connect) > 0, func() app.UI {
			return app.Div().Class("actions").Body(
				app.Range(connect).Slice(func(i int) app.UI {
					p := connect[i]
					return app.Button().Type("button").ID("identity-connect-"+p.Name).Class("btn").Disabled(c.form.Busy).
						OnClick(func(ctx app.Context, e app.Event) {
							ctx.NewActionWithValue(string(actConnectIdentity), p.Name)
						}, app.EventScope(p.Name)).Text("Connect " + p.DisplayName)
				}),
			)
		}),
	)
}

func (c *identitiesCard) connected(provider string) bool {
	for _, x := range c.view.Items {
		if x.Provider == provider {
			return true
		}
	}
	return false
}

// providerName is the provider's name as the server shows it, when listed.
func (c *identitiesCard) providerName(provider string) string {
	for _, p := range c.providers.Items {
		if p.Name == provider {
			return p.DisplayName
		}
	}
	if provider == "" {
		return provider
	}
	return strings.ToUpper(provider[:1]) + provider[1:]
}

func (c *identitiesCard) row(x api.Identity) app.UI {
	name := c.providerName(x.Provider)
	used := "Never used to sign in"
	if x.LastUsedAt != nil {
		used = "Last used " + x.LastUsedAt.Local().Format("Jan 2, 2006 15:04")
	}
	asking := c.confirm == x.ID
	return app.Li().Class("session identity").Body(
		app.Div().Body(
			app.Strong().Class("identity-provider").Text(name),
			app.P().Class("identity-email").Text(x.Email),
			app.P().Class("muted").Text("Connected "+x.CreatedAt.Local().Format("Jan 2, 2006")+" · "+used),
		),
		app.If(!asking, func() app.UI {
			return app.Button().Type("button").Class("btn small").Disabled(c.form.Busy).
				Aria("label", "Disconnect "+name+" ("+x.Email+")…").
				OnClick(func(ctx app.Context, e app.Event) {
					c.confirm = x.ID
					focusSoon("#identity-cancel")
				}, app.EventScope(x.ID)).Text("Disconnect…")
		}).Else(func() app.UI {
			return app.Div().Class("confirm").Role("group").Aria("labelledby", "identity-ask").Body(
				app.P().ID("identity-ask").Text("Disconnect "+name+"? You will no longer sign in with it."),
				app.Div().Class("actions").Body(
					app.Button().Type("button").ID("identity-disconnect").Class("btn small danger").Disabled(c.form.Busy).
						OnClick(func(ctx app.Context, e app.Event) {
							ctx.NewActionWithValue(string(actDisconnectIdentity), x.ID)
						}, app.EventScope(x.ID)).Text(busyText(c.form.Busy, "Disconnect", "Disconnecting…")),
					app.Button().Type("button").ID("identity-cancel").Class("btn small").
						OnClick(func(ctx app.Context, e app.Event) { c.confirm = "" }).Text("Cancel"),
				),
			)
		}),
	)
}

// forgetIdentities clears what the card showed when the session ends.
func forgetIdentities(ctx app.Context) {
	setState(ctx, stIdentities, identitiesView{})
	setState(ctx, formKey(formIdentities), formState{})
}
