package app

import (
	"slices"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/merge"
)

// editorDialog is the full form of a task, new or existing, in a modal
// dialog (a full-height sheet on a phone). An edit is the user's change of
// the version the dialog opened; while it is open, a change saved
// elsewhere is announced at once, and saving merges the two (app/merge).
// A deletion elsewhere is announced too, and the edit is then kept by
// saving it as a new task, until a restore (Undo elsewhere) brings the
// task back and saving is an edit again.
type editorDialog struct {
	app.Compo
	st      editorState
	tasks   tasksView
	edit    formState
	created formState
	newDone int

	title, desc, status, priority, due, tags string
	// sending guards a new task against a second submit before the first
	// one's Busy state arrives; key makes a retry of it create it once.
	sending bool
	// asNew: the edit of a deleted task was sent as a new task, whose
	// creation (formNew) closes the dialog as a new task's does.
	asNew bool
	key   idempotencyKey
	modal modal
}

func (d *editorDialog) OnMount(ctx app.Context) {
	d.modal = modal{id: "editor", fallback: "new-title"}
	wasOpen := false
	observe(ctx, stEditor, &d.st).OnChange(func() {
		switch {
		case d.st.Open && !wasOpen:
			d.fill()
			d.modal.returnSel = ""
			if strings.HasPrefix(d.st.Return, "[") {
				d.modal.returnSel = d.st.Return
			}
			d.modal.show(ctx)
			ctx.Defer(func(app.Context) { focusID("edit-title") })
		case !d.st.Open && wasOpen:
			d.modal.hide()
		}
		wasOpen = d.st.Open
	})
	observe(ctx, stTasks, &d.tasks)
	observe(ctx, formKey(formEdit), &d.edit).OnChange(func() {
		if d.st.Open && !d.st.New && d.edit.Target == d.st.Base.ID && d.edit.Done > 0 && !d.edit.Busy {
			d.close(ctx)
		}
	})
	observe(ctx, formKey(formNew), &d.created).OnChange(func() {
		if !d.created.Busy {
			d.sending = false
		}
		if d.created.Done != d.newDone && !d.created.Busy {
			d.newDone = d.created.Done
			d.key.reset()
			if d.st.Open && (d.st.New || d.asNew) {
				d.close(ctx)
			}
		}
	})
	d.newDone = d.created.Done
	var cf conflict
	observe(ctx, stConflict, &cf).OnChange(func() {
		// The conflict dialog holds the user's change now.
		if cf.Open && d.st.Open && !d.st.New && cf.Merge.Base.ID == d.st.Base.ID {
			d.close(ctx)
		}
	})
}

// fill puts the task (or a new task's defaults) in the fields.
func (d *editorDialog) fill() {
	if d.st.New {
		d.title, d.desc, d.status, d.priority, d.due, d.tags = d.st.Title, "", string(authdash.StatusTodo), string(authdash.PriorityMedium), "", ""
		d.created.Err, d.created.Fields = "", nil
		return
	}
	t := d.st.Base
	d.asNew = false
	d.created.Err, d.created.Fields = "", nil
	d.title, d.desc, d.status, d.priority = t.Title, t.Description, string(t.Status), string(t.Priority)
	d.due, d.tags = dateValue(t.DueDate), strings.Join(t.Tags, ", ")
	d.edit = formState{}
}

func (d *editorDialog) close(ctx app.Context) { ctx.SetState(string(stEditor), editorState{}) }

// onClose follows the dialog closing by itself (Esc).
func (d *editorDialog) onClose(ctx app.Context, e app.Event) {
	if d.modal.closedByUser() && d.st.Open {
		d.close(ctx)
	}
}

// current is the newest version of the edited task the list has.
func (d *editorDialog) current() (authdash.Task, bool) {
	i := slices.IndexFunc(d.tasks.Items, func(t authdash.Task) bool { return t.ID == d.st.Base.ID })
	if i < 0 {
		return authdash.Task{}, false
	}
	return d.tasks.Items[i], true
}

// deleted reports whether the edited task was deleted (elsewhere: the
// dialog is modal) and not restored since.
func (d *editorDialog) deleted() bool {
	return !d.st.New && slices.Contains(d.tasks.Deleted, d.st.Base.ID)
}

// edited is the dialog's content as a task: the version it opened with
// the user's changes. A due date the user left alone keeps its time.
func (d *editorDialog) edited() (authdash.Task, bool) {
	t := d.st.Base
	t.Title, t.Description = d.title, d.desc
	t.Status, t.Priority = authdash.TaskStatus(d.status), authdash.TaskPriority(d.priority)
	if d.due != dateValue(d.st.Base.DueDate) {
		due, ok := parseDate(d.due)
		if !ok {
			return t, false
		}
		t.DueDate = due
	}
	if tags := splitTags(d.tags); !slices.Equal(tags, d.st.Base.Tags) {
		t.Tags = tags
	}
	return t, true
}

func (d *editorDialog) submit(ctx app.Context, e app.Event) {
	e.PreventDefault()
	// An edit of a deleted task can only be kept as a new task.
	asNew := d.deleted()
	form := formEdit
	if d.st.New || asNew {
		form = formNew
	}
	due, ok := parseDate(d.due)
	if !ok {
		setState(ctx, formKey(form), formState{Target: d.st.Base.ID, Done: d.created.Done, Err: "Some fields are not valid.",
			Fields: map[string]string{"dueDate": "Enter a date."}})
		return
	}
	if d.st.New || asNew {
		if d.sending || d.created.Busy {
			return
		}
		dr := authdash.TaskDraft{Title: d.title, Description: d.desc, Status: authdash.TaskStatus(d.status),
			Priority: authdash.TaskPriority(d.priority), DueDate: due, Tags: splitTags(d.tags)}
		d.sending, d.asNew = true, asNew
		ctx.NewActionWithValue(string(actCreate), taskCreate{Key: d.key.For(dr), Draft: dr, Form: formNew})
		return
	}
	mine, _ := d.edited()
	if merge.Diff(d.st.Base, mine).Empty() {
		d.close(ctx)
		return
	}
	ctx.NewActionWithValue(string(actUpdate), taskEdit{Base: d.st.Base, Mine: mine})
}

func (d *editorDialog) Render() app.UI {
	return app.Dialog().ID("editor").On("keydown", trapTab).Class("dialog sheet").Aria("labelledby", "editor-title").
		On("close", d.onClose).Body(
		app.If(d.st.Open, d.renderForm),
	)
}

func (d *editorDialog) renderForm() app.UI {
	fs := d.edit
	heading, save, busy := "Edit task", "Save", fs.Busy && fs.Target == d.st.Base.ID
	if d.st.New {
		fs = d.created
		heading, save, busy = "New task", "Add task", d.created.Busy || d.sending
	} else if d.deleted() {
		fs = d.created
		save, busy = "Save as new task", d.created.Busy || d.sending
	} else if fs.Target != d.st.Base.ID {
		fs = formState{}
	}
	f := fs.Fields
	return app.Form().ID("edit-form").Class("form grid").NoValidate(true).Aria("labelledby", "editor-title").OnSubmit(d.submit).Body(
		app.Div().Class("dialog-head span2").Body(
			app.H2().ID("editor-title").Text(heading),
			app.Button().Type("button").ID("edit-close").Class("btn ghost icon").Aria("label", "Close").
				OnClick(func(ctx app.Context, e app.Event) { d.close(ctx) }).Text("×"),
		),
		formError(fs.Err),
		app.If(!d.st.New, d.renderChangedElsewhere),
		field{ID: "edit-title", Label: "Title", Value: d.title, Err: f["title"], Required: true,
			Max: authdash.MaxTitleLen, OnInput: value(&d.title)}.render(),
		field{ID: "edit-tags", Label: "Tags", Value: d.tags, Err: f["tags"], Hint: "Separate with commas.", OnInput: value(&d.tags)}.render(),
		selectField("edit-status", "Status", d.status, f["status"], statusOptions, value(&d.status)),
		selectField("edit-priority", "Priority", d.priority, f["priority"], priorityOptions, value(&d.priority)),
		field{ID: "edit-due", Label: "Due date", Type: "date", Value: d.due, Err: f["dueDate"], OnInput: value(&d.due)}.render(),
		app.Div().Class("field span2").Body(
			app.Label().For("edit-description").Text("Description"),
			app.Textarea().ID("edit-description").Rows(4).MaxLength(authdash.MaxDescriptionLen).Text(d.desc).
				OnInput(value(&d.desc), app.EventScope("edit-description")),
			app.If(f["description"] != "", func() app.UI { return app.P().Class("field-error").Text(f["description"]) }),
		),
		app.Div().Class("actions dialog-actions span2").Body(
			app.Button().Type("submit").ID("edit-save").Class("btn primary").Disabled(busy).Text(busyText(busy, save, "Saving…")),
			app.Button().Type("button").ID("edit-cancel").Class("btn").
				OnClick(func(ctx app.Context, e app.Event) { d.close(ctx) }).Text("Cancel"),
		),
	)
}

// renderChangedElsewhere tells the user, while they edit, that the task
// was saved or deleted elsewhere since the dialog opened (elsewhere).
// Always in the form, so screen readers announce it when it fills
// (role=status).
func (d *editorDialog) renderChangedElsewhere() app.UI {
	cur, found := d.current()
	mine, mineOK := d.edited()
	msg := elsewhere(d.st.Base, mine, mineOK, cur, found, d.deleted())
	return app.P().ID("edit-elsewhere").Class("elsewhere span2").Role("status").Hidden(msg == "").Text(msg)
}

// elsewhere is what the editor says of the task's changes made elsewhere
// since it opened base: the user's edit is mine (ok: it parses), cur the
// list's newest version (found: the list has it), deleted whether the list
// saw it deleted. A deletion says how the edit is kept; a change, which
// fields, and which of those the user changed too (they will choose when
// saving). A new version that changed no field (a restore of the version
// the editor opened) says nothing: saving is an ordinary edit.
func elsewhere(base, mine authdash.Task, ok bool, cur authdash.Task, found, deleted bool) string {
	if deleted {
		return "This task was deleted elsewhere. Your changes are still here: " +
			"save them as a new task, or cancel to discard them."
	}
	if !found || cur.Version == base.Version {
		return ""
	}
	theirs := merge.Changed(base, cur)
	if len(theirs) == 0 {
		return ""
	}
	if ok {
		if r := merge.Merge(base, mine, cur); r.Conflicted() {
			return "This task was just changed elsewhere. You both changed " + fieldList(r.Conflicts) +
				": when you save, you choose which to keep; other changes are kept."
		}
	}
	return "This task was just changed elsewhere (" + fieldList(theirs) + "). Saving keeps those changes and yours."
}

func fieldList(fs []merge.Field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = strings.ToLower(f.Label())
	}
	return strings.Join(names, ", ")
}
