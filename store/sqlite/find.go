package sqlite

import (
	"context"
	"math"
	"slices"
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
	// TaskService normalised and validated q; a query that skipped it
	// is a bug of the caller's, refused rather than given defaults here.
	if err := q.CheckNormalized(); err != nil {
		return authdash.TaskPage{}, db.fail(ctx, "find tasks", err)
	}
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
//
// A search first weighs the term's trigrams and long grams in the owner's
// search index (see grams.go): the cost of each plan is estimated by the
// sizes of their posting lists, the owner's alone (searchWay chooses). If
// one long gram is rare, the tasks holding all the term's long grams are
// as few as its matches; else one trigram may be. Either way, in creation order (the default) the index's rows come in page
// order, so walkGrams walks its rows from the cursor to the end of the
// page; in another order its few tasks are read and sorted, the page being
// all the term's matches there are. If none is rare but few tasks hold all
// the trigrams together, those are read and sorted, in every order. If
// they are many, in creation order walkGrams walks them; where another
// order has a copy of the index in its own order (updated, due,
// priority: sorted.go), walkGrams walks that copy as it does task_grams:
// its cost is the tasks holding the trigrams up to the end of the page,
// however many tasks without them lie in front. Title order, and every
// order while the copies are still being built, fall back on the owner's
// tasks in page order: the term most likely is common and fills the page
// within the first few dozen (the window of db.searchWindow). When it does
// not, the matches are sparse or lie further back, so the walk goes on for
// at most db.walkLimit more tasks, through those the index says hold all
// the trigrams; and if the page is still not full, the remaining tasks
// holding them all are read and sorted when there are fewer than
// db.sortLimit, else walked to the end. Each step is bounded but the last,
// which needs db.sortLimit matches of the term's trigrams that all lie
// behind db.walkLimit tasks that hold none.
func (db *DB) findTasks(ctx context.Context, owner authdash.UserID, q authdash.TaskQuery, after *authdash.Cursor) ([]authdash.Task, error) {
	want := q.Limit + 1
	// The trigram index needs three characters; shorter terms match so
	// much that reading the owner's tasks in order finds a page quickly.
	if utf8.RuneCountInString(q.Search) < 3 {
		return db.taskRows(ctx, findTasksSQL(owner, q, after, nil, scanRows), nil, want)
	}
	term := strings.ToLower(q.Search)
	sp, err := db.plan(ctx, owner, term)
	if err != nil {
		return nil, err
	}
	all := matchAll(sp.grams...)
	n := -1 // the tasks holding every trigram, counted only if none is rare
	if sp.rare == "" {
		if n, err = db.countAll(ctx, owner, term, &sp); err != nil {
			return nil, err
		}
	}
	switch db.searchWay(q.Sort, sp.rare != "", n) {
	case walkRare:
		return db.walkGrams(ctx, owner, q, after, sp.rare, want)
	case sortRare:
		return db.candidates(ctx, owner, q, after, sp.rare, nil, want)
	case sortAll:
		return db.candidates(ctx, owner, q, after, all, nil, want)
	case walkAll:
		return db.walkGrams(ctx, owner, q, after, all, want)
	}
	// The window, in page order.
	bound, err := db.boundary(ctx, owner, q, after, db.searchWindow)
	if err != nil {
		return nil, err
	}
	if bound == nil { // the owner has no more tasks than that
		return db.taskRows(ctx, findTasksSQL(owner, q, after, nil, scanRows), nil, want)
	}
	items, err := db.taskRows(ctx, findTasksSQL(owner, q, after, bound, scanRows), nil, want)
	if err != nil || len(items) == want {
		return items, err
	}
	// The bounded walk.
	end, err := db.boundary(ctx, owner, q, bound, db.walkLimit)
	if err != nil {
		return nil, err
	}
	st := findTasksSQL(owner, q, bound, end, scanFiltered)
	st.args = append([]any{all}, st.args...)
	if items, err = db.taskRows(ctx, st, items, want); err != nil || len(items) == want || end == nil {
		return items, err
	}
	// The rest: sorted if few enough, else walked.
	n, err = db.countMatches(ctx, all, db.sortLimit)
	if err != nil {
		return nil, err
	}
	if n < db.sortLimit {
		return db.candidates(ctx, owner, q, end, all, items, want)
	}
	st = findTasksSQL(owner, q, end, nil, scanFiltered)
	st.args = append([]any{all}, st.args...)
	return db.taskRows(ctx, st, items, want)
}

// searchWay is how findTasks answers a search whose term has a trigram.
type searchWay int

const (
	walkRare    searchWay = iota // walk the rows of the rare grams (weighGrams) in page order
	sortRare                     // read the rare grams' tasks and sort them
	sortAll                      // read the tasks holding every trigram and sort them
	walkAll                      // walk the rows holding every trigram in page order
	walkInOrder                  // the owner's tasks in page order, then bounded walks
)

// searchWay chooses how to answer a search in order s: rare is whether one
// of the term's long grams or trigrams is in fewer than db.gramCap of the
// owner's tasks,
// and all how many tasks hold every trigram (up to db.gramCap), counted
// only when none is rare.
//
// When few tasks hold every trigram they are read and sorted in creation
// order too, not walked: FTS5 intersects posting lists newest first
// (rowid DESC, as a walk in the default order reads them) by parsing
// whole every leaf page it lands on, where oldest first it reads a page
// only up to the rowid it seeks. A walk that must reach the end of the
// lists to prove there is no further match, which is the case for a rare
// term, paid that for every page of every trigram: ref00012 in
// BenchmarkFindTasksGrown, whose six trigrams are each in 1,718 to 10,000
// of the owner's tasks and all together in 11, cost 3 to 5 times the
// search sorted by updated (the same 11 tasks, read oldest first).
func (db *DB) searchWay(s authdash.TaskSort, rare bool, all int) searchWay {
	switch {
	case rare && s == authdash.SortCreated:
		return walkRare
	case rare:
		return sortRare
	case all < db.gramCap:
		return sortAll
	}
	// Many tasks hold the term's trigrams: where the order has a copy of
	// the index in its own order (sorted.go; creation order's is
	// task_grams), walk that from the cursor, reading only tasks that
	// hold them all, up to the end of the page.
	if _, ok := sortIndexOf(s); ok && (s == authdash.SortCreated || db.sortCopies && db.sortsReady.Load()) {
		return walkAll
	}
	return walkInOrder
}

// defaultWalkLimit and defaultSortLimit bound the steps of a search whose
// trigrams are all common (see findTasks). Walking past a task costs about
// a sixth of reading and sorting one (0.8 against 5 µs in BenchmarkFindTasks),
// so a walk of 2,000 costs about as much as sorting 330, and a sort of 4,096
// about as much as a walk of 25,000.
const (
	defaultWalkLimit = 2000
	defaultSortLimit = 4096
)

// candidates appends to items, up to want in all, the tasks after the
// position after that the search index names for match, sorted.
func (db *DB) candidates(ctx context.Context, owner authdash.UserID, q authdash.TaskQuery, after *authdash.Cursor, match string, items []authdash.Task, want int) ([]authdash.Task, error) {
	st := findTasksSQL(owner, q, after, nil, scanCandidates)
	st.args = append([]any{match}, st.args...)
	return db.taskRows(ctx, st, items, want)
}

// cappedCount is an expression counting the search index's rows for a
// MATCH argument, stopping at limit.
func cappedCount(limit int) string {
	return `(SELECT count(*) FROM (SELECT 1 FROM task_grams WHERE task_grams MATCH ? LIMIT ` + strconv.Itoa(limit) + `))`
}

// countMatches counts the search index's rows for a MATCH argument,
// stopping at limit.
func (db *DB) countMatches(ctx context.Context, match string, limit int) (int, error) {
	var n int
	row, err := db.queryRow(ctx, `SELECT `+cappedCount(limit), match)
	if err == nil {
		err = row.Scan(&n)
	}
	return n, err
}

// walkGrams answers a search in an order with a copy of the search index
// in that order (sortIndexOf; creation order's is task_grams itself, rid
// order being creation order). It walks the index's rows for match in rowid
// order from the cursor's bucket on, each row's task read by its rowid,
// filtered and its term confirmed in SQL. It stops at the first task of a
// later bucket than the want-th it kept: every task further on comes after
// all those in page order. It so reads the tasks holding the term's
// trigrams up to the end of the page, however many tasks without them lie
// in front.
func (db *DB) walkGrams(ctx context.Context, owner authdash.UserID, q authdash.TaskQuery, after *authdash.Cursor, match string, want int) ([]authdash.Task, error) {
	desc := q.Order == authdash.Desc
	bound := int64(math.MaxInt64)
	if !desc {
		bound = math.MinInt64
	}
	if after != nil {
		b := sortBucket(q.Sort, after.Int, after.ID) << ridShift
		if desc {
			bound = b + ridSpan - 1
		} else {
			bound = b
		}
	}
	st := findTasksSQL(owner, q, after, nil, scanWalk)
	st.args = append([]any{match, bound}, st.args...)
	rows, err := db.query(ctx, st.query, st.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	items := make([]authdash.Task, 0, want)
	var last int64 // the bucket of the want-th task kept
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		b := taskBucket(t, q.Sort)
		if len(items) >= want && b != last {
			break
		}
		items = append(items, *t)
		if len(items) == want {
			last = b
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Tasks of one bucket come in rowid order, not page order.
	slices.SortFunc(items, func(a, b authdash.Task) int {
		c := comparePositions(&a, &b, q.Sort)
		if desc {
			return -c
		}
		return c
	})
	return items[:min(len(items), want)], rows.Close()
}

// matchAll is an FTS5 query for the rows holding every token.
func matchAll(toks ...string) string {
	return `"` + strings.Join(toks, `" AND "`) + `"`
}

// defaultGramCap is how many tasks one trigram may name for a search to
// read them all and sort them, rather than walk the owner's tasks in page
// order.
const defaultGramCap = 256

// weighGrams returns a MATCH expression for the few of the owner's tasks
// that may hold the term, or "" if it has none, and the tokens of the
// term's trigrams. One statement counts the tasks holding each trigram and
// each long gram (grams.go) if withLong, each count stopping at db.gramCap. If a long
// gram is under the cap the expression asks for all the term's long grams
// together: as rare as the term, whatever its trigrams. Else, if a
// trigram is, it asks for the rarest.
func (db *DB) weighGrams(ctx context.Context, owner authdash.UserID, term string, withLong bool) (string, []string, error) {
	grams, long := termGrams(string(owner), term)
	if !withLong {
		long = nil
	}
	toks := append(slices.Clip(grams), long...)
	var b strings.Builder
	args := make([]any, len(toks))
	counts := make([]int, len(toks))
	dst := make([]any, len(toks))
	b.WriteString(`SELECT `)
	for i, t := range toks {
		if i > 0 {
			b.WriteString(`, `)
		}
		b.WriteString(cappedCount(db.gramCap))
		args[i], dst[i] = matchAll(t), &counts[i]
	}
	row, err := db.queryRow(ctx, b.String(), args...)
	if err != nil {
		return "", nil, err
	}
	if err := row.Scan(dst...); err != nil {
		return "", nil, err
	}
	if len(long) > 0 && slices.Min(counts[len(grams):]) < db.gramCap {
		return matchAll(long...), grams, nil
	}
	best := -1
	for i, n := range counts[:len(grams)] {
		if n < db.gramCap && (best < 0 || n < counts[best]) {
			best = i
		}
	}
	if best < 0 {
		return "", grams, nil
	}
	return matchAll(grams[best]), grams, nil
}

type scanMode int

const (
	scanRows       scanMode = iota // read tasks in page order
	scanBoundary                   // the sort key and ID of the window's last task
	scanCandidates                 // read the few tasks the search index names, then sort
	scanFiltered                   // read in page order the tasks the search index names
	scanWalk                       // read in rid order the tasks the search index names (walkGrams)
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
	switch mode {
	case scanBoundary:
		b.WriteString(`SELECT ` + col + `, t.id FROM tasks t WHERE t.owner_id = ?`)
	case scanCandidates:
		// CROSS JOIN keeps the index's few rows outermost, each finding
		// its task by rowid; the caller puts the MATCH argument first.
		b.WriteString(`SELECT ` + taskCols + ` FROM (SELECT rowid AS rid FROM task_grams WHERE task_grams MATCH ?) g
			CROSS JOIN tasks t ON t.rid = g.rid WHERE t.owner_id = ?`)
	case scanFiltered:
		// SQLite walks the sort index, probing the (Bloom-filtered)
		// list of rowids, and so stops once the page is full; the caller
		// puts the MATCH argument first.
		b.WriteString(`SELECT ` + taskCols + ` FROM tasks t WHERE t.rid IN (SELECT rowid FROM task_grams WHERE task_grams MATCH ?) AND t.owner_id = ?`)
	case scanWalk:
		// The index's rows outermost, in rid order from a bound; the
		// caller puts the MATCH argument and the bound first.
		rel := "<="
		if q.Order == authdash.Asc {
			rel = ">="
		}
		ix, _ := sortIndexOf(q.Sort)
		b.WriteString(`SELECT ` + taskCols + ` FROM ` + ix.table + ` g CROSS JOIN tasks t ON t.` + ix.col + ` = g.rowid
			WHERE g.` + ix.table + ` MATCH ? AND g.rowid ` + rel + ` ? AND t.owner_id = ?`)
	default:
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
	if mode == scanWalk {
		b.WriteString(` ORDER BY g.rowid ` + dir)
		return sqlArgs{b.String(), args}
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

// boundary returns the position of the n-th task after the position after
// that passes q's filters other than the search, or nil if there are fewer.
func (db *DB) boundary(ctx context.Context, owner authdash.UserID, q authdash.TaskQuery, after *authdash.Cursor, n int) (*authdash.Cursor, error) {
	st := findTasksSQL(owner, q, after, nil, scanBoundary)
	st.args = append(st.args, n-1)
	rows, err := db.query(ctx, st.query, st.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	c := &authdash.Cursor{}
	if q.Sort == authdash.SortTitle {
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
