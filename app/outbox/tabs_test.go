//go:build !js

package outbox_test

import (
	"sync"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/devicelink"
	"github.com/authdash/authdash/app/outbox"
)

// TestOtherTabs: two tabs of a device, each with its outbox open on the
// same bucket (as two tabs share IndexedDB) and one lock. What one tab
// keeps is sent by the other, exactly once, even when both replay at once;
// a change kept in each tab is kept, neither overwriting the other. Before,
// a tab sent only what it had read from storage when it opened.
func TestOtherTabs(t *testing.T) {
	for _, c := range []struct {
		name string
		// inA2: A2 keeps a change of its own too; both: A2 opens once A1
		// has kept its changes (so it read them), and both replay at once.
		inA2, both bool
	}{
		{name: "SentByTheOtherTab"},
		{name: "BothReplayAtOnce", both: true},
		{name: "KeptInEachTab", inA2: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := start(t)
			ctx := t.Context()
			edit, gone := f.create(t, "edit me", ""), f.create(t, "delete me", "")
			lock := &devicelink.MemoryLock{}
			open := func() *outbox.Queue { return f.openWith(t, f.client, lock) }
			a1, a2 := open(), open()
			if _, err := a1.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: "Orphan"}); err != nil {
				t.Fatal(err)
			}
			if err := a1.Update(ctx, edit, authdash.TaskPatch{Title: ptr("edited")}); err != nil {
				t.Fatal(err)
			}
			if _, err := a1.Delete(ctx, gone); err != nil {
				t.Fatal(err)
			}
			if c.both {
				a2 = open()
			}
			want := map[string]bool{"Orphan": true, "edited": true}
			if c.inA2 {
				if _, err := a2.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: "Mine"}); err != nil {
					t.Fatal(err)
				}
				want["Mine"] = true
			}
			f.net.writes.Store(0)
			var wg sync.WaitGroup
			var reps [2]outbox.Report
			var errs [2]error
			tabs := []*outbox.Queue{a2}
			if c.both {
				tabs = append(tabs, a1)
			}
			for i, q := range tabs {
				wg.Go(func() { reps[i], errs[i] = q.Replay(ctx) })
			}
			wg.Wait()
			sent := 0
			for i := range reps {
				if errs[i] != nil {
					t.Fatalf("replay %d: %v", i, errs[i])
				}
				sent += len(reps[i].Saved) + len(reps[i].Deleted)
			}
			if w := int(f.net.writes.Load()); sent != len(want)+1 || w != len(want)+1 {
				t.Errorf("%d changes answered in %d requests, want each of %d once", sent, w, len(want)+1)
			}
			if a2.Len() != 0 {
				t.Errorf("A2 still keeps %d", a2.Len())
			}
			server := f.serverTasks(t)
			for title := range want {
				if _, ok := server[title]; !ok {
					t.Errorf("no %q on the server", title)
				}
			}
			if len(server) != len(want) {
				t.Errorf("server holds %v, want %v", server, want)
			}
			if q := open(); q.Len() != 0 {
				t.Errorf("a reload finds %d kept", q.Len())
			}
		})
	}
}
