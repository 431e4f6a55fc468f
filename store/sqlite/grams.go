package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
	"unicode/utf8"

	"modernc.org/sqlite"
)

// Search runs on an index of each task's trigrams, one token per distinct
// trigram of its title and description, prefixed with a hash of the owner
// (see gramsFunc). Prefixing makes every posting list one owner's: the
// trigram "ref" of a term costs as many entries as the owner has tasks
// containing it, not as many as every user has. FindTasks asks the index
// how often each of the term's trigrams occurs, up to a cap, and reads only
// the tasks of the rarest one; instr then confirms the whole term.
//
// The index (task_grams, migration 3) is an FTS5 table used as a plain
// inverted index: contentless, no positions, and the ascii tokenizer over
// tokens that are hex digits only.

// gramsFunc is the SQL function the triggers call to index a task.
const gramsFunc = "authdash_grams"

// ownerPrefix is the token prefix of an owner's trigrams: 32 bits of hash in
// hex. Owners who share one share posting lists; the owner_id condition of
// every query drops the strays.
func ownerPrefix(owner string) string {
	h := fnv.New32a()
	h.Write([]byte(owner))
	return hex.EncodeToString(h.Sum(nil))
}

// Besides its trigrams, task_grams holds a task's long grams: its distinct
// runs of longGram runes. A term made of common trigrams can still be rare
// (ref00012 in an account whose tasks are numbered ref00001 to ref10000:
// every trigram of it in 1,700 to 10,000 tasks, the term in 11), and the
// index can only find those by intersecting the trigrams' posting lists,
// which costs their entries where they overlap (tens of thousands), not
// the matches. A long gram of such a term is as rare as the term, so its
// posting list is as short as the answer. The sort-ordered copies hold
// trigrams only (taskGrams): a rare term's few tasks are read and sorted,
// never walked in a copy.
const longGram = 6

// longMark starts a long gram's hex, so that it never equals a trigram's
// token (three runes of UTF-8 take six bytes as often as six ASCII ones do).
const longMark = "x"

// distinctGrams calls yield with each n-rune gram of s that seen does not
// hold yet, in order, and adds it to seen. The grams are substrings of s,
// not copies: a task has a couple of hundred, and every create's caller
// splits them.
func distinctGrams(seen map[string]struct{}, n int, s string, yield func(gram string)) {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // each invalid byte a U+FFFD, as the index has always held it
	}
	var buf [256]int
	starts := buf[:0] // the byte offset of every rune, and the end
	for i := range s {
		starts = append(starts, i)
	}
	starts = append(starts, len(s))
	for i := 0; i+n < len(starts); i++ {
		g := s[starts[i]:starts[i+n]]
		if _, ok := seen[g]; ok {
			continue
		}
		seen[g] = struct{}{}
		yield(g)
	}
}

// appendToken appends the token of gram: prefix, then mark, then the gram's
// bytes in hex.
func appendToken(dst []byte, prefix, mark, gram string) []byte {
	const digits = "0123456789abcdef"
	dst = append(dst, prefix...)
	dst = append(dst, mark...)
	for i := 0; i < len(gram); i++ {
		dst = append(dst, digits[gram[i]>>4], digits[gram[i]&0x0f])
	}
	return dst
}

// appendGrams appends to dst the token of each n-rune gram of s not yet in
// seen.
func appendGrams(dst []string, seen map[string]struct{}, prefix, mark string, n int, s string) []string {
	distinctGrams(seen, n, s, func(g string) {
		dst = append(dst, string(appendToken(nil, prefix, mark, g)))
	})
	return dst
}

// gramScratch is indexTokens' working space. textCache keeps some between
// calls: a create's caller would otherwise allocate some 25 KB for them.
type gramScratch struct {
	seen map[string]struct{}
	buf  []byte
}

// indexTokens returns a task's index text for task_grams, its trigrams' and
// then its long grams' tokens, space separated, and how many of its bytes
// the trigrams take: the text of the sort-ordered copies (sorted.go), which
// hold trigrams only. Title and description are taken apart, so no gram
// spans the two. sc may be nil.
func indexTokens(sc *gramScratch, owner, titleKey, descKey string) (tokens string, trigrams int) {
	if sc == nil {
		sc = new(gramScratch)
	}
	if sc.seen == nil {
		sc.seen = make(map[string]struct{}, 2*(len(titleKey)+len(descKey)))
	}
	defer clear(sc.seen) // its keys are substrings of this text
	prefix := ownerPrefix(owner)
	b := sc.buf[:0]
	add := func(mark string) func(string) {
		return func(g string) {
			if len(b) > 0 {
				b = append(b, ' ')
			}
			b = appendToken(b, prefix, mark, g)
		}
	}
	tri, long := add(""), add(longMark)
	distinctGrams(sc.seen, 3, titleKey, tri)
	distinctGrams(sc.seen, 3, descKey, tri)
	trigrams = len(b)
	distinctGrams(sc.seen, longGram, titleKey, long)
	distinctGrams(sc.seen, longGram, descKey, long)
	sc.buf = b
	return string(b), trigrams
}

// taskGrams is the index text of a task in the sort-ordered copies of the
// index (sorted.go): its trigrams' tokens.
func taskGrams(owner, titleKey, descKey string) string {
	tokens, n := indexTokens(nil, owner, titleKey, descKey)
	return tokens[:n]
}

// taskTokens is the index text of a task in task_grams: its trigrams' and
// its long grams' tokens.
func taskTokens(owner, titleKey, descKey string) string {
	tokens, _ := indexTokens(nil, owner, titleKey, descKey)
	return tokens
}

// indexText is a task's text as the search index holds it: tokens in
// task_grams, grams in the sort-ordered copies.
type indexText struct {
	key           textKey
	tokens, grams string
}

// textKey is what a task's index text is made from.
type textKey struct{ owner, titleKey, descKey string }

// textCache holds the index text of the tasks a batch of writes creates,
// worked out by their callers before queueing (text), so that the writer
// goroutine, which every write waits for, need not split their text into
// grams (about a tenth of its time under creates). The writer empties it
// after every batch; what is not in it, it works out itself, once a task.
type textCache struct {
	mu sync.Mutex // the writer goroutine is its only user, but SQL calls gramsFunc
	m  map[textKey]indexText
	// missed counts the texts the writer had to work out (tests).
	missed int64
	// scratch holds *gramScratch for text, which callers run concurrently.
	scratch sync.Pool
}

// text works out a task's index text.
func (c *textCache) text(owner, titleKey, descKey string) indexText {
	sc, _ := c.scratch.Get().(*gramScratch)
	if sc == nil {
		sc = new(gramScratch)
	}
	tokens, n := indexTokens(sc, owner, titleKey, descKey)
	c.scratch.Put(sc)
	return indexText{key: textKey{owner, titleKey, descKey}, tokens: tokens, grams: tokens[:n]}
}

func (c *textCache) put(t indexText) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[textKey]indexText, maxBatch)
	}
	c.m[t.key] = t
}

func (c *textCache) get(owner, titleKey, descKey string) (indexText, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[textKey{owner, titleKey, descKey}]
	if !ok {
		c.missed++
	}
	return t, ok
}

// tokens and grams return the text's index text from the cache, or worked
// out if it is not there. grams, which indexDirty asks first (indexSorts),
// keeps what it works out for tokens (task_grams), so that an update's
// text is split once, not twice; tokens keeps nothing, since SQL calls it
// outside batches too (a migration's rebuild of task_grams) and the cache
// would hold every task's text until the next batch.
func (c *textCache) tokens(owner, titleKey, descKey string) string {
	if t, ok := c.get(owner, titleKey, descKey); ok {
		return t.tokens
	}
	return c.text(owner, titleKey, descKey).tokens
}

func (c *textCache) grams(owner, titleKey, descKey string) string {
	if t, ok := c.get(owner, titleKey, descKey); ok {
		return t.grams
	}
	t := c.text(owner, titleKey, descKey)
	c.put(t)
	return t.grams
}

func (c *textCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}

// indexDirty brings the search index up to date with the tasks the
// transaction changed, as the triggers noted them, in three statements
// whatever the number of writes in the batch. The writer runs it just
// before every commit.
func indexDirty(tx *wtx) error {
	var sorts, grams bool
	if err := tx.queryRow(`SELECT EXISTS (SELECT 1 FROM task_sorts_dirty), EXISTS (SELECT 1 FROM task_grams_dirty)`).Scan(&sorts, &grams); err != nil {
		return fmt.Errorf("index changed tasks: %w", err)
	}
	if !sorts && !grams {
		return nil
	}
	if !tx.db.lumpMerges {
		if err := paceMerges(tx); err != nil {
			return err
		}
	}
	if sorts {
		if err := indexSorts(tx); err != nil {
			return err
		}
	}
	if !grams {
		return nil
	}
	for _, q := range []string{
		`DELETE FROM task_grams WHERE rowid IN (SELECT rid FROM task_grams_dirty WHERE indexed)`,
		`INSERT INTO task_grams (rowid, grams)
			SELECT t.rid, ` + gramsFunc + `(t.owner_id, t.title_key, t.desc_key)
			FROM task_grams_dirty d JOIN tasks t ON t.rid = d.rid
			ORDER BY d.rid`, // ascending, or FTS5 starts a segment (see indexSorts)
		`DELETE FROM task_grams_dirty`,
	} {
		if _, err := tx.exec(q); err != nil {
			return fmt.Errorf("index changed tasks: %w", err)
		}
	}
	return nil
}

// longBatch is how many tasks one step of the long-gram builder indexes
// again: a step is a write of its own, so other writes queue behind one at
// most (a few milliseconds).
const longBatch = 64

// longStep indexes again, with their long grams, up to longBatch of the
// tasks migration 16 found, and reports whether none is left.
func (db *DB) longStep(ctx context.Context) (bool, error) {
	var done bool
	err := db.write(ctx, func(tx *wtx) error {
		var next, last int64
		err := tx.queryRow(`SELECT next_rid, last_rid FROM long_grams_build WHERE id = 1`).Scan(&next, &last)
		if errors.Is(err, sql.ErrNoRows) {
			done = true
			return nil
		}
		if err != nil {
			return err
		}
		var end sql.NullInt64
		if err := tx.queryRow(`SELECT max(rid) FROM (SELECT rid FROM tasks WHERE rid BETWEEN ? AND ? ORDER BY rid LIMIT ?)`,
			next, last, longBatch).Scan(&end); err != nil {
			return err
		}
		if !end.Valid || end.Int64 >= last {
			done = true
			end.Int64 = last
		}
		for _, q := range []string{
			`DELETE FROM task_grams WHERE rowid IN (SELECT rid FROM tasks WHERE rid BETWEEN ?1 AND ?2)`,
			`INSERT INTO task_grams (rowid, grams)
				SELECT rid, ` + gramsFunc + `(owner_id, title_key, desc_key) FROM tasks WHERE rid BETWEEN ?1 AND ?2 ORDER BY rid`,
		} {
			if _, err := tx.exec(q, next, end.Int64); err != nil {
				return fmt.Errorf("index long grams: %w", err)
			}
		}
		if done {
			_, err = tx.exec(`DELETE FROM long_grams_build WHERE id = 1`)
		} else {
			_, err = tx.exec(`UPDATE long_grams_build SET next_rid = ? WHERE id = 1`, end.Int64+1)
		}
		return err
	})
	return done, err
}

// longBuilder indexes the tasks of before migration 16 again, with their
// long grams, in the background (longStep), then sets longReady.
func (db *DB) longBuilder() {
	defer db.writerWG.Done()
	ctx := context.Background()
	for {
		done, err := db.longStep(ctx)
		if err == nil && done {
			db.longReady.Store(true)
			return
		}
		if err == nil {
			select {
			case <-db.closing:
				return
			default:
				continue
			}
		}
		// A failed step (the disk full, say) is tried again later.
		t := time.NewTimer(buildInterval)
		select {
		case <-t.C:
		case <-db.closing:
			t.Stop()
			return
		}
	}
}

// maxTermGrams bounds how many of a long term's trigrams a search weighs:
// each costs an index probe, and a dozen spread over the term find a rare
// one as surely as all of them.
const maxTermGrams = 12

// termGrams returns the tokens of up to maxTermGrams distinct trigrams of
// the (lower-cased) term, spread evenly over it, and as many of its long
// grams (none if it is shorter than longGram).
func termGrams(owner, term string) (grams, long []string) {
	prefix := ownerPrefix(owner)
	return spread(appendGrams(nil, map[string]struct{}{}, prefix, "", 3, term)),
		spread(appendGrams(nil, map[string]struct{}{}, prefix, longMark, longGram, term))
}

// spread returns up to maxTermGrams of toks, evenly spread, the first and
// the last among them.
func spread(toks []string) []string {
	if len(toks) <= maxTermGrams {
		return toks
	}
	picked := make([]string, 0, maxTermGrams)
	for i := range maxTermGrams {
		picked = append(picked, toks[i*(len(toks)-1)/(maxTermGrams-1)])
	}
	return picked
}

// newDriver returns a driver of the DB's own that carries gramsFunc, so the
// function reaches the DB's connections without registering anything
// process-wide. (The driver keeps a few bytes per registration for the life
// of the process, which matters only to a program opening thousands.)
func newDriver(texts *textCache) (*sqlite.Driver, error) {
	d := &sqlite.Driver{}
	err := d.RegisterDeterministicScalarFunction(gramsFunc, 3, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		var s [3]string
		for i, a := range args {
			switch v := a.(type) {
			case string:
				s[i] = v
			case []byte:
				s[i] = string(v)
			default:
				return nil, fmt.Errorf("%s: argument %d is %T, not text", gramsFunc, i+1, a)
			}
		}
		return texts.tokens(s[0], s[1], s[2]), nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// connector opens connections to one DSN on one driver.
type connector struct {
	d   *sqlite.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.d }

// Every write transaction adds a small segment to the search index, and a
// search probes every segment for each trigram it weighs, so their number
// sets its cost (measured: six trigrams over ten segments 590 µs, over one
// 80 µs). The merging the writes pay for (merge.go) leaves a dozen or
// more. The compactor merges them down to one, a step at a time, each step
// a write of its own so that other writes queue behind one step at most.
// Merging down to one rewrites the whole index, and a merge once started is
// carried on by the writes' steps (when FTS5's automerge carried it on, at
// every commit, one step a second under sustained creates made them five
// times dearer), so the compactor works only in
// ticks with fewer than compactBusy commits, and finishes the merge then,
// giving way whenever another write waits (compactRun).
const (
	compactInterval = time.Second
	// compactPages is the merge work of one step, in index pages (a few
	// milliseconds of writing).
	compactPages = 64
	// compactSteps bounds the steps of one tick.
	compactSteps = 100
	// compactBusy is the number of commits in a tick at which the
	// compactor stands aside for that tick.
	compactBusy = 20
)

// compactor merges the search index until Close.
func (db *DB) compactor() {
	defer db.writerWG.Done()
	tick := time.NewTicker(compactInterval)
	defer tick.Stop()
	// prev is the commit count after the last tick's steps, so any change
	// by the next tick is someone else's; merged is whether the index was
	// found fully merged then.
	prev, merged := db.commits.Load(), false
	for {
		select {
		case <-tick.C:
			n := db.commits.Load()
			if merged && n == prev {
				continue
			}
			if n-prev >= compactBusy {
				prev = n
				continue
			}
			merged = db.compactRun(context.Background())
			prev = db.commits.Load()
		case <-db.closing:
			return
		}
	}
}

// compactRun merges the search index a step at a time, up to compactSteps
// steps, and reports whether it found it fully merged. It stops as soon as
// another write is waiting: a step shares the writer with every write of
// the process, and the tick's quiet (compactBusy) said nothing about the
// next seconds. Without this a burst of writes that began in a quiet tick
// queued behind up to compactSteps steps, each 10-300 ms under load (issue
// 16: requests of a benchmark run timed out behind the merge left by the
// run before; TestCompactorGivesWay).
func (db *DB) compactRun(ctx context.Context) bool {
	for range compactSteps {
		if db.waiting.Load() > 0 {
			return false
		}
		did, err := db.compactStep(ctx)
		if err != nil {
			return false // the database closing, say: try at the next tick
		}
		if !did {
			return true
		}
	}
	return false
}

// compactStep does one step of merging and reports whether there was any
// to do. The merge parameter is negative so that FTS5 merges segments of
// all levels, down to one.
func (db *DB) compactStep(ctx context.Context) (bool, error) {
	var did bool
	err := db.write(ctx, func(tx *wtx) error {
		did = false
		// task_grams and its sort-ordered copies (sorted.go).
		for _, s := range searchSorts {
			ix, _ := sortIndexOf(s)
			n, err := mergeTable(tx, ix.table, -compactPages)
			if err != nil {
				return err
			}
			did = did || n >= 2
		}
		return nil
	})
	return did, err
}

// A task's rid is chosen so that rid order is creation order: the rid of a
// task created at ms lies in [ridBase(ms), ridBase(ms)+ridSpan), the first
// free one there (migration 11 gave the tasks made before it theirs). The
// search index keeps its posting lists in rid order, so a search in the
// default order walks them from the newest match on (walkGrams) instead of
// walking the owner's tasks, matches or not. Creation times before 1970 or
// after 2248 share the first or last range: rid order is then creation
// order as clamped (ridMs), which walkGrams allows for.
const (
	ridSpan  = 1 << 20   // rids per millisecond
	maxRidMs = 1<<43 - 1 // the last millisecond with a range of its own
)

// ridMs is the creation time a rid's range stands for: ms clamped to the
// times that have a range.
func ridMs(ms int64) int64 { return min(max(ms, 0), maxRidMs) }

// ridBase is the first rid of the range of tasks created at ms.
func ridBase(ms int64) int64 { return ridMs(ms) * ridSpan }
