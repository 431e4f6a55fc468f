package app

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/backoff"
	"github.com/authdash/authdash/app/merge"
	"github.com/authdash/authdash/app/tasklist"
)

// statsDelay coalesces the stats reloads a burst of changes asks for.
const statsDelay = 300 * time.Millisecond

// controller does the app's work: it owns the API client, the realtime
// stream and the task list, and publishes what components show as state.
// Its handlers run on goroutines of their own (go-app runs global action
// handlers asynchronously), so everything it owns is behind mu.
type controller struct {
	mu     sync.Mutex
	client *api.Client
	wsURL  string
	booted bool
	// session counts sign-ins; work started for an earlier one drops its
	// result instead of showing one user's data to the next.
	session int
	stop    context.CancelFunc // ends the realtime stream
	stream  *api.Stream
	// wake cuts short the wait of the offline boot loop (retryNow).
	wake chan struct{}
	list *tasklist.List
	// loading is not 0 while a list reload is in flight: events that arrive
	// meanwhile are kept in during and applied again to the new list.
	loading    int
	during     []authdash.Event
	statsTimer *time.Timer
	user       authdash.User
	stats      authdash.TaskStats
}

// newController returns a controller with no client yet: api makes it on
// first use, in the browser.
func newController() *controller { return &controller{wake: make(chan struct{}, 1)} }

// register installs the action handlers.
func (c *controller) register() {
	handle := func(a action, h func(ctx app.Context, a app.Action)) { app.Handle(string(a), h) }
	handle(actBoot, c.boot)
	handle(actSignIn, c.signIn)
	handle(actSignUp, c.signUp)
	handle(actSignOut, c.signOut)
	handle(actSignOutAll, c.signOutAll)
	handle(actQuery, c.query)
	handle(actMore, c.more)
	handle(actCreate, c.create)
	handle(actUpdate, c.update)
	handle(actDelete, c.remove)
	handle(actResolve, c.resolve)
	handle(actUpdateProfile, c.updateProfile)
	handle(actChangePassword, c.changePassword)
	handle(actLoadSessions, c.loadSessions)
	handle(actRevokeSession, c.revokeSession)
	handle(actDeleteAccount, c.deleteAccount)
	handle(actDismiss, func(ctx app.Context, _ app.Action) { setState(ctx, stNotice, notice{}) })
	c.registerAccount()
}

// api returns the client, made on first use: only in the browser, where
// the page's environment and origin are known.
func (c *controller) api() *api.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		base := strings.TrimRight(app.Getenv(envAPIURL), "/")
		c.wsURL = app.Getenv(envWSURL)
		if c.wsURL == "" {
			c.wsURL = socketURL(base)
		}
		c.client = api.New(api.Config{BaseURL: base, ClientID: newClientID()})
	}
	return c.client
}

// socketURL derives the WebSocket URL from the API's base URL, or from the
// page's own origin when the API is on it.
func socketURL(base string) string {
	if base == "" {
		loc := app.Window().Get("location")
		base = loc.Get("protocol").String() + "//" + loc.Get("host").String()
	}
	switch {
	case strings.HasPrefix(base, "https:"):
		base = "wss:" + strings.TrimPrefix(base, "https:")
	case strings.HasPrefix(base, "http:"):
		base = "ws:" + strings.TrimPrefix(base, "http:")
	}
	return base + "/api/ws"
}

// newClientID names this tab for X-Client-ID: 26 characters of base32,
// within the server's [A-Za-z0-9_-]{1,64}.
func newClientID() string { return rand.Text() }

// boot restores the session from the refresh cookie once per page load.
func (c *controller) boot(ctx app.Context, _ app.Action) {
	c.mu.Lock()
	if c.booted {
		c.mu.Unlock()
		return
	}
	c.booted = true
	c.mu.Unlock()
	c.watchNetwork()

	cl := c.api()
	if !cl.MayHaveSession() {
		// Nobody signed in from this browser (wire.SessionHintCookie): a
		// refresh could only fail, and log a 401 on the way.
		c.clearBrowser(ctx)
		setState(ctx, stSession, sessionView{Phase: phaseSignedOut})
		return
	}
	for attempt := 0; ; attempt++ {
		user, err := cl.Refresh(ctx)
		switch {
		case err == nil:
			c.startSession(ctx, *user)
			return
		case api.IsOffline(err):
			// Offline: show what was loaded last, read-only, and keep
			// trying until the network is back.
			if attempt == 0 && !c.openOffline(ctx) {
				setState(ctx, stSession, sessionView{Phase: phaseSignedOut})
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff.Reconnect.Delay(attempt + 1)):
			case <-c.wake:
			}
		default:
			// No session (or it ended while we were away): nothing of
			// the last user may stay.
			c.clearBrowser(ctx)
			setState(ctx, stSession, sessionView{Phase: phaseSignedOut})
			return
		}
	}
}

// watchNetwork retries at once, rather than at the end of a backoff wait,
// when the browser says the network is back or the tab is shown again (a
// hidden tab's timers may have been throttled for minutes).
func (c *controller) watchNetwork() {
	if !app.IsClient {
		return
	}
	app.Window().Call("addEventListener", "online", app.FuncOf(func(app.Value, []app.Value) any {
		c.retryNow()
		return nil
	}))
	doc := app.Window().Get("document")
	doc.Call("addEventListener", "visibilitychange", app.FuncOf(func(app.Value, []app.Value) any {
		if doc.Get("visibilityState").String() == "visible" {
			c.retryNow()
		}
		return nil
	}))
}

// retryNow cuts short whatever wait for the server is under way.
func (c *controller) retryNow() {
	c.mu.Lock()
	st := c.stream
	c.mu.Unlock()
	if st != nil {
		st.Retry()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// offlineCopy is what is kept in local storage while signed in.
type offlineCopy struct {
	User  authdash.User      `json:"user"`
	Query authdash.TaskQuery `json:"query"`
	Items []authdash.Task    `json:"items"`
	Stats authdash.TaskStats `json:"stats"`
}

func (c *controller) openOffline(ctx app.Context) bool {
	var oc offlineCopy
	if err := ctx.LocalStorage().Get(offlineKey, &oc); err != nil || oc.User.ID == "" {
		return false
	}
	setState(ctx, stSession, sessionView{Phase: phaseOffline, User: oc.User})
	setState(ctx, stTasks, tasksView{Query: oc.Query, Items: oc.Items, Loaded: true, ReadOnly: true})
	setState(ctx, stStats, oc.Stats)
	setState(ctx, stLive, liveView{Status: api.LiveOffline})
	return true
}

// startSession shows the user and opens the realtime stream, whose first
// ready loads the tasks.
func (c *controller) startSession(ctx app.Context, u authdash.User) {
	c.mu.Lock()
	c.session++
	c.user = u
	if c.list == nil {
		c.list = tasklist.New(authdash.TaskQuery{})
	}
	if c.stop != nil {
		c.stop()
	}
	sctx, stop := context.WithCancel(context.Background())
	c.stop = stop
	session := c.session
	stream := c.client.NewStream(c.wsURL, &streamHandler{c: c, ctx: ctx, session: session})
	c.stream = stream
	c.mu.Unlock()

	setState(ctx, stSession, sessionView{Phase: phaseSignedIn, User: u})
	setState(ctx, stConflict, conflict{})
	// The list is loaded over REST right away rather than after the
	// socket's ready, so the first paint does not wait for the socket;
	// events that overtake it are merged by version.
	c.reload(ctx, session)
	ctx.Async(func() {
		err := stream.Run(sctx)
		if err == nil || !c.current(session) {
			return
		}
		switch authdash.ErrorCodeOf(err) {
		case authdash.CodeUnauthorized, authdash.CodeNotFound:
			// The server ended the session: revoked elsewhere, password
			// changed, account deleted.
			c.endSession(ctx, authdash.ErrorMessageOf(err))
		default:
			// Live updates are refused (too many tabs open, say) but the
			// session is fine: the page keeps working without them.
			setState(ctx, stNotice, notice{Text: "Live updates are off: " + authdash.ErrorMessageOf(err), Error: true})
		}
	})
}

func (c *controller) current(session int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session == session && c.stop != nil
}

// streamHandler feeds the controller from the realtime stream.
type streamHandler struct {
	c       *controller
	ctx     app.Context
	session int
}

func (h *streamHandler) Reload(ctx context.Context) error {
	if !h.c.current(h.session) {
		return nil
	}
	h.c.reload(h.ctx, h.session)
	if u, err := h.c.client.Me(ctx); err == nil && h.c.current(h.session) {
		h.c.setUser(h.ctx, *u)
	}
	return nil
}

func (h *streamHandler) Event(ev authdash.Event) {
	c := h.c
	if ev.Kind == authdash.EventUserUpdated {
		if ev.User != nil && c.current(h.session) {
			c.setUser(h.ctx, *ev.User)
		}
		return
	}
	c.mu.Lock()
	if c.session != h.session || c.list == nil {
		c.mu.Unlock()
		return
	}
	if c.loading != 0 {
		c.during = append(c.during, ev)
	}
	changed := c.list.Apply(ev)
	c.mu.Unlock()
	if changed {
		c.publishTasks(h.ctx, "")
	}
	// The counts change even when the task is outside the loaded list.
	c.scheduleStats(h.ctx, h.session)
}

func (h *streamHandler) Status(s api.LiveStatus, _ error) {
	if h.c.current(h.session) {
		setState(h.ctx, stLive, liveView{Status: s})
	}
}

func (c *controller) setUser(ctx app.Context, u authdash.User) {
	c.mu.Lock()
	if u.Version < c.user.Version {
		c.mu.Unlock()
		return
	}
	c.user = u
	c.mu.Unlock()
	setState(ctx, stSession, sessionView{Phase: phaseSignedIn, User: u})
	c.saveOffline(ctx)
}

// reload loads the first page of the current query and the stats.
func (c *controller) reload(ctx app.Context, session int) {
	c.mu.Lock()
	q := c.list.Query()
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

func (c *controller) signIn(ctx app.Context, a app.Action) {
	cr, _ := a.Value.(authdash.Credentials)
	if err := cr.Validate(); err != nil {
		setForm(ctx, formSignIn, formState{}, err)
		return
	}
	setForm(ctx, formSignIn, formState{Busy: true}, nil)
	u, err := c.api().Login(ctx, cr)
	if err != nil {
		setForm(ctx, formSignIn, formState{}, err)
		return
	}
	c.mu.Lock()
	c.booted = true
	c.mu.Unlock()
	setForm(ctx, formSignIn, formState{Done: 1}, nil)
	c.startSession(ctx, *u)
}

func (c *controller) signUp(ctx app.Context, a app.Action) {
	r, _ := a.Value.(authdash.Registration)
	r.Normalize()
	if err := r.Validate(); err != nil {
		setForm(ctx, formSignUp, formState{}, err)
		return
	}
	setForm(ctx, formSignUp, formState{Busy: true}, nil)
	u, err := c.api().Register(ctx, r)
	if err != nil {
		setForm(ctx, formSignUp, formState{}, err)
		return
	}
	c.mu.Lock()
	c.booted = true
	c.mu.Unlock()
	setForm(ctx, formSignUp, formState{Done: 1}, nil)
	c.startSession(ctx, *u)
}

func (c *controller) signOut(ctx app.Context, _ app.Action) {
	err := c.api().Logout(ctx)
	c.endSession(ctx, "")
	if err != nil && !api.IsOffline(err) {
		setState(ctx, stNotice, notice{Text: authdash.ErrorMessageOf(err), Error: true})
	}
}

func (c *controller) signOutAll(ctx app.Context, _ app.Action) {
	if err := c.api().LogoutAll(ctx); err != nil {
		setState(ctx, stNotice, notice{Text: authdash.ErrorMessageOf(err), Error: true})
		return
	}
	c.endSession(ctx, "You were signed out on every device.")
}

// endSession forgets everything about the user: memory, state, storage.
func (c *controller) endSession(ctx app.Context, why string) {
	c.mu.Lock()
	c.session++
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	c.stream = nil
	c.list = nil
	c.loading = 0
	c.during = nil
	c.user = authdash.User{}
	c.stats = authdash.TaskStats{}
	if c.statsTimer != nil {
		c.statsTimer.Stop()
		c.statsTimer = nil
	}
	cl := c.client
	c.mu.Unlock()
	if cl != nil {
		cl.Forget()
	}
	c.clearBrowser(ctx)
	setState(ctx, stTasks, tasksView{})
	setState(ctx, stStats, authdash.TaskStats{})
	setState(ctx, stSessions, sessionsList{})
	setState(ctx, stConflict, conflict{})
	setState(ctx, stLive, liveView{})
	for _, f := range []string{formSignIn, formSignUp, formCreate, formEdit, formProfile, formPassword, formDelete} {
		setState(ctx, formKey(f), formState{})
	}
	setState(ctx, stSession, sessionView{Phase: phaseSignedOut})
	setState(ctx, stNotice, notice{Text: why})
}

// clearBrowser removes whatever the app stored in the browser.
func (c *controller) clearBrowser(ctx app.Context) {
	ctx.LocalStorage().Clear()
	ctx.SessionStorage().Clear()
}

func (c *controller) query(ctx app.Context, a app.Action) {
	q, _ := a.Value.(authdash.TaskQuery)
	q.Cursor = ""
	q.Normalize()
	if err := q.Validate(); err != nil {
		c.publishTasks(ctx, authdash.ErrorMessageOf(err)+" "+fieldText(err))
		return
	}
	c.mu.Lock()
	session, ok := c.session, c.list != nil
	c.mu.Unlock()
	if ok {
		c.load(ctx, session, q)
	}
}

func (c *controller) more(ctx app.Context, _ app.Action) {
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
	d := req.Draft
	d.Normalize()
	if err := d.Validate(); err != nil {
		setForm(ctx, formCreate, formState{}, err)
		return
	}
	var prev formState
	ctx.GetState(string(formKey(formCreate)), &prev)
	setForm(ctx, formCreate, formState{Busy: true, Done: prev.Done}, nil)
	// The key makes a repeat of this submission (a double click that got
	// through, a retry after a lost answer) return the first task.
	t, err := c.api().CreateTaskIdempotent(ctx, req.Key, d)
	if err != nil {
		setForm(ctx, formCreate, formState{Done: prev.Done}, err)
		return
	}
	c.put(ctx, *t)
	setForm(ctx, formCreate, formState{Done: prev.Done + 1}, nil)
}

// put applies a task the server returned.
func (c *controller) put(ctx app.Context, t authdash.Task) {
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
	theirs, _ := c.latest(e.Base.ID, e.Base)
	c.save(ctx, e.Base, patch.Apply(e.Base), theirs, nil)
}

// maxMerges bounds how often one save merges again with a version that
// overtook it; a task that busy is a conflict for the user.
const maxMerges = 3

// save sends mine merged with theirs. keepMine is the user's decision on
// the fields both changed, nil while they have not been asked.
func (c *controller) save(ctx app.Context, base, mine, theirs authdash.Task, keepMine *bool) {
	id := base.ID
	setForm(ctx, formEdit, formState{Busy: true, Target: id}, nil)
	for attempt := 0; ; attempt++ {
		r := merge.Merge(base, mine, theirs)
		if r.Conflicted() && (keepMine == nil || attempt == maxMerges) {
			setForm(ctx, formEdit, formState{Target: id}, nil)
			setState(ctx, stConflict, conflict{Open: true, Merge: r})
			return
		}
		patch := r.Patch(keepMine != nil && *keepMine)
		if patch.Empty() {
			// Theirs already is the result.
			setForm(ctx, formEdit, formState{Done: 1, Target: id}, nil)
			setState(ctx, stConflict, conflict{})
			return
		}
		_, shown := c.latest(id, theirs)
		if shown {
			c.force(ctx, patch.Apply(theirs))
		}
		t, err := c.api().UpdateTask(ctx, id, patch, theirs.Version)
		switch {
		case err == nil:
			setForm(ctx, formEdit, formState{Done: 1, Target: id}, nil)
			c.put(ctx, *t)
			setState(ctx, stConflict, conflict{})
			return
		case authdash.ErrorCodeOf(err) == authdash.CodePreconditionFailed && attempt < maxMerges:
			// Saved elsewhere after the version we merged with: merge
			// with that one. A decision on conflicts was about the
			// version the user saw, so a new conflict asks again.
			fresh, ok := c.fetchTheirs(ctx, id, theirs, shown)
			if !ok {
				setForm(ctx, formEdit, formState{Target: id}, nil)
				return
			}
			if !slices.Equal(merge.Merge(base, mine, fresh).Conflicts, r.Conflicts) {
				keepMine = nil
			}
			theirs = fresh
		default:
			if shown {
				c.force(ctx, theirs)
			}
			setForm(ctx, formEdit, formState{Target: id}, err)
			if keepMine != nil {
				// Asked from the conflict panel: the editor is closed.
				setState(ctx, stNotice, notice{Text: authdash.ErrorMessageOf(err), Error: true})
			}
			return
		}
	}
}

// fetchTheirs reads the version that won over ours and shows it. When the
// task is gone, or cannot be read, it says so and reports false.
func (c *controller) fetchTheirs(ctx app.Context, id authdash.TaskID, orig authdash.Task, shown bool) (authdash.Task, bool) {
	theirs, err := c.client.Task(ctx, id)
	if err != nil {
		if authdash.ErrorCodeOf(err) == authdash.CodeNotFound {
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
		c.mu.Lock()
		if c.list != nil {
			c.list.Remove(r.ID, 0)
		}
		session := c.session
		c.mu.Unlock()
		c.scheduleStats(ctx, session)
	case code == authdash.CodePreconditionFailed:
		if theirs, ok := c.fetchTheirs(ctx, r.ID, orig, shown); ok {
			setState(ctx, stConflict, conflict{Open: true, Delete: true, Merge: merge.Result{Base: orig, Mine: orig, Theirs: theirs}})
		}
	default:
		if shown {
			c.force(ctx, orig)
		}
		setState(ctx, stNotice, notice{Text: authdash.ErrorMessageOf(err), Error: true})
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
	if cf.Delete {
		setState(ctx, stConflict, conflict{})
		if keepMine {
			c.remove(ctx, app.Action{Value: taskRef{ID: r.Theirs.ID, Version: r.Theirs.Version}})
		}
		return
	}
	c.save(ctx, r.Base, r.Mine, r.Theirs, &keepMine)
}

func (c *controller) updateProfile(ctx app.Context, a app.Action) {
	p, _ := a.Value.(authdash.UserPatch)
	p.Normalize()
	if err := p.Validate(); err != nil {
		setForm(ctx, formProfile, formState{}, err)
		return
	}
	setForm(ctx, formProfile, formState{Busy: true}, nil)
	u, err := c.api().UpdateMe(ctx, p)
	if err != nil {
		setForm(ctx, formProfile, formState{}, err)
		return
	}
	c.setUser(ctx, *u)
	setForm(ctx, formProfile, formState{Done: 1}, nil)
	setState(ctx, stNotice, notice{Text: "Profile saved."})
}

func (c *controller) changePassword(ctx app.Context, a app.Action) {
	pc, _ := a.Value.(authdash.PasswordChange)
	if err := pc.Validate(); err != nil {
		setForm(ctx, formPassword, formState{}, err)
		return
	}
	setForm(ctx, formPassword, formState{Busy: true}, nil)
	if err := c.api().ChangePassword(ctx, pc); err != nil {
		setForm(ctx, formPassword, formState{}, err)
		return
	}
	setForm(ctx, formPassword, formState{Done: 1}, nil)
	setState(ctx, stNotice, notice{Text: "Password changed. Your other devices were signed out."})
	c.loadSessions(ctx, app.Action{})
}

func (c *controller) loadSessions(ctx app.Context, _ app.Action) {
	c.mu.Lock()
	session := c.session
	c.mu.Unlock()
	setState(ctx, stSessions, sessionsList{Loading: true})
	list, err := c.api().Sessions(ctx)
	if !c.current(session) {
		return
	}
	setState(ctx, stSessions, sessionsList{Items: list, Err: authdash.ErrorMessageOf(err)})
}

func (c *controller) revokeSession(ctx app.Context, a app.Action) {
	id, _ := a.Value.(authdash.SessionID)
	var list sessionsList
	ctx.GetState(string(stSessions), &list)
	current := slices.ContainsFunc(list.Items, func(s authdash.Session) bool { return s.ID == id && s.Current })
	if err := c.api().RevokeSession(ctx, id); err != nil {
		setState(ctx, stNotice, notice{Text: authdash.ErrorMessageOf(err), Error: true})
		return
	}
	if current {
		c.endSession(ctx, "This device was signed out.")
		return
	}
	c.loadSessions(ctx, app.Action{})
}

func (c *controller) deleteAccount(ctx app.Context, a app.Action) {
	pw, _ := a.Value.(string)
	if pw == "" {
		setForm(ctx, formDelete, formState{}, &authdash.Error{Code: authdash.CodeInvalid, Message: "Enter your password to confirm.",
			Fields: map[string]string{"password": "Password is required."}})
		return
	}
	setForm(ctx, formDelete, formState{Busy: true}, nil)
	if err := c.api().DeleteAccount(ctx, pw); err != nil {
		setForm(ctx, formDelete, formState{}, err)
		return
	}
	c.endSession(ctx, "Your account was deleted.")
}

// setForm publishes a form's state, with err's message and field errors.
func setForm(ctx app.Context, form string, st formState, err error) {
	if err != nil {
		st.Err = authdash.ErrorMessageOf(err)
		st.Fields = authdash.ErrorFieldsOf(err)
		var e *authdash.Error
		if !errors.As(err, &e) {
			st.Err = "Something went wrong."
		}
	}
	setState(ctx, formKey(form), st)
}

func fieldText(err error) string {
	var parts []string
	for _, v := range authdash.ErrorFieldsOf(err) {
		parts = append(parts, v)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
