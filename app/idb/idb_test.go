package idb_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/authdash/authdash/app/idb"
)

func mustOpen(t *testing.T) *idb.DB {
	t.Helper()
	db, err := idb.Open(context.Background(), idb.Schema{Name: "test", Version: 1, Buckets: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func keys(t *testing.T, db *idb.DB, bucket string) []string {
	t.Helper()
	es, err := db.All(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Key+"="+string(e.Value))
	}
	return out
}

func TestWrite(t *testing.T) {
	for _, c := range []struct {
		name    string
		ops     []idb.Op
		wantA   []string
		wantB   []string
		wantErr error
	}{
		{name: "OK", ops: []idb.Op{idb.Put("a", "2", []byte("two")), idb.Put("a", "1", []byte("one")), idb.Put("b", "x", []byte("X"))},
			wantA: []string{"0=zero", "1=one", "2=two"}, wantB: []string{"x=X"}},
		{name: "LaterOpWins", ops: []idb.Op{idb.Put("a", "1", []byte("one")), idb.Put("a", "1", []byte("uno")), idb.Delete("a", "0")},
			wantA: []string{"1=uno"}},
		{name: "ClearThenPut", ops: []idb.Op{idb.Clear("a"), idb.Put("a", "3", []byte("three"))}, wantA: []string{"3=three"}},
		{name: "DeleteMissing", ops: []idb.Op{idb.Delete("a", "nope")}, wantA: []string{"0=zero"}},
		{name: "ErrUnknownBucketLeavesNothing", ops: []idb.Op{idb.Put("a", "1", []byte("one")), idb.Put("c", "1", nil)},
			wantA: []string{"0=zero"}, wantErr: idb.ErrUnknownBucket},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := mustOpen(t)
			ctx := context.Background()
			if err := db.Write(ctx, idb.Put("a", "0", []byte("zero"))); err != nil {
				t.Fatal(err)
			}
			err := db.Write(ctx, c.ops...)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("Write: %v, want %v", err, c.wantErr)
			}
			if got := keys(t, db, "a"); !slices.Equal(got, c.wantA) {
				t.Errorf("a = %q, want %q", got, c.wantA)
			}
			if got := keys(t, db, "b"); !slices.Equal(got, c.wantB) {
				t.Errorf("b = %q, want %q", got, c.wantB)
			}
		})
	}
}

func TestGet(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	val := []byte(`{"x":1}`)
	if err := db.Write(ctx, idb.Put("a", "k", val)); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the store keeps its own copy
	got, ok, err := db.Get(ctx, "a", "k")
	if err != nil || !ok || string(got) != `{"x":1}` {
		t.Fatalf("Get = %q, %v, %v", got, ok, err)
	}
	got[0] = 'Y'
	if again, _, _ := db.Get(ctx, "a", "k"); string(again) != `{"x":1}` {
		t.Errorf("a caller's change to a value read reached the store: %q", again)
	}
	if _, ok, err := db.Get(ctx, "b", "k"); ok || err != nil {
		t.Errorf("Get from another bucket = %v, %v; want nothing", ok, err)
	}
	if _, _, err := db.Get(ctx, "c", "k"); !errors.Is(err, idb.ErrUnknownBucket) {
		t.Errorf("Get from an unknown bucket: %v", err)
	}
}

func TestErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	db := mustOpen(t)
	if err := db.Write(ctx, idb.Put("a", "k", nil)); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with an ended ctx: %v", err)
	}
	if _, err := db.All(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("All with an ended ctx: %v", err)
	}
	db.Close()
	if err := db.Write(context.Background(), idb.Put("a", "k", nil)); !errors.Is(err, idb.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if _, _, err := db.Get(context.Background(), "a", "k"); !errors.Is(err, idb.ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
	if _, err := idb.Open(context.Background(), idb.Schema{Name: "x"}); err == nil {
		t.Error("Open without buckets or version: no error")
	}
}
