package mongo_test

import (
	"testing"

	"github.com/authdash/authdash/store/storetest"
)

// TestContract holds the MongoDB store to the same contract as SQLite.
func TestContract(t *testing.T) {
	for _, s := range servers() {
		t.Run(s.name, func(t *testing.T) { storetest.Run(t, opener(s.uri)) })
	}
}
