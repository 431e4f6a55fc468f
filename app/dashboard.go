package app

import (
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/queryurl"
	"github.com/authdash/authdash/app/shortcut"
)

// dashboardPage is the task list first: a one-line quick-add bar, the
// toolbar, the list; the full form, the conflict panel and the shortcuts
// open in dialogs, and toasts offer Undo. Each part is a component of its
// own that observes the state it shows; this page only composes them,
// guards the page and listens for keyboard shortcuts.
type dashboardPage struct {
	app.Compo
	sess  sessionView
	stats authdash.TaskStats
	// keys, typed and released are the document's keydown, keypress and
	// keyup listeners while mounted; keyGuard keeps a shortcut's character
	// from being typed (they all run on the browser's one thread).
	keys, typed, released app.Func
	keyGuard              shortcut.Guard
}

func (p *dashboardPage) OnMount(ctx app.Context) {
	observe(ctx, stSession, &p.sess).OnChange(func() {
		p.guard(ctx)
		p.focusStart(ctx)
	})
	observe(ctx, stStats, &p.stats)
	oidcReturnNotice(ctx)
	p.guard(ctx)
	p.focusStart(ctx)
	ctx.NewAction(string(actBoot))
	if app.IsClient {
		p.keys = app.FuncOf(func(_ app.Value, args []app.Value) any {
			if len(args) > 0 {
				p.keyGuard.Down(args[0].Get("key").String(), onShortcut(ctx, args[0]))
			}
			return nil
		})
		p.typed = app.FuncOf(func(_ app.Value, args []app.Value) any {
			if len(args) > 0 && p.keyGuard.Press(args[0].Get("key").String()) {
				args[0].Call("preventDefault")
			}
			return nil
		})
		p.released = app.FuncOf(func(_ app.Value, args []app.Value) any {
			if len(args) > 0 {
				p.keyGuard.Up(args[0].Get("key").String())
			}
			return nil
		})
		document().Call("addEventListener", "keydown", p.keys)
		// Capturing: cancelled before the focused field sees it.
		document().Call("addEventListener", "keypress", p.typed, true)
		document().Call("addEventListener", "keyup", p.released, true)
	}
}

func (p *dashboardPage) OnDismount() {
	if p.keys != nil {
		document().Call("removeEventListener", "keydown", p.keys)
		document().Call("removeEventListener", "keypress", p.typed, true)
		document().Call("removeEventListener", "keyup", p.released, true)
		for _, f := range []app.Func{p.keys, p.typed, p.released} {
			f.Release()
		}
		p.keys, p.typed, p.released = nil, nil, nil
	}
}

// OnNav shows the view the URL names: the first load, a link, Back and
// Forward all come here (applyQuery navigates). A parameter that is not
// valid is dropped, said so, and taken out of the address.
func (p *dashboardPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Dashboard · Authdash")
	if app.IsServer {
		return // prerendering: the shell only
	}
	u := ctx.Page().URL()
	params := u.Query()
	q, dropped := queryurl.Decode(params)
	if len(dropped) > 0 {
		bad := make([]string, len(dropped))
		for i, k := range dropped {
			bad[i] = k + ` "` + params.Get(k) + `"`
		}
		ctx.SetState(string(stNotice), notice{Text: "Ignored in the link, as not valid: " + strings.Join(bad, ", ") + ". Showing the rest."})
		clean := "/"
		if enc := queryurl.Encode(q); enc != "" {
			clean += "?" + enc
		}
		app.Window().Get("history").Call("replaceState", nil, "", clean)
	}
	ctx.NewActionWithValue(string(actQuery), q)
}

// focusStart puts the focus, when it is nowhere (after signing in, the
// sign-in page is gone), on the page's heading: the quick-add bar would
// open a phone's keyboard.
func (p *dashboardPage) focusStart(ctx app.Context) {
	if p.sess.Phase == phaseSignedIn {
		ctx.Defer(func(app.Context) { focusIfLost("hello") })
	}
}

// guard sends a signed-out visitor to the sign-in page.
func (p *dashboardPage) guard(ctx app.Context) {
	if p.sess.Phase == phaseSignedOut {
		ctx.Navigate(routeSignIn)
	}
}

func (p *dashboardPage) readOnly() bool { return !p.sess.canEdit() }

func (p *dashboardPage) Render() app.UI {
	if p.sess.Phase == phaseBooting || p.sess.Phase == phaseSignedOut {
		return layout(p.sess, app.Div().Class("card loading").Role("status").Text("Loading your dashboard…"))
	}
	return layout(p.sess,
		app.Div().Class("dash").Body(
			app.Div().Class("dash-head").Body(
				app.H1().ID("hello").TabIndex(-1).Text("Hello, "+p.sess.User.Name),
				p.renderStats(),
			),
			// Offline the list is the one kept in the browser: nothing
			// can be added or changed.
			app.Div().Class("slot").Body(app.If(!p.readOnly(), func() app.UI { return &quickAdd{} })),
			app.Section().Class("card tasks").Aria("labelledby", "tasks-title").Body(
				app.H2().ID("tasks-title").TabIndex(-1).Class("visually-hidden").Text("Tasks"),
				// Offline, the list kept in the browser answers the toolbar.
				app.Div().Class("slot").Body(app.If(!p.readOnly() || p.sess.Phase == phaseOffline, func() app.UI { return &toolbar{} })),
				&taskList{},
			),
			&editorDialog{},
			&conflictDialog{},
			&shortcutsDialog{},
			&toasts{},
		),
	)
}

func (p *dashboardPage) renderStats() app.UI {
	stat := func(id, label string, n int) app.UI {
		return app.Div().Class("stat "+id).Body(
			app.Dt().Text(label),
			app.Dd().ID("stat-"+id).Text(strconv.Itoa(n)),
		)
	}
	return app.Dl().Class("stats").Aria("label", "Tasks by status").Body(
		stat("todo", "To do", p.stats.Todo),
		stat("in-progress", "In progress", p.stats.InProgress),
		stat("done", "Done", p.stats.Done),
		stat("total", "Total", p.stats.Total),
	)
}
