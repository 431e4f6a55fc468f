package app

import (
	"context"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/devicelink"
)

// liveStream returns what runs the user's realtime stream: one socket for
// all of the profile's tabs of the user (app/devicelink), held by the tab
// that leads, or where the browser cannot share, a socket of this tab's
// own. It is called with c.mu held; it sets c.stream (the socket Retry
// kicks) now or when this tab takes the socket over, and c.link.
func (c *controller) liveStream(user authdash.UserID, h *streamHandler) func(context.Context) error {
	lock, join, ok := devicelink.Browser(devicelink.Name(user))
	if !ok {
		st := c.client.NewStream(c.wsURL, h)
		c.stream = st
		c.link = nil
		return st.Run
	}
	link, ch := devicelink.New(lock, join, func(since int64, dh devicelink.Leading) devicelink.Source {
		st := c.client.NewStream(c.wsURL, toStream{dh})
		st.ResumeFrom(since)
		c.mu.Lock()
		if c.session == h.session {
			c.stream = st
		}
		c.mu.Unlock()
		return st
	}, fromStream{h})
	c.stream = nil
	c.link = link
	return func(ctx context.Context) error {
		defer ch.Close()
		return link.Run(ctx)
	}
}

// endLink tells the user's other tabs the session is over; called with
// c.mu held.
func (c *controller) endLink(why string) {
	if c.link != nil {
		c.link.End(why)
		c.link = nil
	}
}

// fromStream is the tab's streamHandler as devicelink delivers to it.
type fromStream struct{ h *streamHandler }

func (f fromStream) Reload(ctx context.Context) error { return f.h.Reload(ctx) }
func (f fromStream) Event(ev authdash.Event)          { f.h.Event(ev) }
func (f fromStream) Status(s string, err error)       { f.h.Status(api.LiveStatus(s), err) }

// toStream is devicelink's leading handler as the socket delivers to it;
// it passes on the points to resume from, which the other tabs take over
// from.
type toStream struct{ h devicelink.Leading }

var _ api.SyncedHandler = toStream{}

func (t toStream) Reload(ctx context.Context) error   { return t.h.Reload(ctx) }
func (t toStream) Event(ev authdash.Event)            { t.h.Event(ev) }
func (t toStream) Status(s api.LiveStatus, err error) { t.h.Status(string(s), err) }
func (t toStream) Synced(seq int64)                   { t.h.Synced(seq) }
