//go:build !js

package tasklist_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/authdash/authdash/store/sqlite"
	"github.com/authdash/authdash/store/storetest"
)

// TestLiveViewMatchesServer is the live view's property test
// (storetest.LiveView) on the real SQLite store with many seeds; the store
// contract runs a few on every store, MongoDB's too.
func TestLiveViewMatchesServer(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "live.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seeds := 40
	if testing.Short() {
		seeds = 8
	}
	storetest.LiveView(t, db, seeds, 30)
}
