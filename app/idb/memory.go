package idb

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// NewMemory returns a database kept in memory, with the given buckets: what
// the native tests use, and the browser's fallback when IndexedDB cannot
// be opened (storage refused, a private window that has none). It lives as
// long as the value; two DBs share nothing.
func NewMemory(buckets ...string) *DB {
	m := &memory{data: map[string]map[string][]byte{}}
	for _, b := range buckets {
		m.data[b] = map[string][]byte{}
	}
	return &DB{b: m, buckets: slices.Clone(buckets)}
}

type memory struct {
	mu     sync.RWMutex
	data   map[string]map[string][]byte
	closed bool
}

func (m *memory) get(ctx context.Context, bucket, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, false, ErrClosed
	}
	v, ok := m.data[bucket][key]
	return slices.Clone(v), ok, nil
}

func (m *memory) all(ctx context.Context, bucket string) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	out := make([]Entry, 0, len(m.data[bucket]))
	for k, v := range m.data[bucket] {
		out = append(out, Entry{Key: k, Value: slices.Clone(v)})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (m *memory) write(ctx context.Context, ops []Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	for _, op := range ops {
		switch {
		case op.Clear:
			clear(m.data[op.Bucket])
		case op.Delete:
			delete(m.data[op.Bucket], op.Key)
		default:
			m.data[op.Bucket][op.Key] = slices.Clone(op.Value)
		}
	}
	return nil
}

func (m *memory) close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
}
