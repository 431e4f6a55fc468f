package app

import (
	"context"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/tasklist"
	"github.com/authdash/authdash/app/theme"
	"github.com/authdash/authdash/app/undo"
)

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
