package server

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/authdash/authdash"
)

// tricky strings: every escape encoding/json makes, invalid UTF-8 and
// multi-byte text.
var tricky = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "caf\xc3\xa9 日本語 😀", "bad \xff\xfe utf8 \xc3", "line\u2028sep\u2029para", "\ufffd",
}

func randomString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return tricky[r.IntN(len(tricky))]
	}
	b := make([]byte, r.IntN(40))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randomTask(r *rand.Rand) authdash.Task {
	ts := func() time.Time {
		return time.UnixMilli(r.Int64N(4e12)).UTC()
	}
	t := authdash.Task{
		ID: authdash.TaskID(randomString(r)), Title: randomString(r), Description: randomString(r),
		Status: authdash.TaskStatus(randomString(r)), Priority: authdash.TaskPriority(randomString(r)),
		Tags: []string{}, CreatedAt: ts(), UpdatedAt: ts(), Version: r.Int64N(1 << 40),
	}
	for range r.IntN(4) {
		t.Tags = append(t.Tags, randomString(r))
	}
	if r.IntN(2) == 0 {
		d := ts()
		t.DueDate = &d
	}
	return t
}

// TestTaskJSONMatchesEncodingJSON holds the hand-written encoder to the
// bytes encoding/json produces, over random and tricky tasks and pages.
func TestTaskJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		task := randomTask(r)
		want, _ := json.Marshal(task)
		if got := appendTask(nil, &task); string(got) != string(want) {
			t.Fatalf("task %d:\n got %s\nwant %s", i, got, want)
		}
	}
	for _, s := range tricky {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
	page := authdash.TaskPage{Items: []authdash.Task{randomTask(r), randomTask(r)}, NextCursor: "abc_-"}
	want, _ := json.Marshal(page)
	if got := appendTaskPage(nil, &page); string(got) != string(want) {
		t.Errorf("page:\n got %s\nwant %s", got, want)
	}
}

// TestTaskJSONCoversEveryField fails when authdash.Task gains a field the
// hand-written encoder does not write.
func TestTaskJSONCoversEveryField(t *testing.T) {
	task := randomTask(rand.New(rand.NewPCG(3, 4)))
	got := string(appendTask(nil, &task))
	for f := range reflect.TypeFor[authdash.Task]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "-" && !strings.Contains(got, `"`+name+`":`) {
			t.Errorf("field %s (%q) is not encoded", f.Name, name)
		}
	}
}

func TestTaskJSONNeverNull(t *testing.T) {
	got := string(appendTaskPage(nil, &authdash.TaskPage{}))
	if got != `{"items":[],"nextCursor":""}` {
		t.Errorf("empty page: %s", got)
	}
	got = string(appendTask(nil, &authdash.Task{}))
	if !strings.Contains(got, `"tags":[]`) || !strings.Contains(got, `"dueDate":null`) || !utf8.ValidString(got) {
		t.Errorf("empty task: %s", got)
	}
}

func BenchmarkEncodeTaskPage(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	page := authdash.TaskPage{NextCursor: "eyJzIjoiY3JlYXRlZCJ9"}
	for range 20 {
		task := randomTask(r)
		task.Title, task.Description, task.Tags = "An ordinary task title", "", []string{"work"}
		page.Items = append(page.Items, task)
	}
	b.Run("Append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 8192)
		for b.Loop() {
			buf = appendTaskPage(buf[:0], &page)
		}
	})
	b.Run("EncodingJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal(page)
		}
	})
}
