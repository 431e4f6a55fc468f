package redis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/wire"
)

// TestHubAcrossRestart: two hubs share a redis-server and a database. A
// write on A reaches B's socket live; a write made while Redis is down
// (its publish fails) reaches it once the broker has reconnected and
// reported the gap.
func TestHubAcrossRestart(t *testing.T) {
	srv := testkit.StartRedis(t)
	db := mustOpen(t, filepath.Join(t.TempDir(), "authdash.db"))
	prefix := fmt.Sprintf("hub%d:", prefixes.Add(1))
	hubA := testHub(t, newBrokerPrefix(t, srv, prefix), db)
	hubB := testHub(t, newBrokerPrefix(t, srv, prefix), db)
	tasks := &authdash.TaskService{Store: db, Events: hubA}
	u, err := db.CreateUser(t.Context(), authdash.NewUser{Email: "a@example.com", Name: "A", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptestServer(t, hubB)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	auth, _ := json.Marshal(wire.Auth{Token: "bench:" + string(u.ID)})
	if err := ws.Write(ctx, websocket.MessageText, auth); err != nil {
		t.Fatal(err)
	}
	// next returns the next frame but synced, which a catch-up ends with.
	next := func() wire.Frame {
		t.Helper()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f, err := wire.DecodeServer(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.FrameType() != wire.TypeSynced {
				return f
			}
		}
	}
	for next().FrameType() != wire.TypeReady {
	}

	live, err := tasks.Create(t.Context(), u.ID, authdash.TaskDraft{Title: "live"})
	if err != nil {
		t.Fatal(err)
	}
	if ev, ok := next().(*wire.Event); !ok || ev.TaskID != live.ID {
		t.Fatalf("got %#v, want the live task", ev)
	}

	gaps := hubB.Stats().Gaps
	srv.Kill()
	missed, err := tasks.Create(t.Context(), u.ID, authdash.TaskDraft{Title: "written while Redis was down"})
	if err != nil {
		t.Fatal(err) // the write itself must not fail
	}
	if st := hubA.Stats(); st.PublishErrors != 1 {
		t.Errorf("publish errors = %d, want 1", st.PublishErrors)
	}
	srv.Start()
	// The live task may come again first: a catch-up can resend what was
	// also sent live (clients apply a task only at a newer version), and
	// on a loaded machine one may have run before the live event went out.
	for {
		ev, ok := next().(*wire.Event)
		if ok && ev.TaskID == live.ID {
			continue
		}
		if !ok || ev.TaskID != missed.ID || ev.Seq != 2 {
			t.Fatalf("got %#v, want the task written while Redis was down", ev)
		}
		break
	}
	if st := hubB.Stats(); st.Gaps <= gaps || st.CatchUps < 1 {
		t.Errorf("instance B stats = %+v, want a gap and a catch-up", st)
	}
}

func testHub(t *testing.T, b realtime.Broker, log realtime.ChangeLog) *realtime.Hub {
	t.Helper()
	hub, err := realtime.NewHub(realtime.Config{Broker: b, Tokens: benchTokens{}, Changes: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		hub.Run(ctx)
	}()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		hub.Shutdown(sctx)
		cancel()
		<-done
	})
	return hub
}
