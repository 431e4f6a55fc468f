// Package sqlite keeps users, sessions and tasks in an embedded SQLite
// database (modernc.org/sqlite, pure Go). It implements authdash.Store.
//
// Writes go through one goroutine that owns one connection, so they are
// serialised in this process and group-committed (see write.go). Their
// transactions start with BEGIN IMMEDIATE, so they are also serialised with
// any other process that opens the same file, SQLite's busy timeout doing
// the waiting. Reads use a separate pool and, in WAL mode, never wait for
// writers.
//
// Open runs the schema migrations. Call PurgeTombstones and
// PurgeExpiredSessions now and then (say hourly) to bound the change log and
// the session table.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authdash/authdash"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ authdash.Store = (*DB)(nil)

// DB is an open SQLite store. It is safe for concurrent use.
type DB struct {
	w      *sql.DB // one connection, used only by the writer goroutine
	r      *sql.DB // read pool
	ckpt   *sql.DB // one connection for WAL checkpoints
	stmts  sync.Map
	nstmts atomic.Int64
	// The search's bounds: see defaultSearchWindow, defaultGramCap,
	// defaultWalkLimit and defaultSortLimit; tests change them.
	searchWindow, gramCap, walkLimit, sortLimit int
	// sortCopies is whether searches may use the sort-ordered copies of
	// the search index (sorted.go); tests turn it off to reach the plans
	// used without them.
	sortCopies bool
	// plans keeps what weighing a search's trigrams found (plans.go).
	plans plans

	// texts holds the index text of the current batch's new tasks.
	texts *textCache

	// commits counts committed write transactions, for the compactor.
	commits atomic.Int64
	// debts is what each table of the search index owes in merging
	// (merge.go), used by the writer goroutine only; mergedRows counts the
	// rows (FTS5 writes a page as a row) paceMerges' steps changed.
	debts      [4]mergeDebt
	mergedRows atomic.Int64
	// placesAsked counts the times placeIn asked the tasks' index for a
	// bucket's next place.
	placesAsked atomic.Int64
	// checkpointEvery is the checkpointer's interval: checkpointInterval
	// but in tests.
	checkpointEvery time.Duration
	// afterPass (tests) runs after each of the checkpointer's passes off
	// the write path; writerPassFrames is how many frames its pass in the
	// writer goroutine copied last.
	afterPass        func(pass int)
	writerPassFrames atomic.Int64
	// lumpMerges (tests) leaves merging to FTS5's automerge, as before
	// migration 17; noCompactor keeps the compactor from starting.
	lumpMerges, noCompactor bool
	// waiting counts the writes not yet handed to the writer, for the
	// compactor, which gives way to them.
	waiting atomic.Int64
	// sortsReady is set once the sort-ordered copies of the search index
	// hold every task (sorted.go); until then searches do without them.
	sortsReady atomic.Bool
	// longReady is set once task_grams holds every task's long grams
	// (grams.go); until then searches weigh trigrams only.
	longReady atomic.Bool

	clock func() time.Time
	// log hears what a migration must tell an operator (WithLog).
	log *slog.Logger
	// syncFull makes every commit wait for fsync of the WAL (see WithSyncFull).
	syncFull bool
	// cannotWrite is set when a commit failed for want of disk (full, or an
	// I/O error) and cleared by the next commit that succeeds; Ping fails
	// meanwhile (writeprobe.go).
	cannotWrite atomic.Bool

	writes    chan *writeReq
	closing   chan struct{}
	writerWG  sync.WaitGroup
	closeOnce sync.Once
}

// walAutoCheckpoint is the WAL's length in pages past which the writer
// checkpoints after its commits: the backstop if the checkpointer falls
// behind, as it does when writes come faster than it copies. It bounds the
// WAL file, to about walAutoCheckpoint+walSlack pages (TestWALBounded):
// the writer's checkpoint gives way while the checkpointer's runs, and the
// commits of that while are the slack. Under a steady load the checkpointer
// keeps the WAL to the commits of about half a second (write.go,
// checkpointer; docs/BENCHMARKS.md).
const walAutoCheckpoint = 20000

// walSlack is the slack of the WAL's bound past walAutoCheckpoint, in pages.
const walSlack = 10000

// Option configures Open.
type Option func(*DB)

// WithClock makes the store stamp times (creation, updates, session use and
// expiry checks) from now instead of time.Now, so a test can step past a
// millisecond or an expiry instead of sleeping until it passes.
func WithClock(now func() time.Time) Option { return func(db *DB) { db.clock = now } }

// WithSyncFull runs the database with synchronous=FULL instead of NORMAL: in
// WAL mode NORMAL syncs only at checkpoints, so a power cut (not a crash of
// the process: the OS still holds the written pages) can lose the last
// commits; FULL syncs the WAL at every commit, which the group commit shares
// among the writes of a batch. Its cost is in docs/BENCHMARKS.md.
func WithSyncFull() Option { return func(db *DB) { db.syncFull = true } }

// WithLog gives the store a log for what an operator must hear of (a
// migration's findings); the default is slog.Default().
func WithLog(log *slog.Logger) Option { return func(db *DB) { db.log = log } }

// Open opens (creating if needed) the database file at path and brings its
// schema up to date.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	texts := new(textCache)
	d, err := newDriver(texts)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db := &DB{searchWindow: defaultSearchWindow, gramCap: defaultGramCap,
		walkLimit: defaultWalkLimit, sortLimit: defaultSortLimit, sortCopies: true, writes: make(chan *writeReq), closing: make(chan struct{}),
		clock: time.Now, checkpointEvery: checkpointInterval, texts: texts}
	for _, o := range opts {
		o(db)
	}
	if db.log == nil {
		db.log = slog.Default()
	}
	common := url.Values{}
	common.Add("_pragma", "busy_timeout(5000)")
	common.Add("_pragma", "foreign_keys(1)")
	if db.syncFull {
		common.Add("_pragma", "synchronous(FULL)")
	} else {
		common.Add("_pragma", "synchronous(NORMAL)")
	}
	// No mmap_size: in WAL mode a reader that starts a transaction after
	// any commit drops its page cache and, with a memory map, unmaps the
	// whole map too (SQLite's pagerBeginReadTransaction), so under a steady
	// trickle of writes every read paid a munmap and fresh page faults.
	// Measured on refresh (a write, then a read): 11% of the server's CPU in
	// munmap, 4,700-5,000/s with a 1 GiB map against 7,000-7,100/s
	// without; a read-only list lost 4% (docs/BENCHMARKS-HISTORY.md).

	wq := cloneValues(common)
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Set("_txlock", "immediate")
	wq.Add("_pragma", "temp_store(MEMORY)")
	// Checkpoints run on their own connection (see checkpointer), off the
	// serialised write path; this is only the backstop if they fall behind.
	wq.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walAutoCheckpoint))
	// sql.OpenDB connects lazily: errors in the DSN or the file surface
	// at the first statement, which is migrate's.
	w := sql.OpenDB(connector{d, dsn(path, wq)})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	rq := cloneValues(common)
	rq.Add("_pragma", "query_only(1)")
	// A search may read a few hundred table pages; keeping them parsed in
	// each reader's cache (8 MiB) spares re-parsing them from the map.
	rq.Add("_pragma", "cache_size(-8192)")
	r := sql.OpenDB(connector{d, dsn(path, rq)})
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)

	c := sql.OpenDB(connector{d, dsn(path, common)})
	c.SetMaxOpenConns(1)

	db.w, db.r, db.ckpt = w, r, c
	err = db.migrateRetrying(ctx)
	if err == nil {
		// Long grams are searched only once migration 16's build is done.
		var building bool
		err = db.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM long_grams_build WHERE id = 1)`).Scan(&building)
		db.longReady.Store(!building)
	}
	if err != nil {
		w.Close()
		r.Close()
		c.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.writerWG.Add(5)
	go db.writer()
	go db.checkpointer()
	if db.noCompactor {
		db.writerWG.Done()
	} else {
		go db.compactor()
	}
	go db.builder()
	go db.longBuilder()
	return db, nil
}

func dsn(path string, q url.Values) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// Close stops the writer, failing writes that have not started, and closes
// both connection pools. It is safe to call more than once.
func (db *DB) Close() error {
	var err error
	db.closeOnce.Do(func() {
		close(db.closing)
		db.writerWG.Wait()
		err = errors.Join(db.r.Close(), db.w.Close(), db.ckpt.Close())
	})
	return err
}

// Ping checks that the database file can be read, for readiness probes,
// and, after a write failed for want of disk, that it can be written again.
func (db *DB) Ping(ctx context.Context) error {
	if db.cannotWrite.Load() {
		if err := db.probeWrite(ctx); err != nil {
			return db.fail(ctx, "ping: write", err)
		}
	}
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return db.fail(ctx, "ping", err)
	}
	return nil
}

// maxStmts bounds the statement cache. Task lists are built from optional
// filters, so a client trying every combination could otherwise make the
// store prepare (and keep, on every pooled connection) thousands of them.
const maxStmts = 400

// stmt returns a statement prepared on pool, cached by its text, or nil if
// the cache is full: the caller then runs the query unprepared.
func (db *DB) stmt(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	key := stmtKey{pool == db.w, query}
	if s, ok := db.stmts.Load(key); ok {
		return s.(*sql.Stmt), nil
	}
	if db.nstmts.Load() >= maxStmts {
		return nil, nil
	}
	s, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(key, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	db.nstmts.Add(1)
	return s, nil
}

type stmtKey struct {
	write bool
	query string
}

// query runs a read statement on the read pool, prepared once if it can be.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := db.stmt(ctx, db.r, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return db.r.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

// queryRow runs a single-row read statement on the read pool.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	s, err := db.stmt(ctx, db.r, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return db.r.QueryRowContext(ctx, query, args...), nil
	}
	return s.QueryRowContext(ctx, args...), nil
}

// fail translates err at the edge of the store: domain errors pass through,
// driver errors become domain kinds, and everything is wrapped with the
// operation for the logs.
func (db *DB) fail(ctx context.Context, op string, err error) error {
	var de *authdash.Error
	switch {
	case errors.As(err, &de):
	case ctx.Err() != nil:
		err = authdash.WrapError(authdash.CodeUnavailable, ctx.Err(), "The request was cancelled or timed out.")
	case errors.Is(err, errClosed):
		err = authdash.WrapError(authdash.CodeUnavailable, err, "The service is shutting down; try again.")
	case errors.Is(err, sql.ErrNoRows):
		err = authdash.WrapError(authdash.CodeNotFound, err, "Not found.")
	case isUnique(err):
		err = authdash.WrapError(authdash.CodeConflict, err, "Already exists.")
	case isBusy(err):
		err = authdash.WrapError(authdash.CodeUnavailable, err, "The database is busy; try again.")
	case isCannotWrite(err):
		err = authdash.WrapError(authdash.CodeUnavailable, cannotWriteError{err}, "The server cannot save changes right now; try again later.")
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// isBusy reports SQLITE_BUSY and its extended codes.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) &&
		(se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func isForeignKey(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// newID returns 24 lowercase hex characters, the shape of a MongoDB
// ObjectID so IDs look the same whichever store made them: 4 bytes of Unix
// seconds, 3 of the fraction of that second (in 2^-24 s, about 60 ns) and
// 5 random bytes. IDs sort by when they were made, so a row's entry in
// every index that ends in an ID (a task's in tasks_priority, tasks_due and
// tasks_title, its tags' in task_tags and task_tags_owner, the ID's own)
// goes at the end of its run, in the pages the writes just before touched:
// with the 8 bytes after the second random, a commit of 30 creates wrote
// some 45 more pages, each a WAL frame, and the writer spent a fifth more
// on a create (issue 16, docs/BENCHMARKS.md "Write tails"). The fifth byte,
// the second's 256th part (about 4 ms), is what splits a second's tasks
// into buckets in the sort-ordered search index (idPrefix).
func newID() string { return newIDAt(time.Now()) }

func newIDAt(t time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(t.Unix()))
	frac := uint64(t.Nanosecond()) << 24 / uint64(time.Second)
	b[4], b[5], b[6] = byte(frac>>16), byte(frac>>8), byte(frac)
	rand.Read(b[7:]) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}

// validID reports whether s could be an ID newID made; anything else cannot
// name a row, so lookups answer not found without asking the database.
func validID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// now is the store's clock, at the precision it keeps.
func (db *DB) now() time.Time { return authdash.Millis(db.clock()) }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
