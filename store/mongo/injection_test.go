package mongo_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/authdash/authdash"
	mongostore "github.com/authdash/authdash/store/mongo"
)

// TestInjection checks that user input is data, never query syntax: text
// that looks like an operator is stored verbatim, and searches full of
// regular-expression metacharacters match literally.
func TestInjection(t *testing.T) {
	for _, s := range servers() {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, s.uri, mongostore.Options{})
			u, err := db.CreateUser(ctx, authdash.NewUser{Email: "ann@example.com", Name: `{"$ne": null}`, PasswordHash: "h"})
			if err != nil {
				t.Fatal(err)
			}
			titles := []string{
				`{"$gt": ""}`, `a.*b`, `axxb`, `[a]`, `a`, `f(x`, `back\slash`, `cost $5`, `^start`, `start`,
				`$where: 1`, "nul\x00byte", `.`, `x|y`, `x`,
			}
			byTitle := map[string]authdash.TaskID{}
			for _, title := range titles {
				d := authdash.TaskDraft{Title: title, Tags: []string{title[:min(len(title), authdash.MaxTagLen)]}}
				d.Normalize()
				task, _, err := db.CreateTask(ctx, u.ID, d)
				if err != nil {
					t.Fatalf("CreateTask(%q): %v", title, err)
				}
				byTitle[title] = task.ID
			}

			got, err := db.FindTask(ctx, u.ID, byTitle[`{"$gt": ""}`])
			if err != nil || got.Title != `{"$gt": ""}` {
				t.Fatalf("operator-looking title read back as %+v, %v", got, err)
			}
			if got, err := db.FindUser(ctx, u.ID); err != nil || got.Name != `{"$ne": null}` {
				t.Errorf("operator-looking name read back as %+v, %v", got, err)
			}

			tests := []struct {
				search string
				want   []string
			}{
				{`{"$gt": ""}`, []string{`{"$gt": ""}`}},
				{`.*`, []string{`a.*b`}},
				{`[a]`, []string{`[a]`}},
				{`(`, []string{`f(x`}},
				{`\`, []string{`back\slash`}},
				{`$`, []string{`{"$gt": ""}`, `cost $5`, `$where: 1`}},
				{`^`, []string{`^start`}},
				{`^start`, []string{`^start`}},
				{`.`, []string{`a.*b`, `.`}},
				{`|`, []string{`x|y`}},
				{"\x00", []string{"nul\x00byte"}},
				{"\xff", nil}, // invalid UTF-8 matches nothing, rather than erroring
				{`A.*B`, []string{`a.*b`}},
			}
			for _, tt := range tests {
				page, err := db.FindTasks(ctx, u.ID, query(authdash.TaskQuery{Search: tt.search, Limit: 100}))
				if err != nil {
					t.Errorf("search %q: %v", tt.search, err)
					continue
				}
				if g, w := titlesOf(page.Items), sorted(tt.want); !slices.Equal(g, w) {
					t.Errorf("search %q matched %q, want %q", tt.search, g, w)
				}
			}
			for _, tt := range []struct {
				tag  string
				want int
			}{{`a.*b`, 1}, {`[a]`, 1}, {`{"$gt": ""}`, 1}, {`.*`, 0}, {`^`, 0}} {
				page, err := db.FindTasks(ctx, u.ID, query(authdash.TaskQuery{Tag: tt.tag}))
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Items) != tt.want || (tt.want == 1 && page.Items[0].Tags[0] != tt.tag) {
					t.Errorf("tag %q matched %q, want %d task(s) tagged exactly so", tt.tag, titlesOf(page.Items), tt.want)
				}
			}
		})
	}
}

// TestConcurrentIfMatch races two writers holding the same version many
// times over: exactly one wins each round, the other is told its version
// is stale, and the change numbers stay unique.
func TestConcurrentIfMatch(t *testing.T) {
	for _, s := range servers() {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t, s.uri, mongostore.Options{})
			u := mustUser(t, db, "Ann")
			task, ev, err := db.CreateTask(ctx, u.ID, draft("contested"))
			if err != nil {
				t.Fatal(err)
			}
			seqs := map[int64]bool{ev.Seq: true}
			version := task.Version
			for round := range 20 {
				var wg sync.WaitGroup
				start := make(chan struct{})
				errs := make([]error, 2)
				evs := make([]authdash.Event, 2)
				for i := range 2 {
					wg.Go(func() {
						<-start
						title := []string{"left", "right"}[i]
						_, evs[i], errs[i] = db.UpdateTask(ctx, u.ID, task.ID, authdash.TaskPatch{Title: &title}, version)
					})
				}
				close(start)
				wg.Wait()
				won := 0
				for i, err := range errs {
					switch authdash.ErrorCodeOf(err) {
					case "":
						won++
						if seqs[evs[i].Seq] {
							t.Fatalf("round %d: Seq %d handed out twice", round, evs[i].Seq)
						}
						seqs[evs[i].Seq] = true
					case authdash.CodePreconditionFailed:
					default:
						t.Fatalf("round %d: %v", round, err)
					}
				}
				if won != 1 {
					t.Fatalf("round %d: %d writers won, want 1 (errors %v)", round, won, errs)
				}
				version++
			}
		})
	}
}

func query(q authdash.TaskQuery) authdash.TaskQuery {
	q.Normalize()
	return q
}

func draft(title string) authdash.TaskDraft {
	d := authdash.TaskDraft{Title: title}
	d.Normalize()
	return d
}

func titlesOf(ts []authdash.Task) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Title)
	}
	return sorted(out)
}

func sorted(s []string) []string {
	c := append([]string{}, s...)
	slices.Sort(c)
	return c
}
