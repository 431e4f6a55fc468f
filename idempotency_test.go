package authdash_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

func TestValidIdempotencyKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"8e03978e-40d5-43e8-bc93-6894a57f9324", true},
		{"a", true},
		{"!#$%&'()*+,-./:;<=>?@[]^_`{|}~", true},
		{strings.Repeat("k", authdash.MaxIdempotencyKeyLen), true},
		{"", false},
		{strings.Repeat("k", authdash.MaxIdempotencyKeyLen+1), false},
		{"two words", false},
		{`say "hi"`, false},
		{`back\slash`, false},
		{"tab\there", false},
		{"clé", false},
		{"nul\x00", false},
		{"del\x7f", false},
	}
	for _, tt := range tests {
		if got := authdash.ValidIdempotencyKey(tt.key); got != tt.want {
			t.Errorf("ValidIdempotencyKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestDraftFingerprint(t *testing.T) {
	norm := func(d authdash.TaskDraft) string { d.Normalize(); return d.Fingerprint() }
	due := time.Date(2030, 1, 31, 17, 0, 0, 0, time.UTC)
	paris := due.In(time.FixedZone("CET", 3600))
	base := authdash.TaskDraft{Title: "Pay rent", Tags: []string{"home"}, DueDate: &due}
	same := []authdash.TaskDraft{
		{Title: "  Pay rent ", Tags: []string{" home", "HOME"}, DueDate: &paris},
		{Title: "Pay rent", Status: authdash.StatusTodo, Priority: authdash.PriorityMedium, Tags: []string{"home"}, DueDate: &due},
	}
	other := []authdash.TaskDraft{
		{Title: "Pay rent!", Tags: []string{"home"}, DueDate: &due},
		{Title: "Pay rent", Tags: []string{"Home"}, DueDate: &due},
		{Title: "Pay rent", Tags: []string{"home"}},
		{Title: "Pay rent", Tags: []string{"home"}, DueDate: &due, Priority: authdash.PriorityHigh},
		{Title: "Pay rent", Tags: []string{"home"}, DueDate: &due, Description: "x"},
	}
	want := norm(base)
	if len(want) != 64 {
		t.Fatalf("fingerprint %q is not a hex SHA-256", want)
	}
	for _, d := range same {
		if got := norm(d); got != want {
			t.Errorf("%+v: fingerprint differs from the same task's", d)
		}
	}
	for _, d := range other {
		if got := norm(d); got == want {
			t.Errorf("%+v: fingerprint equals another task's", d)
		}
	}
}

// onceStore scripts the answers of CreateTaskOnce and RestoreTask.
type onceStore struct {
	faultStore
	replayed bool
	k        authdash.Idempotency
	since    time.Time
}

func (s *onceStore) CreateTaskOnce(_ context.Context, owner authdash.UserID, k authdash.Idempotency, d authdash.TaskDraft) (*authdash.Task, authdash.Event, bool, error) {
	s.calls++
	s.k = k
	if s.err != nil {
		return nil, authdash.Event{}, false, s.err
	}
	t := &authdash.Task{ID: "t1", Title: d.Title, Version: 1}
	if s.replayed {
		return t, authdash.Event{}, true, nil
	}
	return t, authdash.Event{Kind: authdash.EventTaskCreated, Owner: owner, Seq: 7, TaskID: t.ID, Task: t}, false, nil
}

func (s *onceStore) RestoreTask(_ context.Context, owner authdash.UserID, id authdash.TaskID, since time.Time) (*authdash.Task, authdash.Event, error) {
	s.calls++
	s.since = since
	if s.err != nil {
		return nil, authdash.Event{}, s.err
	}
	t := &authdash.Task{ID: id, Title: "back", Version: 3}
	return t, authdash.Event{Kind: authdash.EventTaskCreated, Owner: owner, Seq: 9, TaskID: id, Version: 3, Task: t}, nil
}

func TestTaskServiceCreateOnce(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		key        string
		draft      authdash.TaskDraft
		replayed   bool
		storeErr   error
		wantCode   authdash.ErrorCode
		wantStored int
		wantEvents int
	}{
		{"OK", "k1", authdash.TaskDraft{Title: " a "}, false, nil, "", 1, 1},
		{"ReplayPublishesNothing", "k1", authdash.TaskDraft{Title: "a"}, true, nil, "", 1, 0},
		{"ErrKeyNeverReachesStore", "two words", authdash.TaskDraft{Title: "a"}, false, nil, authdash.CodeInvalid, 0, 0},
		{"ErrInvalidDraftNeverReachesStore", "k1", authdash.TaskDraft{Title: ""}, false, nil, authdash.CodeInvalid, 0, 0},
		{"ErrReusedNothingPublished", "k1", authdash.TaskDraft{Title: "a"}, false,
			authdash.Errorf(authdash.CodeIdempotencyKeyReused, "reused"), authdash.CodeIdempotencyKeyReused, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &onceStore{faultStore: faultStore{err: tt.storeErr}, replayed: tt.replayed}
			rec := &recorder{}
			svc := &authdash.TaskService{Store: st, Events: rec, Now: func() time.Time { return now }}
			_, replayed, err := svc.CreateOnce(context.Background(), "u1", tt.key, tt.draft)
			if got := authdash.ErrorCodeOf(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
			if st.calls != tt.wantStored || len(rec.evs) != tt.wantEvents || replayed != (tt.replayed && err == nil) {
				t.Fatalf("store calls %d, events %d, replayed %v; want %d, %d", st.calls, len(rec.evs), replayed, tt.wantStored, tt.wantEvents)
			}
			if st.calls == 0 {
				return
			}
			d := tt.draft
			d.Normalize()
			if st.k.Key != tt.key || st.k.Fingerprint != d.Fingerprint() || !st.k.Since.Equal(now.Add(-authdash.IdempotencyKeyTTL)) {
				t.Errorf("store asked with %+v", st.k)
			}
		})
	}
}

func TestTaskServiceRestore(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name       string
		storeErr   error
		wantEvents int
	}{
		{"OKPublished", nil, 1},
		{"ErrNothingPublished", authdash.Errorf(authdash.CodeNotFound, "gone"), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &onceStore{faultStore: faultStore{err: tt.storeErr}}
			rec := &recorder{}
			svc := &authdash.TaskService{Store: st, Events: rec, Now: func() time.Time { return now }}
			ctx := authdash.WithOrigin(context.Background(), "tab-2")
			task, err := svc.Restore(ctx, "u1", "t9")
			if (err != nil) != (tt.storeErr != nil) || len(rec.evs) != tt.wantEvents {
				t.Fatalf("err %v, events %+v", err, rec.evs)
			}
			if !st.since.Equal(now.Add(-authdash.RestoreWindow)) {
				t.Errorf("store asked for deletions since %v, want %v", st.since, now.Add(-authdash.RestoreWindow))
			}
			if err == nil && (task.ID != "t9" || rec.evs[0].Kind != authdash.EventTaskCreated || rec.evs[0].Origin != "tab-2") {
				t.Errorf("task %+v, event %+v", task, rec.evs[0])
			}
		})
	}
}
