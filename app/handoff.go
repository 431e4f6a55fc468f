package app

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// handoff carries over to the running app what the visitor did on the
// prerendered page before app.wasm ran: go-app does not adopt the server's
// HTML, it replaces it with its own render, which would lose what was
// typed, the focus and a submit pressed early. web/boot.js keeps those in
// window.authdashHandoff; the first handoff mounted (every page's layout
// has one) puts them back, in the same JavaScript task as the replacement,
// so keys pressed meanwhile land in the restored field.
type handoff struct{ app.Compo }

func (h *handoff) OnMount(ctx app.Context) {
	win := app.Window()
	st := win.Get("authdashHandoff")
	if !st.Truthy() {
		return
	}
	win.Delete("authdashHandoff")
	old := st.Get("page")
	if !old.Truthy() || old.Get("isConnected").Bool() {
		return
	}
	doc := win.Get("document")
	fields := old.Call("querySelectorAll", "input[id], textarea[id], select[id]")
	for i := range fields.Length() {
		restoreField(fields.Index(i), doc.Call("getElementById", fields.Index(i).Get("id").String()))
	}
	if id := st.Get("focus").String(); id != "" {
		if el := doc.Call("getElementById", id); el.Truthy() {
			el.Call("focus")
			// The caret goes to the end, where typing would continue
			// (the browser clamps the offset to the value's length).
			if hasTextSelection(el) {
				el.Call("setSelectionRange", endOfField, endOfField)
			}
		}
	}
	if id := st.Get("submit").String(); id != "" {
		// After the input events above have reached the page's fields.
		ctx.Defer(func(ctx app.Context) {
			if form := doc.Call("getElementById", id); form.Truthy() {
				form.Call("requestSubmit")
			}
		})
	}
}

// restoreField gives the app's field el the value of the prerendered field
// old, and tells the page through the event it listens to.
func restoreField(old, el app.Value) {
	if !el.Truthy() || el.Get("tagName").String() != old.Get("tagName").String() || el.Get("type").String() != old.Get("type").String() {
		return
	}
	event := "input"
	switch typ := el.Get("type").String(); {
	case typ == "checkbox" || typ == "radio":
		if el.Get("checked").Bool() == old.Get("checked").Bool() {
			return
		}
		el.Set("checked", old.Get("checked").Bool())
		event = "change"
	default:
		v := old.Get("value").String()
		if v == "" || v == el.Get("value").String() {
			return
		}
		el.Set("value", v)
		if el.Get("tagName").String() == "SELECT" {
			event = "change"
		}
	}
	el.Call("dispatchEvent", app.Window().Get("Event").New(event, map[string]any{"bubbles": true}))
}

// endOfField is past the end of any field's value.
const endOfField = 1 << 30

// hasTextSelection reports whether setSelectionRange works on el: it
// throws on email, number, date and the like.
func hasTextSelection(el app.Value) bool {
	switch el.Get("type").String() {
	case "text", "search", "password", "tel", "url", "textarea":
		return true
	}
	return false
}

// Render is nothing the visitor sees: a handoff only acts.
func (h *handoff) Render() app.UI { return app.Span().Hidden(true) }
