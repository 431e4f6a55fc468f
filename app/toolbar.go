package app

import (
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/queryurl"
)

// searchDelay is how long typing must pause before the list is searched.
const searchDelay = 250 * time.Millisecond

// anyValue is the value of a filter's "Any" option. It cannot be "":
// go-app leaves an empty value attribute out, and an option without one
// has its text as its value.
const anyValue = "any"

// toolbar searches, filters and sorts the list. What it shows is the
// list's query; on a phone the filters fold behind a "Filters" button that
// counts the active ones.
type toolbar struct {
	app.Compo
	tasks tasksView
	// search is what is typed, ahead of the list's query while typing.
	search    string
	searchGen int
	open      bool
}

func (t *toolbar) OnMount(ctx app.Context) {
	observe(ctx, stTasks, &t.tasks).OnChange(func() {
		if t.searchGen == 0 {
			t.search = t.tasks.Query.Search
		}
	})
	t.search = t.tasks.Query.Search
}

// query is the list's query, to change one thing of.
func (t *toolbar) query() authdash.TaskQuery {
	q := t.tasks.Query
	q.Cursor = ""
	return q
}

// onSearch searches once typing pauses for searchDelay.
func (t *toolbar) onSearch(ctx app.Context, e app.Event) {
	t.search = ctx.JSSrc().Get("value").String()
	t.searchGen++
	gen := t.searchGen
	ctx.After(searchDelay, func(ctx app.Context) {
		if gen != t.searchGen {
			return
		}
		t.searchGen = 0
		q := t.query()
		q.Search = t.search
		applyQuery(ctx, q)
	})
}

// set returns a handler applying a control's value to the query.
func (t *toolbar) set(f func(q *authdash.TaskQuery, v string)) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		v := ctx.JSSrc().Get("value").String()
		if v == anyValue {
			v = ""
		}
		q := t.query()
		f(&q, v)
		applyQuery(ctx, q)
	}
}

func (t *toolbar) clear(ctx app.Context, e app.Event) {
	q := t.query()
	q.Search, q.Status, q.Priority, q.Tag, q.DueAfter, q.DueBefore = "", "", "", "", nil, nil
	t.search, t.searchGen = "", 0
	clearInputs("search", "filter-tag", "filter-due-after", "filter-due-before")
	applyQuery(ctx, q)
	focusID("search")
}

func (t *toolbar) Render() app.UI {
	q := t.tasks.Query
	active := queryurl.Active(q)
	label := "Filters"
	if active > 0 {
		label = "Filters (" + strconv.Itoa(active) + ")"
	}
	any := option{anyValue, "Any"}
	from, by := "", ""
	if q.DueAfter != nil {
		from = queryurl.FromDay(*q.DueAfter)
	}
	if q.DueBefore != nil {
		by = queryurl.ByDay(*q.DueBefore)
	}
	panel := "filters"
	if t.open {
		panel += " open"
	}
	return app.Form().Class("toolbar").Role("search").Aria("label", "Search and filter tasks").
		OnSubmit(func(ctx app.Context, e app.Event) { e.PreventDefault() }).Body(
		app.Div().Class("toolbar-row").Body(
			app.Div().Class("field grow").Body(
				app.Label().For("search").Class("visually-hidden").Text("Search tasks"),
				app.Input().ID("search").Type("search").Value(t.search).Placeholder("Search tasks").
					MaxLength(authdash.MaxSearchLen).Attr("enterkeyhint", "search").OnInput(t.onSearch, app.EventScope("search")),
			),
			app.Button().Type("button").ID("filters-toggle").Class("btn filters-toggle").
				Aria("expanded", strconv.FormatBool(t.open)).Aria("controls", "filters").
				OnClick(func(ctx app.Context, e app.Event) { t.open = !t.open }).Body(
				app.Span().Text(label),
			),
		),
		app.Div().ID("filters").Class(panel).Body(
			selectField("filter-status", "Status", orDefault(string(q.Status), anyValue), "", append([]option{any}, statusOptions...),
				t.set(func(q *authdash.TaskQuery, v string) { q.Status = authdash.TaskStatus(v) })),
			selectField("filter-priority", "Priority", orDefault(string(q.Priority), anyValue), "", append([]option{any}, priorityOptions...),
				t.set(func(q *authdash.TaskQuery, v string) { q.Priority = authdash.TaskPriority(v) })),
			app.Div().Class("field").Body(
				app.Label().For("filter-tag").Text("Tag"),
				app.Input().ID("filter-tag").Type("text").Value(q.Tag).MaxLength(authdash.MaxTagLen+1).Placeholder("#tag").
					OnChange(t.set(func(q *authdash.TaskQuery, v string) { q.Tag = queryurl.NormalizeTag(v) }), app.EventScope("tag")),
			),
			t.dayField("filter-due-after", "Due from", from, func(q *authdash.TaskQuery, d *time.Time) {
				q.DueAfter = nil
				if d != nil {
					q.DueAfter = queryurl.DueFrom(*d)
				}
			}),
			t.dayField("filter-due-before", "Due by", by, func(q *authdash.TaskQuery, d *time.Time) {
				q.DueBefore = nil
				if d != nil {
					q.DueBefore = queryurl.DueBy(*d)
				}
			}),
			selectField("sort", "Sort by", orDefault(string(q.Sort), "created"), "", []option{
				{"created", "Created"}, {"updated", "Updated"}, {"due", "Due date"}, {"priority", "Priority"}, {"title", "Title"},
			}, t.set(func(q *authdash.TaskQuery, v string) { q.Sort = authdash.TaskSort(v) })),
			selectField("order", "Order", orDefault(string(q.Order), "desc"), "", []option{{"desc", "Descending"}, {"asc", "Ascending"}},
				t.set(func(q *authdash.TaskQuery, v string) { q.Order = authdash.Order(v) })),
			app.Div().Class("field clear").Body(
				app.Button().Type("button").ID("clear-filters").Class("btn").Disabled(!queryurl.Filtered(q)).
					OnClick(t.clear).Text("Clear filters"),
			),
		),
	)
}

// applyQuery shows the list for q by going to its URL (the URL is the
// view: reload, Back and Forward, and a shared link show it again); the
// page's OnNav loads it.
func applyQuery(ctx app.Context, q authdash.TaskQuery) {
	q.Normalize()
	enc := queryurl.Encode(q)
	if cur := ctx.Page().URL(); cur.Path == "/" && cur.RawQuery == enc {
		return // already there
	}
	u := "/"
	if enc != "" {
		u += "?" + enc
	}
	ctx.Navigate(u)
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// dayField is a filter picking a day (YYYY-MM-DD, "" for none); set puts
// the day picked, or nil, into the query.
func (t *toolbar) dayField(id, label, day string, set func(q *authdash.TaskQuery, d *time.Time)) app.UI {
	return app.Div().Class("field").Body(
		app.Label().For(id).Text(label),
		app.Input().ID(id).Type("date").Value(day).
			OnChange(t.set(func(q *authdash.TaskQuery, v string) {
				d, _ := parseDate(v)
				set(q, d)
			}), app.EventScope(id)),
	)
}
