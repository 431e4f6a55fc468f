package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/authdash/authdash"
)

// Writes are group-committed. One goroutine owns the writer connection;
// the writes queued while a transaction commits go into the next
// transaction together. A commit costs about the same for one write as for
// fifty (mostly the WAL frames of the pages they share), so under load this
// multiplies write throughput, and with a single caller it costs nothing.
//
// A write that fails cleanly (a domain error such as not found, stale or
// conflict, before it changed anything) leaves the shared transaction as
// it was, so the others carry on. Any other failure may have left partial
// changes or ended the transaction, so the whole batch is rolled back and
// its writes are run again, each in a transaction of its own.

// maxBatch bounds one transaction, so a burst does not hold the database
// lock (which another process may be waiting for) for long.
const maxBatch = 64

var errClosed = errors.New("database is closed")

type writeReq struct {
	ctx context.Context
	// fn is the write; nil for a request that only runs before.
	fn   func(tx *wtx) error
	done chan error
	// before, if set, runs in the writer goroutine before the batch's
	// transaction begins (the checkpointer's second pass).
	before func()
}

// wtx is one write inside a (possibly shared) transaction.
type wtx struct {
	// ctx is the caller's context without its cancellation: interrupting a
	// statement would roll back the whole shared transaction, so a write,
	// once started, runs to the end (it takes well under a millisecond).
	ctx context.Context
	db  *DB
	tx  *sql.Tx
	// wrote is set once a statement may have changed the database.
	wrote bool
	// uncached lists statements to prepare on the writer once the
	// transaction has released its only connection; preparing them now
	// would wait for that connection forever.
	uncached []string
	// shared is what the writes of one transaction share.
	shared *txShared
}

// txShared is what the writes of one transaction share, made afresh for
// each transaction, so a rollback takes it with it.
type txShared struct {
	// places is the next free place in each bucket of a sort-ordered copy
	// of the search index that a write of the transaction took a place
	// in (placeIn): the creates of a batch share buckets (a priority, the
	// 4 ms of creation), and each asked the tasks' index again.
	places map[placeKey]int64
}

func (t *wtx) prep(query string) (*sql.Stmt, error) {
	if s, ok := t.db.stmts.Load(stmtKey{true, query}); ok {
		return t.tx.StmtContext(t.ctx, s.(*sql.Stmt)), nil
	}
	t.uncached = append(t.uncached, query)
	return t.tx.PrepareContext(t.ctx, query)
}

// exec runs a statement that changes the database.
func (t *wtx) exec(query string, args ...any) (sql.Result, error) {
	s, err := t.prep(query)
	if err != nil {
		return nil, err
	}
	res, err := s.ExecContext(t.ctx, args...)
	if err == nil {
		t.wrote = true
	}
	return res, err
}

// queryRow runs a statement that only reads.
func (t *wtx) queryRow(query string, args ...any) *sql.Row {
	s, err := t.prep(query)
	if err != nil {
		// A Row carrying the error: Scan reports it.
		return t.tx.QueryRowContext(t.ctx, query, args...)
	}
	return s.QueryRowContext(t.ctx, args...)
}

// returning runs a statement that changes the database and returns a row.
func (t *wtx) returning(query string, args ...any) *sql.Row {
	// Set before it runs: the Row cannot tell whether it changed anything.
	t.wrote = true
	return t.queryRow(query, args...)
}

// write runs fn in a write transaction, possibly shared with other writes,
// and returns once that transaction has committed or fn's changes have been
// rolled back. fn may run more than once (on a fresh transaction each
// time), so it must set its results afresh on each run.
func (db *DB) write(ctx context.Context, fn func(tx *wtx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.waiting.Add(1)
	select {
	case db.writes <- req:
		db.waiting.Add(-1)
	case <-ctx.Done():
		db.waiting.Add(-1)
		return ctx.Err()
	case <-db.closing:
		db.waiting.Add(-1)
		return errClosed
	}
	// Once handed over, the write may commit: wait to know.
	return <-req.done
}

// writer serves write requests until Close.
func (db *DB) writer() {
	defer db.writerWG.Done()
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case req := <-db.writes:
			batch = append(batch[:0], req)
		case <-db.closing:
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case req := <-db.writes:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		db.commit(batch)
		clear(batch)
	}
}

// commit runs a batch of writes in one transaction and tells each caller
// how its write ended.
func (db *DB) commit(batch []*writeReq) {
	errs := make([]error, len(batch))
	var uncached []string
	defer func() {
		db.texts.reset()
		for i, req := range batch {
			req.done <- errs[i]
		}
		for _, q := range uncached {
			// Best effort: failing only means preparing again next time.
			db.stmt(context.Background(), db.w, q)
		}
	}()

	pending := make([]int, 0, len(batch))
	for i, req := range batch {
		switch {
		case req.fn == nil: // only before
		case req.ctx.Err() != nil:
			errs[i] = req.ctx.Err()
		default:
			pending = append(pending, i)
		}
	}
	for _, req := range batch {
		if req.before != nil {
			req.before()
		}
	}
	if len(pending) == 0 {
		return
	}
	// The transaction outlives any one caller's context.
	tx, err := db.w.BeginTx(context.Background(), nil)
	if err != nil {
		for _, i := range pending {
			errs[i] = err
		}
		return
	}
	shared := new(txShared)
	for _, i := range pending {
		t := &wtx{ctx: context.WithoutCancel(batch[i].ctx), db: db, tx: tx, shared: shared}
		errs[i] = batch[i].fn(t)
		uncached = append(uncached, t.uncached...)
		var de *authdash.Error
		if errs[i] == nil || (errors.As(errs[i], &de) && !t.wrote) {
			continue
		}
		if len(pending) == 1 {
			tx.Rollback()
			db.noteWriteFailure(errs[i])
			return
		}
		// This write may have left partial changes, or SQLite may have
		// ended the transaction: start over, one write at a time.
		tx.Rollback()
		for _, j := range pending {
			errs[j] = db.commitOne(batch[j])
		}
		return
	}
	t := &wtx{ctx: context.Background(), db: db, tx: tx, shared: shared}
	err = indexDirty(t)
	uncached = append(uncached, t.uncached...)
	if err != nil {
		tx.Rollback()
	} else {
		err = tx.Commit()
	}
	if err != nil {
		for _, i := range pending {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		db.noteWriteFailure(err)
		return
	}
	db.committed()
}

// checkpointInterval is how often the checkpointer copies the WAL back
// into the database file.
const checkpointInterval = 500 * time.Millisecond

// checkpointer runs checkpoints until Close, in two passes. The first,
// passive (repeated while it copies many frames), copies back what the WAL
// holds off the write path: it waits for no one and no one waits for it. But the WAL starts again from its
// beginning only when a commit finds every frame of it copied back, and
// under a steady stream of commits the frames written during the first
// pass were never all copied: the WAL grew until the writer's own
// checkpoint (walAutoCheckpoint, 80 MiB) did the rest inside a commit,
// every second or two, with the fsyncs that go with it. So the second pass
// copies what the first left behind (the frames of a fraction of a
// second, mostly pages the first pass wrote already) from inside a write
// of the writer goroutine, before the next transaction begins, so that its
// commit starts the WAL again (SQLite restarts the WAL only in a write
// transaction that began with every frame copied back; TestWALBounded).
func (db *DB) checkpointer() {
	defer db.writerWG.Done()
	tick := time.NewTicker(db.checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			db.checkpointTick(context.Background())
		case <-db.closing:
			return
		}
	}
}

// The first pass is repeated while a pass copies more than ckptFew
// frames, at most ckptPasses times, so that what is left to the second pass
// in the writer goroutine is the frames of a few milliseconds: one pass
// copied the frames of half a second (14,000-18,000 under sustained creates
// at 16 connections) in about 70 ms, and the second, copying the frames
// written meanwhile, held every write for 15-30 ms twice a second (issue
// 16: most of the create p99 at 16 connections).
const (
	ckptPasses = 4
	ckptFew    = 256
)

// checkpointTick runs the checkpointer's passes. Errors (SQLITE_BUSY
// while another process checkpoints, say) only mean trying again at the
// next tick.
func (db *DB) checkpointTick(ctx context.Context) {
	copied := 0
	for pass := range ckptPasses {
		log, done, err := db.checkpoint(ctx)
		if err != nil || log == 0 {
			return
		}
		// done counts from the WAL's start; a commit may have started it
		// again since the last pass.
		n := done - copied
		if done < copied {
			n = done
		}
		copied = done
		if db.afterPass != nil {
			db.afterPass(pass)
		}
		if n < ckptFew {
			break
		}
	}
	req := &writeReq{ctx: ctx, done: make(chan error, 1), before: func() {
		if _, done, err := db.checkpoint(ctx); err == nil {
			db.writerPassFrames.Store(int64(max(done-copied, 0)))
		}
	}}
	select {
	case db.writes <- req:
		<-req.done
	case <-db.closing:
	}
}

// checkpoint runs a passive checkpoint and returns the frames the WAL
// holds (0 once it has started again) and how many of them are copied
// back.
func (db *DB) checkpoint(ctx context.Context) (log, done int, err error) {
	var busy int
	if err := db.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil {
		return 0, 0, err
	}
	return log, done, nil
}

// commitOne runs one write in a transaction of its own.
func (db *DB) commitOne(req *writeReq) error {
	tx, err := db.w.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	t := &wtx{ctx: context.WithoutCancel(req.ctx), db: db, tx: tx, shared: new(txShared)}
	if err := req.fn(t); err != nil {
		tx.Rollback()
		db.noteWriteFailure(err)
		return err
	}
	if err := indexDirty(t); err != nil {
		tx.Rollback()
		db.noteWriteFailure(err)
		return err
	}
	if err := tx.Commit(); err != nil {
		db.noteWriteFailure(err)
		return err
	}
	db.committed()
	return nil
}

// execOne runs a statement that must change a row: none changed is missing
// (the caller's not-found error), as a delete or update of an id that is
// not there (or not the user's) changes nothing.
func (t *wtx) execOne(missing error, query string, args ...any) error {
	res, err := t.exec(query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return missing
	}
	return nil
}

// changeOne is a write of one statement that must change a row: an id that
// cannot be one (checked before the write) or a statement that changes
// nothing is missing's not-found error.
func (db *DB) changeOne(ctx context.Context, op, id string, missing func() error, query string, args ...any) error {
	if !validID(id) {
		return db.fail(ctx, op, missing())
	}
	if err := db.write(ctx, func(tx *wtx) error { return tx.execOne(missing(), query, args...) }); err != nil {
		return db.fail(ctx, op, err)
	}
	return nil
}
