package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authdash/authdash"
)

const taskCols = `t.id, t.title, t.description, t.status, t.priority, t.due_ms, t.tags, t.created_ms, t.updated_ms, t.version`

func scanTask(row interface{ Scan(...any) error }, extra ...any) (*authdash.Task, error) {
	var t authdash.Task
	var due sql.NullInt64
	var tags string
	var created, updated int64
	dest := append([]any{&t.ID, &t.Title, &t.Description, &t.Status, &t.Priority, &due, &tags, &created, &updated, &t.Version}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if due.Valid {
		d := fromMillis(due.Int64)
		t.DueDate = &d
	}
	var err error
	if t.Tags, err = decodeTags(tags); err != nil {
		return nil, fmt.Errorf("task %s: tags: %w", t.ID, err)
	}
	t.CreatedAt, t.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &t, nil
}

// decodeTags reads the JSON array of strings rowOf wrote, never nil. Every
// row of every page goes through here, and encoding/json's reflection took
// 8% of the list endpoint's CPU, so the usual case is split by hand: with
// no backslash in the text, no tag holds a quote, and the compact form
// json.Marshal writes separates tags by exactly `","`.
func decodeTags(s string) ([]string, error) {
	switch {
	case s == "[]":
		return []string{}, nil
	case len(s) >= 4 && strings.HasPrefix(s, `["`) && strings.HasSuffix(s, `"]`) && !strings.ContainsRune(s, '\\'):
		return strings.Split(s[2:len(s)-2], `","`), nil
	}
	var tags []string
	if err := json.Unmarshal([]byte(s), &tags); err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []string{}
	}
	return tags, nil
}

func errTaskNotFound() error { return authdash.Errorf(authdash.CodeNotFound, "Task not found.") }

func errStale() error {
	return authdash.Errorf(authdash.CodePreconditionFailed, "The task has changed since you loaded it; reload and try again.")
}

// cloneTask copies t deeply enough that the caller and the event do not
// share the tags or the due date.
func cloneTask(t *authdash.Task) *authdash.Task {
	c := *t
	c.Tags = slices.Clone(t.Tags)
	if t.DueDate != nil {
		d := *t.DueDate
		c.DueDate = &d
	}
	return &c
}

// taskRow is a task as its columns store it, derived keys included.
type taskRow struct {
	dueMs    sql.NullInt64
	dueSort  int64
	rank     int
	titleKey string
	descKey  string
	tags     string
}

func rowOf(t *authdash.Task) (taskRow, error) {
	if t.Tags == nil {
		t.Tags = []string{}
	}
	tags, err := json.Marshal(t.Tags)
	if err != nil {
		return taskRow{}, err
	}
	r := taskRow{
		dueSort:  authdash.DueKey(t.DueDate),
		rank:     t.Priority.Rank(),
		titleKey: authdash.TitleKey(t.Title),
		descKey:  strings.ToLower(t.Description),
		tags:     string(tags),
	}
	if t.DueDate != nil {
		r.dueMs = sql.NullInt64{Int64: t.DueDate.UnixMilli(), Valid: true}
	}
	return r, nil
}

// tagKeys returns the distinct lower-cased tags, as the tag filter matches.
func tagKeys(tags []string) []string {
	keys := make([]string, 0, len(tags))
	for _, t := range tags {
		k := strings.ToLower(t)
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

const (
	// The rid is the first free one of the creation time's range (see
	// ridBase), which the last three arguments give: its start, twice, and
	// its end.
	insertTask = `INSERT INTO tasks (id, owner_id, title, description, status, priority, priority_rank,
		due_ms, due_sort, title_key, desc_key, tags, created_ms, updated_ms, version, seq, urid, drid, prid, rid)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			(SELECT ifnull(max(rid) + 1, ?) FROM tasks WHERE rid BETWEEN ? AND ?))`
	insertTag = `INSERT INTO task_tags (task_id, owner_id, tag_key) VALUES (?, ?, ?)`
)

// nextSeq stamps the owner's next change number; an unknown owner has no
// row to stamp and so cannot own tasks.
func nextSeq(tx *wtx, owner authdash.UserID) (int64, error) {
	var seq int64
	err := tx.returning(`UPDATE users SET seq = seq + 1 WHERE id = ? RETURNING seq`, owner).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errUserNotFound()
	}
	return seq, err
}

func insertTags(tx *wtx, owner authdash.UserID, id authdash.TaskID, tags []string) error {
	for _, k := range tagKeys(tags) {
		if _, err := tx.exec(insertTag, id, owner, k); err != nil {
			return err
		}
	}
	return nil
}

// insertTaskRow writes t (with its tags) as the owner's change seq.
func insertTaskRow(tx *wtx, owner authdash.UserID, t *authdash.Task, seq int64) error {
	r, err := rowOf(t)
	if err != nil {
		return err
	}
	return insertRow(tx, owner, t, r, seq)
}

// insertRow is insertTaskRow with t's row already made (by a create, before
// its write is queued), and gives the task its places in the sort-ordered
// copies of the search index, so that indexSorts need not write the row
// again to record them.
func insertRow(tx *wtx, owner authdash.UserID, t *authdash.Task, r taskRow, seq int64) error {
	at, err := placeTask(tx, t)
	if err != nil {
		return err
	}
	lo := ridBase(t.CreatedAt.UnixMilli())
	_, err = tx.exec(insertTask,
		t.ID, owner, t.Title, t.Description, t.Status, t.Priority, r.rank,
		r.dueMs, r.dueSort, r.titleKey, r.descKey, r.tags, t.CreatedAt.UnixMilli(), t.UpdatedAt.UnixMilli(), t.Version, seq,
		at[0], at[1], at[2], lo, lo, lo+ridSpan-1)
	if err != nil {
		return err
	}
	return insertTags(tx, owner, t.ID, t.Tags)
}

// CreateTask stores a validated draft and stamps the owner's next Seq.
func (db *DB) CreateTask(ctx context.Context, owner authdash.UserID, d authdash.TaskDraft) (*authdash.Task, authdash.Event, error) {
	t, ev, _, err := db.createTask(ctx, owner, d, nil)
	return t, ev, err
}

// CreateTaskOnce stores a validated draft unless the owner's key is
// already recorded. The key is looked up and recorded in the write
// transaction of the task, and writes are serialised (in this process by
// the writer goroutine, across processes by BEGIN IMMEDIATE), so a second
// call with the key waits for the first to commit and then finds it.
func (db *DB) CreateTaskOnce(ctx context.Context, owner authdash.UserID, k authdash.Idempotency, d authdash.TaskDraft) (*authdash.Task, authdash.Event, bool, error) {
	return db.createTask(ctx, owner, d, &k)
}

func (db *DB) createTask(ctx context.Context, owner authdash.UserID, d authdash.TaskDraft, k *authdash.Idempotency) (*authdash.Task, authdash.Event, bool, error) {
	if !validID(string(owner)) {
		return nil, authdash.Event{}, false, db.fail(ctx, "create task", errUserNotFound())
	}
	at := db.now()
	t := &authdash.Task{
		ID:          authdash.TaskID(newID()),
		Title:       d.Title,
		Description: d.Description,
		Status:      d.Status,
		Priority:    d.Priority,
		Tags:        slices.Clone(d.Tags),
		CreatedAt:   at,
		UpdatedAt:   at,
		Version:     1,
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if d.DueDate != nil {
		due := authdash.Millis(*d.DueDate)
		t.DueDate = &due
	}
	var answer []byte
	if k != nil {
		var err error
		if answer, err = json.Marshal(t); err != nil {
			return nil, authdash.Event{}, false, db.fail(ctx, "create task", err)
		}
	}
	r, err := rowOf(t)
	if err != nil {
		return nil, authdash.Event{}, false, db.fail(ctx, "create task", err)
	}
	// Worked out here, not by the writer goroutine every write waits for.
	text := db.texts.text(string(owner), r.titleKey, r.descKey)
	var seq int64
	var first *authdash.Task
	err = db.write(ctx, func(tx *wtx) error {
		first = nil
		if k != nil {
			var err error
			if first, err = recordedKey(tx, owner, *k); err != nil || first != nil {
				return err
			}
		}
		var err error
		if seq, err = nextSeq(tx, owner); err != nil {
			return err
		}
		if err := insertRow(tx, owner, t, r, seq); err != nil {
			return err
		}
		tx.db.texts.put(text)
		if k == nil {
			return nil
		}
		_, err = tx.exec(`INSERT INTO idempotency_keys (owner_id, key, fingerprint, task, created_ms) VALUES (?, ?, ?, ?, ?)`,
			owner, k.Key, k.Fingerprint, string(answer), at.UnixMilli())
		return err
	})
	if err != nil {
		return nil, authdash.Event{}, false, db.fail(ctx, "create task", err)
	}
	if first != nil {
		return first, authdash.Event{}, true, nil
	}
	ev := authdash.Event{Kind: authdash.EventTaskCreated, Owner: owner, Seq: seq, TaskID: t.ID, Version: 1, Task: cloneTask(t), At: at}
	return t, ev, false, nil
}

// recordedKey returns the first answer given under the owner's key, or nil
// if the key is unknown. An expired key is deleted, to be recorded afresh.
func recordedKey(tx *wtx, owner authdash.UserID, k authdash.Idempotency) (*authdash.Task, error) {
	var fp, answer string
	var ms int64
	err := tx.queryRow(`SELECT fingerprint, task, created_ms FROM idempotency_keys WHERE owner_id = ? AND key = ?`,
		owner, k.Key).Scan(&fp, &answer, &ms)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, err
	case ms < k.Since.UnixMilli():
		_, err := tx.exec(`DELETE FROM idempotency_keys WHERE owner_id = ? AND key = ?`, owner, k.Key)
		return nil, err
	case fp != k.Fingerprint:
		return nil, errKeyReused()
	}
	var t authdash.Task
	if err := json.Unmarshal([]byte(answer), &t); err != nil {
		return nil, fmt.Errorf("idempotency key answer: %w", err)
	}
	return &t, nil
}

func errKeyReused() error {
	return authdash.Errorf(authdash.CodeIdempotencyKeyReused,
		"This Idempotency-Key was already used for a different task; use a new key for a new task.")
}

// FindTask returns the owner's task; another owner's task is not found.
func (db *DB) FindTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID) (*authdash.Task, error) {
	if !validID(string(id)) {
		return nil, db.fail(ctx, "find task", errTaskNotFound())
	}
	row, err := db.queryRow(ctx, `SELECT `+taskCols+` FROM tasks t WHERE t.id = ? AND t.owner_id = ?`, id, owner)
	if err != nil {
		return nil, db.fail(ctx, "find task", err)
	}
	t, err := scanTask(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = errTaskNotFound()
	}
	if err != nil {
		return nil, db.fail(ctx, "find task", err)
	}
	return t, nil
}

// current reads the owner's task inside a write transaction and checks
// ifVersion against it, so a stale write is told apart from a missing task.
func current(tx *wtx, owner authdash.UserID, id authdash.TaskID, ifVersion int64) (*authdash.Task, error) {
	t, err := scanTask(tx.queryRow(`SELECT `+taskCols+` FROM tasks t WHERE t.id = ? AND t.owner_id = ?`, id, owner))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTaskNotFound()
	}
	if err != nil {
		return nil, err
	}
	if ifVersion != 0 && ifVersion != t.Version {
		return nil, errStale()
	}
	return t, nil
}

// UpdateTask applies a validated patch, bumps Version and stamps the owner's
// next Seq.
func (db *DB) UpdateTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID, p authdash.TaskPatch, ifVersion int64) (*authdash.Task, authdash.Event, error) {
	if !validID(string(id)) {
		return nil, authdash.Event{}, db.fail(ctx, "update task", errTaskNotFound())
	}
	if p.DueDate != nil {
		due := authdash.Millis(*p.DueDate)
		p.DueDate = &due
	}
	var t *authdash.Task
	var seq int64
	err := db.write(ctx, func(tx *wtx) error {
		cur, err := current(tx, owner, id, ifVersion)
		if err != nil {
			return err
		}
		next := p.Apply(*cur)
		t = &next
		t.Version++
		t.UpdatedAt = db.now()
		r, err := rowOf(t)
		if err != nil {
			return err
		}
		if seq, err = nextSeq(tx, owner); err != nil {
			return err
		}
		query, args := updateTaskSQL(p, t, r, seq)
		_, err = tx.exec(query, args...)
		if err != nil || p.Tags == nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM task_tags WHERE task_id = ?`, id); err != nil {
			return err
		}
		return insertTags(tx, owner, id, t.Tags)
	})
	if err != nil {
		return nil, authdash.Event{}, db.fail(ctx, "update task", err)
	}
	ev := authdash.Event{Kind: authdash.EventTaskUpdated, Owner: owner, Seq: seq, TaskID: id, Version: t.Version, Task: cloneTask(t), At: t.UpdatedAt}
	return t, ev, nil
}

// updateTaskSQL sets only the columns the patch changes (besides the
// version, time and Seq every update changes), because SQLite rewrites the
// entry of every index on a column that is SET, changed or not, and the
// trigram index of the text whenever the text is SET.
func updateTaskSQL(p authdash.TaskPatch, t *authdash.Task, r taskRow, seq int64) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 14)
	b.WriteString(`UPDATE tasks SET updated_ms = ?, version = ?, seq = ?`)
	args = append(args, t.UpdatedAt.UnixMilli(), t.Version, seq)
	if p.Title != nil {
		b.WriteString(`, title = ?, title_key = ?`)
		args = append(args, t.Title, r.titleKey)
	}
	if p.Description != nil {
		b.WriteString(`, description = ?, desc_key = ?`)
		args = append(args, t.Description, r.descKey)
	}
	if p.Status != nil {
		b.WriteString(`, status = ?`)
		args = append(args, t.Status)
	}
	if p.Priority != nil {
		b.WriteString(`, priority = ?, priority_rank = ?`)
		args = append(args, t.Priority, r.rank)
	}
	if p.DueDate != nil || p.ClearDueDate {
		b.WriteString(`, due_ms = ?, due_sort = ?`)
		args = append(args, r.dueMs, r.dueSort)
	}
	if p.Tags != nil {
		b.WriteString(`, tags = ?`)
		args = append(args, r.tags)
	}
	b.WriteString(` WHERE id = ?`)
	args = append(args, t.ID)
	return b.String(), args
}

// DeleteTask removes the task and leaves a tombstone for ChangesSince. The
// event's Version is one past the task's last, so a client that applies
// only newer versions still applies the delete.
func (db *DB) DeleteTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID, ifVersion int64) (authdash.Event, error) {
	if !validID(string(id)) {
		return authdash.Event{}, db.fail(ctx, "delete task", errTaskNotFound())
	}
	ev := authdash.Event{Kind: authdash.EventTaskDeleted, Owner: owner, TaskID: id}
	err := db.write(ctx, func(tx *wtx) error {
		cur, err := current(tx, owner, id, ifVersion)
		if err != nil {
			return err
		}
		if ev.Seq, err = nextSeq(tx, owner); err != nil {
			return err
		}
		ev.Version = cur.Version + 1
		ev.At = db.now()
		content, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM tasks WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = tx.exec(`INSERT INTO tombstones (task_id, owner_id, seq, version, deleted_ms, task) VALUES (?, ?, ?, ?, ?, ?)`,
			id, owner, ev.Seq, ev.Version, ev.At.UnixMilli(), string(content))
		return err
	})
	if err != nil {
		return authdash.Event{}, db.fail(ctx, "delete task", err)
	}
	return ev, nil
}

// RestoreTask puts a deleted task back from its tombstone's copy, in one
// transaction: the task row (new version, time and Seq), its tags, and the
// tombstone gone, so ChangesSince reports the task once, live.
func (db *DB) RestoreTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID, deletedSince time.Time) (*authdash.Task, authdash.Event, error) {
	if !validID(string(id)) {
		return nil, authdash.Event{}, db.fail(ctx, "restore task", errNothingToRestore())
	}
	var t *authdash.Task
	var seq int64
	err := db.write(ctx, func(tx *wtx) error {
		var live int
		err := tx.queryRow(`SELECT 1 FROM tasks WHERE id = ? AND owner_id = ?`, id, owner).Scan(&live)
		switch {
		case err == nil:
			return errNotDeleted()
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var version, deletedMs int64
		var content sql.NullString
		err = tx.queryRow(`SELECT version, deleted_ms, task FROM tombstones WHERE task_id = ? AND owner_id = ?`, id, owner).
			Scan(&version, &deletedMs, &content)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return errNothingToRestore()
		case err != nil:
			return err
		case !content.Valid || deletedMs < deletedSince.UnixMilli():
			return errNothingToRestore()
		}
		t = new(authdash.Task)
		if err := json.Unmarshal([]byte(content.String), t); err != nil {
			return fmt.Errorf("tombstone of %s: %w", id, err)
		}
		if t.Tags == nil {
			t.Tags = []string{}
		}
		t.Version = version + 1
		t.UpdatedAt = db.now()
		if seq, err = nextSeq(tx, owner); err != nil {
			return err
		}
		if err := insertTaskRow(tx, owner, t, seq); err != nil {
			return err
		}
		_, err = tx.exec(`DELETE FROM tombstones WHERE task_id = ?`, id)
		return err
	})
	if err != nil {
		return nil, authdash.Event{}, db.fail(ctx, "restore task", err)
	}
	ev := authdash.Event{Kind: authdash.EventTaskCreated, Owner: owner, Seq: seq, TaskID: id, Version: t.Version, Task: cloneTask(t), At: t.UpdatedAt}
	return t, ev, nil
}

func errNothingToRestore() error {
	return authdash.Errorf(authdash.CodeNotFound, "There is no deleted task to restore: it was never there, or was deleted too long ago.")
}

func errNotDeleted() error {
	return authdash.Errorf(authdash.CodeConflict, "The task is not deleted.")
}

// PurgeDeletedContent forgets the content of tasks deleted before
// olderThan, which can then no longer be restored; their tombstones stay in
// the change log until PurgeTombstones. It returns how many it cleared.
func (db *DB) PurgeDeletedContent(ctx context.Context, olderThan time.Time) (int, error) {
	return db.purge(ctx, "purge deleted content",
		`UPDATE tombstones SET task = NULL WHERE deleted_ms < ? AND task IS NOT NULL`, olderThan)
}

// PurgeIdempotencyKeys forgets the keys of creates recorded before
// olderThan. It returns how many went.
func (db *DB) PurgeIdempotencyKeys(ctx context.Context, olderThan time.Time) (int, error) {
	return db.purge(ctx, "purge idempotency keys", `DELETE FROM idempotency_keys WHERE created_ms < ?`, olderThan)
}

// purge runs one statement bounded by a time in milliseconds and returns
// how many rows it changed.
func (db *DB) purge(ctx context.Context, op, query string, olderThan time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(query, olderThan.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.fail(ctx, op, err)
	}
	return int(n), nil
}

// TaskStats counts the owner's tasks by status.
func (db *DB) TaskStats(ctx context.Context, owner authdash.UserID) (authdash.TaskStats, error) {
	var st authdash.TaskStats
	rows, err := db.query(ctx, `SELECT status, count(*) FROM tasks WHERE owner_id = ? GROUP BY status`, owner)
	if err != nil {
		return st, db.fail(ctx, "task stats", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s authdash.TaskStatus
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return authdash.TaskStats{}, db.fail(ctx, "task stats", err)
		}
		switch s {
		case authdash.StatusTodo:
			st.Todo = n
		case authdash.StatusInProgress:
			st.InProgress = n
		case authdash.StatusDone:
			st.Done = n
		}
		st.Total += n
	}
	if err := rows.Err(); err != nil {
		return authdash.TaskStats{}, db.fail(ctx, "task stats", err)
	}
	return st, nil
}

// ChangeHead implements authdash.TaskStore: the owner's head is kept on its
// row, so it is one indexed read.
func (db *DB) ChangeHead(ctx context.Context, owner authdash.UserID) (int64, error) {
	if !validID(string(owner)) {
		return 0, db.fail(ctx, "change head", errUserNotFound())
	}
	row, err := db.queryRow(ctx, `SELECT seq FROM users WHERE id = ?`, owner)
	if err != nil {
		return 0, db.fail(ctx, "change head", err)
	}
	var head int64
	err = row.Scan(&head)
	if errors.Is(err, sql.ErrNoRows) {
		err = errUserNotFound()
	}
	if err != nil {
		return 0, db.fail(ctx, "change head", err)
	}
	return head, nil
}

// ChangesSince returns the latest change of each of the owner's tasks
// changed after since, in Seq order, read from one snapshot.
func (db *DB) ChangesSince(ctx context.Context, owner authdash.UserID, since int64, limit int) ([]authdash.Event, int64, bool, error) {
	if !validID(string(owner)) {
		return nil, 0, false, db.fail(ctx, "changes since", errUserNotFound())
	}
	// Statements are taken from the pool's cache before the transaction
	// holds a reader: preparing on the pool from inside it would need a second
	// reader, and a burst of resumes holding every reader would then wait on
	// each other until their deadlines.
	queries := [...]string{
		`SELECT seq, log_floor FROM users WHERE id = ?`,
		`SELECT ` + taskCols + `, t.seq FROM tasks t WHERE t.owner_id = ? AND t.seq > ? ORDER BY t.seq LIMIT ?`,
		`SELECT task_id, seq, version, deleted_ms FROM tombstones WHERE owner_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
	}
	var cached [len(queries)]*sql.Stmt
	for i, q := range queries {
		s, err := db.stmt(ctx, db.r, q)
		if err != nil {
			return nil, 0, false, db.fail(ctx, "changes since", err)
		}
		cached[i] = s
	}
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, false, db.fail(ctx, "changes since", err)
	}
	defer tx.Rollback()
	stmt := func(i int) (*sql.Stmt, error) {
		if cached[i] == nil {
			return tx.PrepareContext(ctx, queries[i])
		}
		return tx.StmtContext(ctx, cached[i]), nil
	}

	var head, floor int64
	s, err := stmt(0)
	if err == nil {
		err = s.QueryRowContext(ctx, owner).Scan(&head, &floor)
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = errUserNotFound()
	}
	if err != nil {
		return nil, 0, false, db.fail(ctx, "changes since", err)
	}
	// since > head: the client's log came from another database.
	if since < floor || since > head || limit < 0 {
		return nil, head, false, nil
	}

	var evs []authdash.Event
	s, err = stmt(1)
	if err != nil {
		return nil, 0, false, db.fail(ctx, "changes since", err)
	}
	rows, err := s.QueryContext(ctx, owner, since, limit+1)
	if err != nil {
		return nil, 0, false, db.fail(ctx, "changes since", err)
	}
	for rows.Next() {
		var seq int64
		t, err := scanTask(rows, &seq)
		if err != nil {
			rows.Close()
			return nil, 0, false, db.fail(ctx, "changes since", err)
		}
		kind := authdash.EventTaskUpdated
		if t.Version == 1 {
			kind = authdash.EventTaskCreated
		}
		evs = append(evs, authdash.Event{Kind: kind, Owner: owner, Seq: seq, TaskID: t.ID, Version: t.Version, Task: t, At: t.UpdatedAt})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, false, db.fail(ctx, "changes since", err)
	}
	if len(evs) > limit {
		return nil, head, false, nil
	}

	s, err = stmt(2)
	if err != nil {
		return nil, 0, false, db.fail(ctx, "changes since", err)
	}
	rows, err = s.QueryContext(ctx, owner, since, limit+1-len(evs))
	if err != nil {
		return nil, 0, false, db.fail(ctx, "changes since", err)
	}
	defer rows.Close()
	for rows.Next() {
		ev := authdash.Event{Kind: authdash.EventTaskDeleted, Owner: owner}
		var ms int64
		if err := rows.Scan(&ev.TaskID, &ev.Seq, &ev.Version, &ms); err != nil {
			return nil, 0, false, db.fail(ctx, "changes since", err)
		}
		ev.At = fromMillis(ms)
		evs = append(evs, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, false, db.fail(ctx, "changes since", err)
	}
	if len(evs) > limit {
		return nil, head, false, nil
	}
	slices.SortFunc(evs, func(a, b authdash.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	return evs, head, true, nil
}

// PurgeTombstones deletes tombstones of deletions before olderThan and
// raises each affected owner's log floor past them, so a client asking for
// changes from before the floor is told to reload rather than miss a delete.
func (db *DB) PurgeTombstones(ctx context.Context, olderThan time.Time) (int, error) {
	var n int64
	ms := olderThan.UnixMilli()
	err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`UPDATE users SET log_floor = max(log_floor,
				(SELECT max(b.seq) FROM tombstones b WHERE b.owner_id = users.id AND b.deleted_ms < ?))
			WHERE id IN (SELECT owner_id FROM tombstones WHERE deleted_ms < ?)`, ms, ms)
		if err != nil {
			return err
		}
		res, err := tx.exec(`DELETE FROM tombstones WHERE deleted_ms < ?`, ms)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, db.fail(ctx, "purge tombstones", err)
	}
	return int(n), nil
}
