package authdash

import (
	"context"
	"log/slog"
	"time"
)

// publishTimeout bounds how long a write waits on a slow broker.
const publishTimeout = 2 * time.Second

// TaskService is the one write path for tasks: it validates, writes through
// the store and, only after the store has committed, publishes the event.
// Handlers call it and never publish themselves.
type TaskService struct {
	Store  TaskStore
	Events Publisher
	Log    *slog.Logger
	// OnPublishError, if set, is called when a publish fails (for metrics).
	OnPublishError func(error)
	// Now is the clock that dates key expiry and the restore window; nil
	// means time.Now.
	Now func() time.Time
}

func (s *TaskService) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Create validates and stores a new task.
func (s *TaskService) Create(ctx context.Context, owner UserID, d TaskDraft) (*Task, error) {
	d.Normalize()
	if err := d.Validate(); err != nil {
		return nil, err
	}
	t, ev, err := s.Store.CreateTask(ctx, owner, d)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, ev)
	return t, nil
}

// CreateOnce is Create under the client's idempotency key: the same key
// with the same draft within IdempotencyKeyTTL returns the first answer
// (replayed, nothing created or published); with another draft it is
// CodeIdempotencyKeyReused.
func (s *TaskService) CreateOnce(ctx context.Context, owner UserID, key string, d TaskDraft) (t *Task, replayed bool, err error) {
	if !ValidIdempotencyKey(key) {
		return nil, false, errIdempotencyKey
	}
	d.Normalize()
	if err := d.Validate(); err != nil {
		return nil, false, err
	}
	k := Idempotency{Key: key, Fingerprint: d.Fingerprint(), Since: s.now().Add(-IdempotencyKeyTTL)}
	t, ev, replayed, err := s.Store.CreateTaskOnce(ctx, owner, k, d)
	if err != nil {
		return nil, false, err
	}
	if !replayed {
		s.publish(ctx, ev)
	}
	return t, replayed, nil
}

var errIdempotencyKey = &Error{Code: CodeInvalid,
	Message: "Idempotency-Key must be 1 to 255 visible ASCII characters without quotes or backslashes.",
	Fields:  map[string]string{"Idempotency-Key": "Must be 1 to 255 visible ASCII characters, e.g. a UUID."}}

// Get returns one task.
func (s *TaskService) Get(ctx context.Context, owner UserID, id TaskID) (*Task, error) {
	return s.Store.FindTask(ctx, owner, id)
}

// List returns one page of tasks.
func (s *TaskService) List(ctx context.Context, owner UserID, q TaskQuery) (TaskPage, error) {
	q.Normalize()
	if err := q.Validate(); err != nil {
		return TaskPage{}, err
	}
	return s.Store.FindTasks(ctx, owner, q)
}

// Stats counts tasks by status.
func (s *TaskService) Stats(ctx context.Context, owner UserID) (TaskStats, error) {
	return s.Store.TaskStats(ctx, owner)
}

// Update applies a patch; ifVersion 0 means unconditional.
func (s *TaskService) Update(ctx context.Context, owner UserID, id TaskID, p TaskPatch, ifVersion int64) (*Task, error) {
	p.Normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	t, ev, err := s.Store.UpdateTask(ctx, owner, id, p, ifVersion)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, ev)
	return t, nil
}

// Delete removes a task; ifVersion 0 means unconditional.
func (s *TaskService) Delete(ctx context.Context, owner UserID, id TaskID, ifVersion int64) error {
	ev, err := s.Store.DeleteTask(ctx, owner, id, ifVersion)
	if err != nil {
		return err
	}
	s.publish(ctx, ev)
	return nil
}

// Restore brings back a task deleted within RestoreWindow and publishes it
// as created, so every tab shows it again.
func (s *TaskService) Restore(ctx context.Context, owner UserID, id TaskID) (*Task, error) {
	t, ev, err := s.Store.RestoreTask(ctx, owner, id, s.now().Add(-RestoreWindow))
	if err != nil {
		return nil, err
	}
	s.publish(ctx, ev)
	return t, nil
}

// publish sends a committed event. A failure is logged and counted, never
// returned: the write happened, and clients recover it from the change log.
func (s *TaskService) publish(ctx context.Context, ev Event) {
	if s.Events == nil {
		return
	}
	ev.Origin = OriginFrom(ctx)
	// The request may be cancelled the moment the handler returns; the event
	// must still go out.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := s.Events.Publish(pctx, ev); err != nil {
		if s.OnPublishError != nil {
			s.OnPublishError(err)
		}
		if s.Log != nil {
			s.Log.LogAttrs(ctx, slog.LevelWarn, "publish failed",
				slog.String("kind", string(ev.Kind)), slog.Int64("seq", ev.Seq), slog.Any("err", err))
		}
	}
}
