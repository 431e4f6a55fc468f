package app

import (
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/duedate"
)

// taskRow is one task in the list: a checkbox that completes it at once,
// its title and details (the due date in words, tags that filter), and
// Edit and Delete. Delete asks first, with the focus on Cancel, so that
// Enter pressed twice deletes nothing.
type taskRow struct {
	app.Compo
	Task     authdash.Task
	ReadOnly bool
	Today    string // YYYY-MM-DD: the day relative dates count from
	// Pending: the row shows a change kept on this device that is not
	// yet sent (made offline).
	Pending bool

	shown      authdash.TaskID
	confirming bool
}

// OnUpdate forgets a pending confirmation when the row is reused for
// another task.
func (r *taskRow) OnUpdate(ctx app.Context) {
	if r.Task.ID != r.shown {
		r.shown, r.confirming = r.Task.ID, false
	}
}

func (r *taskRow) OnMount(ctx app.Context) { r.shown = r.Task.ID }

// taskIDOf and versionOf read a row's task from its data attributes.
func taskIDOf(row app.Value) authdash.TaskID {
	return authdash.TaskID(row.Get("dataset").Get("id").String())
}

func versionOf(row app.Value) int64 {
	v, _ := strconv.ParseInt(row.Get("dataset").Get("version").String(), 10, 64)
	return v
}

func (r *taskRow) Render() app.UI {
	t := r.Task
	id := string(t.ID)
	// Handlers close over t; the scope makes go-app swap them when the
	// row shows another task or version (it compares handlers by code).
	scope := app.EventScope(id, t.Version)
	now, err := time.ParseInLocation(time.DateOnly, r.Today, time.Local)
	if err != nil {
		now = time.Now()
	}
	due := duedate.Describe(t.DueDate, now)
	done := t.Status == authdash.StatusDone
	cls := "task status-" + string(t.Status) + " " + due.Urgency.Class()
	if r.Pending {
		cls += " pending"
	}
	return app.Li().Class(cls).ID("task-"+id).DataSet("id", id).DataSet("version", t.Version).Body(
		app.If(!r.ReadOnly, func() app.UI {
			return app.Label().Class("check").For("check-" + id).Title(busyText(done, "Mark done", "Mark not done")).Body(
				app.Input().Type("checkbox").ID("check-"+id).Class("check-box").Checked(done).
					DataSet("task", id).DataSet("ctl", "check").
					Aria("label", "Done: "+t.Title).
					OnChange(func(ctx app.Context, e app.Event) {
						want := ctx.JSSrc().Get("checked").Bool()
						// The box shows the list's state, not the click's:
						// the optimistic change checks it a frame later,
						// and a refusal that lands in the same frame
						// leaves it as it was (go-app sets only what its
						// own render changed).
						ctx.JSSrc().Set("checked", done)
						ctx.NewActionWithValue(string(actComplete), taskDone{Task: t, Done: want})
					}, scope),
			)
		}),
		app.Div().Class("task-main").Body(
			app.H3().Class("task-title").Text(t.Title),
			app.If(t.Description != "", func() app.UI { return app.P().Class("task-desc").Text(t.Description) }),
			app.Div().Class("task-meta").Body(
				app.If(r.Pending, func() app.UI {
					// In words, for every reader: not only a colour or icon.
					return app.Span().Class("badge pending").DataSet("task", id).
						Title("Kept on this device; sent when the connection is back").Text("Not sent yet")
				}),
				app.If(due.Urgency != duedate.None, func() app.UI {
					// The words say it, not only the colour; the icon is
					// decoration.
					return app.Time().Class("due "+due.Urgency.Class()).DateTime(due.ISO).Title("Due "+due.Date).Body(
						app.If(due.Urgency == duedate.Overdue, func() app.UI {
							return app.Span().Class("due-icon").Aria("hidden", "true").Text("⚠ ")
						}),
						app.Span().Class("visually-hidden").Text("Due: "),
						app.Text(due.Text),
					)
				}),
				app.If(t.Status == authdash.StatusInProgress, func() app.UI {
					return app.Span().Class("badge status").Text(statusLabel(t.Status))
				}),
				app.If(t.Priority != authdash.PriorityMedium, func() app.UI {
					return app.Span().Class("badge prio-" + string(t.Priority)).Text(priorityLabel(t.Priority) + " priority")
				}),
				app.Range(t.Tags).Slice(func(i int) app.UI {
					tag := t.Tags[i]
					if r.ReadOnly {
						return app.Span().Class("tag").Text("#" + tag)
					}
					return app.Button().Type("button").Class("tag").DataSet("task", id).DataSet("ctl", "tag-"+tag).
						Aria("label", "Show tasks tagged "+tag).
						OnClick(func(ctx app.Context, e app.Event) {
							var tv tasksView
							ctx.GetState(string(stTasks), &tv)
							q := tv.Query
							q.Tag = tag
							applyQuery(ctx, q)
						}, app.EventScope(id, tag)).Body(app.Span().Class("pill").Text("#" + tag))
				}),
			),
		),
		app.If(!r.ReadOnly, func() app.UI {
			if r.confirming {
				return app.Div().Class("task-actions confirm").Role("group").Aria("label", "Delete "+t.Title+"?").Body(
					app.Span().Text("Delete?"),
					app.Button().Type("button").Class("btn danger").DataSet("task", id).DataSet("ctl", "confirm-delete").
						OnClick(func(ctx app.Context, e app.Event) {
							r.confirming = false
							ctx.NewActionWithValue(string(actDelete), taskRef{ID: t.ID, Version: t.Version})
						}, scope).Text("Delete"),
					app.Button().Type("button").Class("btn").DataSet("task", id).DataSet("ctl", "cancel-delete").
						OnClick(func(ctx app.Context, e app.Event) {
							r.confirming = false
							focusSoon(taskControlSel(id, "delete"))
						}, scope).Text("Cancel"),
				)
			}
			return app.Div().Class("task-actions").Body(
				app.Button().Type("button").Class("btn").DataSet("task", id).DataSet("ctl", "edit").
					Aria("label", "Edit "+t.Title).
					OnClick(func(ctx app.Context, e app.Event) {
						ctx.SetState(string(stEditor), editorState{Open: true, Base: t, Return: taskControlSel(id, "edit")})
					}, scope).Text("Edit"),
				app.Button().Type("button").Class("btn ghost danger-text").DataSet("task", id).DataSet("ctl", "delete").
					Aria("label", "Delete "+t.Title).
					OnClick(func(ctx app.Context, e app.Event) {
						r.confirming = true
						// Cancel takes the focus: a second Enter cancels.
						focusSoon(taskControlSel(id, "cancel-delete"))
					}, scope).Text("Delete"),
			)
		}),
	)
}
