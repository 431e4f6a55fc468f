package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

// ListTasks returns one page of tasks.
func (c *Client) ListTasks(ctx context.Context, q authdash.TaskQuery) (authdash.TaskPage, error) {
	var p authdash.TaskPage
	err := c.do(ctx, http.MethodGet, "/api/tasks", QueryValues(q), nil, &p, callOpts{})
	if p.Items == nil {
		p.Items = []authdash.Task{}
	}
	return p, err
}

// QueryValues encodes q as the URL parameters of GET /api/tasks, leaving out
// what is empty so that the server's defaults apply.
func QueryValues(q authdash.TaskQuery) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", q.Search)
	set("status", string(q.Status))
	set("priority", string(q.Priority))
	set("tag", q.Tag)
	if q.DueBefore != nil {
		v.Set("dueBefore", q.DueBefore.UTC().Format(time.RFC3339))
	}
	if q.DueAfter != nil {
		v.Set("dueAfter", q.DueAfter.UTC().Format(time.RFC3339))
	}
	set("sort", string(q.Sort))
	set("order", string(q.Order))
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	set("cursor", q.Cursor)
	return v
}

// Stats counts the user's tasks by status.
func (c *Client) Stats(ctx context.Context) (authdash.TaskStats, error) {
	var s authdash.TaskStats
	err := c.do(ctx, http.MethodGet, "/api/tasks/stats", nil, nil, &s, callOpts{})
	return s, err
}

// CreateTask creates a task.
func (c *Client) CreateTask(ctx context.Context, d authdash.TaskDraft) (*authdash.Task, error) {
	var t authdash.Task
	if err := c.do(ctx, http.MethodPost, "/api/tasks", nil, d, &t, callOpts{}); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateTaskIdempotent creates a task at most once per key: sent again
// with the same key and draft (after a timeout, an outage, a double click)
// it answers with the task the first call created, and creates nothing.
// Use a new key (NewIdempotencyKey) for each task the user means to create,
// and the same one for every retry of it; the server remembers a key for
// 24 hours. The same key with another draft is
// CodeIdempotencyKeyReused; a malformed key is CodeInvalid before anything
// is sent. A retry that finds the first request still in flight (the
// server answers 409) is repeated here after a short wait.
func (c *Client) CreateTaskIdempotent(ctx context.Context, key string, d authdash.TaskDraft) (*authdash.Task, error) {
	if !authdash.ValidIdempotencyKey(key) {
		return nil, &authdash.Error{Code: authdash.CodeInvalid, Message: "The request key is not valid.",
			Fields: map[string]string{wire.HeaderIdempotencyKey: "Must be 1 to 255 visible ASCII characters without quotes or backslashes."}}
	}
	wait := inFlightWait
	for {
		var t authdash.Task
		err := c.do(ctx, http.MethodPost, "/api/tasks", nil, d, &t, callOpts{idempotencyKey: key})
		if err == nil {
			return &t, nil
		}
		if authdash.ErrorCodeOf(err) != authdash.CodeConflict || wait > maxInFlightWait {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctxErr(ctx)
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// The waits before repeating a create whose key is still in flight: 0.25,
// 0.5, 1 and 2 s, then the conflict is the caller's.
const (
	inFlightWait    = 250 * time.Millisecond
	maxInFlightWait = 2 * time.Second
)

// NewIdempotencyKey returns a fresh random key for CreateTaskIdempotent: a
// version 4 UUID.
func NewIdempotencyKey() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// RestoreTask undoes the deletion of a task (within 24 hours of it) and
// returns the task as it was, at a new version; every tab sees it come
// back. CodeNotFound when there is nothing to restore; CodeConflict when
// the task is not deleted (another tab restored it first).
func (c *Client) RestoreTask(ctx context.Context, id authdash.TaskID) (*authdash.Task, error) {
	var t authdash.Task
	if err := c.do(ctx, http.MethodPost, "/api/tasks/"+url.PathEscape(string(id))+"/restore", nil, nil, &t, callOpts{}); err != nil {
		return nil, err
	}
	return &t, nil
}

// Task returns one task.
func (c *Client) Task(ctx context.Context, id authdash.TaskID) (*authdash.Task, error) {
	var t authdash.Task
	if err := c.do(ctx, http.MethodGet, "/api/tasks/"+url.PathEscape(string(id)), nil, nil, &t, callOpts{}); err != nil {
		return nil, err
	}
	return &t, nil
}

// UpdateTask patches a task if its version is still ifVersion (0: whatever
// it is). A stale version yields CodePreconditionFailed.
func (c *Client) UpdateTask(ctx context.Context, id authdash.TaskID, p authdash.TaskPatch, ifVersion int64) (*authdash.Task, error) {
	var t authdash.Task
	if err := c.do(ctx, http.MethodPatch, "/api/tasks/"+url.PathEscape(string(id)), nil, p, &t, callOpts{ifVersion: ifVersion}); err != nil {
		return nil, err
	}
	return &t, nil
}

// DeleteTask deletes a task if its version is still ifVersion (0: whatever
// it is).
func (c *Client) DeleteTask(ctx context.Context, id authdash.TaskID, ifVersion int64) error {
	return c.do(ctx, http.MethodDelete, "/api/tasks/"+url.PathEscape(string(id)), nil, nil, nil, callOpts{ifVersion: ifVersion})
}
