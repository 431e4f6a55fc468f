package authdash

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// TaskID identifies a task. It is opaque to clients.
type TaskID string

// TaskStatus is where a task stands.
type TaskStatus string

// Task statuses.
const (
	StatusTodo       TaskStatus = "todo"
	StatusInProgress TaskStatus = "in_progress"
	StatusDone       TaskStatus = "done"
)

// TaskStatuses lists the statuses in workflow order.
var TaskStatuses = []TaskStatus{StatusTodo, StatusInProgress, StatusDone}

// Valid reports whether s is a known status.
func (s TaskStatus) Valid() bool { return slices.Contains(TaskStatuses, s) }

// TaskPriority is how urgent a task is.
type TaskPriority string

// Task priorities.
const (
	PriorityLow    TaskPriority = "low"
	PriorityMedium TaskPriority = "medium"
	PriorityHigh   TaskPriority = "high"
)

// TaskPriorities lists the priorities from lowest to highest.
var TaskPriorities = []TaskPriority{PriorityLow, PriorityMedium, PriorityHigh}

// Valid reports whether p is a known priority.
func (p TaskPriority) Valid() bool { return slices.Contains(TaskPriorities, p) }

// Rank orders priorities for sorting: low=1, medium=2, high=3, unknown=0.
func (p TaskPriority) Rank() int { return slices.Index(TaskPriorities, p) + 1 }

// Limits on task fields.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 10000
	MaxTags           = 20
	MaxTagLen         = 32
	MaxSearchLen      = 200
	DefaultPageSize   = 20
	MaxPageSize       = 100
)

// Task is a unit of work owned by one user. Times are UTC with millisecond
// precision in every store.
type Task struct {
	ID          TaskID       `json:"id"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Status      TaskStatus   `json:"status"`
	Priority    TaskPriority `json:"priority"`
	DueDate     *time.Time   `json:"dueDate"`
	Tags        []string     `json:"tags"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	Version     int64        `json:"version"`
}

// TaskDraft is a task to create.
type TaskDraft struct {
	Title       string       `json:"title"`
	Description string       `json:"description,omitempty"`
	Status      TaskStatus   `json:"status,omitempty"`
	Priority    TaskPriority `json:"priority,omitempty"`
	DueDate     *time.Time   `json:"dueDate,omitempty"`
	Tags        []string     `json:"tags,omitempty"`
}

// Normalize trims text, turns CRLF line breaks into LF, fills defaults
// (todo, medium), tidies tags and puts the due date in UTC at millisecond
// precision.
func (d *TaskDraft) Normalize() {
	d.Title = strings.TrimSpace(d.Title)
	d.Description = normalizeLineBreaks(d.Description)
	if d.Status == "" {
		d.Status = StatusTodo
	}
	if d.Priority == "" {
		d.Priority = PriorityMedium
	}
	d.Tags = NormalizeTags(d.Tags)
	if d.DueDate != nil {
		t := Millis(*d.DueDate)
		d.DueDate = &t
	}
}

// Validate reports every invalid field at once. Call Normalize first.
func (d TaskDraft) Validate() error {
	f := fieldErrors{}
	validateTitle(f, d.Title)
	validateDescription(f, d.Description)
	validateStatus(f, d.Status)
	validatePriority(f, d.Priority)
	validateTags(f, d.Tags)
	validateDue(f, d.DueDate)
	return f.err()
}

// TaskPatch is a partial update; nil fields are left alone. DueDate is
// three-state: absent (leave), null (ClearDueDate) or a time.
type TaskPatch struct {
	Title        *string       `json:"title,omitempty"`
	Description  *string       `json:"description,omitempty"`
	Status       *TaskStatus   `json:"status,omitempty"`
	Priority     *TaskPriority `json:"priority,omitempty"`
	DueDate      *time.Time    `json:"dueDate,omitempty"`
	ClearDueDate bool          `json:"-"`
	Tags         *[]string     `json:"tags,omitempty"`
}

// taskPatchJSON is TaskPatch on the wire, where "dueDate": null clears.
type taskPatchJSON struct {
	Title       *string         `json:"title,omitempty"`
	Description *string         `json:"description,omitempty"`
	Status      *TaskStatus     `json:"status,omitempty"`
	Priority    *TaskPriority   `json:"priority,omitempty"`
	DueDate     json.RawMessage `json:"dueDate,omitempty"`
	Tags        *[]string       `json:"tags,omitempty"`
}

// UnmarshalJSON tells "dueDate": null (clear) from an absent dueDate (leave),
// and rejects unknown fields so a typo is an error rather than a no-op.
func (p *TaskPatch) UnmarshalJSON(b []byte) error {
	var w taskPatchJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	*p = TaskPatch{Title: w.Title, Description: w.Description, Status: w.Status, Priority: w.Priority, Tags: w.Tags}
	switch {
	case len(w.DueDate) == 0:
	case string(w.DueDate) == "null":
		p.ClearDueDate = true
	default:
		var t time.Time
		if err := json.Unmarshal(w.DueDate, &t); err != nil {
			return &json.UnmarshalTypeError{Value: "string", Type: reflect.TypeFor[time.Time](), Field: "dueDate"}
		}
		p.DueDate = &t
	}
	return nil
}

// MarshalJSON writes ClearDueDate as "dueDate": null.
func (p TaskPatch) MarshalJSON() ([]byte, error) {
	w := taskPatchJSON{Title: p.Title, Description: p.Description, Status: p.Status, Priority: p.Priority, Tags: p.Tags}
	switch {
	case p.ClearDueDate:
		w.DueDate = json.RawMessage("null")
	case p.DueDate != nil:
		b, err := json.Marshal(p.DueDate)
		if err != nil {
			return nil, err
		}
		w.DueDate = b
	}
	return json.Marshal(w)
}

// Empty reports whether the patch changes nothing.
func (p TaskPatch) Empty() bool {
	return p.Title == nil && p.Description == nil && p.Status == nil && p.Priority == nil &&
		p.DueDate == nil && !p.ClearDueDate && p.Tags == nil
}

// Normalize trims and tidies in place, as TaskDraft.Normalize does.
func (p *TaskPatch) Normalize() {
	if p.Title != nil {
		t := strings.TrimSpace(*p.Title)
		p.Title = &t
	}
	if p.Description != nil {
		t := normalizeLineBreaks(*p.Description)
		p.Description = &t
	}
	if p.Tags != nil {
		t := NormalizeTags(*p.Tags)
		p.Tags = &t
	}
	if p.DueDate != nil {
		t := Millis(*p.DueDate)
		p.DueDate = &t
	}
}

// Validate reports every invalid field at once. Call Normalize first.
func (p TaskPatch) Validate() error {
	f := fieldErrors{}
	if p.Empty() {
		return Errorf(CodeInvalid, "The update changes nothing.")
	}
	if p.Title != nil {
		validateTitle(f, *p.Title)
	}
	if p.Description != nil {
		validateDescription(f, *p.Description)
	}
	if p.Status != nil {
		validateStatus(f, *p.Status)
	}
	if p.Priority != nil {
		validatePriority(f, *p.Priority)
	}
	if p.Tags != nil {
		validateTags(f, *p.Tags)
	}
	if p.DueDate != nil && p.ClearDueDate {
		f.add("dueDate", "Set the due date or clear it, not both.")
	}
	validateDue(f, p.DueDate)
	return f.err()
}

// Apply returns t with the patch applied (fields only; versions and times are
// the store's).
func (p TaskPatch) Apply(t Task) Task {
	if p.Title != nil {
		t.Title = *p.Title
	}
	if p.Description != nil {
		t.Description = *p.Description
	}
	if p.Status != nil {
		t.Status = *p.Status
	}
	if p.Priority != nil {
		t.Priority = *p.Priority
	}
	if p.ClearDueDate {
		t.DueDate = nil
	}
	if p.DueDate != nil {
		d := *p.DueDate
		t.DueDate = &d
	}
	if p.Tags != nil {
		t.Tags = slices.Clone(*p.Tags)
	}
	return t
}

// NormalizeTags trims each tag, drops empty ones and duplicates (ignoring
// case, keeping the first spelling), and never returns nil.
func NormalizeTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		k := strings.ToLower(t)
		if t == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return out
}

// Millis puts t in UTC at millisecond precision, the precision every store
// keeps, so a value reads back exactly as it was written.
func Millis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// earliestDue and latestDue bound due dates to what every store and
// JavaScript's Date can hold: the years 1970 to 9999, both whole, to the
// last millisecond a store keeps.
var (
	earliestDue = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	latestDue   = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
)

// normalizeLineBreaks makes CRLF (what a form posts from a textarea) a plain
// LF, so a description reads the same whoever sent it; a lone CR is then a
// control character like any other.
func normalizeLineBreaks(s string) string {
	if !strings.Contains(s, "\r\n") {
		return s
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}

func validateTitle(f fieldErrors, s string) {
	switch {
	case s == "":
		f.add("title", "Title is required.")
	case utf8.RuneCountInString(s) > MaxTitleLen:
		f.add("title", "Title must be at most 200 characters.")
	case !utf8.ValidString(s):
		f.add("title", "Title is not valid UTF-8.")
	case hasControl(s):
		f.add("title", "Title must not contain control characters (line breaks, tabs, NUL, ESC…).")
	}
}

func validateDescription(f fieldErrors, s string) {
	switch {
	case utf8.RuneCountInString(s) > MaxDescriptionLen:
		f.add("description", "Description must be at most 10000 characters.")
	case !utf8.ValidString(s):
		f.add("description", "Description is not valid UTF-8.")
	case hasControlExcept(s, "\n\t"):
		f.add("description", "Description must not contain control characters other than line breaks and tabs.")
	}
}

func validateStatus(f fieldErrors, s TaskStatus) {
	if !s.Valid() {
		f.add("status", "Status must be one of todo, in_progress, done.")
	}
}

func validatePriority(f fieldErrors, p TaskPriority) {
	if !p.Valid() {
		f.add("priority", "Priority must be one of low, medium, high.")
	}
}

func validateTags(f fieldErrors, tags []string) {
	if len(tags) > MaxTags {
		f.add("tags", "At most 20 tags.")
		return
	}
	for _, t := range tags {
		if utf8.RuneCountInString(t) > MaxTagLen || !utf8.ValidString(t) || hasControl(t) {
			f.add("tags", "Each tag must be at most 32 characters of text.")
			return
		}
	}
}

func validateDue(f fieldErrors, d *time.Time) {
	if d != nil && (d.Before(earliestDue) || d.After(latestDue)) {
		f.add("dueDate", "Due date must be between 1970 and 9999.")
	}
}

// TaskSort is a key a task list can be ordered by.
type TaskSort string

// Sort keys. Ties are broken by task ID so every order is total, which keyset
// pagination needs.
const (
	SortCreated  TaskSort = "created"
	SortUpdated  TaskSort = "updated"
	SortDue      TaskSort = "due"
	SortPriority TaskSort = "priority"
	SortTitle    TaskSort = "title"
)

// TaskSorts lists the sort keys.
var TaskSorts = []TaskSort{SortCreated, SortUpdated, SortDue, SortPriority, SortTitle}

// Valid reports whether s is a known sort key.
func (s TaskSort) Valid() bool { return slices.Contains(TaskSorts, s) }

// Order is a sort direction.
type Order string

// Sort directions.
const (
	Asc  Order = "asc"
	Desc Order = "desc"
)

// TaskQuery selects and orders one page of a user's tasks.
type TaskQuery struct {
	Search    string       // case-insensitive literal substring of title or description
	Status    TaskStatus   // "" for any
	Priority  TaskPriority // "" for any
	Tag       string       // "" for any; matched ignoring case
	DueBefore *time.Time   // due strictly before
	DueAfter  *time.Time   // due strictly after
	Sort      TaskSort     // default created
	Order     Order        // default desc
	Limit     int          // default 20, at most 100
	Cursor    string       // opaque, from TaskPage.NextCursor
}

// Normalize fills defaults in place.
func (q *TaskQuery) Normalize() {
	q.Search = strings.TrimSpace(q.Search)
	q.Tag = strings.TrimSpace(q.Tag)
	if q.Sort == "" {
		q.Sort = SortCreated
	}
	if q.Order == "" {
		q.Order = Desc
	}
	if q.Limit == 0 {
		q.Limit = DefaultPageSize
	}
	if q.DueBefore != nil {
		t := Millis(*q.DueBefore)
		q.DueBefore = &t
	}
	if q.DueAfter != nil {
		t := Millis(*q.DueAfter)
		q.DueAfter = &t
	}
}

// CheckNormalized returns an internal error unless q went through Normalize
// (and so has a sort, an order and a page size): stores take queries as
// TaskService hands them over and call it instead of defaulting again.
func (q TaskQuery) CheckNormalized() error {
	if q.Sort == "" || q.Order == "" || q.Limit < 1 || q.Limit > MaxPageSize {
		return fmt.Errorf("task query not normalised: sort %q, order %q, limit %d", q.Sort, q.Order, q.Limit)
	}
	return nil
}

// Validate reports every invalid parameter at once. Call Normalize first.
func (q TaskQuery) Validate() error {
	f := fieldErrors{}
	if utf8.RuneCountInString(q.Search) > MaxSearchLen {
		f.add("q", "Search must be at most 200 characters.")
	}
	if q.Status != "" && !q.Status.Valid() {
		f.add("status", "Status must be one of todo, in_progress, done.")
	}
	if q.Priority != "" && !q.Priority.Valid() {
		f.add("priority", "Priority must be one of low, medium, high.")
	}
	if utf8.RuneCountInString(q.Tag) > MaxTagLen {
		f.add("tag", "Tag must be at most 32 characters.")
	}
	if !q.Sort.Valid() {
		f.add("sort", "Sort must be one of created, updated, due, priority, title.")
	}
	if q.Order != Asc && q.Order != Desc {
		f.add("order", "Order must be asc or desc.")
	}
	if q.Limit < 1 || q.Limit > MaxPageSize {
		f.add("limit", "Limit must be between 1 and 100.")
	}
	if q.Cursor != "" {
		if _, err := DecodeCursor(q.Cursor, q.Sort, q.Order); err != nil {
			f.add("cursor", "Cursor is not valid for this query.")
		}
	}
	return f.err()
}

// TaskPage is one page of tasks. NextCursor is empty on the last page.
type TaskPage struct {
	Items      []Task `json:"items"`
	NextCursor string `json:"nextCursor"`
}

// TaskStats counts a user's tasks by status, for the dashboard.
type TaskStats struct {
	Todo       int `json:"todo"`
	InProgress int `json:"inProgress"`
	Done       int `json:"done"`
	Total      int `json:"total"`
}

// TaskStore keeps tasks and, with them, each owner's change log. Every method
// takes the owner explicitly and puts it in the query itself, so another
// user's task is indistinguishable from a missing one.
type TaskStore interface {
	// CreateTask stores a validated draft, stamping ID, Version 1, times and
	// a Seq above the owner's head, and returns the event. The owner is the
	// authenticated caller; for one that does not exist a store answers
	// CodeNotFound or, if it does not read the owner (MongoDB, to keep a
	// write to one round trip), stores a task nobody else can reach.
	CreateTask(ctx context.Context, owner UserID, d TaskDraft) (*Task, Event, error)
	// CreateTaskOnce is CreateTask under an idempotency key, recorded (with
	// the task as created) in the same write as the task. A later call with
	// the owner's same key and fingerprint creates nothing and returns that
	// first task with replayed set and a zero Event; with another
	// fingerprint it is CodeIdempotencyKeyReused. A key recorded before
	// k.Since counts as unknown. Calls with one key never create twice: one
	// made while the first is still being written waits for it, or (a store
	// that cannot wait long) answers CodeConflict, to be retried.
	CreateTaskOnce(ctx context.Context, owner UserID, k Idempotency, d TaskDraft) (t *Task, ev Event, replayed bool, err error)
	// FindTask returns CodeNotFound for a missing task and for another
	// owner's task alike.
	FindTask(ctx context.Context, owner UserID, id TaskID) (*Task, error)
	// FindTasks returns one page; q must be normalised and valid. Search is
	// literal, never a pattern.
	FindTasks(ctx context.Context, owner UserID, q TaskQuery) (TaskPage, error)
	// UpdateTask applies a validated patch, bumping Version and stamping a
	// Seq above the task's last one. CodeNotFound; CodePreconditionFailed if ifVersion is
	// not 0 and differs from the stored version.
	UpdateTask(ctx context.Context, owner UserID, id TaskID, p TaskPatch, ifVersion int64) (*Task, Event, error)
	// DeleteTask removes a task, leaving a tombstone in the change log.
	// CodeNotFound; CodePreconditionFailed as for UpdateTask.
	// Its content is kept for RestoreTask until the store is told to
	// forget it (after RestoreWindow).
	DeleteTask(ctx context.Context, owner UserID, id TaskID, ifVersion int64) (Event, error)
	// RestoreTask brings back a task deleted at or after deletedSince, as
	// it was (same ID, content and creation time), at a Version above its
	// deletion's and with a new Seq, and returns a task.created event: the
	// task is back in lists and, as a live task, in ChangesSince.
	// CodeNotFound if there is nothing to restore (no such task, another
	// owner's, deleted before deletedSince, or its content forgotten);
	// CodeConflict if the task is not deleted.
	RestoreTask(ctx context.Context, owner UserID, id TaskID, deletedSince time.Time) (*Task, Event, error)
	// TaskStats counts the owner's tasks by status.
	TaskStats(ctx context.Context, owner UserID) (TaskStats, error)
	// ChangesSince returns the latest change of every task of the owner
	// changed after seq since (creates and updates as the task now is,
	// deletes as tombstones), in Seq order, and the head: the highest Seq in
	// the owner's log.
	// ok is false when the log no longer reaches back to since, or more than
	// limit tasks changed: the client must then reload in full.
	ChangesSince(ctx context.Context, owner UserID, since int64, limit int) (evs []Event, head int64, ok bool, err error)
	// ChangeHead returns the head of the owner's change log alone, as
	// ChangesSince reports it, without reading any change. CodeNotFound
	// for an unknown owner.
	ChangeHead(ctx context.Context, owner UserID) (int64, error)
}

// Store is everything the product keeps: one implementation per database.
type Store interface {
	UserStore
	SessionStore
	TaskStore
	MailOutbox
	AccountTokenStore
	RevocationStore
	MFAStore
	SignInStore
	PasskeyStore
	IdentityStore
}
