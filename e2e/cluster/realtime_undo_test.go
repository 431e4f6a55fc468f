package cluster

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/e2e/internal/rawapi"
)

// TestRealtimeUndoAcrossInstances: two instances share one database and
// Redis. A delete undone on one instance reaches a socket on the other as
// the task, live again; a socket that saw the delete, went away and resumes
// gets the task back from the change log; and a create sent with one
// Idempotency-Key to both instances at once creates one task.
func TestRealtimeUndoAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and runs two instances and redis-server")
	}
	a, b, _ := rtPair(t)
	alice := rtRegister(t, a.url, "alice@example.com")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	ws := rtDialReady(ctx, t, b.url, alice.token, -1)
	var task authdash.Task
	if err := rawapi.Call(ctx, a.url, alice.token, http.MethodPost, "/api/tasks", `{"title":"undo me","tags":["x"]}`, &task); err != nil {
		t.Fatal(err)
	}
	rtNextEvent(ctx, t, ws, task.ID)
	if err := rawapi.Call(ctx, a.url, alice.token, http.MethodDelete, "/api/tasks/"+string(task.ID), "", nil); err != nil {
		t.Fatal(err)
	}
	del := rtNextEvent(ctx, t, ws, task.ID)
	if del.Kind != authdash.EventTaskDeleted {
		t.Fatalf("event %+v, want the delete", del)
	}

	var restored authdash.Task
	if err := rawapi.Call(ctx, a.url, alice.token, http.MethodPost, "/api/tasks/"+string(task.ID)+"/restore", "", &restored); err != nil {
		t.Fatal(err)
	}
	ev := rtNextEvent(ctx, t, ws, task.ID)
	if ev.Kind != authdash.EventTaskCreated || ev.Task == nil || ev.Task.Title != "undo me" || ev.Version != restored.Version ||
		ev.Version <= del.Version || ev.Seq <= del.Seq {
		t.Fatalf("the other instance's socket got %+v after the restore, want the task at version %d", ev, restored.Version)
	}
	ws.Close(websocket.StatusNormalClosure, "")

	// Away after seeing a delete; back after the undo.
	ws = rtDialReady(ctx, t, b.url, alice.token, -1)
	if err := rawapi.Call(ctx, a.url, alice.token, http.MethodDelete, "/api/tasks/"+string(task.ID), "", nil); err != nil {
		t.Fatal(err)
	}
	del = rtNextEvent(ctx, t, ws, task.ID)
	if del.Kind != authdash.EventTaskDeleted {
		t.Fatalf("event %+v, want the second delete", del)
	}
	ws.Close(websocket.StatusNormalClosure, "")
	if err := rawapi.Call(ctx, a.url, alice.token, http.MethodPost, "/api/tasks/"+string(task.ID)+"/restore", "", &restored); err != nil {
		t.Fatal(err)
	}
	ws = rtDialReady(ctx, t, b.url, alice.token, del.Seq)
	ev = rtNextEvent(ctx, t, ws, task.ID)
	if ev.Kind == authdash.EventTaskDeleted || ev.Task == nil || ev.Version != restored.Version {
		t.Fatalf("resume from the delete (%d) answered %+v, want the task live at version %d", del.Seq, ev, restored.Version)
	}

	// One key, both instances, at once: one task, one answer.
	bodies := make([]string, 2)
	var wg sync.WaitGroup
	for i, in := range []*rtInstance{a, b} {
		wg.Go(func() {
			bodies[i] = rtKeyedCreate(ctx, t, in.url, alice.token, "5f1c0a52-2a77-4d0b-9d6e-1f2a3b4c5d6e", `{"title":"once"}`)
		})
	}
	wg.Wait()
	if bodies[0] == "" || bodies[0] != bodies[1] {
		t.Fatalf("the two instances answered\n%s\n%s", bodies[0], bodies[1])
	}
	var once authdash.Task
	if err := json.Unmarshal([]byte(bodies[0]), &once); err != nil {
		t.Fatal(err)
	}
	ev = rtNextEvent(ctx, t, ws, once.ID)
	all, err := rawapi.ListAll(ctx, a.url, alice.token)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range all {
		if it.Title == "once" {
			n++
		}
	}
	if ev.Kind != authdash.EventTaskCreated || n != 1 {
		t.Errorf("event %+v, %d tasks titled once; want one created", ev, n)
	}
}

// rtKeyedCreate posts a task with an Idempotency-Key and returns the body
// of a 201.
func rtKeyedCreate(ctx context.Context, t *testing.T, base, token, key, body string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/tasks", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return ""
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", `"`+key+`"`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("keyed create on %s: %d %s", base, resp.StatusCode, b)
		return ""
	}
	return string(b)
}
