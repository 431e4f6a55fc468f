package authdash_test

import (
	"testing"
	"unicode/utf8"

	"github.com/authdash/authdash"
)

// FuzzDecodeCursor feeds DecodeCursor what a client can put in ?cursor=:
// it never panics, a cursor it accepts was made for the query's sort and
// order and names a task, and encoding it again decodes to the same cursor.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(authdash.Cursor{Sort: authdash.SortTitle, Order: authdash.Asc, ID: "t1", Str: "abc"}.Encode(), "title", "asc")
	f.Add(authdash.Cursor{Sort: authdash.SortDue, Order: authdash.Desc, ID: "t1", Int: authdash.NoDue}.Encode(), "due", "desc")
	f.Add(authdash.Cursor{Sort: authdash.SortCreated, Order: authdash.Desc, ID: "t1", Int: -1 << 63}.Encode(), "created", "desc")
	f.Add("eyJpZCI6IngifQ", "created", "desc")
	f.Add("e30", "", "")
	f.Add("====", "title", "asc")
	f.Add("bnVsbA", "created", "desc") // null
	f.Fuzz(func(t *testing.T, s, sort, order string) {
		c, err := authdash.DecodeCursor(s, authdash.TaskSort(sort), authdash.Order(order))
		if err != nil {
			if c != (authdash.Cursor{}) {
				t.Fatalf("refused cursor %q came with a value %+v", s, c)
			}
			return
		}
		if c.ID == "" || string(c.Sort) != sort || string(c.Order) != order {
			t.Fatalf("accepted %q as %+v for sort %q order %q", s, c, sort, order)
		}
		if !utf8.ValidString(string(c.ID)) || !utf8.ValidString(c.Str) {
			// encoding/json decodes invalid UTF-8 as U+FFFD, so this cannot be.
			t.Fatalf("accepted a cursor with invalid UTF-8: %+v", c)
		}
		again, err := authdash.DecodeCursor(c.Encode(), c.Sort, c.Order)
		if err != nil || again != c {
			t.Fatalf("round trip of %+v: %+v, %v", c, again, err)
		}
	})
}
