package cluster

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/authdash/authdash/e2e/internal/rawapi"
	"github.com/authdash/authdash/wire"
)

// TestRealtimeRevocationAcrossInstances: signing out everywhere on one
// instance closes the user's socket on the other, through Redis, with the
// close code that tells the tab not to reconnect, and the other instance
// refuses the user's access token; another user's socket and token go on.
func TestRealtimeRevocationAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and runs two instances and redis-server")
	}
	a, b, _ := rtPair(t)
	alice := rtRegister(t, a.url, "alice@example.com")
	bob := rtRegister(t, a.url, "bob@example.com")

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	aliceWS, bobWS := rtDialReady(ctx, t, b.url, alice.token, -1), rtDialReady(ctx, t, b.url, bob.token, -1)

	if err := rawapi.Call(ctx, a.url, alice.token, http.MethodPost, "/api/auth/logout-all", "", nil); err != nil {
		t.Fatal(err)
	}
	var closeErr error
	for closeErr == nil {
		_, _, closeErr = aliceWS.Read(ctx)
	}
	if got := wire.CloseCode(websocket.CloseStatus(closeErr)); got != wire.CloseSessionRevoked {
		t.Fatalf("alice's socket ended with %v, want close code %d", closeErr, wire.CloseSessionRevoked)
	}

	// Alice's access token stops working on the other instance too, long
	// before it expires; Bob's does not.
	for {
		err := rawapi.Call(ctx, b.url, alice.token, http.MethodGet, "/api/tasks", "", nil)
		if err != nil && strings.Contains(err.Error(), "401") && strings.Contains(err.Error(), "Session ended") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("alice's access token still works on b after logout-all: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := rawapi.Call(ctx, b.url, bob.token, http.MethodGet, "/api/tasks", "", nil); err != nil {
		t.Fatalf("bob's token on b: %v", err)
	}

	// Bob's socket still delivers.
	if err := rawapi.Call(ctx, a.url, bob.token, http.MethodPost, "/api/tasks", `{"title":"still here"}`, nil); err != nil {
		t.Fatal(err)
	}
	_, msg, err := bobWS.Read(ctx)
	if err != nil {
		t.Fatalf("bob's socket: %v", err)
	}
	if f, err := wire.DecodeServer(msg); err != nil || f.FrameType() != wire.TypeTaskCreated {
		t.Fatalf("bob got %s, want task.created", msg)
	}
}
