package authdash_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/authdash/authdash"
)

// faultStore is a TaskStore whose writes are scripted, to force the faults a
// real store only shows under duress. Contract behaviour is tested against
// real stores in store/storetest.
type faultStore struct {
	authdash.TaskStore
	err   error
	calls int
}

func (s *faultStore) CreateTask(_ context.Context, owner authdash.UserID, d authdash.TaskDraft) (*authdash.Task, authdash.Event, error) {
	s.calls++
	if s.err != nil {
		return nil, authdash.Event{}, s.err
	}
	t := &authdash.Task{ID: "t1", Title: d.Title, Version: 1}
	return t, authdash.Event{Kind: authdash.EventTaskCreated, Owner: owner, Seq: 7, TaskID: t.ID, Task: t}, nil
}

func (s *faultStore) DeleteTask(_ context.Context, owner authdash.UserID, id authdash.TaskID, _ int64) (authdash.Event, error) {
	s.calls++
	if s.err != nil {
		return authdash.Event{}, s.err
	}
	return authdash.Event{Kind: authdash.EventTaskDeleted, Owner: owner, Seq: 8, TaskID: id}, nil
}

type recorder struct {
	mu  sync.Mutex
	evs []authdash.Event
	err error
}

func (r *recorder) Publish(ctx context.Context, ev authdash.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.evs = append(r.evs, ev)
	return r.err
}

func TestTaskServiceCreate(t *testing.T) {
	storeDown := authdash.Errorf(authdash.CodeUnavailable, "Store unavailable.")
	tests := []struct {
		name       string
		draft      authdash.TaskDraft
		storeErr   error
		publishErr error
		wantCode   authdash.ErrorCode
		wantStored int
		wantEvents int
	}{
		{"OK", authdash.TaskDraft{Title: "a"}, nil, nil, "", 1, 1},
		{"ErrInvalidNeverReachesStore", authdash.TaskDraft{Title: ""}, nil, nil, authdash.CodeInvalid, 0, 0},
		{"ErrStoreNothingPublished", authdash.TaskDraft{Title: "a"}, storeDown, nil, authdash.CodeUnavailable, 1, 0},
		{"OKPublishFailureDoesNotFailWrite", authdash.TaskDraft{Title: "a"}, nil, errors.New("broker down"), "", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &faultStore{err: tt.storeErr}
			rec := &recorder{err: tt.publishErr}
			var publishFailures int
			svc := &authdash.TaskService{Store: st, Events: rec, OnPublishError: func(error) { publishFailures++ }}
			ctx, cancel := context.WithCancel(authdash.WithOrigin(context.Background(), "tab-1"))
			task, err := svc.Create(ctx, "u1", tt.draft)
			cancel()
			if got := authdash.ErrorCodeOf(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
			if st.calls != tt.wantStored || len(rec.evs) != tt.wantEvents {
				t.Fatalf("store calls %d, events %d; want %d, %d", st.calls, len(rec.evs), tt.wantStored, tt.wantEvents)
			}
			if tt.wantEvents > 0 {
				ev := rec.evs[0]
				if ev.Origin != "tab-1" || ev.Owner != "u1" || ev.Seq != 7 || ev.TaskID != task.ID {
					t.Fatalf("event = %+v", ev)
				}
			}
			if (tt.publishErr != nil) != (publishFailures == 1) {
				t.Fatalf("publish failures counted %d", publishFailures)
			}
		})
	}
}

func TestTaskServicePublishesAfterCancelledRequest(t *testing.T) {
	// The HTTP request's context may end as soon as the response is written;
	// the committed change must still be announced.
	rec := &recorder{}
	svc := &authdash.TaskService{Store: &faultStore{}, Events: rec}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := svc.Delete(ctx, "u1", "t1", 0); err != nil {
		t.Fatal(err)
	}
	if len(rec.evs) != 1 || rec.evs[0].Kind != authdash.EventTaskDeleted {
		t.Fatalf("events = %+v, want one task.deleted", rec.evs)
	}
}
