package app

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/merge"
)

// searchDelay is how long typing must pause before the list is searched.
const searchDelay = 250 * time.Millisecond

// dashboardPage shows the profile summary, the counts by status and the
// task list with its toolbar, the new-task form and the inline editor.
type dashboardPage struct {
	app.Compo
	sess     sessionView
	tasks    tasksView
	stats    authdash.TaskStats
	create   formState
	edit     formState
	conflict conflict

	// toolbar
	search, status, priority, tag, dueAfter, dueBefore, sort, order string
	searchGen                                                       int

	// new task
	title, desc, newStatus, newPriority, newDue, newTags string
	createDone                                           int
	// creating is set by the submit itself, before the action's Busy
	// state can disable the button: a second click already queued finds
	// it set and sends nothing.
	creating bool
	// createKey is the Idempotency-Key of the draft createKeyFor, kept
	// until the draft is created so a retry of it reuses the key.
	createKey    string
	createKeyFor authdash.TaskDraft

	// the task being edited (one at a time) and the version it was
	// opened at, which a save merges against
	editID                                         authdash.TaskID
	editBase                                       authdash.Task
	eTitle, eDesc, eStatus, ePriority, eDue, eTags string
	confirmDelete                                  authdash.TaskID
	toolbarSet                                     bool
}

func (p *dashboardPage) OnMount(ctx app.Context) {
	observe(ctx, stSession, &p.sess).OnChange(func() { p.guard(ctx) })
	observe(ctx, stTasks, &p.tasks).OnChange(func() { p.syncToolbar() })
	observe(ctx, stStats, &p.stats)
	observe(ctx, stConflict, &p.conflict).OnChange(func() {
		// The conflict panel holds the user's change now; the editor would
		// only repeat it.
		if p.conflict.Open && p.conflict.Merge.Base.ID == p.editID {
			p.editID = ""
		}
	})
	observe(ctx, formKey(formCreate), &p.create).OnChange(func() {
		if !p.create.Busy {
			p.creating = false
		}
		if p.create.Done != p.createDone && !p.create.Busy {
			p.createDone = p.create.Done
			p.createKey = ""
			p.title, p.desc, p.newDue, p.newTags = "", "", "", ""
			clearInputs("new-title", "new-description", "new-due", "new-tags")
		}
	})
	observe(ctx, formKey(formEdit), &p.edit).OnChange(func() {
		if p.edit.Target == p.editID && p.edit.Done > 0 && !p.edit.Busy {
			p.editID = ""
		}
	})
	p.createDone = p.create.Done
	p.syncToolbar()
	p.guard(ctx)
	ctx.NewAction(string(actBoot))
}

func (p *dashboardPage) OnNav(ctx app.Context) { ctx.Page().SetTitle("Dashboard · Authdash") }

// guard sends a signed-out visitor to the sign-in page.
func (p *dashboardPage) guard(ctx app.Context) {
	if p.sess.Phase == phaseSignedOut {
		ctx.Navigate(routeSignIn)
	}
}

// syncToolbar shows the query the list was loaded with, once: after that
// the toolbar is the source of the query.
func (p *dashboardPage) syncToolbar() {
	if p.toolbarSet || !p.tasks.Loaded {
		return
	}
	p.toolbarSet = true
	q := p.tasks.Query
	p.search, p.status, p.priority, p.tag = q.Search, string(q.Status), string(q.Priority), q.Tag
	p.dueAfter, p.dueBefore = dateValue(q.DueAfter), dateValue(q.DueBefore)
	p.sort, p.order = string(q.Sort), string(q.Order)
}

func (p *dashboardPage) query() authdash.TaskQuery {
	q := authdash.TaskQuery{
		Search: p.search, Status: authdash.TaskStatus(p.status), Priority: authdash.TaskPriority(p.priority),
		Tag: p.tag, Sort: authdash.TaskSort(p.sort), Order: authdash.Order(p.order),
	}
	q.DueAfter, _ = parseDate(p.dueAfter)
	if d, _ := parseDate(p.dueBefore); d != nil {
		// "Due before" a day includes that day.
		e := d.Add(24 * time.Hour)
		q.DueBefore = &e
	}
	return q
}

func (p *dashboardPage) runQuery(ctx app.Context) {
	p.toolbarSet = true
	ctx.NewActionWithValue(string(actQuery), p.query())
}

// onSearch searches once typing pauses for searchDelay.
func (p *dashboardPage) onSearch(ctx app.Context, e app.Event) {
	p.search = ctx.JSSrc().Get("value").String()
	p.searchGen++
	gen := p.searchGen
	ctx.After(searchDelay, func(ctx app.Context) {
		if gen == p.searchGen {
			p.runQuery(ctx)
		}
	})
}

// anyValue is the value of a filter's "Any" option. It cannot be "":
// go-app leaves an empty value attribute out, and an option without one
// has its text as its value.
const anyValue = "any"

// onFilter applies a toolbar control at once.
func (p *dashboardPage) onFilter(dst *string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		*dst = ctx.JSSrc().Get("value").String()
		if *dst == anyValue {
			*dst = ""
		}
		p.runQuery(ctx)
	}
}

func (p *dashboardPage) readOnly() bool { return p.sess.Phase != phaseSignedIn || p.tasks.ReadOnly }

func (p *dashboardPage) Render() app.UI {
	if p.sess.Phase == phaseBooting || p.sess.Phase == phaseSignedOut {
		return layout(p.sess, app.Div().Class("card loading").Role("status").Text("Loading your dashboard…"))
	}
	return layout(p.sess,
		app.Div().Class("dash").Body(
			app.Section().Class("card summary").Aria("labelledby", "hello").Body(
				app.H1().ID("hello").Text("Hello, "+p.sess.User.Name),
				app.P().Class("muted").Text(p.sess.User.Email),
				p.renderStats(),
			),
			// Slots keep the page's structure fixed whatever is shown, so
			// go-app's positional diff never reuses the create form's
			// inputs for the toolbar's.
			app.Div().Class("slot").Body(p.renderConflict()),
			app.Div().Class("slot").Body(app.If(!p.readOnly(), p.renderCreate)),
			app.Section().Class("card tasks").Aria("labelledby", "tasks-title").Body(
				app.H2().ID("tasks-title").Text("Tasks"),
				// Offline, filters cannot run: the list is what was loaded.
				app.Div().Class("slot").Body(app.If(!p.readOnly(), p.renderToolbar)),
				p.renderList(),
			),
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

func (p *dashboardPage) renderCreate() app.UI {
	f := p.create.Fields
	return app.Section().Class("card create").Aria("labelledby", "create-title").Body(
		app.H2().ID("create-title").Text("New task"),
		app.Form().ID("create-form").Class("form grid").NoValidate(true).OnSubmit(p.submitCreate).Body(
			formError(p.create.Err),
			field{ID: "new-title", Label: "Title", Value: p.title, Err: f["title"], Required: true,
				Max: authdash.MaxTitleLen, OnInput: value(&p.title)}.render(),
			field{ID: "new-tags", Label: "Tags", Value: p.newTags, Err: f["tags"], Hint: "Separate with commas.",
				OnInput: value(&p.newTags)}.render(),
			selectField("new-status", "Status", orDefault(p.newStatus, "todo"), f["status"], statusOptions, value(&p.newStatus)),
			selectField("new-priority", "Priority", orDefault(p.newPriority, "medium"), f["priority"], priorityOptions, value(&p.newPriority)),
			field{ID: "new-due", Label: "Due date", Type: "date", Value: p.newDue, Err: f["dueDate"], OnInput: value(&p.newDue)}.render(),
			app.Div().Class("field span2").Body(
				app.Label().For("new-description").Text("Description"),
				app.Textarea().ID("new-description").Rows(2).MaxLength(authdash.MaxDescriptionLen).Text(p.desc).OnInput(value(&p.desc), app.EventScope("new-description")),
				app.If(f["description"] != "", func() app.UI { return app.P().Class("field-error").Text(f["description"]) }),
			),
			app.Div().Class("actions span2").Body(
				app.Button().Type("submit").ID("create-submit").Class("btn primary").Disabled(p.create.Busy || p.creating).
					Text(busyText(p.create.Busy || p.creating, "Add task", "Adding…")),
			),
		),
	)
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func (p *dashboardPage) submitCreate(ctx app.Context, e app.Event) {
	e.PreventDefault()
	if p.creating || p.create.Busy {
		return
	}
	due, ok := parseDate(p.newDue)
	if !ok {
		setState(ctx, formKey(formCreate), formState{Err: "Some fields are not valid.", Fields: map[string]string{"dueDate": "Enter a date."}})
		return
	}
	d := authdash.TaskDraft{
		Title: p.title, Description: p.desc, Status: authdash.TaskStatus(p.newStatus),
		Priority: authdash.TaskPriority(p.newPriority), DueDate: due, Tags: splitTags(p.newTags),
	}
	if p.createKey == "" || !sameDraft(d, p.createKeyFor) {
		p.createKey, p.createKeyFor = api.NewIdempotencyKey(), d
	}
	p.creating = true
	ctx.NewActionWithValue(string(actCreate), taskCreate{Key: p.createKey, Draft: d})
}

// sameDraft reports whether a and b would create the same task, so that a
// retry of a failed create may reuse its key.
func sameDraft(a, b authdash.TaskDraft) bool {
	a.Normalize()
	b.Normalize()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func (p *dashboardPage) renderToolbar() app.UI {
	any := option{anyValue, "Any"}
	return app.Form().Class("toolbar").Role("search").Aria("label", "Filter tasks").
		OnSubmit(func(ctx app.Context, e app.Event) { e.PreventDefault(); p.runQuery(ctx) }).Body(
		app.Div().Class("field grow").Body(
			app.Label().For("search").Text("Search"),
			app.Input().ID("search").Type("search").Value(p.search).Placeholder("Title or description").
				MaxLength(authdash.MaxSearchLen).OnInput(p.onSearch),
		),
		selectField("filter-status", "Status", orDefault(p.status, anyValue), "", append([]option{any}, statusOptions...), p.onFilter(&p.status)),
		selectField("filter-priority", "Priority", orDefault(p.priority, anyValue), "", append([]option{any}, priorityOptions...), p.onFilter(&p.priority)),
		app.Div().Class("field").Body(
			app.Label().For("filter-tag").Text("Tag"),
			app.Input().ID("filter-tag").Type("text").Value(p.tag).MaxLength(authdash.MaxTagLen).OnChange(p.onFilter(&p.tag), app.EventScope("tag")),
		),
		app.Div().Class("field").Body(
			app.Label().For("filter-due-after").Text("Due after"),
			app.Input().ID("filter-due-after").Type("date").Value(p.dueAfter).OnChange(p.onFilter(&p.dueAfter), app.EventScope("after")),
		),
		app.Div().Class("field").Body(
			app.Label().For("filter-due-before").Text("Due by"),
			app.Input().ID("filter-due-before").Type("date").Value(p.dueBefore).OnChange(p.onFilter(&p.dueBefore), app.EventScope("before")),
		),
		selectField("sort", "Sort by", orDefault(p.sort, "created"), "", []option{
			{"created", "Created"}, {"updated", "Updated"}, {"due", "Due date"}, {"priority", "Priority"}, {"title", "Title"},
		}, p.onFilter(&p.sort)),
		selectField("order", "Order", orDefault(p.order, "desc"), "", []option{{"desc", "Descending"}, {"asc", "Ascending"}}, p.onFilter(&p.order)),
	)
}

func (p *dashboardPage) renderList() app.UI {
	t := p.tasks
	return app.Div().Class("list-wrap").Aria("busy", strconv.FormatBool(t.Loading)).Body(
		formError(t.Err),
		app.Div().Class("list-status").Role("status").Body(
			app.If(t.Loaded && len(t.Items) == 0 && !t.Loading, func() app.UI {
				return app.P().Class("empty").ID("empty").Text("No tasks here yet.")
			}),
			app.If(!t.Loaded, func() app.UI { return app.P().Class("muted").Text("Loading tasks…") }),
		),
		app.Ul().Class("task-list").ID("task-list").Body(
			app.Range(t.Items).Slice(func(i int) app.UI { return p.renderTask(t.Items[i]) }),
		),
		app.If(t.HasMore && !t.ReadOnly, func() app.UI {
			return app.Button().Type("button").ID("load-more").Class("btn").Disabled(t.Loading).
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(string(actMore)) }).Text("Load more")
		}),
	)
}

func (p *dashboardPage) renderTask(t authdash.Task) app.UI {
	if p.editID == t.ID && !p.readOnly() {
		return p.renderEditor(t)
	}
	id := string(t.ID)
	// Handlers close over t; the scope makes go-app swap them when the row
	// shows another task or version (it compares handlers by code pointer).
	scope := app.EventScope(id, t.Version)
	return app.Li().Class("task status-"+string(t.Status)).ID("task-"+id).DataSet("id", id).Body(
		app.Div().Class("task-main").Body(
			app.H3().Class("task-title").Text(t.Title),
			app.If(t.Description != "", func() app.UI { return app.P().Class("task-desc").Text(t.Description) }),
			app.Div().Class("task-meta").Body(
				app.Span().Class("badge status").Text(statusLabel(t.Status)),
				app.Span().Class("badge prio-"+string(t.Priority)).Text(priorityLabel(t.Priority)+" priority"),
				app.If(t.DueDate != nil, func() app.UI {
					return app.Time().Class("due").DateTime(dateValue(t.DueDate)).Text("Due " + t.DueDate.UTC().Format("Jan 2, 2006"))
				}),
				app.Range(t.Tags).Slice(func(i int) app.UI { return app.Span().Class("tag").Text("#" + t.Tags[i]) }),
			),
		),
		app.If(!p.readOnly(), func() app.UI {
			if p.confirmDelete == t.ID {
				return app.Div().Class("task-actions confirm").Role("group").Aria("label", "Confirm deletion").Body(
					app.Span().Text("Delete?"),
					app.Button().Type("button").Class("btn danger small").
						OnClick(func(ctx app.Context, e app.Event) {
							p.confirmDelete = ""
							ctx.NewActionWithValue(string(actDelete), taskRef{ID: t.ID, Version: t.Version})
						}, scope).Text("Delete"),
					app.Button().Type("button").Class("btn small").
						OnClick(func(ctx app.Context, e app.Event) { p.confirmDelete = "" }, scope).Text("Cancel"),
				)
			}
			return app.Div().Class("task-actions").Body(
				app.Button().Type("button").Class("btn small").Aria("label", "Edit "+t.Title).
					OnClick(func(ctx app.Context, e app.Event) { p.startEdit(t) }, scope).Text("Edit"),
				app.Button().Type("button").Class("btn small ghost danger-text").Aria("label", "Delete "+t.Title).
					OnClick(func(ctx app.Context, e app.Event) { p.confirmDelete = t.ID }, scope).Text("Delete"),
			)
		}),
	)
}

func (p *dashboardPage) startEdit(t authdash.Task) {
	p.editID, p.editBase = t.ID, t
	p.eTitle, p.eDesc, p.eStatus, p.ePriority = t.Title, t.Description, string(t.Status), string(t.Priority)
	p.eDue, p.eTags = dateValue(t.DueDate), strings.Join(t.Tags, ", ")
	p.edit = formState{}
}

func (p *dashboardPage) renderEditor(t authdash.Task) app.UI {
	var f map[string]string
	var errMsg string
	if p.edit.Target == t.ID {
		f, errMsg = p.edit.Fields, p.edit.Err
	}
	return app.Li().Class("task editing").ID("task-" + string(t.ID)).Body(
		app.Form().ID("edit-form").Class("form grid").NoValidate(true).Aria("label", "Edit task").OnSubmit(p.submitEdit).Body(
			formError(errMsg),
			p.renderChangedElsewhere(t),
			field{ID: "edit-title", Label: "Title", Value: p.eTitle, Err: f["title"], Required: true,
				Max: authdash.MaxTitleLen, OnInput: value(&p.eTitle)}.render(),
			field{ID: "edit-tags", Label: "Tags", Value: p.eTags, Err: f["tags"], Hint: "Separate with commas.", OnInput: value(&p.eTags)}.render(),
			selectField("edit-status", "Status", p.eStatus, f["status"], statusOptions, value(&p.eStatus)),
			selectField("edit-priority", "Priority", p.ePriority, f["priority"], priorityOptions, value(&p.ePriority)),
			field{ID: "edit-due", Label: "Due date", Type: "date", Value: p.eDue, Err: f["dueDate"], OnInput: value(&p.eDue)}.render(),
			app.Div().Class("field span2").Body(
				app.Label().For("edit-description").Text("Description"),
				app.Textarea().ID("edit-description").Rows(3).MaxLength(authdash.MaxDescriptionLen).Text(p.eDesc).OnInput(value(&p.eDesc), app.EventScope("edit-description")),
				app.If(f["description"] != "", func() app.UI { return app.P().Class("field-error").Text(f["description"]) }),
			),
			app.Div().Class("actions span2").Body(
				app.Button().Type("submit").ID("edit-save").Class("btn primary").Disabled(p.edit.Busy && p.edit.Target == t.ID).Text("Save"),
				app.Button().Type("button").Class("btn").OnClick(func(ctx app.Context, e app.Event) { p.editID = "" }).Text("Cancel"),
			),
		),
	)
}

// renderChangedElsewhere tells the user, while they edit, that the task
// was saved elsewhere since they opened it: which fields, and which of
// those they changed too (they will choose when saving). Always in the
// page, so screen readers announce it when it fills (role=status).
func (p *dashboardPage) renderChangedElsewhere(current authdash.Task) app.UI {
	var msg string
	if current.Version != p.editBase.Version {
		theirs := merge.Changed(p.editBase, current)
		msg = "This task was just changed elsewhere"
		if len(theirs) > 0 {
			msg += " (" + fieldList(theirs) + ")"
		}
		msg += ". Saving keeps those changes and yours."
		if mine, ok := p.editedTask(); ok {
			if r := merge.Merge(p.editBase, mine, current); r.Conflicted() {
				msg = "This task was just changed elsewhere. You both changed " + fieldList(r.Conflicts) +
					": when you save, you choose which to keep; other changes are kept."
			}
		}
	}
	return app.P().ID("edit-elsewhere").Class("elsewhere span2").Role("status").Hidden(msg == "").Text(msg)
}

func fieldList(fs []merge.Field) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = strings.ToLower(f.Label())
	}
	return strings.Join(names, ", ")
}

// editedTask is the editor's content as a task: the version it opened
// with the user's changes. A due date the user left alone keeps its time.
func (p *dashboardPage) editedTask() (authdash.Task, bool) {
	t := p.editBase
	t.Title, t.Description = p.eTitle, p.eDesc
	t.Status, t.Priority = authdash.TaskStatus(p.eStatus), authdash.TaskPriority(p.ePriority)
	if p.eDue != dateValue(p.editBase.DueDate) {
		due, ok := parseDate(p.eDue)
		if !ok {
			return t, false
		}
		t.DueDate = due
	}
	if tags := splitTags(p.eTags); !slices.Equal(tags, p.editBase.Tags) {
		t.Tags = tags
	}
	return t, true
}

// submitEdit saves the editor's content as the user's edit of the version
// it opened: the controller merges it with anything saved since.
func (p *dashboardPage) submitEdit(ctx app.Context, e app.Event) {
	e.PreventDefault()
	mine, ok := p.editedTask()
	if !ok {
		setState(ctx, formKey(formEdit), formState{Target: p.editID, Err: "Some fields are not valid.", Fields: map[string]string{"dueDate": "Enter a date."}})
		return
	}
	if merge.Diff(p.editBase, mine).Empty() {
		p.editID = ""
		return
	}
	ctx.NewActionWithValue(string(actUpdate), taskEdit{Base: p.editBase, Mine: mine})
}

// renderConflict shows the fields both the user and someone elsewhere
// changed, the two values side by side, and lets the user choose.
func (p *dashboardPage) renderConflict() app.UI {
	c := p.conflict
	if !c.Open {
		return nil
	}
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
	return app.Section().Class("card conflict").ID("conflict").Role("alertdialog").
		Aria("labelledby", "conflict-title").Aria("describedby", "conflict-what").Body(
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
