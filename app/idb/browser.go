//go:build js

package idb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"syscall/js"
)

// Open opens the IndexedDB database of s, creating it or the buckets it
// lacks (an upgrade to s.Version). It waits while another tab holds an
// older version open: that tab closes its copy when asked (versionchange),
// and its later calls return ErrClosed. Without IndexedDB (or when the
// browser refuses it) Open returns the error; the caller may fall back to
// NewMemory.
func Open(ctx context.Context, s Schema) (*DB, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	factory := js.Global().Get("indexedDB")
	if !factory.Truthy() {
		return nil, errors.New("idb: this browser has no IndexedDB")
	}
	req, err := call(factory, "open", s.Name, s.Version)
	if err != nil {
		return nil, fmt.Errorf("idb: open %s: %w", s.Name, err)
	}
	type opened struct {
		db  js.Value
		err error
	}
	done := make(chan opened, 1)
	var upgrade, success, failure js.Func
	release := func() { upgrade.Release(); success.Release(); failure.Release() }
	upgrade = js.FuncOf(func(js.Value, []js.Value) any {
		db := req.Get("result")
		names := db.Get("objectStoreNames")
		for _, b := range s.Buckets {
			if !names.Call("contains", b).Bool() {
				if _, err := call(db, "createObjectStore", b); err != nil {
					// The upgrade's transaction aborts; onerror follows.
					js.Global().Get("console").Call("error", "idb: create "+b+": "+err.Error())
				}
			}
		}
		return nil
	})
	success = js.FuncOf(func(js.Value, []js.Value) any {
		release()
		done <- opened{db: req.Get("result")}
		return nil
	})
	failure = js.FuncOf(func(js.Value, []js.Value) any {
		release()
		done <- opened{err: domError(req.Get("error"))}
		return nil
	})
	req.Set("onupgradeneeded", upgrade)
	req.Set("onsuccess", success)
	req.Set("onerror", failure)
	var o opened
	select {
	case o = <-done:
	case <-ctx.Done():
		go func() {
			// Opened after all: nobody will use it.
			if o := <-done; o.err == nil {
				o.db.Call("close")
			}
		}()
		return nil, ctx.Err()
	}
	if o.err != nil {
		return nil, fmt.Errorf("idb: open %s: %w", s.Name, o.err)
	}
	b := &browser{db: o.db}
	b.onVersionChange = js.FuncOf(func(js.Value, []js.Value) any {
		// Another tab opens a newer version: let it.
		b.close()
		return nil
	})
	o.db.Set("onversionchange", b.onVersionChange)
	return &DB{b: b, buckets: slices.Clone(s.Buckets), Persistent: true}, nil
}

type browser struct {
	mu              sync.Mutex
	db              js.Value
	closed          bool
	onVersionChange js.Func
}

func (b *browser) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	b.db.Call("close")
	b.db.Set("onversionchange", js.Null())
	b.onVersionChange.Release()
}

// run starts a transaction on buckets, lets fill issue its requests and
// waits until it commits (nil), aborts (its error) or ctx ends (it is
// aborted: nothing of it stays).
func (b *browser) run(ctx context.Context, buckets []string, mode string, fill func(tx js.Value) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	names := make([]any, len(buckets))
	for i, n := range buckets {
		names[i] = n
	}
	tx, err := call(b.db, "transaction", names, mode)
	b.mu.Unlock()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	var complete, abort js.Func
	release := func() { complete.Release(); abort.Release() }
	complete = js.FuncOf(func(js.Value, []js.Value) any {
		release()
		done <- nil
		return nil
	})
	abort = js.FuncOf(func(js.Value, []js.Value) any {
		release()
		if e := tx.Get("error"); e.Truthy() {
			done <- domError(e)
		} else {
			done <- errors.New("transaction aborted")
		}
		return nil
	})
	tx.Set("oncomplete", complete)
	tx.Set("onabort", abort)
	if err := fill(tx); err != nil {
		call(tx, "abort")
		<-done
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if _, err := call(tx, "abort"); err != nil {
			// Too late to abort: it finished; say how.
			return <-done
		}
		<-done
		return ctx.Err()
	}
}

func (b *browser) get(ctx context.Context, bucket, key string) ([]byte, bool, error) {
	var req js.Value
	err := b.run(ctx, []string{bucket}, "readonly", func(tx js.Value) (err error) {
		st, err := call(tx, "objectStore", bucket)
		if err != nil {
			return err
		}
		req, err = call(st, "get", key)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	v := req.Get("result")
	if v.IsUndefined() {
		return nil, false, nil
	}
	out, err := bytesOf(v)
	return out, err == nil, err
}

func (b *browser) all(ctx context.Context, bucket string) ([]Entry, error) {
	var keys, vals js.Value
	err := b.run(ctx, []string{bucket}, "readonly", func(tx js.Value) (err error) {
		st, err := call(tx, "objectStore", bucket)
		if err != nil {
			return err
		}
		if keys, err = call(st, "getAllKeys"); err != nil {
			return err
		}
		vals, err = call(st, "getAll")
		return err
	})
	if err != nil {
		return nil, err
	}
	ks, vs := keys.Get("result"), vals.Get("result")
	n := ks.Length()
	if vs.Length() != n {
		return nil, fmt.Errorf("%d keys but %d values", n, vs.Length())
	}
	out := make([]Entry, n)
	for i := range n {
		k := ks.Index(i)
		if k.Type() != js.TypeString {
			return nil, fmt.Errorf("key %d is a %s, not a string", i, k.Type())
		}
		v, err := bytesOf(vs.Index(i))
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.String(), err)
		}
		out[i] = Entry{Key: k.String(), Value: v}
	}
	return out, nil
}

func (b *browser) write(ctx context.Context, ops []Op) error {
	var buckets []string
	for _, op := range ops {
		if !slices.Contains(buckets, op.Bucket) {
			buckets = append(buckets, op.Bucket)
		}
	}
	u8 := js.Global().Get("Uint8Array")
	return b.run(ctx, buckets, "readwrite", func(tx js.Value) error {
		for _, op := range ops {
			st, err := call(tx, "objectStore", op.Bucket)
			if err != nil {
				return err
			}
			switch {
			case op.Clear:
				_, err = call(st, "clear")
			case op.Delete:
				_, err = call(st, "delete", op.Key)
			default:
				v := u8.New(len(op.Value))
				js.CopyBytesToJS(v, op.Value)
				_, err = call(st, "put", v, op.Key)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// bytesOf reads a stored value: a Uint8Array.
func bytesOf(v js.Value) ([]byte, error) {
	if !v.InstanceOf(js.Global().Get("Uint8Array")) {
		return nil, fmt.Errorf("value is a %s, not bytes", v.Type())
	}
	out := make([]byte, v.Length())
	js.CopyBytesToGo(out, v)
	return out, nil
}

// call calls a method, returning what it throws (a DOMException such as
// InvalidStateError or QuotaExceededError) as an error.
func call(v js.Value, method string, args ...any) (r js.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			je, ok := p.(js.Error)
			if !ok {
				panic(p)
			}
			err = domError(je.Value)
		}
	}()
	return v.Call(method, args...), nil
}

// domError turns a DOMException into an error; a full store is ErrQuota.
func domError(e js.Value) error {
	if !e.Truthy() {
		return errors.New("unknown error")
	}
	name, msg := e.Get("name").String(), e.Get("message").String()
	if name == "QuotaExceededError" {
		return fmt.Errorf("%w: %s", ErrQuota, msg)
	}
	return fmt.Errorf("%s: %s", name, msg)
}
