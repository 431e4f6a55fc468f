package app

import (
	"slices"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/merge"
	"github.com/authdash/authdash/app/tasklist"
	"github.com/authdash/authdash/app/undo"
)

// reload loads the first page of the query the page asks for (its URL)
// and the stats.
func (c *controller) reload(ctx app.Context, session int) {
	c.mu.Lock()
	q := c.want
	c.mu.Unlock()
	c.load(ctx, session, q)
	c.loadStats(ctx, session)
}

// load replaces the list with the first page of q.
func (c *controller) load(ctx app.Context, session int, q authdash.TaskQuery) {
	c.mu.Lock()
	if c.session != session {
		c.mu.Unlock()
		return
	}
	c.loading++
	gen := c.loading
	if gen == 1 {
		c.during = nil
	}
	next := tasklist.New(q)
	c.mu.Unlock()
	c.publishLoading(ctx, next.Query())

	page, err := c.client.ListTasks(ctx, next.Query())

	c.mu.Lock()
	if c.session != session || c.loading != gen {
		// Signed out meanwhile, or a newer query superseded this one.
		if c.session == session && c.loading == gen {
			c.loading = 0
		}
		c.mu.Unlock()
		return
	}
	c.loading = 0
	if err != nil {
		c.mu.Unlock()
		c.publishTasks(ctx, authdash.ErrorMessageOf(err))
		return
	}
	next.Reset(page)
	for _, ev := range c.during {
		next.Apply(ev)
	}
	c.during = nil
	c.list = next
	c.mu.Unlock()
	c.publishTasks(ctx, "")
}

func (c *controller) publishLoading(ctx app.Context, q authdash.TaskQuery) {
	if c.showingCached() {
		return
	}
	c.mu.Lock()
	v := c.viewLocked("")
	c.mu.Unlock()
	v.Query, v.Loading = q, true
	setState(ctx, stTasks, v)
}

func (c *controller) viewLocked(errMsg string) tasksView {
	if c.list == nil {
		return tasksView{}
	}
	_, more := c.list.NextQuery()
	return tasksView{
		Query:   c.list.Query(),
		Items:   slices.Clone(c.list.Items()),
		HasMore: more,
		Loading: c.loading != 0,
		Loaded:  true,
		Err:     errMsg,
	}
}

// publishTasks shows the list and keeps the offline copy current.
func (c *controller) publishTasks(ctx app.Context, errMsg string) {
	if c.showingCached() {
		// Changes wait to be sent: the kept list with them stays shown.
		c.publishCached(ctx)
		return
	}
	c.mu.Lock()
	v := c.viewLocked(errMsg)
	signedIn := c.stop != nil
	c.mu.Unlock()
	setState(ctx, stTasks, v)
	if signedIn && errMsg == "" {
		c.saveOffline(ctx)
	}
}

// saveOffline keeps what the app shows in local storage, for opening
// offline: the user, the stats and the first tasks of the list.
func (c *controller) saveOffline(ctx app.Context) {
	c.mu.Lock()
	if c.stop == nil || c.list == nil {
		c.mu.Unlock()
		return
	}
	items := c.list.Items()
	oc := offlineCopy{User: c.user, Query: c.list.Query(), Items: slices.Clone(items[:min(len(items), 50)]), Stats: c.stats}
	c.mu.Unlock()
	_ = ctx.LocalStorage().Set(offlineKey, oc)
}

func (c *controller) scheduleStats(ctx app.Context, session int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.statsTimer != nil {
		return
	}
	c.statsTimer = time.AfterFunc(statsDelay, func() {
		c.mu.Lock()
		c.statsTimer = nil
		c.mu.Unlock()
		c.loadStats(ctx, session)
	})
}

func (c *controller) loadStats(ctx app.Context, session int) {
	st, err := c.client.Stats(ctx)
	if err == nil && c.current(session) {
		c.mu.Lock()
		c.stats = st
		c.mu.Unlock()
		setState(ctx, stStats, st)
		c.saveOffline(ctx)
	}
}

func (c *controller) query(ctx app.Context, a app.Action) {
	q, _ := a.Value.(authdash.TaskQuery)
	q.Cursor = ""
	q.Normalize()
	if err := q.Validate(); err != nil {
		c.publishTasks(ctx, authdash.ErrorMessageOf(err)+" "+fieldText(err))
		return
	}
	if c.queryCached(ctx, &q, false) {
		return
	}
	c.mu.Lock()
	c.want = q
	session, ok := c.session, c.list != nil
	same := ok && c.loading == 0 && c.list.Query() == q
	c.mu.Unlock()
	if ok && !same {
		c.load(ctx, session, q)
	}
}

func (c *controller) more(ctx app.Context, _ app.Action) {
	if c.queryCached(ctx, nil, true) {
		return
	}
	c.mu.Lock()
	if c.list == nil || c.loading != 0 {
		c.mu.Unlock()
		return
	}
	list, session := c.list, c.session
	q, ok := list.NextQuery()
	c.mu.Unlock()
	if !ok {
		return
	}
	page, err := c.client.ListTasks(ctx, q)
	c.mu.Lock()
	if c.session != session || c.list != list {
		c.mu.Unlock()
		return
	}
	if err == nil {
		list.Append(page)
	}
	c.mu.Unlock()
	c.publishTasks(ctx, authdash.ErrorMessageOf(err))
}

func (c *controller) create(ctx app.Context, a app.Action) {
	req, _ := a.Value.(taskCreate)
	form := req.Form
	if form == "" {
		form = formCreate
	}
	var prev formState
	ctx.GetState(string(formKey(form)), &prev)
	d := req.Draft
	d.Normalize()
	if err := d.Validate(); err != nil {
		setForm(ctx, form, formState{Done: prev.Done}, err)
		return
	}
	setForm(ctx, form, formState{Busy: true, Done: prev.Done}, nil)
	if c.editingOffline() {
		c.createOffline(ctx, form, prev, req.Key, d)
		return
	}
	// The key makes a repeat of this submission (a double click that got
	// through, a retry after a lost answer) return the first task.
	t, err := c.api().CreateTaskIdempotent(ctx, req.Key, d)
	if err != nil {
		if api.IsOffline(err) && c.goOffline(ctx) {
			c.createOffline(ctx, form, prev, req.Key, d)
			return
		}
		if api.IsOffline(err) {
			err = authdash.Errorf(authdash.CodeUnavailable, "Not added: the server cannot be reached. Your task is kept here; press Add again to retry.")
		}
		setForm(ctx, form, formState{Done: prev.Done}, err)
		return
	}
	c.put(ctx, *t)
	setForm(ctx, form, formState{Done: prev.Done + 1}, nil)
}

// createOffline keeps a new task in the outbox (the same key goes with it
// when it is sent, so it is created once however often that is tried).
func (c *controller) createOffline(ctx app.Context, form string, prev formState, key string, d authdash.TaskDraft) {
	if !c.queueCreate(ctx, key, d) {
		setForm(ctx, form, formState{Done: prev.Done}, authdash.Errorf(authdash.CodeUnavailable, "Not added: it could not be kept on this device."))
		return
	}
	setForm(ctx, form, formState{Done: prev.Done + 1}, nil)
}

// put applies a task the server returned.
func (c *controller) put(ctx app.Context, t authdash.Task) {
	c.cachePut(t)
	c.mu.Lock()
	changed := c.list != nil && c.list.Put(t)
	session := c.session
	c.mu.Unlock()
	if changed {
		c.publishTasks(ctx, "")
	}
	c.scheduleStats(ctx, session)
}

// latest returns the newest version of a task the list holds, or fallback.
func (c *controller) latest(id authdash.TaskID, fallback authdash.Task) (authdash.Task, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.list != nil {
		if t, ok := c.list.Get(id); ok {
			return t, true
		}
	}
	return fallback, false
}

// update saves an edit: merged with whatever version was saved meanwhile
// (three-way, against the version the editor opened), applied
// optimistically, then sent on the version it was merged with.
func (c *controller) update(ctx app.Context, a app.Action) {
	e, _ := a.Value.(taskEdit)
	// Normalise and check the user's changes only: the rest of the task
	// is the server's and already valid.
	patch := merge.Diff(e.Base, e.Mine)
	if patch.Empty() {
		setForm(ctx, formEdit, formState{Done: 1, Target: e.Base.ID}, nil)
		return
	}
	patch.Normalize()
	if err := patch.Validate(); err != nil {
		setForm(ctx, formEdit, formState{Target: e.Base.ID}, err)
		return
	}
	if c.editingOffline() {
		if c.queueUpdate(ctx, e.Base, patch) {
			setForm(ctx, formEdit, formState{Done: 1, Target: e.Base.ID}, nil)
		} else {
			setForm(ctx, formEdit, formState{Target: e.Base.ID}, nil)
		}
		return
	}
	theirs, _ := c.latest(e.Base.ID, e.Base)
	c.save(ctx, formEdit, e.Base, patch.Apply(e.Base), theirs, nil, nil)
}

// maxMerges bounds how often one save merges again with a version that
// overtook it; a task that busy is a conflict for the user.
const maxMerges = 3

// retryable is what a change made outside a form (a checkbox, an undo)
// says when it cannot be sent, and how to send it again: the form keeps
// an editor's change, a toast with Retry keeps this one.
type retryable struct {
	text string
	do   func(app.Context)
}

// save sends mine merged with theirs, telling form (the editor's, or ""
// for none) how it goes. keepMine is the user's decision on the fields
// both changed, nil while they have not been asked. offline, if set, is
// offered when the server cannot be reached. It reports whether the change
// was saved.
func (c *controller) save(ctx app.Context, form string, base, mine, theirs authdash.Task, keepMine *bool, offline *retryable) (*authdash.Task, bool) {
	id := base.ID
	set := func(st formState, err error) {
		if form != "" {
			st.Target = id
			setForm(ctx, form, st, err)
		}
	}
	set(formState{Busy: true}, nil)
	for attempt := 0; ; attempt++ {
		r := merge.Merge(base, mine, theirs)
		if r.Conflicted() && (keepMine == nil || attempt == maxMerges) {
			set(formState{}, nil)
			setState(ctx, stConflict, conflict{Open: true, Merge: r})
			return nil, false
		}
		patch := r.Patch(keepMine != nil && *keepMine)
		if patch.Empty() {
			// Theirs already is the result.
			set(formState{Done: 1}, nil)
			setState(ctx, stConflict, conflict{})
			return &theirs, true
		}
		_, shown := c.latest(id, theirs)
		if shown {
			c.force(ctx, patch.Apply(theirs))
		}
		t, err := c.api().UpdateTask(ctx, id, patch, theirs.Version)
		switch {
		case err == nil:
			set(formState{Done: 1}, nil)
			c.put(ctx, *t)
			setState(ctx, stConflict, conflict{})
			return t, true
		case authdash.ErrorCodeOf(err) == authdash.CodePreconditionFailed && attempt < maxMerges:
			// Saved elsewhere after the version we merged with: merge
			// with that one. A decision on conflicts was about the
			// version the user saw, so a new conflict asks again.
			fresh, ok := c.fetchTheirs(ctx, id, theirs, shown)
			if !ok {
				set(formState{}, nil)
				return nil, false
			}
			if !slices.Equal(merge.Merge(base, mine, fresh).Conflicts, r.Conflicts) {
				keepMine = nil
			}
			theirs = fresh
		default:
			if shown {
				c.force(ctx, theirs)
			}
			if api.IsOffline(err) && keepMine == nil && c.goOffline(ctx) {
				// Kept in the outbox, made on the version it was merged
				// with; sent (and merged again if need be) once back.
				if c.queueUpdate(ctx, theirs, patch) {
					set(formState{Done: 1}, nil)
					return nil, false
				}
			}
			if api.IsOffline(err) && offline != nil {
				// Not lost: the row shows the server's state, and the
				// toast's Retry sends the change again.
				set(formState{}, nil)
				c.toastRetry(ctx, id, offline.text, offline.do)
				return nil, false
			}
			if api.IsOffline(err) {
				err = authdash.Errorf(authdash.CodeUnavailable, "Not saved: the server cannot be reached. Your changes are kept here; save again to retry.")
			}
			set(formState{}, err)
			if keepMine != nil || form == "" {
				// Not from the editor (the conflict panel, a checkbox):
				// say it where the user is looking.
				c.toast(ctx, authdash.ErrorMessageOf(err), true)
			}
			return nil, false
		}
	}
}

// fetchTheirs reads the version that won over ours and shows it. When the
// task is gone, or cannot be read, it says so and reports false.
func (c *controller) fetchTheirs(ctx app.Context, id authdash.TaskID, orig authdash.Task, shown bool) (authdash.Task, bool) {
	theirs, err := c.client.Task(ctx, id)
	if err != nil {
		if authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
			c.cacheRemove(id)
			c.mu.Lock()
			if c.list != nil {
				c.list.Remove(id, 0)
			}
			c.mu.Unlock()
			c.publishTasks(ctx, "")
			setState(ctx, stNotice, notice{Text: "That task was deleted elsewhere.", Error: true})
			return authdash.Task{}, false
		}
		if shown {
			c.force(ctx, orig)
		}
		setState(ctx, stNotice, notice{Text: authdash.ErrorMessageOf(err), Error: true})
		return authdash.Task{}, false
	}
	// Force, not Put: the list may already hold this version (from a live
	// event) under the optimistic copy of the refused change.
	c.cachePut(*theirs)
	c.force(ctx, *theirs)
	return *theirs, true
}

// force shows t although its version is not newer (see tasklist.Force).
func (c *controller) force(ctx app.Context, t authdash.Task) {
	c.mu.Lock()
	changed := c.list != nil && c.list.Force(t)
	c.mu.Unlock()
	if changed {
		c.publishTasks(ctx, "")
	}
}

func (c *controller) remove(ctx app.Context, a app.Action) {
	r, _ := a.Value.(taskRef)
	if c.editingOffline() {
		c.queueDelete(ctx, r.ID, r.Version)
		return
	}
	c.mu.Lock()
	var orig authdash.Task
	var shown bool
	if c.list != nil {
		orig, shown = c.list.Get(r.ID)
		c.list.Hide(r.ID)
	}
	c.mu.Unlock()
	c.publishTasks(ctx, "")

	err := c.api().DeleteTask(ctx, r.ID, r.Version)
	switch code := authdash.ErrorCodeOf(err); {
	case err == nil, code == authdash.CodeNotFound:
		c.cacheRemove(r.ID)
		c.mu.Lock()
		if c.list != nil {
			c.list.Remove(r.ID, 0)
		}
		session := c.session
		c.mu.Unlock()
		c.scheduleStats(ctx, session)
		if err == nil && shown {
			c.offer(ctx, undo.Deleted, orig, orig)
		}
	case code == authdash.CodePreconditionFailed:
		if theirs, ok := c.fetchTheirs(ctx, r.ID, orig, shown); ok {
			setState(ctx, stConflict, conflict{Open: true, Delete: true, Merge: merge.Result{Base: orig, Mine: orig, Theirs: theirs}})
		}
	default:
		if shown {
			c.force(ctx, orig)
		}
		if api.IsOffline(err) && c.goOffline(ctx) && c.queueDelete(ctx, r.ID, r.Version) {
			return
		}
		if api.IsOffline(err) {
			// Not lost: the task is back in the list, and Retry sends the
			// deletion again once the server answers.
			c.toastRetry(ctx, r.ID, "Not deleted: the server cannot be reached. The task is back in the list.",
				func(ctx app.Context) { c.remove(ctx, app.Action{Value: r}) })
			return
		}
		c.toast(ctx, authdash.ErrorMessageOf(err), true)
	}
}

// resolve ends a conflict with the user's decision on the fields both
// changed: theirs, or mine (for a deletion: delete anyway).
func (c *controller) resolve(ctx app.Context, a app.Action) {
	keepMine, _ := a.Value.(bool)
	var cf conflict
	ctx.GetState(string(stConflict), &cf)
	if !cf.Open {
		return
	}
	r := cf.Merge
	defer c.nextConflict(ctx)
	if cf.Delete {
		setState(ctx, stConflict, conflict{})
		if keepMine {
			c.remove(ctx, app.Action{Value: taskRef{ID: r.Theirs.ID, Version: r.Theirs.Version}})
		}
		return
	}
	c.save(ctx, formEdit, r.Base, r.Mine, r.Theirs, &keepMine, nil)
}

// complete marks a task done or not done at once (optimistically), and
// offers to undo it. A refusal puts the row back as it was and says why;
// when the server cannot be reached, a toast keeps the change with Retry.
func (c *controller) complete(ctx app.Context, a app.Action) {
	req, _ := a.Value.(taskDone)
	before, _ := c.latest(req.Task.ID, req.Task)
	want, kind := authdash.StatusDone, undo.Completed
	if !req.Done {
		want, kind = authdash.StatusTodo, undo.Reopened
	}
	if before.Status == want {
		return
	}
	if c.editingOffline() {
		c.queueUpdate(ctx, before, authdash.TaskPatch{Status: &want})
		return
	}
	mine := before
	mine.Status = want
	what := "done"
	if !req.Done {
		what = "not done"
	}
	offline := &retryable{
		text: "“" + before.Title + "” not marked " + what + ": the server cannot be reached. Retry once it is back.",
		do:   func(ctx app.Context) { c.complete(ctx, a) },
	}
	t, ok := c.save(ctx, "", before, mine, before, nil, offline)
	if ok {
		c.offer(ctx, kind, before, *t)
	}
}

// offer puts up a toast offering to undo what was just done to a task.
func (c *controller) offer(ctx app.Context, k undo.Kind, before, after authdash.Task) {
	c.mu.Lock()
	c.offers.Add(k, before, after, time.Now())
	c.mu.Unlock()
	c.publishToasts(ctx)
}

// undo takes back what an offer says was done: the task's status as it
// was, or the deleted task itself (restored by the server, so every tab
// sees it come back).
func (c *controller) undo(ctx app.Context, a app.Action) {
	id, _ := a.Value.(int)
	c.mu.Lock()
	of, ok := c.offers.Take(id, time.Now())
	c.mu.Unlock()
	c.publishToasts(ctx)
	if !ok {
		return
	}
	switch of.Kind {
	case undo.Completed, undo.Reopened:
		mine := of.After
		mine.Status = of.Before.Status
		var again func(app.Context)
		again = func(ctx app.Context) {
			theirs, _ := c.latest(of.After.ID, of.After)
			c.save(ctx, "", of.After, mine, theirs, nil, &retryable{
				text: "Not undone: the server cannot be reached. Retry once it is back.",
				do:   again,
			})
		}
		again(ctx)
	case undo.Deleted:
		c.restore(ctx, of.Before)
	}
}

// restore brings a deleted task back (the undo of a deletion).
func (c *controller) restore(ctx app.Context, task authdash.Task) {
	t, err := c.api().RestoreTask(ctx, task.ID)
	switch authdash.ErrorCodeOf(err) {
	case "":
		c.put(ctx, *t)
	case authdash.CodeConflict:
		// Another tab undid it first: its event brings the task.
	default:
		if api.IsOffline(err) {
			c.toastRetry(ctx, task.ID, "“"+task.Title+"” not brought back: the server cannot be reached. Retry once it is back.",
				func(ctx app.Context) { c.restore(ctx, task) })
			return
		}
		c.toast(ctx, "Could not undo: "+authdash.ErrorMessageOf(err), true)
	}
}

// toast shows a message for a few seconds (errors for longer).
func (c *controller) toast(ctx app.Context, text string, isErr bool) {
	life := undo.Window
	if isErr {
		life = 2 * undo.Window
	}
	c.mu.Lock()
	c.toastSeq++
	c.messages = append(c.messages, message{toast: toast{ID: c.toastSeq, Text: text, Error: isErr}, expires: time.Now().Add(life)})
	c.mu.Unlock()
	c.publishToasts(ctx)
}

// toastRetry is an error toast with a Retry button that does retry. It
// does not go by itself: it holds a change that was not sent, which an
// outage of any length must not lose silently; Retry or × ends it.
func (c *controller) toastRetry(ctx app.Context, task authdash.TaskID, text string, retry func(app.Context)) {
	c.mu.Lock()
	c.toastSeq++
	c.messages = append(c.messages, message{toast: toast{ID: c.toastSeq, Text: text, Error: true, Retry: true, Task: task},
		retry: retry})
	c.mu.Unlock()
	c.publishToasts(ctx)
}

// retryToast takes a toast away and does its retry.
func (c *controller) retryToast(ctx app.Context, a app.Action) {
	id, _ := a.Value.(int)
	c.mu.Lock()
	var retry func(app.Context)
	c.messages = slices.DeleteFunc(c.messages, func(m message) bool {
		if m.ID == id {
			retry = m.retry
			return true
		}
		return false
	})
	c.mu.Unlock()
	c.publishToasts(ctx)
	if retry != nil {
		retry(ctx)
	}
}

// message is a toast without an offer, until it expires (never, when
// expires is zero); retry, if set, is what its Retry button does.
type message struct {
	toast
	expires time.Time
	retry   func(app.Context)
}

// dismissToast removes a toast (its close button).
func (c *controller) dismissToast(ctx app.Context, a app.Action) {
	id, _ := a.Value.(int)
	c.mu.Lock()
	c.messages = slices.DeleteFunc(c.messages, func(m message) bool { return m.ID == id })
	for _, of := range c.offers.Open() {
		if -of.ID == id {
			c.offers.Take(of.ID, time.Now())
		}
	}
	c.mu.Unlock()
	c.publishToasts(ctx)
}

// publishToasts shows the open offers and messages, and arranges for the
// next one to go when it expires.
func (c *controller) publishToasts(ctx app.Context) {
	now := time.Now()
	c.mu.Lock()
	c.offers.Expire(now)
	c.messages = slices.DeleteFunc(c.messages, func(m message) bool { return !m.expires.IsZero() && !now.Before(m.expires) })
	var out []toast
	next := c.offers.Next()
	for _, of := range c.offers.Open() {
		// Offers' toasts have negative IDs: apart from the messages'.
		out = append(out, toast{ID: -of.ID, Text: of.Text(), Offer: of.ID, Task: of.Before.ID})
	}
	for _, m := range c.messages {
		out = append(out, m.toast)
		if m.expires.IsZero() {
			continue
		}
		if next.IsZero() || m.expires.Before(next) {
			next = m.expires
		}
	}
	if c.toastTimer != nil {
		c.toastTimer.Stop()
		c.toastTimer = nil
	}
	if !next.IsZero() {
		c.toastTimer = time.AfterFunc(next.Sub(now)+10*time.Millisecond, func() { c.publishToasts(ctx) })
	}
	c.mu.Unlock()
	setState(ctx, stToasts, out)
}
