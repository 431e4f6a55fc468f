package mongo

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/authdash/authdash"
)

// FuzzTaskFilter builds FindTasks' filter from any query a client could send
// (the fields as parsed from a query string, the cursor as it comes) and
// holds it to what keeps tenants apart and injection out: the owner's id is
// the first condition and deleted=false the second, whatever else is asked;
// every key is one of the fixed fields or operators below, so no input names
// a field or an operator; the search is a regex that matches the lower-cased
// term literally; the filter encodes as BSON. It needs no server.
func FuzzTaskFilter(f *testing.F) {
	f.Add("report", "todo", "high", "work", "title", "asc", "", int64(0), int64(0))
	f.Add(`.*`, "", "", "", "", "", "", int64(1), int64(-1))
	f.Add(`{"$ne":null}`, "$ne", "$gt", "$where", "due", "desc", authdash.Cursor{Sort: authdash.SortDue, Order: authdash.Desc, ID: "665f1c2e8b3a4d5e6f708192", Int: 5}.Encode(), int64(0), int64(0))
	f.Add("a\x00b(c)[d]^$|\\", "done", "low", "Tag", "priority", "asc", authdash.Cursor{Sort: authdash.SortPriority, Order: authdash.Asc, ID: "x", Int: -1}.Encode(), int64(253402300799999), int64(-62135596800000))
	f.Add("ǅ İ ß", "in_progress", "medium", "ǅ", "updated", "desc", "eyJ9", int64(1<<62), int64(-1<<62))
	f.Fuzz(func(t *testing.T, search, status, priority, tag, sort, order, cursor string, before, after int64) {
		q := authdash.TaskQuery{Search: search, Status: authdash.TaskStatus(status), Priority: authdash.TaskPriority(priority),
			Tag: tag, Sort: authdash.TaskSort(sort), Order: authdash.Order(order), Cursor: cursor}
		if before != 0 {
			b := time.UnixMilli(before)
			q.DueBefore = &b
		}
		if after != 0 {
			a := time.UnixMilli(after)
			q.DueAfter = &a
		}
		q.Normalize()
		// As FindTasks decodes it; a cursor it refuses never reaches the filter.
		var c authdash.Cursor
		var cid bson.ObjectID
		if q.Cursor != "" {
			var err error
			c, err = authdash.DecodeCursor(q.Cursor, q.Sort, q.Order)
			id, ok := objectID(string(c.ID))
			if err != nil || !ok {
				return
			}
			cid = id
		}
		owner := bson.NewObjectID()
		filter := taskFilter(owner, q, c, cid)

		if len(filter) < 2 || filter[0].Key != "owner" || filter[0].Value != owner || filter[1].Key != "deleted" || filter[1].Value != false {
			t.Fatalf("filter does not start with the owner and deleted=false: %v", filter)
		}
		for _, e := range filter[2:] {
			if e.Key == "owner" || e.Key == "deleted" || e.Key == "$or" {
				t.Fatalf("a later condition can widen or replace the owner's: %v", filter)
			}
		}
		checkKeys(t, filter, filter)
		if q.Search != "" {
			re := findRegex(filter)
			if re == nil {
				t.Fatalf("search %q without a regex: %v", q.Search, filter)
			}
			want := strings.ToLower(q.Search)
			// The pattern as MongoDB reads it (PCRE); Go's RE2 agrees on
			// QuoteMeta's escapes and \x00.
			rx, err := regexp.Compile(`^(?:` + re.Pattern + `)$`)
			if err != nil {
				t.Fatalf("search %q: pattern %q does not compile: %v", q.Search, re.Pattern, err)
			}
			if !rx.MatchString(want) {
				t.Fatalf("search %q: pattern %q does not match the term itself", q.Search, re.Pattern)
			}
			if re.Options != "" {
				t.Fatalf("search regex with options %q", re.Options)
			}
			// The trigrams it narrows by must all be in the term, or the
			// index would hide a task the regex matches.
			for _, g := range termGrams(want) {
				if !strings.Contains(want, g) {
					t.Fatalf("search %q: trigram %q is not in the term", q.Search, g)
				}
			}
		}
		if _, err := bson.Marshal(filter); err != nil {
			t.Fatalf("filter does not encode: %v (%v)", err, filter)
		}
	})
}

// filterKeys are the only names a task filter may hold: stored fields and the
// operators FindTasks writes itself.
var filterKeys = map[string]bool{
	"owner": true, "deleted": true, "status": true, "prioRank": true, "tagKeys": true, "dueKey": true,
	"titleKey": true, "descKey": true, "createdAt": true, "updatedAt": true, "_id": true,
	"titleGrams": true, "descGrams": true,
	"$and": true, "$or": true, "$lt": true, "$gt": true, "$all": true,
}

func checkKeys(t *testing.T, v any, whole bson.D) {
	t.Helper()
	switch v := v.(type) {
	case bson.D:
		for _, e := range v {
			if !filterKeys[e.Key] {
				t.Fatalf("key %q in the filter: %v", e.Key, whole)
			}
			checkKeys(t, e.Value, whole)
		}
	case bson.A:
		for _, x := range v {
			checkKeys(t, x, whole)
		}
	case bson.M, map[string]any:
		t.Fatalf("unordered map in the filter: %v", whole)
	}
}

func findRegex(v any) *bson.Regex {
	switch v := v.(type) {
	case bson.Regex:
		return &v
	case bson.D:
		for _, e := range v {
			if r := findRegex(e.Value); r != nil {
				return r
			}
		}
	case bson.A:
		for _, x := range v {
			if r := findRegex(x); r != nil {
				return r
			}
		}
	}
	return nil
}
