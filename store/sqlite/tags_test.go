package sqlite

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestDecodeTags checks the hand-split fast path against encoding/json on
// what rowOf writes, escapes and separators inside tags included.
func TestDecodeTags(t *testing.T) {
	for _, tags := range [][]string{
		nil,
		{},
		{"work"},
		{"a", "b", "c"},
		{""},
		{"", "x"},
		{`say "hi"`, "x"},
		{`a","b`},
		{`back\slash`},
		{"<html>", "&"},
		{"école", "日本", "🚀"},
		{",", "[", "]", `"`},
		{"tab\there", "nl\n"},
	} {
		raw, err := json.Marshal(tags)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{}
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = []string{}
		}
		got, err := decodeTags(string(raw))
		if err != nil || got == nil || !slices.Equal(got, want) {
			t.Errorf("decodeTags(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, bad := range []string{`["a"`, `[1]`, `{}`, ``} {
		if _, err := decodeTags(bad); err == nil {
			t.Errorf("decodeTags(%q): no error", bad)
		}
	}
}
