package sqlite

import (
	"context"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/authdash/authdash"
)

// defaultSearchWindow is how many of the owner's tasks (in page order) a
// search reads directly before it turns to the trigram index. A term that
// matches often fills the page well within the window; one that matches
// rarely is found through the index instead of by reading all the owner's
// tasks.
const defaultSearchWindow = 100

// ownerKey maps an owner to three characters of Unicode's private use area:
// exactly one trigram, so the search index can narrow a match to one
// owner's tasks before reading any. Owners may share a key; the query's
// owner_id condition drops the strays.
func ownerKey(owner authdash.UserID) string {
	const first, size = 0xE000, 6400 // U+E000 to U+F8FF
	h := fnv.New64a()
	h.Write([]byte(owner))
	v := h.Sum64()
	return string([]rune{rune(first + v%size), rune(first + v/size%size), rune(first + v/size/size%size)})
}

// sortColumn is the indexed column that orders tasks by s.
func sortColumn(s authdash.TaskSort) string {
	switch s {
	case authdash.SortUpdated:
		return "t.updated_ms"
	case authdash.SortDue:
		return "t.due_sort"
	case authdash.SortPriority:
		return "t.priority_rank"
	case authdash.SortTitle:
		return "t.title_key"
	default:
		return "t.created_ms"
	}
}

// FindTasks returns one page of the owner's tasks. Paging is by keyset: the
// cursor holds the last task's sort key and ID, and the next page starts
// strictly after that pair, so inserts and deletes between pages neither
// skip nor repeat a task.
func (db *DB) FindTasks(ctx context.Context, owner authdash.UserID, q authdash.TaskQuery) (authdash.TaskPage, error) {
	if q.Sort == "" {
		q.Sort = authdash.SortCreated
	}
	if q.Order == "" {
		q.Order = authdash.Desc
	}
	if q.Limit <= 0 {
		q.Limit = authdash.DefaultPageSize
	}
	q.Limit = min(q.Limit, authdash.MaxPageSize)
	var after *authdash.Cursor
	if q.Cursor != "" {
		c, err := authdash.DecodeCursor(q.Cursor, q.Sort, q.Order)
		if err != nil {
			msg := "Cursor is not valid for this query."
			return authdash.TaskPage{}, db.fail(ctx, "find tasks", &authdash.Error{
				Code: authdash.CodeInvalid, Message: msg, Fields: map[string]string{"cursor": msg}, Err: err})
		}
		after = &c
	}

	items, err := db.findTasks(ctx, owner, q, after)
	if err != nil {
		return authdash.TaskPage{}, db.fail(ctx, "find tasks", err)
	}
	page := authdash.TaskPage{Items: items}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		page.NextCursor = authdash.SortKey(page.Items[q.Limit-1], q.Sort, q.Order).Encode()
	}
	return page, nil
}

// findTasks returns up to q.Limit+1 tasks after the cursor, the extra one
// telling whether another page follows.
func (db *DB) findTasks(ctx context.Context, owner authdash.UserID, q authdash.TaskQuery, after *authdash.Cursor) ([]authdash.Task, error) {
	want := q.Limit + 1
	// The trigram index needs three characters; shorter terms match so
	// much that reading the owner's tasks in order finds a page quickly.
	if utf8.RuneCountInString(q.Search) < 3 {
		return db.taskRows(ctx, findTasksSQL(owner, q, after, nil, scanRows), nil, want)
	}
	// Where does the window end? No boundary: the owner has no more than
	// the window's worth of candidates, so reading them all is cheap.
	st := findTasksSQL(owner, q, after, nil, scanBoundary)
	st.args = append(st.args, db.searchWindow-1)
	bound, err := db.boundary(ctx, st, q.Sort)
	if err != nil {
		return nil, err
	}
	if bound == nil {
		return db.taskRows(ctx, findTasksSQL(owner, q, after, nil, scanRows), nil, want)
	}
	items, err := db.taskRows(ctx, findTasksSQL(owner, q, after, bound, scanRows), nil, want)
	if err != nil || len(items) == want {
		return items, err
	}
	// The term is rare among the owner's tasks: the rest of the page comes
	// from the tasks past the window that the trigram index names.
	return db.taskRows(ctx, findTasksSQL(owner, q, bound, nil, scanTrigram), items, want)
}

type scanMode int

const (
	scanRows     scanMode = iota // read tasks in page order
	scanBoundary                 // the sort key and ID of the window's last task
	scanTrigram                  // read tasks the trigram index says may match
)

type sqlArgs struct {
	query string
	args  []any
}

// findTasksSQL builds a statement for FindTasks: tasks of the owner that
// pass q's filters, strictly after the position after and, if upTo is set,
// no further than upTo, in page order. Filters on columns other than the
// sort key are written +column so that SQLite walks the sort index and
// stops after the page rather than sorting the owner's whole list.
func findTasksSQL(owner authdash.UserID, q authdash.TaskQuery, after, upTo *authdash.Cursor, mode scanMode) sqlArgs {
	col := sortColumn(q.Sort)
	filter := func(c string) string {
		if c == col {
			return c
		}
		return "+" + c
	}
	var b strings.Builder
	args := make([]any, 0, 16)
	if mode == scanBoundary {
		b.WriteString(`SELECT ` + col + `, t.id FROM tasks t WHERE t.owner_id = ?`)
	} else {
		b.WriteString(`SELECT ` + taskCols + ` FROM tasks t WHERE t.owner_id = ?`)
	}
	args = append(args, owner)
	if q.Status != "" {
		b.WriteString(` AND ` + filter("t.status") + ` = ?`)
		args = append(args, q.Status)
	}
	if q.Priority != "" {
		b.WriteString(` AND ` + filter("t.priority_rank") + ` = ?`)
		args = append(args, q.Priority.Rank())
	}
	if q.Search != "" && mode != scanBoundary {
		// instr is a literal match: no LIKE wildcards, no escaping to get
		// wrong. Both sides are lower-cased in Go, which folds all of
		// Unicode where SQLite's lower() folds only ASCII.
		s := strings.ToLower(q.Search)
		if mode == scanTrigram {
			// The owner's trigram and a phrase of the term's trigrams;
			// the owner_id and instr conditions then confirm. SQLite
			// still walks the sort index, probing the (Bloom-filtered)
			// list of matches, and so stops once the page is full: for a
			// middling term that beats sorting all its matches.
			b.WriteString(` AND t.rid IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ?)`)
			args = append(args, `owner_key : "`+ownerKey(owner)+`" AND {title_key desc_key} : "`+strings.ReplaceAll(s, `"`, `""`)+`"`)
		}
		b.WriteString(` AND (instr(t.title_key, ?) > 0 OR instr(t.desc_key, ?) > 0)`)
		args = append(args, s, s)
	}
	if q.Tag != "" {
		b.WriteString(` AND t.id IN (SELECT g.task_id FROM task_tags g WHERE g.owner_id = ? AND g.tag_key = ?)`)
		args = append(args, owner, strings.ToLower(q.Tag))
	}
	if q.DueBefore != nil {
		// Undated tasks sort as NoDue, after every date, so this also
		// excludes them.
		b.WriteString(` AND ` + filter("t.due_sort") + ` < ?`)
		args = append(args, q.DueBefore.UnixMilli())
	}
	if q.DueAfter != nil {
		due := filter("t.due_sort")
		b.WriteString(` AND ` + due + ` > ? AND ` + due + ` < ` + strconv.FormatInt(authdash.NoDue, 10))
		args = append(args, q.DueAfter.UnixMilli())
	}
	dir, past, upto := "ASC", ">", "<="
	if q.Order == authdash.Desc {
		dir, past, upto = "DESC", "<", ">="
	}
	key := func(c *authdash.Cursor) {
		if q.Sort == authdash.SortTitle {
			args = append(args, c.Str, c.ID)
		} else {
			args = append(args, c.Int, c.ID)
		}
	}
	if after != nil {
		b.WriteString(` AND (` + col + `, t.id) ` + past + ` (?, ?)`)
		key(after)
	}
	if upTo != nil {
		b.WriteString(` AND (` + col + `, t.id) ` + upto + ` (?, ?)`)
		key(upTo)
	}
	b.WriteString(` ORDER BY ` + col + ` ` + dir + `, t.id ` + dir)
	if mode == scanBoundary {
		b.WriteString(` LIMIT 1 OFFSET ?`) // the caller appends the offset
	} else {
		b.WriteString(` LIMIT ?`)
		args = append(args, q.Limit+1)
	}
	return sqlArgs{b.String(), args}
}

// boundary returns the position of the last task of the search window, or
// nil if the window is not full.
func (db *DB) boundary(ctx context.Context, st sqlArgs, sort authdash.TaskSort) (*authdash.Cursor, error) {
	rows, err := db.query(ctx, st.query, st.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	c := &authdash.Cursor{}
	if sort == authdash.SortTitle {
		err = rows.Scan(&c.Str, &c.ID)
	} else {
		err = rows.Scan(&c.Int, &c.ID)
	}
	if err != nil {
		return nil, err
	}
	return c, rows.Close()
}

// taskRows appends the statement's tasks to items, up to want in all.
func (db *DB) taskRows(ctx context.Context, st sqlArgs, items []authdash.Task, want int) ([]authdash.Task, error) {
	if items == nil {
		items = make([]authdash.Task, 0, want)
	}
	rows, err := db.query(ctx, st.query, st.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() && len(items) < want {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, *t)
	}
	return items, rows.Err()
}
