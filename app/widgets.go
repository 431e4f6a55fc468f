package app

import (
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
)

// field is a labelled input with its error message, which screen readers
// announce with the input (aria-describedby).
type field struct {
	ID           string
	Label        string
	Type         string // default text
	Value        string
	Err          string
	AutoComplete string
	InputMode    string // the keyboard a phone shows: "numeric" for a code of digits
	Required     bool
	Max          int
	Hint         string
	OnInput      app.EventHandler
}

func (f field) render() app.UI {
	typ := f.Type
	if typ == "" {
		typ = "text"
	}
	// The scope matters: go-app keeps a mounted handler whose code pointer
	// is unchanged, and every value(&x) closure shares one.
	in := app.Input().ID(f.ID).Name(f.ID).Type(typ).Value(f.Value).Required(f.Required).OnInput(f.OnInput, app.EventScope(f.ID))
	if f.AutoComplete != "" {
		in = in.Attr("autocomplete", f.AutoComplete)
	}
	if f.InputMode != "" {
		in = in.Attr("inputmode", f.InputMode)
	}
	if f.Max > 0 {
		in = in.MaxLength(f.Max)
	}
	var describedBy []string
	if f.Hint != "" {
		describedBy = append(describedBy, f.ID+"-hint")
	}
	if f.Err != "" {
		describedBy = append(describedBy, f.ID+"-err")
		in = in.Aria("invalid", "true").Class("invalid")
	}
	if len(describedBy) > 0 {
		in = in.Aria("describedby", strings.Join(describedBy, " "))
	}
	return app.Div().Class("field").Body(
		app.Label().For(f.ID).Text(f.Label),
		in,
		app.If(f.Hint != "", func() app.UI { return app.Small().ID(f.ID + "-hint").Class("hint").Text(f.Hint) }),
		// role=alert: with no summary above (summary) it is what is announced.
		app.If(f.Err != "", func() app.UI { return app.P().ID(f.ID + "-err").Class("field-error").Role("alert").Text(f.Err) }),
	)
}

// option is one choice of a select.
type option struct{ Value, Label string }

// selectField is a labelled select.
func selectField(id, label, value, errMsg string, opts []option, onChange app.EventHandler) app.UI {
	sel := app.Select().ID(id).Name(id).OnChange(onChange, app.EventScope(id)).Body(
		app.Range(opts).Slice(func(i int) app.UI {
			return app.Option().Value(opts[i].Value).Selected(opts[i].Value == value).Text(opts[i].Label)
		}),
	)
	if errMsg != "" {
		sel = sel.Aria("invalid", "true").Aria("describedby", id+"-err")
	}
	return app.Div().Class("field").Body(
		app.Label().For(id).Text(label),
		sel,
		app.If(errMsg != "", func() app.UI { return app.P().ID(id + "-err").Class("field-error").Text(errMsg) }),
	)
}

// accountField is the account's email, hidden, in a form that asks for a
// password without it: a password manager reads it to know whose saved
// password the form wants or changes (Chromium warns of password forms
// without one).
func accountField(email string) app.UI {
	return app.Input().Type("email").Name("username").Attr("autocomplete", "username").
		Value(email).ReadOnly(true).Hidden(true)
}

// formError is the summary at the top of a form; role=alert announces it.
// It is always in the page, hidden when empty: a live region present before
// its text changes is announced reliably, and a stable structure keeps
// go-app's positional diff from reusing one input's element for another.
func formError(msg string) app.UI {
	return app.Div().Class("form-error").Role("alert").Hidden(msg == "").Text(msg)
}

// value reads an input event's element value into dst.
func value(dst *string) app.EventHandler {
	return func(ctx app.Context, e app.Event) { *dst = ctx.JSSrc().Get("value").String() }
}

var statusOptions = []option{{"todo", "To do"}, {"in_progress", "In progress"}, {"done", "Done"}}
var priorityOptions = []option{{"low", "Low"}, {"medium", "Medium"}, {"high", "High"}}

func statusLabel(s authdash.TaskStatus) string { return labelOf(statusOptions, string(s)) }

func priorityLabel(p authdash.TaskPriority) string { return labelOf(priorityOptions, string(p)) }

func labelOf(opts []option, v string) string {
	for _, o := range opts {
		if o.Value == v {
			return o.Label
		}
	}
	return v
}

// dateValue formats a due date for an <input type=date>.
func dateValue(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// parseDate reads an <input type=date> value; "" is no date.
func parseDate(s string) (*time.Time, bool) {
	if s == "" {
		return nil, true
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, false
	}
	return &t, true
}

// splitTags reads a comma-separated tag list.
func splitTags(s string) []string {
	if strings.TrimSpace(s) == "" {
		return []string{}
	}
	return authdash.NormalizeTags(strings.Split(s, ","))
}

// brandIcon is the logo inline: a constant, never user data. An <img> of
// /web/icon.svg would miss the service worker's cache, which holds the
// content-hashed name only, and show broken offline.
const brandIcon = `<svg class="brand-icon" aria-hidden="true" width="28" height="28" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#1e40af"/><path d="M19 33l9 9 17-19" fill="none" stroke="#fff" stroke-width="7" stroke-linecap="round" stroke-linejoin="round"/></svg>`

// layout is the frame of every page: skip link, top bar, notices, main.
func layout(sess sessionView, content ...app.UI) app.UI {
	signedIn := sess.Phase == phaseSignedIn || sess.Phase == phaseOffline
	// data-ready tells a prerendered page (false) from the running app.
	return app.Div().Class("page").DataSet("ready", app.IsClient).Body(
		app.A().Class("skip-link").Href("#main").Text("Skip to content"),
		app.Header().Class("topbar").Body(
			app.A().Class("brand").Href(routeHome).Body(
				app.Raw(brandIcon),
				app.Span().Text("Authdash"),
			),
			app.If(signedIn, func() app.UI {
				return app.Nav().Class("topnav").Aria("label", "Main").Body(
					app.A().Href(routeHome).Text("Dashboard"),
					app.A().Href(routeProfile).Text("Profile"),
					&liveBadge{},
					app.Button().Type("button").Class("btn ghost").ID("signout").
						OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(string(actSignOut)) }).
						Text("Sign out"),
				)
			}),
			&themeToggle{},
		),
		&outageBanner{},
		&noticeBar{},
		app.Main().ID("main").Class("main").Body(content...),
		app.If(signedIn, func() app.UI { return &signOutUnsentDialog{} }),
		// Carries what was done on the prerendered page over to the app.
		&handoff{},
	)
}

// liveBadge shows whether live updates flow.
type liveBadge struct {
	app.Compo
	live liveView
}

func (b *liveBadge) OnMount(ctx app.Context) { observe(ctx, stLive, &b.live) }

func (b *liveBadge) Render() app.UI {
	st := b.live.Status
	text := map[api.LiveStatus]string{
		api.LiveOn: "Live", api.LiveReconnecting: "Reconnecting…", api.LiveOffline: "Offline", api.LiveConnecting: "Connecting…",
	}[st]
	if text == "" {
		text = "Connecting…"
		st = api.LiveConnecting
	}
	return app.Span().ID("live").Class("live live-"+string(st)).Role("status").
		Aria("label", "Live updates: "+text).Title("Live updates: "+text).Body(
		app.Span().Class("dot").Aria("hidden", "true"),
		app.Span().Class("live-text").Text(text),
	)
}

// noticeBar shows the latest notice and offers a new version when the
// service worker installed one.
type noticeBar struct {
	app.Compo
	n       notice
	updated bool
	// shown counts the notices shown, so that a notice's timer does not
	// take away the one after it.
	shown int
}

func (b *noticeBar) OnMount(ctx app.Context) {
	observe(ctx, stNotice, &b.n).OnChange(func() { b.expire(ctx) })
	b.updated = ctx.AppUpdateAvailable()
	b.expire(ctx)
}

// expire takes the notice away once it has been up for its lifetime.
func (b *noticeBar) expire(ctx app.Context) {
	b.shown++
	if b.n.Text == "" {
		return
	}
	n, shown := b.n, b.shown
	ctx.After(n.lifetime(), func(ctx app.Context) {
		if b.shown == shown && b.n == n {
			ctx.NewAction(string(actDismiss))
		}
	})
}

// OnAppUpdate is called by go-app when a new version has been installed.
func (b *noticeBar) OnAppUpdate(ctx app.Context) { b.updated = ctx.AppUpdateAvailable() }

func (b *noticeBar) Render() app.UI {
	return app.Div().Class("notices").Body(
		app.If(b.updated, func() app.UI {
			return app.Div().Class("banner update").Role("status").Body(
				app.Span().Text("A new version of Authdash is ready."),
				app.Button().Type("button").Class("btn small").
					OnClick(func(ctx app.Context, e app.Event) { ctx.Reload() }).Text("Reload"),
			)
		}),
		app.If(b.n.Text != "", func() app.UI {
			cls, role := "banner info", "status"
			if b.n.Error {
				cls, role = "banner error", "alert"
			}
			return app.Div().Class(cls).Role(role).ID("notice").Body(
				app.Span().Text(b.n.Text),
				app.Button().Type("button").Class("btn small ghost").Aria("label", "Dismiss").
					OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(string(actDismiss)) }).Text("×"),
			)
		}),
		&verifyBanner{},
	)
}

// clearInputs empties form controls in the page. go-app v10.1.11 drops an
// empty "value" attribute instead of setting it (attributes.Set switches on
// the value rather than the name), so rendering Value("") leaves what the
// user typed on screen. Call it on the UI goroutine.
func clearInputs(ids ...string) {
	if !app.IsClient {
		return
	}
	doc := app.Window().Get("document")
	for _, id := range ids {
		if el := doc.Call("getElementById", id); el.Truthy() {
			el.Set("value", "")
		}
	}
}

// outageBanner says, for as long as it lasts, that the server cannot be
// reached: opened offline (the tasks loaded last, read-only), or signed in
// and the live connection lost. It stays in view (sticky at the top) and
// in the page from the start, so screen readers announce it (role=status).
type outageBanner struct {
	app.Compo
	sess sessionView
	live liveView
}

func (o *outageBanner) OnMount(ctx app.Context) {
	observe(ctx, stSession, &o.sess)
	observe(ctx, stLive, &o.live)
}

func (o *outageBanner) Render() app.UI {
	text := ""
	switch {
	case o.sess.Phase == phaseOffline && o.sess.Outbox:
		text = "You are offline. Showing the tasks kept on this device; what you change is kept here and sent when the connection is back."
	case o.sess.Phase == phaseOffline:
		text = "You are offline. Showing the tasks kept on this device, read-only; changes are paused until the connection is back."
	case o.sess.Phase == phaseSignedIn && (o.live.Status == api.LiveReconnecting || o.live.Status == api.LiveOffline):
		text = "The server cannot be reached. Trying again… What you add or change now stays on this page, with a way to retry."
	}
	return app.Div().Class("banner offline").Role("status").ID("offline-banner").Hidden(text == "").Text(text)
}
