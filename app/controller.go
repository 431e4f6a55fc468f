package app

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/backoff"
	"github.com/authdash/authdash/app/devicelink"
	"github.com/authdash/authdash/app/tasklist"
	"github.com/authdash/authdash/app/theme"
	"github.com/authdash/authdash/app/undo"
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
	// live is the signed-in session's context, ended by stop: what runs
	// for the session (the stream, the outbox's replay) ends with it.
	live   context.Context
	stream *api.Stream
	// liveStatus is what the stream last said (shown unless the network
	// is down: presence).
	liveStatus api.LiveStatus
	link       *devicelink.Link // the socket shared with the user's other tabs
	// wake cuts short the wait of the offline boot loop (retryNow).
	wake chan struct{}
	list *tasklist.List
	// want is the query the page asks for; the list is loaded for it.
	want authdash.TaskQuery
	// offers are the open offers to undo; messages the other toasts.
	offers     undo.Offers
	messages   []message
	toastSeq   int
	toastTimer *time.Timer
	// loading is not 0 while a list reload is in flight: events that arrive
	// meanwhile are kept in during and applied again to the new list.
	loading    int
	during     []authdash.Event
	statsTimer *time.Timer
	user       authdash.User
	stats      authdash.TaskStats
	// conditional aborts the sign-in page's pending passkey autofill
	// request (passkeys.go); nil when none is pending. conditionalSeq
	// tells a request from the next (js.Values do not compare).
	conditional    app.Value
	conditionalSeq int
	// off is the whole list kept for offline use (offline.go).
	off offlineState
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
	c.registerMFA()
	c.registerPasskeys()
	c.registerOIDC()
	handle(actComplete, c.complete)
	handle(actUndo, c.undo)
	handle(actDismissToast, c.dismissToast)
	handle(actRetry, c.retryToast)
	handle(actNextConflict, func(ctx app.Context, _ app.Action) { c.nextConflict(ctx) })
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
	c.followNetwork(ctx)

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
	outbox := c.useQueue(oc.User.ID) != nil
	setState(ctx, stSession, sessionView{Phase: phaseOffline, User: oc.User, Outbox: outbox})
	setState(ctx, stStats, oc.Stats)
	if !c.showCached(ctx, oc.User.ID, oc.Query) {
		// Never filled (or not kept): the first tasks from local storage.
		setState(ctx, stTasks, tasksView{Query: oc.Query, Items: oc.Items, Loaded: true, ReadOnly: true})
	}
	setState(ctx, stLive, liveView{Status: api.LiveOffline})
	return true
}

// startSession shows the user and opens the realtime stream, whose first
// ready loads the tasks.
func (c *controller) startSession(ctx app.Context, u authdash.User) {
	c.mu.Lock()
	c.session++
	c.user = u
	c.liveStatus = ""
	if c.off.queue == nil || c.off.queue.Len() == 0 {
		c.off.showing = false
	}
	if c.list == nil {
		c.list = tasklist.New(c.want)
	}
	if c.stop != nil {
		c.stop()
	}
	sctx, stop := context.WithCancel(context.Background())
	c.stop, c.live = stop, sctx
	session := c.session
	run := c.liveStream(u.ID, &streamHandler{c: c, ctx: ctx, session: session})
	c.mu.Unlock()

	c.useCache(u.ID)
	c.useQueue(u.ID)
	setState(ctx, stSession, sessionView{Phase: phaseSignedIn, User: u})
	setState(ctx, stConflict, conflict{})
	// The list is loaded over REST right away rather than after the
	// socket's ready, so the first paint does not wait for the socket;
	// events that overtake it are merged by version.
	c.reload(ctx, session)
	// Changes kept offline (this page's, or a reload's) go first.
	c.replay(ctx)
	ctx.Async(func() {
		err := run(sctx)
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
	h.c.refillCache(h.ctx, h.session)
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
	c.cacheEvent(ev)
	if c.showingCached() {
		c.publishCached(h.ctx)
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
		h.c.mu.Lock()
		h.c.liveStatus = s
		h.c.mu.Unlock()
		h.c.showPresence(h.ctx)
		if s == api.LiveOn {
			// The server answers again: send what was kept meanwhile.
			h.c.replay(h.ctx)
		}
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
	c.showPresence(ctx)
	c.saveOffline(ctx)
}

func (c *controller) signIn(ctx app.Context, a app.Action) {
	cr, _ := a.Value.(authdash.Credentials)
	if err := cr.Validate(); err != nil {
		setForm(ctx, formSignIn, formState{}, err)
		return
	}
	setForm(ctx, formSignIn, formState{Busy: true}, nil)
	u, err := c.api().Login(ctx, cr)
	if c.askSecondFactor(ctx, err) {
		return
	}
	if err != nil {
		setForm(ctx, formSignIn, formState{}, err)
		return
	}
	c.signedIn(ctx, *u, formSignIn)
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
	c.signedIn(ctx, *u, formSignUp)
}

// signedIn ends every way of signing in (password, sign-up, second factor,
// passkey): the forms that led here are marked done (so they reset and
// focus moves on), any pending challenge is dropped, and the session starts.
func (c *controller) signedIn(ctx app.Context, u authdash.User, forms ...string) {
	c.mu.Lock()
	c.booted = true
	c.mu.Unlock()
	setState(ctx, stChallenge, mfaChallenge{})
	for _, f := range forms {
		setForm(ctx, f, formState{Done: 1}, nil)
	}
	c.startSession(ctx, u)
}

// signOut ends the session. Signing out clears the device of the user's
// data, the outbox too, so while changes made offline still wait to be
// sent it asks first (stSignOutUnsent) unless told to discard them.
func (c *controller) signOut(ctx app.Context, a app.Action) {
	if discard, _ := a.Value.(bool); !discard {
		if n := c.unsent(); n > 0 {
			setState(ctx, stSignOutUnsent, n)
			return
		}
	}
	setState(ctx, stSignOutUnsent, 0)
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
	c.endLink(why)
	if c.stop != nil {
		c.stop()
		c.stop, c.live = nil, nil
	}
	c.stream = nil
	c.liveStatus = ""
	c.off.netDown = false
	c.list = nil
	c.loading = 0
	c.during = nil
	c.user = authdash.User{}
	c.stats = authdash.TaskStats{}
	c.want = authdash.TaskQuery{}
	c.offers = undo.Offers{}
	c.off.withdrawals = nil
	c.messages = nil
	if c.toastTimer != nil {
		c.toastTimer.Stop()
		c.toastTimer = nil
	}
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
	setState(ctx, stToasts, []toast(nil))
	setState(ctx, stEditor, editorState{})
	setState(ctx, stHelp, false)
	setState(ctx, stSignOutAll, false)
	forgetMFA(ctx)
	forgetPasskeys(ctx)
	forgetIdentities(ctx)
	for _, f := range []string{formSignIn, formSignUp, formCreate, formNew, formEdit, formProfile, formPassword, formDelete} {
		setState(ctx, formKey(f), formState{})
	}
	setState(ctx, stSession, sessionView{Phase: phaseSignedOut})
	setState(ctx, stNotice, notice{Text: why})
}

// clearBrowser removes whatever the app stored in the browser but the
// device's theme, which says nothing about the person.
func (c *controller) clearBrowser(ctx app.Context) {
	keep := storedTheme()
	c.clearStorage()
	ctx.LocalStorage().Clear()
	ctx.SessionStorage().Clear()
	if keep != theme.System {
		app.Window().Get("localStorage").Call("setItem", theme.StorageKey, string(keep))
	}
}
