// Package idb is the browser's durable key-value storage for the app: named
// buckets (IndexedDB object stores) of values under string keys, read one
// key or a whole bucket at a time and written in atomic batches. In the
// browser it is IndexedDB (Open, built for js); everywhere else, and in a
// browser without IndexedDB, it is in memory (NewMemory), with the same
// behaviour, so what stores in it is tested natively.
//
// Values are opaque bytes (the callers store JSON). Keys are ordered by
// their bytes; IndexedDB orders strings by UTF-16 code units, which agree
// for the ASCII keys the callers use (task IDs, zero-padded numbers).
//
// In the browser every call waits for IndexedDB's callbacks, so it must run
// on a goroutine of its own (go-app's action handlers and ctx.Async do),
// never in a JavaScript callback.
package idb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownBucket is returned for a bucket the database was not opened with.
var ErrUnknownBucket = errors.New("idb: unknown bucket")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("idb: closed")

// Entry is a key and its value.
type Entry struct {
	Key   string
	Value []byte
}

// Op is one change of a batch: Value put under Key in Bucket, or the key
// removed when Delete is set; Clear empties the bucket (Key is ignored).
type Op struct {
	Bucket string
	Key    string
	Value  []byte
	Delete bool
	Clear  bool
}

// Put is the op that stores value under key.
func Put(bucket, key string, value []byte) Op { return Op{Bucket: bucket, Key: key, Value: value} }

// Delete is the op that removes key.
func Delete(bucket, key string) Op { return Op{Bucket: bucket, Key: key, Delete: true} }

// Clear is the op that empties a bucket.
func Clear(bucket string) Op { return Op{Bucket: bucket, Clear: true} }

// Schema names a database and its buckets. Version must rise whenever
// Buckets gains a name (IndexedDB creates object stores only on an upgrade).
type Schema struct {
	Name    string
	Version int
	Buckets []string
}

func (s Schema) check() error {
	if s.Name == "" || s.Version < 1 || len(s.Buckets) == 0 {
		return fmt.Errorf("idb: schema needs a name, a version ≥ 1 and buckets: %+v", s)
	}
	return nil
}

// DB is an open database. Its methods are safe for concurrent use.
type DB struct {
	b       backend
	buckets []string
	// Persistent reports whether what is stored outlives the page
	// (IndexedDB), rather than only this DB value (memory).
	Persistent bool
}

// backend is one storage: IndexedDB or memory. Buckets are checked before
// it is called.
type backend interface {
	get(ctx context.Context, bucket, key string) ([]byte, bool, error)
	all(ctx context.Context, bucket string) ([]Entry, error)
	write(ctx context.Context, ops []Op) error
	close()
}

func (db *DB) known(bucket string) error {
	if !slices.Contains(db.buckets, bucket) {
		return fmt.Errorf("%w %q", ErrUnknownBucket, bucket)
	}
	return nil
}

// Get returns the value under key, and whether there is one.
func (db *DB) Get(ctx context.Context, bucket, key string) ([]byte, bool, error) {
	if err := db.known(bucket); err != nil {
		return nil, false, err
	}
	v, ok, err := db.b.get(ctx, bucket, key)
	if err != nil {
		return nil, false, fmt.Errorf("idb: get %s/%s: %w", bucket, key, err)
	}
	return v, ok, nil
}

// All returns every entry of a bucket in key order.
func (db *DB) All(ctx context.Context, bucket string) ([]Entry, error) {
	if err := db.known(bucket); err != nil {
		return nil, err
	}
	es, err := db.b.all(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("idb: read %s: %w", bucket, err)
	}
	return es, nil
}

// Write applies ops in order, all or none: a reader sees the store before
// the batch or after it, never in between, and a failed or cancelled
// batch leaves nothing behind.
func (db *DB) Write(ctx context.Context, ops ...Op) error {
	if len(ops) == 0 {
		return nil
	}
	for _, op := range ops {
		if err := db.known(op.Bucket); err != nil {
			return err
		}
	}
	if err := db.b.write(ctx, ops); err != nil {
		return fmt.Errorf("idb: write %s: %w", describe(ops), err)
	}
	return nil
}

// Close lets the database go (another tab may then upgrade it). Calls after
// Close return ErrClosed.
func (db *DB) Close() { db.b.close() }

func describe(ops []Op) string {
	var bs []string
	for _, op := range ops {
		if !slices.Contains(bs, op.Bucket) {
			bs = append(bs, op.Bucket)
		}
	}
	return fmt.Sprintf("%d ops on %s", len(ops), strings.Join(bs, ","))
}

// ErrQuota is returned (wrapped) when the browser refuses a write for lack
// of room: the caller may drop what it can rebuild and try again.
var ErrQuota = errors.New("idb: storage quota exceeded")
