package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/store/storetest"
)

// fullScan matches a query-plan step that reads a whole table or a whole
// index of one: with every query naming an owner, user, session or token,
// none should.
var fullScan = regexp.MustCompile(`^SCAN (\w+)`)

// TestQueryPlans runs EXPLAIN QUERY PLAN on every statement the store
// prepares and on every shape of task list, and fails on a full scan, or on
// a sort of the owner's whole list where an index gives the order.
func TestQueryPlans(t *testing.T) {
	db := openTemp(t)

	// Exercise every method so the statement cache holds every statement.
	exercise(t, db)
	var queries []string
	db.stmts.Range(func(k, _ any) bool {
		queries = append(queries, k.(stmtKey).query)
		return true
	})
	if len(queries) < 20 {
		t.Fatalf("only %d statements cached; exercise misses some", len(queries))
	}
	for _, q := range queries {
		if q == "SELECT 1" || strings.HasPrefix(q, "SELECT t.id, t.title") && strings.Contains(q, "ORDER BY t.") && !strings.Contains(q, "t.seq") {
			continue // Ping; FindTasks shapes are checked below with their sorts
		}
		checkPlan(t, db, sqlArgs{query: q}, false)
	}

	owner := authdash.UserID(newID())
	due := time.Now()
	position := func(s authdash.TaskSort, o authdash.Order) *authdash.Cursor {
		return &authdash.Cursor{Sort: s, Order: o, Int: 1, Str: "m", ID: authdash.TaskID(newID())}
	}
	filters := []authdash.TaskQuery{
		{},
		{Status: authdash.StatusDone},
		{Priority: authdash.PriorityHigh},
		{Search: "report"},
		{Search: "re"},
		{DueBefore: &due},
		{DueAfter: &due},
		{Status: authdash.StatusTodo, Priority: authdash.PriorityLow, Search: "xyz", DueBefore: &due, DueAfter: &due},
		{Tag: "work"},
		{Tag: "work", Search: "report"},
	}
	for _, f := range filters {
		for _, s := range authdash.TaskSorts {
			for _, o := range []authdash.Order{authdash.Asc, authdash.Desc} {
				q := f
				q.Sort, q.Order, q.Limit = s, o, 20
				for _, after := range []*authdash.Cursor{nil, position(s, o)} {
					for _, upTo := range []*authdash.Cursor{nil, position(s, o)} {
						checkPlan(t, db, findTasksSQL(owner, q, after, upTo, scanRows), true)
					}
					st := findTasksSQL(owner, q, after, nil, scanBoundary)
					st.args = append(st.args, 499)
					checkPlan(t, db, st, true)
					if q.Search != "" {
						// Few candidates: sorting them is the point.
						st := findTasksSQL(owner, q, after, nil, scanCandidates)
						st.args = append([]any{`"00"`}, st.args...)
						checkPlan(t, db, st, false)
						st = findTasksSQL(owner, q, after, nil, scanFiltered)
						st.args = append([]any{`"00"`}, st.args...)
						checkPlan(t, db, st, true)
						if _, ok := sortIndexOf(s); ok {
							// The index's rows in rowid order, which is
							// page order by bucket: no sort.
							st = findTasksSQL(owner, q, after, nil, scanWalk)
							st.args = append([]any{`"00"`, 7}, st.args...)
							checkPlan(t, db, st, true)
						}
					}
				}
			}
		}
	}
}

// TestStoreSmallSearchWindow runs the contract suite with a search window of
// two tasks, so that searches go through the window boundary and the
// trigram index rather than only reading the few tasks of a test.
func TestStoreSmallSearchWindow(t *testing.T) {
	storetest.Run(t, func(t *testing.T) authdash.Store {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "small.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.searchWindow = 2
		return db
	})
}

// TestStoreStatementCacheFull runs the contract suite with the statement
// cache already full, so every query takes the unprepared path.
func TestStoreStatementCacheFull(t *testing.T) {
	storetest.Run(t, func(t *testing.T) authdash.Store {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "full.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.nstmts.Store(maxStmts)
		return db
	})
}

// scanned is the table a SCAN step reads, or "".
func scanned(step string) string {
	if s := fullScan.FindStringSubmatch(step); s != nil {
		return s[1]
	}
	return ""
}

func checkPlan(t *testing.T, db *DB, st sqlArgs, noSort bool) {
	t.Helper()
	query, args := st.query, st.args
	if args == nil {
		// Bind NULLs: the plan does not depend on the values.
		args = make([]any, strings.Count(query, "?"))
	}
	rows, err := db.r.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, step := range plan {
		// The dirty lists are read whole by design: the writer empties
		// them at every commit, so they hold one transaction's changes.
		queue := false
		for _, q := range []string{"task_grams_dirty", "task_sorts_dirty"} {
			queue = queue || strings.Contains(query, "FROM "+q) && (scanned(step) == "d" || scanned(step) == q)
		}
		if m := fullScan.FindStringSubmatch(step); m != nil && m[1] != "CONSTANT" && !strings.Contains(step, "VIRTUAL TABLE INDEX") && !queue {
			t.Errorf("full scan in\n  %s\nplan:\n  %s", query, strings.Join(plan, "\n  "))
		}
		if noSort && strings.Contains(step, "TEMP B-TREE") {
			t.Errorf("sort without an index in\n  %s\nplan:\n  %s", query, strings.Join(plan, "\n  "))
		}
	}
	if testing.Verbose() {
		fmt.Printf("%s\n  %s\n", query, strings.Join(plan, "\n  "))
	}
}

// exercise calls every method of the store at least once.
func exercise(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.Ping(ctx))
	u, err := db.CreateUser(ctx, authdash.NewUser{Email: "a@example.com", Name: "A", PasswordHash: "h"})
	must(err)
	_, err = db.FindUser(ctx, u.ID)
	must(err)
	_, _, err = db.FindLogin(ctx, u.Email)
	must(err)
	_, err = db.PasswordHash(ctx, u.ID)
	must(err)
	_, err = db.UpdateUser(ctx, u.ID, authdash.UserPatch{Name: new("B")})
	must(err)
	_, err = db.CreateSession(ctx, authdash.NewSession{UserID: u.ID, Device: "d", TokenHash: []byte("1"), ExpiresAt: time.Now().Add(time.Hour)})
	must(err)
	_, _, err = db.RotateSession(ctx, authdash.Rotation{Presented: []byte("1"), Next: []byte("2"), ExpiresAt: time.Now().Add(time.Hour)})
	must(err)
	_, _, err = db.RotateSession(ctx, authdash.Rotation{Presented: []byte("1"), Next: []byte("3"), ExpiresAt: time.Now().Add(time.Hour)})
	if authdash.ErrorCodeOf(err) != authdash.CodeUnauthorized {
		t.Fatalf("reuse: %v", err)
	}
	s, err := db.CreateSession(ctx, authdash.NewSession{UserID: u.ID, Device: "d", TokenHash: []byte("4"), ExpiresAt: time.Now().Add(time.Hour)})
	must(err)
	_, err = db.FindSession(ctx, u.ID, s.ID)
	must(err)
	_, err = db.SessionByToken(ctx, []byte("4"))
	must(err)
	_, err = db.ListSessions(ctx, u.ID)
	must(err)
	must(db.DeleteSession(ctx, u.ID, s.ID))
	_, err = db.DeleteSessions(ctx, u.ID, "")
	must(err)
	_, err = db.PurgeExpiredSessions(ctx, time.Now())
	must(err)
	mid, err := db.EnqueueMail(ctx, authdash.Mail{Kind: "k", To: "a@example.com", Due: time.Now()})
	must(err)
	_, err = db.ClaimMail(ctx, time.Now(), time.Minute, 5)
	must(err)
	must(db.RetryMail(ctx, mid, time.Now(), "x"))
	must(db.DeleteMail(ctx, mid))
	tok, hash := authdash.NewAccountToken()
	must(db.CreateAccountToken(ctx, authdash.AccountToken{Hash: hash, Purpose: authdash.PurposeResetPassword, User: u.ID,
		Email: u.Email, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}))
	_, err = db.UseAccountToken(ctx, authdash.TokenHash(tok), authdash.PurposeResetPassword, time.Now())
	must(err)
	_, err = db.DeleteAccountTokens(ctx, u.ID, authdash.PurposeResetPassword)
	must(err)
	_, err = db.PurgeAccountTokens(ctx, time.Now())
	must(err)
	_, err = db.SetEmail(ctx, u.ID, u.Email, u.Email)
	must(err)
	must(db.SaveRevocation(ctx, authdash.Revocation{User: u.ID, At: time.Now(), Until: time.Now().Add(time.Minute)}))
	_, err = db.Revocations(ctx, time.Now().Add(-time.Minute))
	must(err)
	_, err = db.PurgeRevocations(ctx, time.Now())
	must(err)
	must(db.SetPassword(ctx, u.ID, "h2", ""))
	mfaTok, mfaHash := authdash.NewAccountToken()
	must(db.CreateAccountToken(ctx, authdash.AccountToken{Hash: mfaHash, Purpose: authdash.PurposeMFA, User: u.ID,
		Email: u.Email, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}))
	_, err = db.FindAccountToken(ctx, authdash.TokenHash(mfaTok), authdash.PurposeMFA, time.Now())
	must(err)
	must(db.SetTOTP(ctx, u.ID, "s", time.Now()))
	_, err = db.FindTOTP(ctx, u.ID)
	must(err)
	must(db.ConfirmTOTP(ctx, u.ID, 1, [][]byte{[]byte("rc")}))
	must(db.UseTOTPStep(ctx, u.ID, 2))
	if err := db.UseTOTPStep(ctx, u.ID, 2); authdash.ErrorCodeOf(err) != authdash.CodeConflict {
		t.Fatalf("replayed step: %v", err)
	}
	must(db.UseRecoveryCode(ctx, u.ID, []byte("rc")))
	must(db.DeleteTOTP(ctx, u.ID))
	for range 2 {
		_, err = db.RecordSignIn(ctx, u.ID, authdash.SignInEvent{At: time.Now(), Method: authdash.SignInPassword,
			Outcome: authdash.SignInSuccess, DeviceKey: "k"})
		must(err)
	}
	_, err = db.SignIns(ctx, u.ID, 10)
	must(err)
	_, err = db.PurgeSignIns(ctx, time.Now().Add(-time.Hour))
	must(err)

	task, _, err := db.CreateTask(ctx, u.ID, authdash.TaskDraft{Title: "t", Status: "todo", Priority: "low", Tags: []string{"x"}})
	must(err)
	_, err = db.FindTask(ctx, u.ID, task.ID)
	must(err)
	q := authdash.TaskQuery{}
	q.Normalize()
	_, err = db.FindTasks(ctx, u.ID, q)
	must(err)
	_, _, err = db.UpdateTask(ctx, u.ID, task.ID, authdash.TaskPatch{Tags: &[]string{"y"}}, 0)
	must(err)
	_, err = db.TaskStats(ctx, u.ID)
	must(err)
	_, err = db.DeleteTask(ctx, u.ID, task.ID, 0)
	must(err)
	_, _, _, err = db.ChangesSince(ctx, u.ID, 0, 10)
	must(err)
	_, err = db.PurgeTombstones(ctx, time.Now().Add(time.Hour))
	must(err)
	must(db.DeleteUser(ctx, u.ID))
}
