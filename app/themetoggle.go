package app

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash/app/theme"
)

// themeToggle is the header's theme button: the system's theme, light or
// dark, one press to the next. The choice is this device's (local
// storage), applied as <html data-theme>, which app.css's colours follow;
// web/boot.js applies it before the app runs.
type themeToggle struct {
	app.Compo
	mode theme.Mode
}

func (t *themeToggle) OnMount(ctx app.Context) {
	t.mode = storedTheme()
	applyTheme(t.mode)
}

func (t *themeToggle) toggle(ctx app.Context, e app.Event) {
	t.mode = t.mode.Next()
	applyTheme(t.mode)
	if app.IsClient {
		app.Window().Get("localStorage").Call("setItem", theme.StorageKey, string(t.mode))
	}
}

func (t *themeToggle) Render() app.UI {
	m := theme.Parse(string(t.mode))
	return app.Button().Type("button").ID("theme-toggle").Class("btn ghost theme-toggle").
		Aria("label", m.Describe()).Title(m.Describe()).OnClick(t.toggle).Body(
		app.Span().Class("theme-icon").Aria("hidden", "true").Text(map[theme.Mode]string{theme.System: "◐", theme.Light: "☀", theme.Dark: "☾"}[m]),
		app.Span().Class("theme-label").Text(m.Label()),
	)
}

// storedTheme is this device's choice.
func storedTheme() theme.Mode {
	if !app.IsClient {
		return theme.System
	}
	v := app.Window().Get("localStorage").Call("getItem", theme.StorageKey)
	if v.Type() != app.TypeString {
		return theme.System
	}
	return theme.Parse(v.String())
}

func applyTheme(m theme.Mode) {
	if !app.IsClient {
		return
	}
	root := document().Get("documentElement")
	if a := m.Attr(); a != "" {
		root.Call("setAttribute", "data-theme", a)
	} else {
		root.Call("removeAttribute", "data-theme")
	}
}
