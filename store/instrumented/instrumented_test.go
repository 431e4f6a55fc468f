package instrumented_test

import (
	"context"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/store/instrumented"
	"github.com/authdash/authdash/store/sqlite"
	"github.com/authdash/authdash/store/storetest"
)

// recorder collects what the wrapper reports.
type recorder struct {
	mu   sync.Mutex
	ops  map[string]int
	errs map[string]map[authdash.ErrorCode]bool
}

func (r *recorder) observe(op string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d < 0 {
		panic("negative duration")
	}
	r.ops[op]++
	if err != nil {
		if r.errs[op] == nil {
			r.errs[op] = map[authdash.ErrorCode]bool{}
		}
		r.errs[op][authdash.ErrorCodeOf(err)] = true
	}
}

func mustOpen(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authdash.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The wrapped store must still pass the whole store contract, and every
// method the contract calls must have been reported under its own name.
func TestContractThroughWrapper(t *testing.T) {
	rec := &recorder{ops: map[string]int{}, errs: map[string]map[authdash.ErrorCode]bool{}}
	storetest.Run(t, func(t *testing.T) authdash.Store {
		return instrumented.New(mustOpen(t), rec.observe)
	})
	methods := reflect.TypeFor[authdash.Store]()
	for i := range methods.NumMethod() {
		name := methods.Method(i).Name
		if rec.ops[name] == 0 {
			t.Errorf("%s was never reported", name)
		}
	}
	if len(rec.ops) != methods.NumMethod() {
		t.Errorf("reported ops %v, want exactly the %d Store methods", rec.ops, methods.NumMethod())
	}
	// The contract asks for missing tasks; those errors must arrive with
	// their domain code.
	if !rec.errs["FindTask"][authdash.CodeNotFound] {
		t.Errorf("FindTask errors reported as %v, want not_found among them", rec.errs["FindTask"])
	}
}
