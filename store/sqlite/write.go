package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Writes are group-committed. One goroutine owns the writer connection;
// whatever writes are queued while a transaction commits go into the next
// transaction together, each inside its own savepoint so that one failing
// undoes only itself. A commit costs the same for one write as for fifty (it
// is the WAL frames of the pages they share, mostly), so under load this
// multiplies write throughput, and with a single caller it costs nothing.

// maxBatch bounds one transaction, so a burst does not hold the database
// lock (which another process may be waiting for) for long.
const maxBatch = 64

var errClosed = errors.New("database is closed")

type writeReq struct {
	ctx  context.Context
	fn   func(tx *wtx) error
	done chan error
}

// wtx is one write inside a (possibly shared) transaction. Its statements
// run under the caller's context, so a caller that gives up interrupts only
// its own write.
type wtx struct {
	ctx context.Context
	db  *DB
	tx  *sql.Tx
	// uncached lists statements to prepare on the writer once the
	// transaction has released its only connection; preparing them now
	// would wait for that connection forever.
	uncached []string
}

func (t *wtx) prep(query string) (*sql.Stmt, error) {
	if s, ok := t.db.stmts.Load(stmtKey{true, query}); ok {
		return t.tx.StmtContext(t.ctx, s.(*sql.Stmt)), nil
	}
	t.uncached = append(t.uncached, query)
	return t.tx.PrepareContext(t.ctx, query)
}

func (t *wtx) exec(query string, args ...any) (sql.Result, error) {
	s, err := t.prep(query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(t.ctx, args...)
}

func (t *wtx) queryRow(query string, args ...any) *sql.Row {
	s, err := t.prep(query)
	if err != nil {
		// A Row carrying the error: Scan reports it.
		return t.tx.QueryRowContext(t.ctx, query, args...)
	}
	return s.QueryRowContext(t.ctx, args...)
}

// write runs fn in a write transaction, possibly shared with other writes,
// and returns once that transaction has committed or fn's changes have been
// rolled back. fn must not keep tx.
func (db *DB) write(ctx context.Context, fn func(tx *wtx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.writes <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.closing:
		return errClosed
	}
	// Once handed over, the write may commit; wait to know. The writer
	// checks ctx and runs fn's statements under it, so this is not long.
	return <-req.done
}

const (
	savepoint  = "SAVEPOINT w"
	release    = "RELEASE w"
	rollbackTo = "ROLLBACK TO w"
)

func (db *DB) prepareSavepoints(ctx context.Context) error {
	for _, q := range []string{savepoint, release, rollbackTo} {
		if _, err := db.stmt(ctx, db.w, q); err != nil {
			return err
		}
	}
	return nil
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
		for i, req := range batch {
			req.done <- errs[i]
		}
		for _, q := range uncached {
			// Best effort: failing only means preparing again next time.
			db.stmt(context.Background(), db.w, q)
		}
	}()
	failAll := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}

	live := 0
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			errs[i] = err
		} else {
			live++
		}
	}
	if live == 0 {
		return
	}
	// The transaction outlives any one caller's context.
	tx, err := db.w.BeginTx(context.Background(), nil)
	if err != nil {
		failAll(err)
		return
	}
	sp := func(query string) error {
		s, _ := db.stmts.Load(stmtKey{true, query})
		_, err := tx.Stmt(s.(*sql.Stmt)).Exec()
		return err
	}
	for i, req := range batch {
		if errs[i] != nil {
			continue
		}
		t := &wtx{ctx: req.ctx, db: db, tx: tx}
		if live == 1 {
			// Alone in the transaction: no savepoint needed.
			if errs[i] = req.fn(t); errs[i] != nil {
				uncached = t.uncached
				tx.Rollback()
				return
			}
			uncached = t.uncached
			break
		}
		if err := sp(savepoint); err != nil {
			tx.Rollback()
			failAll(fmt.Errorf("savepoint: %w", err))
			return
		}
		errs[i] = req.fn(t)
		uncached = append(uncached, t.uncached...)
		if errs[i] != nil {
			if err := sp(rollbackTo); err != nil {
				tx.Rollback()
				failAll(fmt.Errorf("rollback to savepoint: %w", err))
				return
			}
		}
		if err := sp(release); err != nil {
			tx.Rollback()
			failAll(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(err)
	}
}
