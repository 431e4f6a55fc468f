// Package merge is the task editor's three-way merge. An editor opens a
// task at one version (the base); by the time the user saves, someone may
// have saved another version elsewhere (theirs). Comparing both with the
// base tells the user's changes from theirs: a field only one side changed
// takes that side's value without asking, and only a field both changed,
// to different values, is a conflict for the user to decide.
package merge

import (
	"slices"

	"github.com/authdash/authdash"
)

// Field names a task field the editor changes.
type Field string

// The fields, in the order the editor shows them.
const (
	Title       Field = "title"
	Description Field = "description"
	Status      Field = "status"
	Priority    Field = "priority"
	DueDate     Field = "dueDate"
	Tags        Field = "tags"
)

// Fields lists every field in the editor's order.
var Fields = []Field{Title, Description, Status, Priority, DueDate, Tags}

// Label is the field's name as the user reads it.
func (f Field) Label() string {
	switch f {
	case Title:
		return "Title"
	case Description:
		return "Description"
	case Status:
		return "Status"
	case Priority:
		return "Priority"
	case DueDate:
		return "Due date"
	case Tags:
		return "Tags"
	}
	return string(f)
}

// Same reports whether a and b hold the same value of f. Tags compare in
// order and spelling: renaming "Work" to "work" is a change.
func Same(f Field, a, b authdash.Task) bool {
	switch f {
	case Title:
		return a.Title == b.Title
	case Description:
		return a.Description == b.Description
	case Status:
		return a.Status == b.Status
	case Priority:
		return a.Priority == b.Priority
	case DueDate:
		if a.DueDate == nil || b.DueDate == nil {
			return a.DueDate == nil && b.DueDate == nil
		}
		return a.DueDate.Equal(*b.DueDate)
	case Tags:
		return slices.Equal(a.Tags, b.Tags)
	}
	return true
}

// Changed lists the fields in which b differs from a.
func Changed(a, b authdash.Task) []Field {
	var out []Field
	for _, f := range Fields {
		if !Same(f, a, b) {
			out = append(out, f)
		}
	}
	return out
}

// Diff returns the patch that gives a the fields of b: only those that
// differ, so the server is told nothing the user did not change.
func Diff(a, b authdash.Task) authdash.TaskPatch {
	var p authdash.TaskPatch
	for _, f := range Changed(a, b) {
		set(&p, f, b)
	}
	return p
}

// set puts t's value of f in the patch.
func set(p *authdash.TaskPatch, f Field, t authdash.Task) {
	switch f {
	case Title:
		v := t.Title
		p.Title = &v
	case Description:
		v := t.Description
		p.Description = &v
	case Status:
		v := t.Status
		p.Status = &v
	case Priority:
		v := t.Priority
		p.Priority = &v
	case DueDate:
		p.DueDate, p.ClearDueDate = nil, t.DueDate == nil
		if t.DueDate != nil {
			v := *t.DueDate
			p.DueDate = &v
		}
	case Tags:
		v := slices.Clone(t.Tags)
		if v == nil {
			v = []string{}
		}
		p.Tags = &v
	}
}

// Result is a three-way merge of one task.
type Result struct {
	// Base is the version the editor opened, Mine the user's edit of it,
	// Theirs the newest version saved elsewhere.
	Base, Mine, Theirs authdash.Task
	// Conflicts are the fields both sides changed to different values, in
	// the editor's order.
	Conflicts []Field
}

// Merge compares the user's edit (mine) of base with the version saved
// meanwhile (theirs). When theirs is base itself nothing conflicts.
func Merge(base, mine, theirs authdash.Task) Result {
	r := Result{Base: base, Mine: mine, Theirs: theirs}
	for _, f := range Fields {
		if !Same(f, base, mine) && !Same(f, base, theirs) && !Same(f, mine, theirs) {
			r.Conflicts = append(r.Conflicts, f)
		}
	}
	return r
}

// Conflicted reports whether the user has to choose.
func (r Result) Conflicted() bool { return len(r.Conflicts) > 0 }

// Patch is what to send on top of Theirs (at its version): every field
// only the user changed and, when keepMine, the user's value of every
// conflicting field too. Fields both sides changed to the same value, and
// fields only they changed, are left as they are. An empty patch means
// theirs already is the result.
func (r Result) Patch(keepMine bool) authdash.TaskPatch {
	var p authdash.TaskPatch
	for _, f := range Fields {
		if Same(f, r.Base, r.Mine) || Same(f, r.Mine, r.Theirs) {
			continue // not my change, or theirs already says it
		}
		if !Same(f, r.Base, r.Theirs) && !keepMine {
			continue // a conflict, decided for theirs
		}
		set(&p, f, r.Mine)
	}
	return p
}

// Merged is the task the merge results in: theirs with Patch applied.
func (r Result) Merged(keepMine bool) authdash.Task {
	return r.Patch(keepMine).Apply(r.Theirs)
}
