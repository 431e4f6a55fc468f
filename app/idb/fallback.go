//go:build !js

package idb

import "context"

// Open outside a browser is NewMemory with s's buckets: the server's
// prerender and native builds compile the same callers.
func Open(_ context.Context, s Schema) (*DB, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return NewMemory(s.Buckets...), nil
}
