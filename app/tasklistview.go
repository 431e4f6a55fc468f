package app

import (
	"slices"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/queryurl"
)

// taskList shows the tasks, or why there are none, and keeps the focus on
// the task it was on whatever happens to the list: rows are reused in
// place as tasks come and go, so after every change the focus is put back
// on the same control of the same task, or, when that task is gone, on
// the checkbox of its neighbour (never on a neighbour's Delete button,
// where a second Enter would delete another task).
type taskList struct {
	app.Compo
	tasks    tasksView
	sess     sessionView
	today    string
	focusID  string // the task whose row had the focus last
	focusCtl string // and which of its controls (data-ctl)
	order    []authdash.TaskID
	rowFocus rowFocus // the last request for a row's focus
	// more is the list as it was when Load more was pressed, until the
	// rows it loads come (nil when none are awaited): the focus goes to
	// the first of them, as the button may be gone (the last page).
	more []authdash.TaskID
	// awaited is a task asked for the focus (focusRow) before it was
	// listed, as the undo of its deletion is: the focus goes to it when it
	// comes, if it is still on the heading that stood in for it.
	awaited authdash.TaskID
}

func (l *taskList) OnMount(ctx app.Context) {
	observe(ctx, stSession, &l.sess)
	observe(ctx, stTasks, &l.tasks).OnChange(func() {
		ctx.Defer(func(app.Context) { l.keepFocus() })
	})
	observe(ctx, stFocusRow, &l.rowFocus).OnChange(func() { l.focusRow(l.rowFocus.Task) })
	l.today = time.Now().Format(time.DateOnly)
	// Relative dates ("Today", "Overdue") move on at midnight.
	ctx.Async(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Minute):
			}
			if d := time.Now().Format(time.DateOnly); d != l.today {
				ctx.Dispatch(func(app.Context) { l.today = d })
			}
		}
	})
}

// onFocusIn notes which control of which task has the focus.
func (l *taskList) onFocusIn(ctx app.Context, e app.Event) {
	t := e.Get("target")
	ds := t.Get("dataset")
	if id := ds.Get("task"); id.Truthy() {
		l.awaited = ""
		l.focusID, l.focusCtl = id.String(), ds.Get("ctl").String()
		l.order = l.ids()
	}
}

func (l *taskList) ids() []authdash.TaskID {
	out := make([]authdash.TaskID, len(l.tasks.Items))
	for i, t := range l.tasks.Items {
		out[i] = t.ID
	}
	return out
}

// focusRow puts the focus on a task's row (its checkbox, else its Edit)
// and follows that task from now on; when the task is not listed, on the
// list's heading.
func (l *taskList) focusRow(id authdash.TaskID) {
	if id == "" {
		return
	}
	l.awaited = ""
	l.focusID, l.focusCtl = string(id), "check"
	if focusEl(query(taskControlSel(l.focusID, "check"))) {
		return
	}
	if focusEl(query(taskControlSel(l.focusID, "edit"))) {
		l.focusCtl = "edit"
		return
	}
	l.awaited = id
	focusID("tasks-title")
}

// focusAwaited puts the focus on the awaited task once it is listed, if
// the focus is still on the heading (or lost); it reports whether it did.
func (l *taskList) focusAwaited() bool {
	id := l.awaited
	if id == "" || !app.IsClient || !slices.Contains(l.ids(), id) {
		return false
	}
	l.awaited = ""
	active := document().Get("activeElement")
	if active.Truthy() && !active.Equal(document().Get("body")) && active.Get("id").String() != "tasks-title" {
		return false
	}
	l.focusRow(id)
	return true
}

// keepFocus runs after the list changed (see taskList).
func (l *taskList) keepFocus() {
	defer func() { l.order = l.ids() }()
	if l.focusLoaded() || l.focusAwaited() || !app.IsClient || l.focusID == "" {
		return
	}
	doc := document()
	active := doc.Get("activeElement")
	list := byID("task-list")
	inList := active.Truthy() && list.Truthy() && list.Call("contains", active).Bool()
	lost := !active.Truthy() || active.Equal(doc.Get("body"))
	if !inList && !lost {
		return // the user is elsewhere
	}
	if inList {
		ds := active.Get("dataset")
		if ds.Get("task").String() == l.focusID && ds.Get("ctl").String() == l.focusCtl {
			return
		}
	}
	if focusEl(query(taskControlSel(l.focusID, l.focusCtl))) {
		return
	}
	// The task left the list: its neighbour, as the list was before.
	now := l.ids()
	i := slices.Index(l.order, authdash.TaskID(l.focusID))
	for _, j := range []int{i + 1, i - 1, i + 2, i - 2} {
		if i < 0 || j < 0 || j >= len(l.order) || !slices.Contains(now, l.order[j]) {
			continue
		}
		for _, ctl := range []string{"check", "edit"} {
			if focusEl(query(taskControlSel(string(l.order[j]), ctl))) {
				// Noted here: when the element is the one that had the
				// focus (rows are reused), no focusin tells onFocusIn, and
				// the next change would look for the task that left.
				l.focusID, l.focusCtl = string(l.order[j]), ctl
				return
			}
		}
	}
	if !focusID("new-title") {
		focusID("tasks-title")
	}
}

// onMore asks for the next page, and for the focus on its first row.
func (l *taskList) onMore(ctx app.Context, _ app.Event) {
	if l.tasks.Loading {
		return // aria-disabled
	}
	l.more = l.ids()
	ctx.NewAction(string(actMore))
}

// focusLoaded puts the focus on the first row Load more brought, once it
// is listed, unless the person went elsewhere meanwhile; it reports
// whether it did.
func (l *taskList) focusLoaded() bool {
	if l.more == nil {
		return false
	}
	t := l.tasks
	id := firstLoaded(l.more, l.ids())
	if id == "" {
		if t.Err != "" || (!t.HasMore && !t.Loading) {
			l.more = nil // nothing came, nor will
		}
		return false
	}
	l.more = nil
	if !app.IsClient {
		return false
	}
	active := document().Get("activeElement")
	if active.Truthy() && !active.Equal(document().Get("body")) && active.Get("id").String() != "load-more" {
		return false // the person is elsewhere
	}
	l.focusRow(id)
	return true
}

// firstLoaded returns the first task of now that was not in before and
// comes after the last of before still listed (a page loaded below them),
// else "". A task added meanwhile elsewhere in the list is not one.
func firstLoaded(before, now []authdash.TaskID) authdash.TaskID {
	i := 0
	for k := len(before) - 1; k >= 0; k-- {
		if j := slices.Index(now, before[k]); j >= 0 {
			i = j + 1
			break
		}
	}
	for _, id := range now[i:] {
		if !slices.Contains(before, id) {
			return id
		}
	}
	return ""
}

func (l *taskList) Render() app.UI {
	t := l.tasks
	readOnly := t.ReadOnly || !l.sess.canEdit()
	empty := t.Loaded && len(t.Items) == 0 && !t.Loading
	return app.Div().Class("list-wrap").Aria("busy", strconv.FormatBool(t.Loading)).Body(
		formError(t.Err),
		app.Div().Class("list-status").Role("status").Body(
			app.If(empty && queryurl.Filtered(t.Query), func() app.UI {
				return app.Div().Class("empty").ID("empty-filtered").Body(
					app.P().Text("No tasks match these filters."),
					app.If(!readOnly, func() app.UI {
						return app.Button().Type("button").ID("empty-clear").Class("btn").
							OnClick(func(ctx app.Context, e app.Event) {
								q := t.Query
								q.Search, q.Status, q.Priority, q.Tag, q.DueAfter, q.DueBefore = "", "", "", "", nil, nil
								clearInputs("search", "filter-tag", "filter-due-after", "filter-due-before")
								applyQuery(ctx, q)
								focusID("search")
							}).Text("Clear filters")
					}),
				)
			}).ElseIf(empty, func() app.UI {
				return app.Div().Class("empty").ID("empty").Body(
					app.P().Text("No tasks yet."),
					app.If(!readOnly, func() app.UI {
						return app.Button().Type("button").ID("empty-add").Class("btn primary").
							OnClick(func(ctx app.Context, e app.Event) { focusID("new-title") }).Text("Add your first task")
					}),
				)
			}),
			app.If(!t.Loaded, func() app.UI { return app.P().Class("muted").Text("Loading tasks…") }),
		),
		app.Ul().Class("task-list").ID("task-list").Aria("label", "Tasks").On("focusin", l.onFocusIn).Body(
			app.Range(t.Items).Slice(func(i int) app.UI {
				return &taskRow{Task: t.Items[i], ReadOnly: readOnly, Today: l.today, Pending: slices.Contains(t.Pending, t.Items[i].ID)}
			}),
		),
		app.If(t.Partial, func() app.UI {
			return app.P().Class("muted").ID("offline-partial").Text("Offline, only your open and most recently changed tasks are kept on this device.")
		}),
		app.If(t.HasMore && (!readOnly || t.Offline), func() app.UI {
			// aria-disabled, not disabled, while a load runs: a disabled
			// button drops the focus, and a reload comes unasked (the live
			// connection's first, a resync).
			return app.Button().Type("button").ID("load-more").Class("btn").Aria("disabled", t.Loading).
				OnClick(l.onMore).Text("Load more")
		}),
	)
}
