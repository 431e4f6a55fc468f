package app

import (
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
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

	// the task being edited (one at a time)
	editID                                         authdash.TaskID
	editVersion                                    int64
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
		if p.conflict.Open && p.conflict.Theirs.ID == p.editID {
			p.editID = ""
		}
	})
	observe(ctx, formKey(formCreate), &p.create).OnChange(func() {
		if p.create.Done != p.createDone && !p.create.Busy {
			p.createDone = p.create.Done
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

// onFilter applies a toolbar control at once.
func (p *dashboardPage) onFilter(dst *string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		*dst = ctx.JSSrc().Get("value").String()
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
				app.Button().Type("submit").ID("create-submit").Class("btn primary").Disabled(p.create.Busy).
					Text(busyText(p.create.Busy, "Add task", "Adding…")),
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
	due, ok := parseDate(p.newDue)
	if !ok {
		setState(ctx, formKey(formCreate), formState{Err: "Some fields are not valid.", Fields: map[string]string{"dueDate": "Enter a date."}})
		return
	}
	ctx.NewActionWithValue(string(actCreate), authdash.TaskDraft{
		Title: p.title, Description: p.desc, Status: authdash.TaskStatus(p.newStatus),
		Priority: authdash.TaskPriority(p.newPriority), DueDate: due, Tags: splitTags(p.newTags),
	})
}

func (p *dashboardPage) renderToolbar() app.UI {
	any := option{"", "Any"}
	return app.Form().Class("toolbar").Role("search").Aria("label", "Filter tasks").
		OnSubmit(func(ctx app.Context, e app.Event) { e.PreventDefault(); p.runQuery(ctx) }).Body(
		app.Div().Class("field grow").Body(
			app.Label().For("search").Text("Search"),
			app.Input().ID("search").Type("search").Value(p.search).Placeholder("Title or description").
				MaxLength(authdash.MaxSearchLen).OnInput(p.onSearch),
		),
		selectField("filter-status", "Status", p.status, "", append([]option{any}, statusOptions...), p.onFilter(&p.status)),
		selectField("filter-priority", "Priority", p.priority, "", append([]option{any}, priorityOptions...), p.onFilter(&p.priority)),
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
	p.editID, p.editVersion = t.ID, t.Version
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

// submitEdit sends only the fields the user changed, on the version the
// editor was opened with: if someone else changed the task meanwhile, the
// server refuses and the conflict panel opens.
func (p *dashboardPage) submitEdit(ctx app.Context, e app.Event) {
	e.PreventDefault()
	orig, ok := p.findTask(p.editID)
	if !ok {
		p.editID = ""
		return
	}
	var patch authdash.TaskPatch
	if p.eTitle != orig.Title {
		patch.Title = &p.eTitle
	}
	if p.eDesc != orig.Description {
		patch.Description = &p.eDesc
	}
	if st := authdash.TaskStatus(p.eStatus); st != orig.Status {
		patch.Status = &st
	}
	if pr := authdash.TaskPriority(p.ePriority); pr != orig.Priority {
		patch.Priority = &pr
	}
	due, ok := parseDate(p.eDue)
	if !ok {
		setState(ctx, formKey(formEdit), formState{Target: p.editID, Err: "Some fields are not valid.", Fields: map[string]string{"dueDate": "Enter a date."}})
		return
	}
	if dateValue(due) != dateValue(orig.DueDate) {
		if due == nil {
			patch.ClearDueDate = true
		} else {
			patch.DueDate = due
		}
	}
	if tags := splitTags(p.eTags); strings.Join(tags, "\x00") != strings.Join(orig.Tags, "\x00") {
		patch.Tags = &tags
	}
	if patch.Empty() {
		p.editID = ""
		return
	}
	ctx.NewActionWithValue(string(actUpdate), taskEdit{ID: p.editID, Patch: patch, IfVersion: p.editVersion})
}

func (p *dashboardPage) findTask(id authdash.TaskID) (authdash.Task, bool) {
	for _, t := range p.tasks.Items {
		if t.ID == id {
			return t, true
		}
	}
	return authdash.Task{}, false
}

// renderConflict lets the user choose between their change and the version
// that won.
func (p *dashboardPage) renderConflict() app.UI {
	c := p.conflict
	if !c.Open {
		return nil
	}
	mine := c.Mine.Apply(c.Theirs)
	what := "Your change was not saved: this task was changed elsewhere in the meantime."
	keep := "Keep my change"
	if c.Delete {
		what = "The task was changed elsewhere before your deletion reached the server."
		keep = "Delete it anyway"
	}
	return app.Section().Class("card conflict").ID("conflict").Role("alertdialog").
		Aria("labelledby", "conflict-title").Aria("describedby", "conflict-what").Body(
		app.H2().ID("conflict-title").Text("This task changed elsewhere"),
		app.P().ID("conflict-what").Text(what),
		app.Div().Class("versions").Body(
			versionBox("Their version (now saved)", c.Theirs),
			app.If(!c.Delete, func() app.UI { return versionBox("Your version", mine) }),
		),
		app.Div().Class("actions").Body(
			app.Button().Type("button").ID("keep-mine").Class("btn primary").
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewActionWithValue(string(actResolve), true) }).Text(keep),
			app.Button().Type("button").ID("take-theirs").Class("btn").
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewActionWithValue(string(actResolve), false) }).Text("Keep their version"),
		),
	)
}

func versionBox(title string, t authdash.Task) app.UI {
	due := "none"
	if t.DueDate != nil {
		due = t.DueDate.UTC().Format("Jan 2, 2006")
	}
	return app.Div().Class("version").Body(
		app.H3().Text(title),
		app.Dl().Body(
			app.Dt().Text("Title"), app.Dd().Text(t.Title),
			app.Dt().Text("Status"), app.Dd().Text(statusLabel(t.Status)),
			app.Dt().Text("Priority"), app.Dd().Text(priorityLabel(t.Priority)),
			app.Dt().Text("Due"), app.Dd().Text(due),
			app.Dt().Text("Tags"), app.Dd().Text(strings.Join(t.Tags, ", ")),
			app.Dt().Text("Description"), app.Dd().Text(t.Description),
		),
	)
}
