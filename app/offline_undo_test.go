package app

import (
	"reflect"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/idb"
	"github.com/authdash/authdash/app/outbox"
	"github.com/authdash/authdash/app/taskcache"
	"github.com/authdash/authdash/app/undo"
)

// An open offer keeps the deletion it can withdraw; the offers no longer
// open lose theirs, so that their deletions are sent.
func TestWithdrawalsKeep(t *testing.T) {
	a := withdrawal{task: "t1", deletion: outbox.Deletion{Seq: 1}}
	b := withdrawal{task: "t2", deletion: outbox.Deletion{Seq: 2}}
	c := withdrawal{task: "t3", deletion: outbox.Deletion{Seq: 3}}
	a2 := withdrawal{task: "t1", deletion: outbox.Deletion{Seq: 4}}
	for _, tt := range []struct {
		name string
		ws   withdrawals
		open []int // the IDs of the offers open
		id   int
		w    withdrawal
		want withdrawals
	}{
		{"First", nil, []int{1}, 1, a, withdrawals{1: a}},
		{"OpenKept", withdrawals{1: a}, []int{1, 2}, 2, b, withdrawals{1: a, 2: b}},
		{"GoneDropped", withdrawals{1: a, 2: b}, []int{2, 3}, 3, c, withdrawals{2: b, 3: c}},
		{"AllGoneDropped", withdrawals{1: a, 2: b}, []int{3}, 3, c, withdrawals{3: c}},
		// An open offer of another kind (done, not done) withdraws nothing.
		{"OpenWithoutDeletion", withdrawals{1: a}, []int{1, 2, 3}, 3, c, withdrawals{1: a, 3: c}},
		// A newer offer about the same task replaced the older one
		// (undo.Offers.Add): only the newer deletion can be withdrawn.
		{"Replaced", withdrawals{1: a}, []int{2}, 2, a2, withdrawals{2: a2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var open []undo.Offer
			for _, id := range tt.open {
				open = append(open, undo.Offer{ID: id, Kind: undo.Deleted})
			}
			ws := tt.ws
			ws.keep(open, tt.id, tt.w)
			if !reflect.DeepEqual(ws, tt.want) {
				t.Errorf("after keep(%v, %d, %v): %v, want %v", tt.open, tt.id, tt.w, ws, tt.want)
			}
		})
	}
}

// An offer takes its own task's deletion, once.
func TestWithdrawalsTake(t *testing.T) {
	a := withdrawal{task: "t1", deletion: outbox.Deletion{Seq: 1}}
	b := withdrawal{task: "t2", deletion: outbox.Deletion{Seq: 2}}
	offer := func(id int, task authdash.TaskID) undo.Offer {
		return undo.Offer{ID: id, Kind: undo.Deleted, Before: authdash.Task{ID: task}}
	}
	for _, tt := range []struct {
		name  string
		ws    withdrawals
		offer undo.Offer
		want  withdrawal
		ok    bool
		left  withdrawals
	}{
		{"Kept", withdrawals{1: a, 2: b}, offer(1, "t1"), a, true, withdrawals{2: b}},
		{"NotKept", withdrawals{2: b}, offer(1, "t1"), withdrawal{}, false, withdrawals{2: b}},
		{"None", nil, offer(1, "t1"), withdrawal{}, false, nil},
		// Not for this offer to withdraw, and dropped all the same.
		{"AnotherTask", withdrawals{1: a, 2: b}, offer(1, "t9"), withdrawal{}, false, withdrawals{2: b}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws := tt.ws
			w, ok := ws.take(tt.offer)
			if ok != tt.ok || (ok && !reflect.DeepEqual(w, tt.want)) {
				t.Errorf("take(%d) = %v, %t, want %v, %t", tt.offer.ID, w, ok, tt.want, tt.ok)
			}
			if !reflect.DeepEqual(ws, tt.left) {
				t.Errorf("after take(%d): %v, want %v", tt.offer.ID, ws, tt.left)
			}
			if _, again := ws.take(tt.offer); again {
				t.Errorf("take(%d) again: true, want false (withdrawn once)", tt.offer.ID)
			}
		})
	}
}

// A deletion kept offline carries the kept task at the version shown, so
// that a refusal names it; at another version, or unknown, only ID and
// version.
func TestKeptAt(t *testing.T) {
	ctx := t.Context()
	tc, err := taskcache.Open(ctx, idb.NewMemory(storageSchema.Buckets...), "u1", taskcache.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	kept := authdash.Task{ID: "t1", Title: "Water the plants", Status: authdash.StatusTodo, Priority: authdash.PriorityLow, Version: 3}
	if _, err := tc.Put(ctx, kept); err != nil {
		t.Fatal(err)
	}
	c := &controller{}
	c.off.cache = tc
	for _, tt := range []struct {
		name    string
		id      authdash.TaskID
		version int64
		want    authdash.Task
	}{
		{"KeptAtThatVersion", "t1", 3, kept},
		{"KeptAtAnother", "t1", 2, authdash.Task{ID: "t1", Version: 2}},
		{"NotKept", "t9", 1, authdash.Task{ID: "t9", Version: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.keptAt(tt.id, tt.version); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("keptAt(%s, %d) = %+v, want %+v", tt.id, tt.version, got, tt.want)
			}
		})
	}
}
