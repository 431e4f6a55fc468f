package app

import (
	"slices"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/merge"
	"github.com/authdash/authdash/app/undo"
)

// create adds the task a form was submitted with: checked here first, then
// sent with the form's idempotency key, or kept in the outbox while
// offline. The form stays busy until then and is cleared only once the task
// exists.
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
		case authdash.ErrorCodeOf(err) == authdash.CodeNotFound:
			// Deleted elsewhere, and this device not told yet (or told
			// while the request was on its way). The list learns it now;
			// an open editor then says so and keeps the user's text, to
			// save as a new task (editorDialog), so the form gets no
			// error of its own.
			c.gone(ctx, id)
			set(formState{}, nil)
			if keepMine != nil || form == "" {
				c.toast(ctx, deletedElsewhere, true)
			}
			return nil, false
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
			c.gone(ctx, id)
			setState(ctx, stNotice, notice{Text: deletedElsewhere, Error: true})
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

// deletedElsewhere is what a change to a task that no longer exists says.
const deletedElsewhere = "That task was deleted elsewhere."

// gone applies a deletion the server reported by refusing a change (404)
// rather than by an event: the task leaves the list and the kept copy,
// and the list remembers it as deleted until a restore brings it back.
func (c *controller) gone(ctx app.Context, id authdash.TaskID) {
	c.cacheRemove(id)
	c.mu.Lock()
	if c.list != nil {
		c.list.Remove(id, 0)
	}
	c.mu.Unlock()
	c.publishTasks(ctx, "")
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
