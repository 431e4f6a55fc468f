package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/authdash/authdash"
)

// TestRestoreTombstoneWithoutContent: a tombstone made before migration 4
// has no copy of its task (the column is NULL, as PurgeDeletedContent
// leaves it): restoring it is not_found, and the deletion stays in the log.
func TestRestoreTombstoneWithoutContent(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	owner := mustUser(t, db, "old@example.com")
	task, _, err := db.CreateTask(ctx, owner, authdash.TaskDraft{Title: "old", Status: authdash.StatusTodo, Priority: authdash.PriorityLow})
	if err != nil {
		t.Fatal(err)
	}
	del, err := db.DeleteTask(ctx, owner, task.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var content string
	if err := db.r.QueryRow(`SELECT task FROM tombstones WHERE task_id = ?`, task.ID).Scan(&content); err != nil || content == "" {
		t.Fatalf("tombstone content %q, %v; want the task", content, err)
	}
	if err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`UPDATE tombstones SET task = NULL WHERE task_id = ?`, task.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_, _, err = db.RestoreTask(ctx, owner, task.ID, time.Time{})
	if authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
		t.Fatalf("restore of a tombstone without content: %v, want not_found", err)
	}
	evs, _, ok, err := db.ChangesSince(ctx, owner, 0, 10)
	if err != nil || !ok || len(evs) != 1 || evs[0].Kind != authdash.EventTaskDeleted || evs[0].Seq != del.Seq {
		t.Errorf("log after the refused restore: %+v, %v, %v", evs, ok, err)
	}
}
