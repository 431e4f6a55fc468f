package mongo

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/authdash/authdash"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// taskDoc is a task, or the tombstone of a deleted one, in the tasks
// collection. A task's document is also its entry in the owner's change log:
// Seq is the change number of its latest change, so ChangesSince is one
// range read of the (owner, seq) index. A delete turns the document into a
// tombstone (Deleted, content unset) in the same single-document update, so
// no deletion can ever be missing from the log.
type taskDoc struct {
	ID          bson.ObjectID         `bson:"_id"`
	Owner       bson.ObjectID         `bson:"owner"`
	Deleted     bool                  `bson:"deleted"`
	Seq         int64                 `bson:"seq"`
	Version     int64                 `bson:"version"`
	Title       string                `bson:"title"`
	Description string                `bson:"description"`
	Status      authdash.TaskStatus   `bson:"status"`
	Priority    authdash.TaskPriority `bson:"priority"`
	DueDate     *time.Time            `bson:"dueDate"`
	Tags        []string              `bson:"tags"`
	CreatedAt   time.Time             `bson:"createdAt"`
	UpdatedAt   time.Time             `bson:"updatedAt"`

	// Keys derived in Go (authdash.TitleKey, DueKey, Priority.Rank) and
	// written with the fields they derive from, so both stores sort, filter
	// and page identically whatever the server's collation.
	TitleKey string   `bson:"titleKey"`
	DescKey  string   `bson:"descKey"`
	TagKeys  []string `bson:"tagKeys"`
	PrioRank int64    `bson:"prioRank"`
	DueKey   int64    `bson:"dueKey"`
	// The search's trigrams of TitleKey and DescKey (grams.go).
	TitleGrams []string `bson:"titleGrams"`
	DescGrams  []string `bson:"descGrams"`
}

func (d *taskDoc) task() *authdash.Task {
	t := &authdash.Task{
		ID:          authdash.TaskID(d.ID.Hex()),
		Title:       d.Title,
		Description: d.Description,
		Status:      d.Status,
		Priority:    d.Priority,
		Tags:        d.Tags,
		CreatedAt:   utc(d.CreatedAt),
		UpdatedAt:   utc(d.UpdatedAt),
		Version:     d.Version,
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if d.DueDate != nil {
		due := utc(*d.DueDate)
		t.DueDate = &due
	}
	return t
}

// event is the change d records in the owner's log.
func (d *taskDoc) event(owner authdash.UserID) authdash.Event {
	ev := authdash.Event{Owner: owner, Seq: d.Seq, TaskID: authdash.TaskID(d.ID.Hex()), Version: d.Version, At: utc(d.UpdatedAt)}
	switch {
	case d.Deleted:
		ev.Kind = authdash.EventTaskDeleted
	case d.Version == 1:
		ev.Kind, ev.Task = authdash.EventTaskCreated, d.task()
	default:
		ev.Kind, ev.Task = authdash.EventTaskUpdated, d.task()
	}
	return ev
}

// taskFields leaves the derived keys out of what reads ship back.
var taskFields = bson.D{{Key: "titleKey", Value: 0}, {Key: "descKey", Value: 0}, {Key: "tagKeys", Value: 0},
	{Key: "titleGrams", Value: 0}, {Key: "descGrams", Value: 0}}

func tagKeys(tags []string) []string {
	keys := make([]string, len(tags))
	for i, t := range tags {
		keys[i] = strings.ToLower(t)
	}
	return keys
}

func errTaskNotFound() error { return authdash.Errorf(authdash.CodeNotFound, "Task not found.") }

func errStale() error {
	return authdash.Errorf(authdash.CodePreconditionFailed, "The task was changed by someone else; reload it and try again.")
}

// maxSeqRetries bounds how often a write takes a new change stamp after
// another instance's write to the same owner took the same stamp, or to the
// same task a later one.
const maxSeqRetries = 8

// stamps hands out change stamps: microseconds since the epoch, strictly
// increasing on this instance. A stamp needs no round trip, which keeps
// every task write to one command; the unique (owner, seq) index catches
// the rare equal stamp of two instances, and the write then retries. Across
// instances stamps follow the clocks, which NTP keeps within milliseconds:
// docs/REALTIME.md says what that ordering costs a client.
type stamps struct {
	clock func() time.Time
	last  atomic.Int64
}

// next returns a stamp above both the previous one and floor.
func (c *stamps) next(floor int64) int64 {
	for {
		prev := c.last.Load()
		n := max(c.clock().UnixMicro(), prev+1, floor+1)
		if c.last.CompareAndSwap(prev, n) {
			return n
		}
	}
}

// CreateTask stores a validated draft with one insert. It does not read the
// owner's document, which would be a second round trip: the owner is the
// authenticated caller, and a task created by a just-deleted account's
// still-valid token is unreachable and removed by SweepDeletedAccounts.
func (db *DB) CreateTask(ctx context.Context, owner authdash.UserID, d authdash.TaskDraft) (*authdash.Task, authdash.Event, error) {
	uid, ok := objectID(string(owner))
	if !ok {
		return nil, authdash.Event{}, db.fail(ctx, "create task", errUserNotFound())
	}
	doc := db.newTaskDoc(uid, d)
	if err := db.insertTask(ctx, &doc); err != nil {
		return nil, authdash.Event{}, db.fail(ctx, "create task", err)
	}
	return doc.task(), doc.event(owner), nil
}

// newTaskDoc is the document of a new task made from a validated draft.
func (db *DB) newTaskDoc(owner bson.ObjectID, d authdash.TaskDraft) taskDoc {
	t := db.now()
	tags := slices.Clone(d.Tags)
	if tags == nil {
		tags = []string{}
	}
	var due *time.Time
	if d.DueDate != nil {
		v := authdash.Millis(*d.DueDate)
		due = &v
	}
	return taskDoc{
		ID:          bson.NewObjectID(),
		Owner:       owner,
		Version:     1,
		Title:       d.Title,
		Description: d.Description,
		Status:      d.Status,
		Priority:    d.Priority,
		DueDate:     due,
		Tags:        tags,
		CreatedAt:   t,
		UpdatedAt:   t,
		TitleKey:    authdash.TitleKey(d.Title),
		DescKey:     strings.ToLower(d.Description),
		TitleGrams:  fieldGrams(authdash.TitleKey(d.Title)),
		DescGrams:   fieldGrams(strings.ToLower(d.Description)),
		TagKeys:     tagKeys(tags),
		PrioRank:    int64(d.Priority.Rank()),
		DueKey:      authdash.DueKey(due),
	}
}

// insertTask inserts doc with a fresh change stamp, taking another when an
// instance's write to the same owner took the same one.
func (db *DB) insertTask(ctx context.Context, doc *taskDoc) error {
	for range maxSeqRetries {
		doc.Seq = db.stamps.next(0)
		_, err := db.tasks.InsertOne(ctx, doc)
		if isDuplicate(err) {
			continue // another instance's write took this stamp for this owner
		}
		return err
	}
	return errTooFast()
}

func errTooFast() error {
	return authdash.Errorf(authdash.CodeUnavailable, "The tasks are changing too fast; try again.")
}

// FindTask returns the owner's live task with that id.
func (db *DB) FindTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID) (*authdash.Task, error) {
	uid, ok1 := objectID(string(owner))
	tid, ok2 := objectID(string(id))
	if !ok1 || !ok2 {
		return nil, db.fail(ctx, "find task", errTaskNotFound())
	}
	var d taskDoc
	err := db.tasks.FindOne(ctx, liveTask(uid, tid), options.FindOne().SetProjection(taskFields)).Decode(&d)
	if err != nil {
		return nil, db.fail(ctx, "find task", notFound(err, errTaskNotFound))
	}
	return d.task(), nil
}

// liveTask is the filter of one owner's live task: the owner is in every
// task query, so another owner's task is indistinguishable from a missing
// one, and on a cluster sharded by owner each query goes to one shard.
func liveTask(owner, id bson.ObjectID) bson.D {
	return bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: owner}, {Key: "deleted", Value: false}}
}

// UpdateTask applies a validated patch with one findOneAndUpdate whose
// filter carries the owner, the expected version (when ifVersion is set) and
// "seq below ours". That last clause keeps a task's Seq rising: if another
// instance's write with a later stamp got to the document first, this one
// takes a stamp above it and tries again rather than stamp newer content
// with an older number that clients have already passed.
func (db *DB) UpdateTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID, p authdash.TaskPatch, ifVersion int64) (*authdash.Task, authdash.Event, error) {
	uid, ok1 := objectID(string(owner))
	tid, ok2 := objectID(string(id))
	if !ok1 || !ok2 {
		return nil, authdash.Event{}, db.fail(ctx, "update task", errTaskNotFound())
	}
	d, err := db.change(ctx, uid, tid, ifVersion, func(t time.Time) bson.D {
		set := bson.D{{Key: "updatedAt", Value: t}}
		if p.Title != nil {
			key := authdash.TitleKey(*p.Title)
			set = append(set, bson.E{Key: "title", Value: *p.Title}, bson.E{Key: "titleKey", Value: key},
				bson.E{Key: "titleGrams", Value: fieldGrams(key)})
		}
		if p.Description != nil {
			key := strings.ToLower(*p.Description)
			set = append(set, bson.E{Key: "description", Value: *p.Description}, bson.E{Key: "descKey", Value: key},
				bson.E{Key: "descGrams", Value: fieldGrams(key)})
		}
		if p.Status != nil {
			set = append(set, bson.E{Key: "status", Value: *p.Status})
		}
		if p.Priority != nil {
			set = append(set, bson.E{Key: "priority", Value: *p.Priority}, bson.E{Key: "prioRank", Value: int64(p.Priority.Rank())})
		}
		switch {
		case p.ClearDueDate:
			set = append(set, bson.E{Key: "dueDate", Value: nil}, bson.E{Key: "dueKey", Value: authdash.NoDue})
		case p.DueDate != nil:
			due := authdash.Millis(*p.DueDate)
			set = append(set, bson.E{Key: "dueDate", Value: due}, bson.E{Key: "dueKey", Value: authdash.DueKey(&due)})
		}
		if p.Tags != nil {
			tags := slices.Clone(*p.Tags)
			if tags == nil {
				tags = []string{}
			}
			set = append(set, bson.E{Key: "tags", Value: tags}, bson.E{Key: "tagKeys", Value: tagKeys(tags)})
		}
		return bson.D{{Key: "$set", Value: set}}
	})
	if err != nil {
		return nil, authdash.Event{}, db.fail(ctx, "update task", err)
	}
	return d.task(), d.event(owner), nil
}

// DeleteTask turns the task into a tombstone: it leaves lists, counts and
// searches (they all ask for deleted: false), and its new version and
// change number put the deletion in ChangesSince. Its content stays for
// RestoreTask until PurgeDeletedContent unsets it.
func (db *DB) DeleteTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID, ifVersion int64) (authdash.Event, error) {
	uid, ok1 := objectID(string(owner))
	tid, ok2 := objectID(string(id))
	if !ok1 || !ok2 {
		return authdash.Event{}, db.fail(ctx, "delete task", errTaskNotFound())
	}
	d, err := db.change(ctx, uid, tid, ifVersion, func(t time.Time) bson.D {
		return bson.D{{Key: "$set", Value: bson.D{{Key: "deleted", Value: true}, {Key: "updatedAt", Value: t}}}}
	})
	if err != nil {
		return authdash.Event{}, db.fail(ctx, "delete task", err)
	}
	return d.event(owner), nil
}

// contentFields are what a tombstone keeps for a restore: the task's fields
// and the keys derived from them. A tombstone has content while it has a
// status.
var contentFields = []string{"title", "description", "status", "priority", "dueDate", "tags",
	"titleKey", "descKey", "tagKeys", "prioRank", "dueKey", "titleGrams", "descGrams"}

// RestoreTask turns a tombstone that still has its content back into the
// live task with one findOneAndUpdate, as UpdateTask changes a task. Only
// when nothing matched does it read the document to say why.
func (db *DB) RestoreTask(ctx context.Context, owner authdash.UserID, id authdash.TaskID, deletedSince time.Time) (*authdash.Task, authdash.Event, error) {
	uid, ok1 := objectID(string(owner))
	tid, ok2 := objectID(string(id))
	if !ok1 || !ok2 {
		return nil, authdash.Event{}, db.fail(ctx, "restore task", errNothingToRestore())
	}
	byID := bson.D{{Key: "_id", Value: tid}, {Key: "owner", Value: uid}}
	filter := append(slices.Clone(byID),
		bson.E{Key: "deleted", Value: true},
		bson.E{Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: authdash.Millis(deletedSince)}}},
		bson.E{Key: "status", Value: bson.D{{Key: "$exists", Value: true}}})
	d, err := db.stamped(ctx, filter, func(t time.Time) bson.D {
		return bson.D{{Key: "$set", Value: bson.D{{Key: "deleted", Value: false}, {Key: "updatedAt", Value: t}}}}
	}, func() (int64, error) {
		var cur struct {
			Deleted   bool      `bson:"deleted"`
			UpdatedAt time.Time `bson:"updatedAt"`
			Status    string    `bson:"status"`
			Seq       int64     `bson:"seq"`
		}
		err := db.tasks.FindOne(ctx, byID, options.FindOne().SetProjection(bson.D{
			{Key: "deleted", Value: 1}, {Key: "updatedAt", Value: 1}, {Key: "status", Value: 1}, {Key: "seq", Value: 1}})).Decode(&cur)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			return 0, errNothingToRestore()
		case err != nil:
			return 0, err
		case !cur.Deleted:
			return 0, errNotDeleted()
		case cur.Status == "" || cur.UpdatedAt.Before(authdash.Millis(deletedSince)):
			return 0, errNothingToRestore()
		}
		return cur.Seq, nil
	})
	if err != nil {
		return nil, authdash.Event{}, db.fail(ctx, "restore task", err)
	}
	ev := d.event(owner)
	ev.Kind = authdash.EventTaskCreated
	return d.task(), ev, nil
}

func errNothingToRestore() error {
	return authdash.Errorf(authdash.CodeNotFound, "There is no deleted task to restore: it was never there, or was deleted too long ago.")
}

func errNotDeleted() error {
	return authdash.Errorf(authdash.CodeConflict, "The task is not deleted.")
}

// PurgeDeletedContent unsets the content of tasks deleted before olderThan,
// which can then no longer be restored; their tombstones stay in the change
// log until PurgeTombstones. It returns how many it cleared.
func (db *DB) PurgeDeletedContent(ctx context.Context, olderThan time.Time) (int, error) {
	unset := bson.D{}
	for _, f := range contentFields {
		unset = append(unset, bson.E{Key: f, Value: ""})
	}
	res, err := db.tasks.UpdateMany(ctx, bson.D{
		{Key: "deleted", Value: true},
		{Key: "updatedAt", Value: bson.D{{Key: "$lt", Value: olderThan}}},
		{Key: "status", Value: bson.D{{Key: "$exists", Value: true}}},
	}, bson.D{{Key: "$unset", Value: unset}})
	if err != nil {
		return 0, db.fail(ctx, "purge deleted content", err)
	}
	return int(res.ModifiedCount), nil
}

// change applies update to the owner's live task (at version ifVersion,
// when not 0) with stamped, telling a missing task from a stale one.
func (db *DB) change(ctx context.Context, owner, id bson.ObjectID, ifVersion int64, update func(time.Time) bson.D) (*taskDoc, error) {
	filter := liveTask(owner, id)
	if ifVersion != 0 {
		filter = append(filter, bson.E{Key: "version", Value: ifVersion})
	}
	return db.stamped(ctx, filter, update, func() (int64, error) {
		var cur struct {
			Version int64 `bson:"version"`
			Seq     int64 `bson:"seq"`
		}
		err := db.tasks.FindOne(ctx, liveTask(owner, id),
			options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}, {Key: "seq", Value: 1}})).Decode(&cur)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			return 0, errTaskNotFound()
		case err != nil:
			return 0, err
		case ifVersion != 0 && cur.Version != ifVersion:
			return 0, errStale()
		}
		return cur.Seq, nil
	})
}

// stamped runs the write protocol shared by updates, deletes and restores:
// apply update (plus a new stamp, the version bump and the time) to the
// task filter matches, in one findOneAndUpdate, and return the document as
// written. Only when nothing matched does it call explain, which reads the
// task once and returns why (a domain error) or, when the task was merely
// overtaken by a later stamp (a clock ahead of ours), that stamp: the write
// then retries above it.
func (db *DB) stamped(ctx context.Context, filter bson.D, update func(time.Time) bson.D, explain func() (int64, error)) (*taskDoc, error) {
	var floor int64
	for range maxSeqRetries {
		seq := db.stamps.next(floor)
		f := append(slices.Clone(filter), bson.E{Key: "seq", Value: bson.D{{Key: "$lt", Value: seq}}})
		u := update(db.now())
		u = appendSet(u, bson.E{Key: "seq", Value: seq})
		u = append(u, bson.E{Key: "$inc", Value: bson.D{{Key: "version", Value: int64(1)}}})
		var d taskDoc
		err := db.tasks.FindOneAndUpdate(ctx, f, u,
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
		switch {
		case err == nil:
			return &d, nil
		case isDuplicate(err):
			continue // another instance's write took this stamp for this owner
		case !errors.Is(err, mongo.ErrNoDocuments):
			return nil, err
		}
		if floor, err = explain(); err != nil {
			return nil, err
		}
	}
	return nil, errTooFast()
}

// appendSet adds e to the $set stage of an update document.
func appendSet(u bson.D, e bson.E) bson.D {
	for i := range u {
		if u[i].Key == "$set" {
			u[i].Value = append(u[i].Value.(bson.D), e)
			return u
		}
	}
	return append(u, bson.E{Key: "$set", Value: bson.D{e}})
}

// sortField is the stored key that orders tasks by s.
func sortField(s authdash.TaskSort) string {
	switch s {
	case authdash.SortUpdated:
		return "updatedAt"
	case authdash.SortDue:
		return "dueKey"
	case authdash.SortPriority:
		return "prioRank"
	case authdash.SortTitle:
		return "titleKey"
	default:
		return "createdAt"
	}
}

// cursorValue is the value of the sort key that c points after, in the
// stored key's BSON type.
func cursorValue(c authdash.Cursor) any {
	switch c.Sort {
	case authdash.SortTitle:
		return c.Str
	case authdash.SortDue, authdash.SortPriority:
		return c.Int
	default:
		return time.UnixMilli(c.Int).UTC()
	}
}

// literal is a regular expression matching s and nothing else: every
// metacharacter escaped, and NUL (which a BSON regex cannot hold) written
// as an escape both PCRE and Go's regexp read.
func literal(s string) string {
	return strings.ReplaceAll(regexp.QuoteMeta(s), "\x00", `\x00`)
}

// taskFilter is FindTasks' filter: the owner first, then only typed values
// under fixed keys, so no part of q (which comes from a query string) can
// name a field or an operator. FuzzTaskFilter holds it to that. cursor and
// cursorID are the decoded q.Cursor (zero when it is empty).
func taskFilter(uid bson.ObjectID, q authdash.TaskQuery, cursor authdash.Cursor, cursorID bson.ObjectID) bson.D {
	filter := bson.D{{Key: "owner", Value: uid}, {Key: "deleted", Value: false}}
	if q.Status != "" {
		filter = append(filter, bson.E{Key: "status", Value: string(q.Status)})
	}
	if q.Priority != "" {
		filter = append(filter, bson.E{Key: "prioRank", Value: int64(q.Priority.Rank())})
	}
	if q.Tag != "" {
		filter = append(filter, bson.E{Key: "tagKeys", Value: strings.ToLower(q.Tag)})
	}
	if q.DueBefore != nil || q.DueAfter != nil {
		// Undated tasks sort as NoDue, after every date: "before" excludes
		// them by itself, "after" needs the explicit upper bound.
		upper := authdash.NoDue
		if q.DueBefore != nil {
			upper = min(upper, q.DueBefore.UnixMilli())
		}
		due := bson.D{{Key: "$lt", Value: upper}}
		if q.DueAfter != nil {
			due = append(due, bson.E{Key: "$gt", Value: q.DueAfter.UnixMilli()})
		}
		filter = append(filter, bson.E{Key: "dueKey", Value: due})
	}
	var and bson.A
	if q.Search != "" {
		// Both sides lower-cased in Go, as store/sqlite does, and the term
		// matched as a literal: regex metacharacters are escaped. Found
		// through the trigram indexes (grams.go).
		and = append(and, searchFilter(strings.ToLower(q.Search)))
	}
	field := sortField(q.Sort)
	op := "$gt"
	if q.Order == authdash.Desc {
		op = "$lt"
	}
	if q.Cursor != "" {
		v := cursorValue(cursor)
		and = append(and, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: field, Value: bson.D{{Key: op, Value: v}}}},
			bson.D{{Key: field, Value: v}, {Key: "_id", Value: bson.D{{Key: op, Value: cursorID}}}},
		}}})
	}
	if len(and) > 0 {
		filter = append(filter, bson.E{Key: "$and", Value: and})
	}
	return filter
}

// FindTasks returns one page of the owner's tasks in one round trip: a
// find whose filter starts with the owner, then only typed values under
// fixed keys (no user input ever names a field or an operator), sorted on
// an index and limited to one more task than the page, in a single batch.
func (db *DB) FindTasks(ctx context.Context, owner authdash.UserID, q authdash.TaskQuery) (authdash.TaskPage, error) {
	// TaskService normalised and validated q; a query that skipped it
	// is a bug of the caller's, refused rather than given defaults here.
	if err := q.CheckNormalized(); err != nil {
		return authdash.TaskPage{}, db.fail(ctx, "find tasks", err)
	}
	page := authdash.TaskPage{Items: []authdash.Task{}}

	var cursor authdash.Cursor
	var cursorID bson.ObjectID
	if q.Cursor != "" {
		c, err := authdash.DecodeCursor(q.Cursor, q.Sort, q.Order)
		id, ok := objectID(string(c.ID))
		if err == nil && !ok {
			err = errors.New("cursor names no task")
		}
		if err != nil {
			msg := "Cursor is not valid for this query."
			return page, db.fail(ctx, "find tasks", &authdash.Error{
				Code: authdash.CodeInvalid, Message: msg, Fields: map[string]string{"cursor": msg}, Err: err})
		}
		cursor, cursorID = c, id
	}
	uid, ok := objectID(string(owner))
	if !ok || !utf8.ValidString(q.Search) {
		// Nobody's tasks, or a search no stored (valid UTF-8) text can
		// contain.
		return page, nil
	}

	filter := taskFilter(uid, q, cursor, cursorID)
	field := sortField(q.Sort)
	dir := 1
	if q.Order == authdash.Desc {
		dir = -1
	}

	cur, err := db.tasks.Find(ctx, filter, options.Find().
		SetProjection(taskFields).
		SetSort(bson.D{{Key: field, Value: dir}, {Key: "_id", Value: dir}}).
		// Negative: everything in the first reply and the cursor closed,
		// so no getMore or killCursors round trip follows.
		SetLimit(-int64(q.Limit+1)))
	if err != nil {
		return page, db.fail(ctx, "find tasks", err)
	}
	var docs []taskDoc
	if err := cur.All(ctx, &docs); err != nil {
		return page, db.fail(ctx, "find tasks", err)
	}
	for i := range docs {
		page.Items = append(page.Items, *docs[i].task())
	}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		page.NextCursor = authdash.SortKey(page.Items[q.Limit-1], q.Sort, q.Order).Encode()
	}
	return page, nil
}

// TaskStats counts the owner's live tasks by status in one aggregation.
func (db *DB) TaskStats(ctx context.Context, owner authdash.UserID) (authdash.TaskStats, error) {
	var st authdash.TaskStats
	uid, ok := objectID(string(owner))
	if !ok {
		return st, nil
	}
	cur, err := db.tasks.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "owner", Value: uid}, {Key: "deleted", Value: false}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return st, db.fail(ctx, "task stats", err)
	}
	var groups []struct {
		Status authdash.TaskStatus `bson:"_id"`
		N      int                 `bson:"n"`
	}
	if err := cur.All(ctx, &groups); err != nil {
		return st, db.fail(ctx, "task stats", err)
	}
	for _, g := range groups {
		switch g.Status {
		case authdash.StatusTodo:
			st.Todo = g.N
		case authdash.StatusInProgress:
			st.InProgress = g.N
		case authdash.StatusDone:
			st.Done = g.N
		}
		st.Total += g.N
	}
	return st, nil
}

// ChangesSince returns the latest change of each of the owner's tasks
// changed after since, in Seq order. It reads the head first (the highest
// stamp in the owner's log, or the log floor if higher) and then only changes
// up to that head, so every event returned is at or below the head it
// reports; a change committed in between arrives live or at the next resume.
func (db *DB) ChangesSince(ctx context.Context, owner authdash.UserID, since int64, limit int) ([]authdash.Event, int64, bool, error) {
	uid, ok := objectID(string(owner))
	if !ok {
		return nil, 0, false, db.fail(ctx, "changes since", errUserNotFound())
	}
	head, floor, err := db.head(ctx, uid)
	if err != nil {
		return nil, 0, false, db.fail(ctx, "changes since", err)
	}
	// since > head: the client's log came from another database.
	if since < floor || since > head || limit < 0 {
		return nil, head, false, nil
	}
	evs := []authdash.Event{}
	if since == head {
		return evs, head, true, nil
	}
	cur, err := db.tasks.Find(ctx, bson.D{
		{Key: "owner", Value: uid},
		{Key: "seq", Value: bson.D{{Key: "$gt", Value: since}, {Key: "$lte", Value: head}}},
	}, options.Find().SetProjection(taskFields).SetSort(bson.D{{Key: "seq", Value: 1}}).SetLimit(-int64(limit+1)))
	if err != nil {
		return nil, 0, false, db.fail(ctx, "changes since", err)
	}
	var docs []taskDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, 0, false, db.fail(ctx, "changes since", err)
	}
	if len(docs) > limit {
		return nil, head, false, nil
	}
	for i := range docs {
		evs = append(evs, docs[i].event(owner))
	}
	return evs, head, true, nil
}

// ChangeHead implements authdash.TaskStore.
func (db *DB) ChangeHead(ctx context.Context, owner authdash.UserID) (int64, error) {
	uid, ok := objectID(string(owner))
	if !ok {
		return 0, db.fail(ctx, "change head", errUserNotFound())
	}
	head, _, err := db.head(ctx, uid)
	if err != nil {
		return 0, db.fail(ctx, "change head", err)
	}
	return head, nil
}

// head reads the owner's log floor (the highest purged Seq) and returns the
// head of its change log: the highest Seq of its tasks, one indexed lookup,
// or the floor if higher.
func (db *DB) head(ctx context.Context, uid bson.ObjectID) (head, floor int64, err error) {
	var u struct {
		LogFloor int64 `bson:"logFloor"`
	}
	err = db.users.FindOne(ctx, bson.D{{Key: "_id", Value: uid}},
		options.FindOne().SetProjection(bson.D{{Key: "logFloor", Value: 1}})).Decode(&u)
	if err != nil {
		return 0, 0, notFound(err, errUserNotFound)
	}
	var top struct {
		Seq int64 `bson:"seq"`
	}
	err = db.tasks.FindOne(ctx, bson.D{{Key: "owner", Value: uid}},
		options.FindOne().SetSort(bson.D{{Key: "seq", Value: -1}}).
			SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "seq", Value: 1}})).Decode(&top)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, 0, fmt.Errorf("head: %w", err)
	}
	return max(top.Seq, u.LogFloor), u.LogFloor, nil
}

// PurgeTombstones deletes tombstones of tasks deleted before olderThan and
// raises each affected owner's log floor past them first, so a client
// asking for changes from before the floor is told to reload rather than
// miss a delete. Raising the floor first keeps a crash in between safe
// (clients reload; the tombstones go next time). It returns how many
// tombstones went.
func (db *DB) PurgeTombstones(ctx context.Context, olderThan time.Time) (int, error) {
	dead := bson.D{{Key: "deleted", Value: true}, {Key: "updatedAt", Value: bson.D{{Key: "$lt", Value: olderThan}}}}
	cur, err := db.tasks.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: dead}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$owner"}, {Key: "seq", Value: bson.D{{Key: "$max", Value: "$seq"}}}}}},
	})
	if err != nil {
		return 0, db.fail(ctx, "purge tombstones", err)
	}
	var owners []struct {
		Owner bson.ObjectID `bson:"_id"`
		Seq   int64         `bson:"seq"`
	}
	if err := cur.All(ctx, &owners); err != nil {
		return 0, db.fail(ctx, "purge tombstones", err)
	}
	n := 0
	for _, o := range owners {
		_, err := db.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: o.Owner}},
			bson.D{{Key: "$max", Value: bson.D{{Key: "logFloor", Value: o.Seq}}}})
		if err != nil {
			return n, db.fail(ctx, "purge tombstones: raise floor", err)
		}
		filter := append(bson.D{{Key: "owner", Value: o.Owner}, {Key: "seq", Value: bson.D{{Key: "$lte", Value: o.Seq}}}}, dead...)
		res, err := db.tasks.DeleteMany(ctx, filter)
		if err != nil {
			return n, db.fail(ctx, "purge tombstones", err)
		}
		n += int(res.DeletedCount)
	}
	return n, nil
}
