package app

import (
	"slices"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/merge"
)

// conflictDialog shows, in a modal dialog, the fields both the user and
// someone elsewhere changed, the two values side by side, and lets the
// user choose; the changes only one side made are kept either way.
type conflictDialog struct {
	app.Compo
	cf    conflict
	modal modal
}

func (d *conflictDialog) OnMount(ctx app.Context) {
	d.modal = modal{id: "conflict-dialog", fallback: "new-title"}
	wasOpen := false
	observe(ctx, stConflict, &d.cf).OnChange(func() {
		switch {
		case d.cf.Open && !wasOpen:
			d.modal.returnSel = taskControlSel(string(d.cf.Merge.Base.ID), "edit")
			d.modal.show(ctx)
		case !d.cf.Open && wasOpen:
			d.modal.hide()
		}
		wasOpen = d.cf.Open
	})
}

// onClose: Esc leaves the choice for later, keeping their version.
func (d *conflictDialog) onClose(ctx app.Context, e app.Event) {
	if d.modal.closedByUser() && d.cf.Open {
		ctx.SetState(string(stConflict), conflict{})
		// Others a replay of offline changes left come next.
		ctx.NewAction(string(actNextConflict))
	}
}

func (d *conflictDialog) Render() app.UI {
	return app.Dialog().ID("conflict-dialog").On("keydown", trapTab).Class("dialog").Aria("labelledby", "conflict-title").
		Aria("describedby", "conflict-what").On("close", d.onClose).Body(
		app.If(d.cf.Open, d.renderPanel),
	)
}

func (d *conflictDialog) renderPanel() app.UI {
	c := d.cf
	r := c.Merge
	if c.Delete {
		return conflictPanel("The task was changed elsewhere before your deletion reached the server.", "Delete it anyway",
			app.Div().Class("versions").Body(versionBox("Their version (now saved)", r.Theirs)))
	}
	what := "You and someone elsewhere both changed this task. Choose which to keep where you differ."
	if others := otherChanges(r); others != "" {
		what += " " + others
	}
	rows := []app.UI{
		app.Tr().Body(app.Th().Scope("col").Text("Field"), app.Th().Scope("col").Text("Yours"), app.Th().Scope("col").Text("Theirs (saved)")),
	}
	for _, f := range r.Conflicts {
		rows = append(rows, app.Tr().DataSet("field", string(f)).Body(
			app.Th().Scope("row").Text(f.Label()),
			app.Td().Class("mine").Text(fieldValue(f, r.Mine)),
			app.Td().Class("theirs").Text(fieldValue(f, r.Theirs)),
		))
	}
	return conflictPanel(what, "Keep my change",
		app.Table().Class("versions-table").Body(app.Caption().Class("visually-hidden").Text("Your values and theirs"), app.TBody().Body(rows...)))
}

// otherChanges says which changes are kept whatever the user chooses.
func otherChanges(r merge.Result) string {
	var mine, theirs []merge.Field
	for _, f := range merge.Fields {
		if slices.Contains(r.Conflicts, f) {
			continue
		}
		if !merge.Same(f, r.Base, r.Mine) {
			mine = append(mine, f)
		}
		if !merge.Same(f, r.Base, r.Theirs) {
			theirs = append(theirs, f)
		}
	}
	var parts []string
	if len(mine) > 0 {
		parts = append(parts, "your "+fieldList(mine))
	}
	if len(theirs) > 0 {
		parts = append(parts, "their "+fieldList(theirs))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Either way, " + strings.Join(parts, " and ") + " " + plural(len(mine)+len(theirs), "change is", "changes are") + " kept."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func conflictPanel(what, keep string, body app.UI) app.UI {
	return app.Section().Class("conflict dialog-body").ID("conflict").Body(
		app.H2().ID("conflict-title").Text("This task changed elsewhere"),
		app.P().ID("conflict-what").Text(what),
		body,
		app.Div().Class("actions").Body(
			app.Button().Type("button").ID("keep-mine").Class("btn primary").
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewActionWithValue(string(actResolve), true) }).Text(keep),
			app.Button().Type("button").ID("take-theirs").Class("btn").
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewActionWithValue(string(actResolve), false) }).Text("Keep their version"),
		),
	)
}

// fieldValue shows a task's value of one field.
func fieldValue(f merge.Field, t authdash.Task) string {
	switch f {
	case merge.Title:
		return t.Title
	case merge.Description:
		return orDefault(t.Description, "(none)")
	case merge.Status:
		return statusLabel(t.Status)
	case merge.Priority:
		return priorityLabel(t.Priority)
	case merge.DueDate:
		if t.DueDate == nil {
			return "(none)"
		}
		return t.DueDate.UTC().Format("Jan 2, 2006")
	case merge.Tags:
		return orDefault(strings.Join(t.Tags, ", "), "(none)")
	}
	return ""
}

func versionBox(title string, t authdash.Task) app.UI {
	rows := []app.UI{}
	for _, f := range merge.Fields {
		rows = append(rows, app.Dt().Text(f.Label()), app.Dd().Text(fieldValue(f, t)))
	}
	return app.Div().Class("version").Body(app.H3().Text(title), app.Dl().Body(rows...))
}
