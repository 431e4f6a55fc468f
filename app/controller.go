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
