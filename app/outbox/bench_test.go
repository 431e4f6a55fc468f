//go:build !js

package outbox_test

import (
	"fmt"
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/app/api"
	"github.com/authdash/authdash/app/idb"
	"github.com/authdash/authdash/app/outbox"
)

// BenchmarkCatchUp is the catch-up after going back online with 100
// changes kept (50 creates, 30 edits and 20 deletions of the server's
// tasks), replayed through the real API in the process (SQLite): one op
// is one whole replay.
func BenchmarkCatchUp(b *testing.B) {
	f := startB(b)
	ctx := b.Context()
	for b.Loop() {
		b.StopTimer()
		var tasks []authdash.Task
		for i := range 50 {
			task, err := f.direct.CreateTask(ctx, authdash.TaskDraft{Title: fmt.Sprint("server ", i)})
			if err != nil {
				b.Fatal(err)
			}
			tasks = append(tasks, *task)
		}
		q, err := outbox.Open(ctx, idb.NewMemory("outbox"), "outbox", f.client, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := range 50 {
			if _, err := q.Create(ctx, api.NewIdempotencyKey(), authdash.TaskDraft{Title: fmt.Sprint("offline ", i)}); err != nil {
				b.Fatal(err)
			}
		}
		for i, task := range tasks[:30] {
			if err := q.Update(ctx, task, authdash.TaskPatch{Title: ptr(fmt.Sprint("edited ", i))}); err != nil {
				b.Fatal(err)
			}
		}
		for _, task := range tasks[30:] {
			if _, err := q.Delete(ctx, task); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		rep, err := q.Replay(ctx)
		if err != nil || q.Len() != 0 || len(rep.Saved) != 80 || len(rep.Deleted) != 20 {
			b.Fatalf("replay = %d saved, %d deleted, %v, %d left", len(rep.Saved), len(rep.Deleted), err, q.Len())
		}
	}
}
