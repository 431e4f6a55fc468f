package app

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
)

// followNetwork follows the browser's word on the device's network for a
// signed-in page. Offline, the page switches to the kept list and the
// outbox and says so (the banner, the live badge): an open socket is not
// always closed when the network goes (Chromium keeps it), so the stream
// alone would keep saying "Live" while every change is kept. Back online,
// it says what the stream says again and sends what the outbox keeps, for
// a page whose socket never noticed it was gone.
func (c *controller) followNetwork(ctx app.Context) {
	if !app.IsClient {
		return
	}
	on := func(event string, f func(app.Context)) {
		app.Window().Call("addEventListener", event, app.FuncOf(func(app.Value, []app.Value) any {
			ctx.Async(func() { f(ctx) })
			return nil
		}))
	}
	on("offline", c.networkLost)
	on("online", c.networkBack)
}

// networkLost: the browser says the device is offline.
func (c *controller) networkLost(ctx app.Context) {
	c.mu.Lock()
	signedIn := c.stop != nil
	c.off.netDown = signedIn
	c.mu.Unlock()
	if signedIn && !c.goOffline(ctx) {
		// No kept list or outbox: changes stay on the page with a Retry,
		// and the banner says the server cannot be reached.
		c.showPresence(ctx)
	}
}

// networkBack: the browser says the network is back. The kept list
// shown for the outage alone (nothing kept to send) gives way to the
// server's at once; with changes kept, the replay does that once they
// are sent.
func (c *controller) networkBack(ctx app.Context) {
	c.mu.Lock()
	c.off.netDown = false
	back := c.stop != nil && c.off.showing && (c.off.queue == nil || c.off.queue.Len() == 0)
	if back {
		c.off.showing = false
	}
	session := c.session
	c.mu.Unlock()
	c.showPresence(ctx)
	if back {
		c.reload(ctx, session)
	}
	c.replay(ctx)
}

// showPresence shows the signed-in session and the live connection as
// the network and the stream have them (presence); nothing when not
// signed in (a page opened offline: openOffline said it).
func (c *controller) showPresence(ctx app.Context) {
	c.mu.Lock()
	if c.stop == nil {
		c.mu.Unlock()
		return
	}
	sess, live := presence(c.user, c.liveStatus, c.off.netDown, c.off.showing && c.off.queue != nil)
	c.mu.Unlock()
	setState(ctx, stSession, sess)
	setState(ctx, stLive, live)
}

// presence is what a signed-in page shows of its session and its live
// connection: the stream's status, but offline while the browser says
// the network is down (the socket may not have noticed), and the offline
// phase, with the outbox, while changes are kept on the device.
func presence(u authdash.User, stream api.LiveStatus, netDown, keeping bool) (sessionView, liveView) {
	sess := sessionView{Phase: phaseSignedIn, User: u}
	if !netDown {
		return sess, liveView{Status: stream}
	}
	if keeping {
		sess.Phase, sess.Outbox = phaseOffline, true
	}
	return sess, liveView{Status: api.LiveOffline}
}
