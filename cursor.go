package authdash

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"
)

// NoDue is the sort key of a task without a due date: such tasks come after
// every dated task in ascending order, in every store alike.
const NoDue int64 = math.MaxInt64

// Cursor is the keyset position after the last task of a page: the sort key
// of that task and its ID as the tie-breaker. Because it names a position in
// the order rather than an offset, inserting or deleting tasks between pages
// neither skips nor repeats a task.
type Cursor struct {
	Sort  TaskSort `json:"s"`
	Order Order    `json:"o"`
	Int   int64    `json:"i,omitempty"` // created, updated, due (ms) or priority rank
	Str   string   `json:"t,omitempty"` // title key
	ID    TaskID   `json:"id"`
}

// SortKey returns the cursor that points just after t in the given order.
func SortKey(t Task, s TaskSort, o Order) Cursor {
	c := Cursor{Sort: s, Order: o, ID: t.ID}
	switch s {
	case SortCreated:
		c.Int = t.CreatedAt.UnixMilli()
	case SortUpdated:
		c.Int = t.UpdatedAt.UnixMilli()
	case SortDue:
		c.Int = DueKey(t.DueDate)
	case SortPriority:
		c.Int = int64(t.Priority.Rank())
	case SortTitle:
		c.Str = TitleKey(t.Title)
	}
	return c
}

// DueKey is the stored sort key of a due date.
func DueKey(d *time.Time) int64 {
	if d == nil {
		return NoDue
	}
	return d.UnixMilli()
}

// TitleKey is the stored sort key of a title: case-folded in Go so that every
// store orders titles the same way whatever its collation.
func TitleKey(title string) string { return strings.ToLower(title) }

// Encode returns the opaque form of c.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errCursor = errors.New("authdash: bad cursor")

// DecodeCursor parses an opaque cursor and checks it was made for the same
// sort and order, since a position in one order means nothing in another.
func DecodeCursor(s string, sort TaskSort, order Order) (Cursor, error) {
	var c Cursor
	if len(s) > 1024 {
		return c, errCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, errCursor
	}
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" || c.Sort != sort || c.Order != order {
		return Cursor{}, errCursor
	}
	return c, nil
}
