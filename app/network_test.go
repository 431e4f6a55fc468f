package app

import (
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
)

// A signed-in page whose network is gone says so whatever its socket
// says (Chromium keeps an open socket open offline): offline, with the
// outbox when changes are kept on the device; back online, the stream's
// word again.
func TestPresence(t *testing.T) {
	u := authdash.User{ID: "u1", Name: "Ann"}
	for _, c := range []struct {
		name             string
		stream           api.LiveStatus
		netDown, keeping bool
		want             sessionView
		wantLive         api.LiveStatus
	}{
		{"Online", api.LiveOn, false, false, sessionView{Phase: phaseSignedIn, User: u}, api.LiveOn},
		{"OnlineWithChangesToSend", api.LiveOn, false, true, sessionView{Phase: phaseSignedIn, User: u}, api.LiveOn},
		{"OnlineReconnecting", api.LiveReconnecting, false, false, sessionView{Phase: phaseSignedIn, User: u}, api.LiveReconnecting},
		{"OfflineKeepingChanges", api.LiveOn, true, true, sessionView{Phase: phaseOffline, User: u, Outbox: true}, api.LiveOffline},
		{"OfflineWithoutOutbox", api.LiveOn, true, false, sessionView{Phase: phaseSignedIn, User: u}, api.LiveOffline},
	} {
		t.Run(c.name, func(t *testing.T) {
			sess, live := presence(u, c.stream, c.netDown, c.keeping)
			if sess != c.want || live.Status != c.wantLive {
				t.Errorf("presence = %+v, %q; want %+v, %q", sess, live.Status, c.want, c.wantLive)
			}
		})
	}
}
