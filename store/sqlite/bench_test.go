package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"go.uber.org/goleak"
)

// The benchmark fixture: one owner's 10,000 tasks among 100,000, built once
// per test binary in a temp file.
const (
	benchOwnerTasks = 10_000
	benchOthers     = 90
	benchOtherTasks = 1_000
	// rareWord is in a handful of the owner's tasks, commonWord in about a
	// third of them.
	rareWord   = "zeppelin"
	commonWord = "report"
	// rareRef is in ten of the owner's tasks, like rareWord, but every one
	// of its trigrams but the last is in every task of every owner: the
	// loadgen fixture's search term, the worst case for the trigram index.
	rareRef = "ref00012"
	// oldWord is in the owner's 3,000 oldest tasks and no others: common,
	// but behind 7,000 newer tasks without it in the default order.
	oldWord = "legacy"
)

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixture     *benchFixture
	fixtureErr  error
)

type benchFixture struct {
	db     *DB
	owner  authdash.UserID // the 10,000-task owner
	writer authdash.UserID // a user for write benchmarks, so reads stay put
}

// TestMain removes the benchmark fixture and checks that every DB the tests
// opened and closed left no goroutine behind (the writer, the
// checkpointer, database/sql's openers).
func TestMain(m *testing.M) {
	code := m.Run()
	if fixture != nil {
		fixture.db.Close()
	}
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	if grown != nil {
		grown.db.Close()
	}
	if grownDir != "" {
		os.RemoveAll(grownDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "leaked goroutines:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func mustFixture(b *testing.B) *benchFixture {
	b.Helper()
	if testing.Short() {
		b.Skip("builds a 100,000-task database")
	}
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "authdash-bench-")
		if fixtureErr != nil {
			return
		}
		fixture, fixtureErr = buildFixture(filepath.Join(fixtureDir, "bench.db"))
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	b.ResetTimer()
	return fixture
}

var words = strings.Fields(`alpha budget call check client deploy design draft email fix follow
	meeting migrate notes plan prepare review schedule send ship sync team test update write
	invoice server backup audit onboarding release sprint roadmap`)

func buildFixture(path string) (*benchFixture, error) {
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	f := &benchFixture{db: db}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	for _, q := range []string{insertUser, insertTask, insertTag} {
		if _, err := db.stmt(ctx, db.w, q); err != nil {
			db.Close()
			return nil, err
		}
	}
	// One transaction and three prepared statements: seeding through the
	// store's API would take minutes.
	err = db.write(ctx, func(tx *wtx) error {
		users := make([]authdash.UserID, 0, benchOthers+2)
		for i := range benchOthers + 2 {
			id := authdash.UserID(newID())
			if _, err := tx.exec(insertUser, id, fmt.Sprintf("user%d@example.com", i), "User"); err != nil {
				return err
			}
			users = append(users, id)
		}
		f.owner, f.writer = users[0], users[1]
		seqs := map[authdash.UserID]int64{}
		task := func(owner authdash.UserID, n int, rare bool) error {
			title := make([]string, 0, 4)
			for range 2 + rng.IntN(3) {
				title = append(title, words[rng.IntN(len(words))])
			}
			desc := make([]string, 0, 20)
			for range 10 + rng.IntN(10) {
				desc = append(desc, words[rng.IntN(len(words))])
			}
			desc = append(desc, fmt.Sprintf("ref%06d", n))
			if rng.IntN(3) == 0 {
				desc = append(desc, commonWord)
			}
			if rare {
				desc = append(desc, rareWord)
			}
			if owner == f.owner && n >= benchOwnerTasks-3000 {
				desc = append(desc, oldWord)
			}
			var tags []string
			for range rng.IntN(3) {
				tags = append(tags, words[rng.IntN(len(words))])
			}
			created := start.Add(-time.Duration(n) * time.Minute)
			t := &authdash.Task{
				ID: authdash.TaskID(newID()), Title: strings.Join(title, " "), Description: strings.Join(desc, " "),
				Status: authdash.TaskStatuses[rng.IntN(3)], Priority: authdash.TaskPriorities[rng.IntN(3)],
				Tags: authdash.NormalizeTags(tags), CreatedAt: authdash.Millis(created), UpdatedAt: authdash.Millis(created), Version: 1,
			}
			if rng.IntN(2) == 0 {
				d := authdash.Millis(created.Add(time.Duration(rng.IntN(60*24)) * time.Hour))
				t.DueDate = &d
			}
			seqs[owner]++
			return insertTaskRow(tx, owner, t, seqs[owner])
		}
		// Interleave owners as real traffic would, so the owner's rows are
		// spread across the file rather than packed together.
		for i := range benchOwnerTasks {
			if err := task(f.owner, i, i%2000 == 1234); err != nil {
				return err
			}
			for j := range benchOthers * benchOtherTasks / benchOwnerTasks {
				if err := task(users[2+(i*9+j)%benchOthers], i, false); err != nil {
					return err
				}
			}
		}
		for owner, seq := range seqs {
			if _, err := tx.exec(`UPDATE users SET seq = ? WHERE id = ?`, seq, owner); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	// Merge the search index as the compactor would once the seeding
	// stopped, so every benchmark sees the same, settled index.
	for {
		did, err := db.compactStep(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		if !did {
			return f, nil
		}
	}
}

// benchWriters × GOMAXPROCS goroutines write concurrently.
const benchWriters = 16

const insertUser = `INSERT INTO users (id, email, name, password_hash, created_ms, updated_ms, version)
	VALUES (?, ?, ?, 'h', 0, 0, 1)`

func BenchmarkFindTasks(b *testing.B) {
	f := mustFixture(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name               string
		q                  authdash.TaskQuery
		window, gram, sort int
	}{
		{"Plain", authdash.TaskQuery{}, 0, 0, 0},
		{"SearchRare", authdash.TaskQuery{Search: rareWord}, 0, 0, 0},
		{"SearchRareRef", authdash.TaskQuery{Search: rareRef}, 0, 0, 0},
		{"SearchCommon", authdash.TaskQuery{Search: commonWord}, 0, 0, 0},
		{"SearchCommonOld", authdash.TaskQuery{Search: oldWord}, 0, 0, 0},
		// The ways a search can go, forced: a rare term whose trigrams
		// all count as common (the window, then the walk through the
		// tasks holding all of them), a common term whose rarest
		// trigram counts as rare (all its tasks, sorted), and the old
		// term walked to its matches rather than sorted.
		{"SearchRareAllGramsCommon", authdash.TaskQuery{Search: rareRef}, 0, 1, 0},
		{"SearchCommonSortAll", authdash.TaskQuery{Search: commonWord}, 0, 1 << 20, 0},
		{"SearchCommonOldWalk", authdash.TaskQuery{Search: oldWord}, 0, 0, 1},
		{"Tag", authdash.TaskQuery{Tag: "budget"}, 0, 0, 0},
		{"StatusDueSort", authdash.TaskQuery{Status: authdash.StatusTodo, Sort: authdash.SortDue, Order: authdash.Asc}, 0, 0, 0},
	} {
		f.db.searchWindow = cmp.Or(bc.window, defaultSearchWindow)
		f.db.gramCap = cmp.Or(bc.gram, defaultGramCap)
		f.db.sortLimit = cmp.Or(bc.sort, defaultSortLimit)
		q := bc.q
		q.Normalize()
		page, err := f.db.FindTasks(ctx, f.owner, q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportMetric(float64(len(page.Items)), "items")
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := f.db.FindTasks(ctx, f.owner, q); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	f.db.searchWindow, f.db.gramCap, f.db.sortLimit = defaultSearchWindow, defaultGramCap, defaultSortLimit
}

func BenchmarkFindTask(b *testing.B) {
	f := mustFixture(b)
	ctx := context.Background()
	q := authdash.TaskQuery{Limit: 100}
	q.Normalize()
	page, err := f.db.FindTasks(ctx, f.owner, q)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := f.db.FindTask(ctx, f.owner, page.Items[i%len(page.Items)].ID); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func BenchmarkCreateTask(b *testing.B) {
	f := mustFixture(b)
	ctx := context.Background()
	d := authdash.TaskDraft{Title: "Benchmark task", Description: "created by a benchmark", Tags: []string{"bench", "load"}}
	d.Normalize()
	b.ReportAllocs()
	// As many concurrent writers as an HTTP server under load has requests
	// in flight, so group commit shows.
	b.SetParallelism(benchWriters)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := f.db.CreateTask(ctx, f.writer, d); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCreateTaskOnce is BenchmarkCreateTask with a fresh
// Idempotency-Key on every create: the key's lookup and record ride in the
// task's transaction.
func BenchmarkCreateTaskOnce(b *testing.B) {
	f := mustFixture(b)
	ctx := context.Background()
	d := authdash.TaskDraft{Title: "Benchmark task", Description: "created by a benchmark", Tags: []string{"bench", "load"}}
	d.Normalize()
	fp := d.Fingerprint()
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(benchWriters)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := authdash.Idempotency{Key: "bench-" + strconv.FormatInt(n.Add(1), 10), Fingerprint: fp}
			if _, _, _, err := f.db.CreateTaskOnce(ctx, f.writer, k, d); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkDeleteRestore deletes a task and restores it, one writer: two
// write transactions, the tombstone carrying the task's content.
func BenchmarkDeleteRestore(b *testing.B) {
	f := mustFixture(b)
	ctx := context.Background()
	d := authdash.TaskDraft{Title: "to undo", Tags: []string{"bench"}}
	d.Normalize()
	task, _, err := f.db.CreateTask(ctx, f.writer, d)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := f.db.DeleteTask(ctx, f.writer, task.ID, 0); err != nil {
			b.Fatal(err)
		}
		if _, _, err := f.db.RestoreTask(ctx, f.writer, task.ID, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateTask(b *testing.B) {
	f := mustFixture(b)
	ctx := context.Background()
	d := authdash.TaskDraft{Title: "to update"}
	d.Normalize()
	task, _, err := f.db.CreateTask(ctx, f.writer, d)
	if err != nil {
		b.Fatal(err)
	}
	status := []authdash.TaskStatus{authdash.StatusInProgress, authdash.StatusDone}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := f.db.UpdateTask(ctx, f.writer, task.ID, authdash.TaskPatch{Status: &status[i%2]}, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRotateSession(b *testing.B) {
	f := mustFixture(b)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	// One session per goroutine, each rotating its own chain of tokens.
	b.ReportAllocs()
	b.SetParallelism(benchWriters)
	b.RunParallel(func(pb *testing.PB) {
		prefix := newID() + "-"
		tok := func(i int) []byte { return []byte(prefix + fmt.Sprint(i)) }
		if _, err := f.db.CreateSession(ctx, authdash.NewSession{UserID: f.writer, Device: "bench", TokenHash: tok(0), ExpiresAt: exp}); err != nil {
			b.Error(err)
			return
		}
		for i := 0; pb.Next(); i++ {
			if _, _, err := f.db.RotateSession(ctx, authdash.Rotation{Presented: tok(i), Next: tok(i + 1), ExpiresAt: exp, Grace: time.Minute}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCommitSync prices SQLITE_SYNC=full against the default: creates
// into a fresh file, one writer at a time (every create its own commit, so
// its own fsync) and benchWriters at once (the group commit shares one
// fsync among a batch).
func BenchmarkCommitSync(b *testing.B) {
	ctx := context.Background()
	d := authdash.TaskDraft{Title: "Benchmark task", Description: "created by a benchmark", Tags: []string{"bench"}}
	d.Normalize()
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"normal", nil}, {"full", []Option{WithSyncFull()}}} {
		for _, writers := range []int{1, benchWriters} {
			b.Run(fmt.Sprintf("sync=%s/writers=%d", mode.name, writers), func(b *testing.B) {
				db, err := Open(ctx, filepath.Join(b.TempDir(), "sync.db"), mode.opts...)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				u, err := db.CreateUser(ctx, authdash.NewUser{Email: "sync@bench.io", Name: "S", PasswordHash: "h"})
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				if writers == 1 {
					for b.Loop() {
						if _, _, err := db.CreateTask(ctx, u.ID, d); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				b.SetParallelism(writers)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, _, err := db.CreateTask(ctx, u.ID, d); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// benchGrown is how many newer tasks the grown fixture adds to the owner's
// 10,000: none holds a word of the vocabulary, as after the HTTP
// benchmark's write runs (cmd/loadgen's titles, "lg:<nanoseconds>:c").
const benchGrown = 100_000

var (
	grownOnce sync.Once
	grownDir  string
	grown     *benchFixture
	grownErr  error
)

// mustGrownFixture is the benchmark fixture in a file of its own, the
// owner grown by benchGrown newer tasks.
func mustGrownFixture(b *testing.B) *benchFixture {
	b.Helper()
	if testing.Short() {
		b.Skip("builds a 200,000-task database")
	}
	grownOnce.Do(func() {
		// AUTHDASH_BENCH_GROWN names a file to keep the fixture in between
		// runs: building it takes minutes.
		keep := os.Getenv("AUTHDASH_BENCH_GROWN")
		if keep != "" {
			if _, err := os.Stat(keep); err == nil {
				grown, grownErr = openKeptFixture(keep)
				return
			}
		}
		path := keep
		if path == "" {
			if grownDir, grownErr = os.MkdirTemp("", "authdash-bench-grown-"); grownErr != nil {
				return
			}
			path = filepath.Join(grownDir, "grown.db")
		}
		if grown, grownErr = buildFixture(path); grownErr != nil {
			return
		}
		ctx := context.Background()
		start := time.Now()
		grownErr = grown.db.write(ctx, func(tx *wtx) error {
			var seq int64
			if err := tx.queryRow(`SELECT seq FROM users WHERE id = ?`, grown.owner).Scan(&seq); err != nil {
				return err
			}
			for i := range benchGrown {
				at := authdash.Millis(start.Add(time.Duration(i) * time.Millisecond))
				seq++
				t := &authdash.Task{ID: authdash.TaskID(newID()), Title: "lg:" + strconv.FormatInt(at.UnixNano()+int64(i), 10) + ":c",
					Description: "Created under load.", Status: authdash.StatusTodo, Priority: authdash.PriorityMedium,
					Tags: []string{}, CreatedAt: at, UpdatedAt: at, Version: 1}
				if err := insertTaskRow(tx, grown.owner, t, seq); err != nil {
					return err
				}
			}
			_, err := tx.exec(`UPDATE users SET seq = ? WHERE id = ?`, seq, grown.owner)
			return err
		})
		for grownErr == nil {
			var did bool
			if did, grownErr = grown.db.compactStep(ctx); !did {
				break
			}
		}
		// Place every task in the sort-ordered copies of the search index
		// as the builder would, so that searches in those orders use them.
		for grownErr == nil {
			var n int64
			if n, grownErr = grown.db.buildStep(ctx); n == 0 {
				break
			}
		}
		if grownErr == nil {
			grown.db.sortsReady.Store(true)
		}
	})
	if grownErr != nil {
		b.Fatal(grownErr)
	}
	b.ResetTimer()
	return grown
}

// BenchmarkFindTasksGrown searches an account of 110,000 tasks whose
// matches all lie behind the newest 100,000, in every sort, against the
// plain list of 20 of the same account.
func BenchmarkFindTasksGrown(b *testing.B) {
	f := mustGrownFixture(b)
	ctx := context.Background()
	for _, term := range []string{"", rareRef, rareWord, commonWord, oldWord} {
		for _, s := range authdash.TaskSorts {
			q := authdash.TaskQuery{Search: term, Sort: s}
			q.Normalize()
			page, err := f.db.FindTasks(ctx, f.owner, q)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/%s.%s", cmp.Or(term, "list"), s, q.Order), func(b *testing.B) {
				b.ReportMetric(float64(len(page.Items)), "items")
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := f.db.FindTasks(ctx, f.owner, q); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// openKeptFixture opens a grown fixture a previous run kept.
func openKeptFixture(path string) (*benchFixture, error) {
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	f := &benchFixture{db: db}
	for _, u := range []struct {
		email string
		id    *authdash.UserID
	}{{"user0@example.com", &f.owner}, {"user1@example.com", &f.writer}} {
		row, err := db.queryRow(ctx, `SELECT id FROM users WHERE email = ?`, u.email)
		if err == nil {
			err = row.Scan(u.id)
		}
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	db.sortsReady.Store(true)
	// A fixture kept from before migration 16 is indexed again with its
	// long grams first, then merged, as the builder and the compactor
	// would in time.
	for done := false; !done; {
		if done, err = db.longStep(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	db.longReady.Store(true)
	for did := true; did; {
		if did, err = db.compactStep(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return f, nil
}
