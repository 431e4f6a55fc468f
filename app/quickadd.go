package app

import (
	"encoding/json"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
)

// quickAdd is the one-line bar above the list: a title and Enter adds a
// task; "More" opens the full form with the title carried over. On a
// phone it sits at the bottom of the screen, under the thumb.
type quickAdd struct {
	app.Compo
	form  formState
	title string
	done  int
	// sending is set by the submit itself, before the action's Busy state
	// can disable the button: a second click already queued finds it set
	// and sends nothing.
	sending bool
	key     idempotencyKey
}

func (q *quickAdd) OnMount(ctx app.Context) {
	observe(ctx, formKey(formCreate), &q.form).OnChange(func() {
		if !q.form.Busy {
			q.sending = false
		}
		if q.form.Done != q.done && !q.form.Busy {
			q.done = q.form.Done
			q.key.reset()
			q.title = ""
			clearInputs("new-title")
		}
	})
	q.done = q.form.Done
}

func (q *quickAdd) busy() bool { return q.form.Busy || q.sending }

func (q *quickAdd) submit(ctx app.Context, e app.Event) {
	e.PreventDefault()
	if q.busy() {
		return
	}
	d := authdash.TaskDraft{Title: q.title}
	q.sending = true
	ctx.NewActionWithValue(string(actCreate), taskCreate{Key: q.key.For(d), Draft: d, Form: formCreate})
}

func (q *quickAdd) more(ctx app.Context, e app.Event) {
	ctx.SetState(string(stEditor), editorState{Open: true, New: true, Title: q.title, Return: "create-more"})
}

func (q *quickAdd) Render() app.UI {
	errMsg := q.form.Err
	if f := q.form.Fields["title"]; f != "" {
		errMsg = f
	}
	in := app.Input().ID("new-title").Name("title").Type("text").Value(q.title).
		Placeholder("Add a task…").MaxLength(authdash.MaxTitleLen).Attr("autocomplete", "off").
		Attr("enterkeyhint", "done").Aria("describedby", "create-error").
		OnInput(value(&q.title), app.EventScope("new-title"))
	if errMsg != "" {
		in = in.Aria("invalid", "true")
	}
	return app.Form().ID("create-form").Class("quick-add").NoValidate(true).Aria("label", "Add a task").OnSubmit(q.submit).Body(
		app.Div().Class("quick-row").Body(
			app.Label().For("new-title").Class("visually-hidden").Text("New task title"),
			in,
			app.Button().Type("submit").ID("create-submit").Class("btn primary").Disabled(q.busy()).
				Text(busyText(q.busy(), "Add", "Adding…")),
			app.Button().Type("button").ID("create-more").Class("btn").Aria("label", "More: add a task with details").
				Title("Description, due date, tags, priority").OnClick(q.more).Text("More…"),
		),
		app.P().ID("create-error").Class("field-error").Role("alert").Hidden(errMsg == "").Text(errMsg),
	)
}

// idempotencyKey is the Idempotency-Key of the draft a form is sending:
// the same while the draft is the same (a retry), a new one for another.
type idempotencyKey struct {
	key   string
	draft authdash.TaskDraft
}

// For returns the key to send d with.
func (k *idempotencyKey) For(d authdash.TaskDraft) string {
	if k.key == "" || !sameDraft(d, k.draft) {
		k.key, k.draft = api.NewIdempotencyKey(), d
	}
	return k.key
}

// reset forgets the key once its draft is created: the next is another task.
func (k *idempotencyKey) reset() { *k = idempotencyKey{} }

// sameDraft reports whether a and b would create the same task.
func sameDraft(a, b authdash.TaskDraft) bool {
	a.Normalize()
	b.Normalize()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
