//go:build !js

package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
)

// A double click, or a retry after a lost answer, creates one task: every
// call with the key answers with it, and the other tab hears of it once.
func TestCreateTaskIdempotent(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	a := newClient(t, base, "tabA", nil)
	mustRegister(t, a, "once@example.com")
	b := newClient(t, base, "tabB", nil)
	if _, err := b.Login(ctx, authdash.Credentials{Email: "once@example.com", Password: "long enough pw"}); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	stopStream := runStream(t, b, base, rec)
	defer stopStream()

	key := api.NewIdempotencyKey()
	d := authdash.TaskDraft{Title: "Pay rent", Tags: []string{"home"}}
	var wg sync.WaitGroup
	got := make([]*authdash.Task, 4)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() { got[i], errs[i] = a.CreateTaskIdempotent(ctx, key, d) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil || got[i].ID != got[0].ID || got[i].Version != 1 || got[i].Title != "Pay rent" {
			t.Fatalf("call %d = %+v, %v; first %+v", i, got[i], err, got[0])
		}
	}
	ev := recv(t, rec.events, "created event")
	if ev.Kind != authdash.EventTaskCreated || ev.TaskID != got[0].ID {
		t.Errorf("event %+v", ev)
	}
	// A later retry, even after the task changed, answers the first result.
	if _, err := a.UpdateTask(ctx, got[0].ID, authdash.TaskPatch{Title: ptr("Paid")}, 0); err != nil {
		t.Fatal(err)
	}
	recv(t, rec.events, "update event")
	again, err := a.CreateTaskIdempotent(ctx, key, d)
	if err != nil || again.ID != got[0].ID || again.Title != "Pay rent" {
		t.Errorf("late retry = %+v, %v", again, err)
	}
	page, err := a.ListTasks(ctx, authdash.TaskQuery{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("list = %v, %v; want one task", page.Items, err)
	}
	select {
	case ev := <-rec.events:
		t.Errorf("a repeat was published: %+v", ev)
	case <-time.After(200 * time.Millisecond):
	}

	_, err = a.CreateTaskIdempotent(ctx, key, authdash.TaskDraft{Title: "Something else"})
	wantCode(t, err, authdash.CodeIdempotencyKeyReused)
	if authdash.ErrorMessageOf(err) == "" {
		t.Error("no message for a reused key")
	}
	for _, bad := range []string{"", "two words", `quo"te`, strings.Repeat("k", 256)} {
		_, err = a.CreateTaskIdempotent(ctx, bad, d)
		wantCode(t, err, authdash.CodeInvalid)
	}
}

func TestNewIdempotencyKey(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		k := api.NewIdempotencyKey()
		if !uuid.MatchString(k) || !authdash.ValidIdempotencyKey(k) || seen[k] {
			t.Fatalf("key %q: not a fresh version 4 UUID", k)
		}
		seen[k] = true
	}
}

// When the server answers that the first request with the key is still in
// flight (409, MongoDB), the client asks again with the same key rather
// than hand the conflict to the UI.
func TestCreateTaskIdempotentWaitsForTheFirst(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/auth/refresh":
			json.NewEncoder(w).Encode(map[string]any{"user": map[string]any{"id": "u1"}, "accessToken": "tok", "expiresIn": 900})
		case "/api/tasks":
			mu.Lock()
			keys = append(keys, r.Header.Get("Idempotency-Key"))
			n := len(keys)
			mu.Unlock()
			if n == 1 {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusConflict)
				w.Write([]byte(`{"type":"about:blank","title":"Conflict","status":409,"detail":"Still in flight.","code":"conflict"}`))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id":"t1","title":"once","status":"todo","priority":"medium","tags":[],"version":1}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := api.New(api.Config{BaseURL: srv.URL})
	task, err := c.CreateTaskIdempotent(t.Context(), "k-1", authdash.TaskDraft{Title: "once"})
	if err != nil || task.ID != "t1" {
		t.Fatalf("create = %+v, %v", task, err)
	}
	if len(keys) != 2 || keys[0] != `"k-1"` || keys[1] != keys[0] {
		t.Errorf("requests carried keys %q, want the same Structured Field string twice", keys)
	}
}

// Undo of a delete: the task comes back as it was, in every tab, and a tab
// that saw the delete and was away while it was undone gets it back when
// it resumes.
func TestRestoreTask(t *testing.T) {
	base := mustServer(t)
	ctx := t.Context()
	a := newClient(t, base, "tabA", nil)
	mustRegister(t, a, "undo@example.com")
	b := newClient(t, base, "tabB", nil)
	if _, err := b.Login(ctx, authdash.Credentials{Email: "undo@example.com", Password: "long enough pw"}); err != nil {
		t.Fatal(err)
	}
	due := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	task, err := a.CreateTask(ctx, authdash.TaskDraft{Title: "Keep me", Description: "d", Priority: authdash.PriorityHigh, DueDate: &due, Tags: []string{"x", "y"}})
	if err != nil {
		t.Fatal(err)
	}

	rec := newRecorder()
	stream := b.NewStream(strings.Replace(base, "http", "ws", 1)+"/api/ws", rec)
	stop := runThis(t, stream, rec)
	if err := a.DeleteTask(ctx, task.ID, 0); err != nil {
		t.Fatal(err)
	}
	del := nextTaskEvent(t, rec, task.ID)
	if del.Kind != authdash.EventTaskDeleted {
		t.Fatalf("event %+v, want the delete", del)
	}
	restored, err := a.RestoreTask(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if restored.ID != task.ID || restored.Title != "Keep me" || restored.Description != "d" || restored.Priority != authdash.PriorityHigh ||
		restored.DueDate == nil || !restored.DueDate.Equal(due) || strings.Join(restored.Tags, ",") != "x,y" ||
		!restored.CreatedAt.Equal(task.CreatedAt) || restored.Version <= del.Version {
		t.Errorf("restored %+v, was %+v (deleted at version %d)", restored, task, del.Version)
	}
	ev := nextTaskEvent(t, rec, task.ID)
	if ev.Kind != authdash.EventTaskCreated || ev.Task == nil || ev.Version != restored.Version || ev.Seq <= del.Seq || ev.Origin != "tabA" {
		t.Errorf("restore event %+v", ev)
	}
	_, err = b.RestoreTask(ctx, task.ID)
	wantCode(t, err, authdash.CodeConflict)
	_, err = b.RestoreTask(ctx, "no-such-task")
	wantCode(t, err, authdash.CodeNotFound)

	// Tab B goes away after seeing a delete; the task is restored
	// meanwhile; B resumes and gets it back, live.
	if err := a.DeleteTask(ctx, task.ID, restored.Version); err != nil {
		t.Fatal(err)
	}
	del = nextTaskEvent(t, rec, task.ID)
	stop()
	if stream.Synced() >= del.Seq {
		t.Fatalf("stream resumes from %d, want below the delete's %d (no log read confirmed it)", stream.Synced(), del.Seq)
	}
	again, err := a.RestoreTask(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	stop = runThis(t, stream, rec)
	defer stop()
	ev = nextTaskEvent(t, rec, task.ID)
	if ev.Kind == authdash.EventTaskDeleted || ev.Task == nil || ev.Version != again.Version || ev.Task.Title != "Keep me" {
		t.Errorf("on resume: %+v, want the restored task at version %d", ev, again.Version)
	}
	if len(rec.reloads) != 0 {
		t.Errorf("the resume reloaded (%d) instead of reading the change log", len(rec.reloads))
	}
}

// runStream runs a new stream of c until the returned stop is called, once
// it is live and has loaded.
func runStream(t *testing.T, c *api.Client, base string, rec *recorder) (stop func()) {
	t.Helper()
	return runThis(t, c.NewStream(strings.Replace(base, "http", "ws", 1)+"/api/ws", rec), rec)
}

// runThis runs s until stop, returning once it is live; a stream with
// state resumes, a fresh one loads first.
func runThis(t *testing.T, s *api.Stream, rec *recorder) (stop func()) {
	t.Helper()
	fresh := s.Synced() == 0
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for st := recv(t, rec.status, "status"); st != api.LiveOn; st = recv(t, rec.status, "status") {
	}
	if fresh {
		recv(t, rec.reloads, "first load")
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
}

// nextTaskEvent returns the next event about the task id.
func nextTaskEvent(t *testing.T, rec *recorder, id authdash.TaskID) authdash.Event {
	t.Helper()
	for {
		if ev := recv(t, rec.events, "event"); ev.TaskID == id {
			return ev
		}
	}
}
