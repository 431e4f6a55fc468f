package mongo

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/authdash/authdash"
)

func TestFieldGrams(t *testing.T) {
	for _, c := range []struct {
		key  string
		want []string
	}{
		{"", []string{}},
		{"ab", []string{}},
		{"abc", []string{"abc"}},
		{"abab", []string{"aba", "bab"}},
		{"aaaa", []string{"aaa"}},
		{"école", []string{"col", "ole", "éco"}},
		{"🚀la", []string{"🚀la"}},
		{"a b", []string{"a b"}},
		{"\xffab", []string{}}, // not UTF-8: no stored text is
	} {
		if got := fieldGrams(c.key); !slices.Equal(got, c.want) {
			t.Errorf("fieldGrams(%q) = %q, want %q", c.key, got, c.want)
		}
	}
}

// TestTermGramsInKey checks the rule the index relies on: every trigram
// the filter names for a term is a trigram of any key that holds the term.
func TestTermGramsInKey(t *testing.T) {
	for _, c := range []struct{ term, key string }{
		{"report", "write the report today"},
		{"école", "une école"},
		{"abcdefghijklmnopqrstuvwxyz", "0abcdefghijklmnopqrstuvwxyz1"}, // more than maxTermGrams
	} {
		if !strings.Contains(c.key, c.term) {
			t.Fatalf("bad case %q", c)
		}
		grams, key := termGrams(c.term), fieldGrams(c.key)
		if len(grams) == 0 || len(grams) > maxTermGrams {
			t.Errorf("termGrams(%q) = %d trigrams", c.term, len(grams))
		}
		for _, g := range grams {
			if !slices.Contains(key, g) {
				t.Errorf("%q: trigram %q not among the key's", c.term, g)
			}
		}
	}
	if termGrams("ab") != nil {
		t.Errorf("a term of two runes has trigrams")
	}
}

// BenchmarkTaskDocGrams reports what the search's trigrams add to a task
// document of the benchmark fixture's shape (a title of 2-4 words and a
// description of 10-20, store/sqlite's bench words): the BSON bytes with
// and without them, the index entries (one per trigram in each multikey
// index) and the time to compute them on a write.
func BenchmarkTaskDocGrams(b *testing.B) {
	words := strings.Fields(`alpha budget call check client deploy design draft email fix follow
		meeting migrate notes plan prepare review schedule send ship sync team test update write
		invoice server backup audit onboarding release sprint roadmap`)
	db := &DB{stamps: stamps{clock: time.Now}}
	owner := bson.NewObjectID()
	var docs []taskDoc
	for i := range 1000 {
		pick := func(n int) string {
			w := make([]string, n)
			for j := range w {
				w[j] = words[(i*7+j*13)%len(words)]
			}
			return strings.Join(w, " ")
		}
		docs = append(docs, db.newTaskDoc(owner, authdash.TaskDraft{Title: pick(2 + i%3),
			Description: pick(10+i%10) + fmt.Sprintf(" ref%06d", i), Status: authdash.StatusTodo, Priority: authdash.PriorityLow}))
	}
	var with, without, entries int
	for _, d := range docs {
		w, _ := bson.Marshal(d)
		d.TitleGrams, d.DescGrams = nil, nil
		wo, _ := bson.Marshal(d)
		with, without = with+len(w), without+len(wo)
		entries += len(fieldGrams(d.TitleKey)) + len(fieldGrams(d.DescKey))
	}
	b.ResetTimer()
	for i := range b.N {
		d := docs[i%len(docs)]
		_ = fieldGrams(d.TitleKey)
		_ = fieldGrams(d.DescKey)
	}
	b.ReportMetric(float64(with)/float64(len(docs)), "B/doc")
	b.ReportMetric(float64(without)/float64(len(docs)), "B/doc-without")
	b.ReportMetric(float64(entries)/float64(len(docs)), "index-entries/doc")
}
