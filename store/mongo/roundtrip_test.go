package mongo_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/testkit"
	mongostore "github.com/authdash/authdash/store/mongo"
	"github.com/authdash/authdash/store/profilecache"
)

// recorder lists the commands a client sends: one command is one round
// trip to the server. Handshakes and heartbeats are not commands here.
type recorder struct {
	mu   sync.Mutex
	cmds []string
}

func (r *recorder) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		r.mu.Lock()
		r.cmds = append(r.cmds, e.CommandName)
		r.mu.Unlock()
	}}
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.cmds
	r.cmds = nil
	return c
}

// TestRoundTrips asserts how many commands each API-level operation sends
// to MongoDB; docs/BENCHMARKS.md reports the same table.
func TestRoundTrips(t *testing.T) {
	for _, s := range servers() {
		t.Run(s.name, func(t *testing.T) { testRoundTrips(t, s.uri) })
	}
}

func testRoundTrips(t *testing.T, uri string) {
	ctx := context.Background()
	rec := &recorder{}
	db := openDB(t, uri, mongostore.Options{Monitor: rec.monitor()})
	srv := testkit.StartRedis(t)
	ro, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(profilecache.ClientOptions(ro))
	t.Cleanup(func() { rdb.Close() })
	cached := profilecache.New(db, rdb, profilecache.Options{Prefix: "rt:"})

	u := mustUser(t, db, "Ann")
	var tasks []*authdash.Task
	var seqs []int64
	for i := range 105 { // more than a full page of 100, so its single batch is tested
		d := authdash.TaskDraft{Title: "task " + string(rune('a'+i%26)), Tags: []string{"work"}}
		d.Normalize()
		task, ev, err := db.CreateTask(ctx, u.ID, d)
		if err != nil {
			t.Fatal(err)
		}
		tasks = append(tasks, task)
		seqs = append(seqs, ev.Seq)
	}
	if _, err := db.CreateSession(ctx, authdash.NewSession{UserID: u.ID, Device: "d", TokenHash: []byte("r0"), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	page1, err := db.FindTasks(ctx, u.ID, query(authdash.TaskQuery{}))
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(key string) authdash.SignInEvent {
		return authdash.SignInEvent{At: time.Now(), Method: authdash.SignInPassword, Outcome: authdash.SignInSuccess, DeviceKey: key}
	}
	if _, err := db.RecordSignIn(ctx, u.ID, signIn("known")); err != nil {
		t.Fatal(err)
	}
	mfaUser := mustUser(t, db, "Mia")
	if err := db.SetTOTP(ctx, mfaUser.ID, "sealed", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.ConfirmTOTP(ctx, mfaUser.ID, 1, [][]byte{authdash.TokenHash("rc")}); err != nil {
		t.Fatal(err)
	}
	_, mfaHash := authdash.NewAccountToken()
	if err := db.CreateAccountToken(ctx, authdash.AccountToken{Hash: mfaHash, Purpose: authdash.PurposeMFA, User: mfaUser.ID,
		Email: mfaUser.Email, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(authdash.MFATokenTTL)}); err != nil {
		t.Fatal(err)
	}
	rec.take()

	title := "renamed"
	var mailID authdash.MailID
	tests := []struct {
		name string
		want []string
		op   func() error
	}{
		{"list page (first)", []string{"find"}, func() error {
			_, err := db.FindTasks(ctx, u.ID, query(authdash.TaskQuery{}))
			return err
		}},
		{"list page (next, filtered, searched)", []string{"find"}, func() error {
			_, err := db.FindTasks(ctx, u.ID, query(authdash.TaskQuery{Cursor: page1.NextCursor, Tag: "work", Search: "task"}))
			return err
		}},
		{"list page (full, 100)", []string{"find"}, func() error {
			_, err := db.FindTasks(ctx, u.ID, query(authdash.TaskQuery{Limit: 100, Sort: authdash.SortTitle, Order: authdash.Asc}))
			return err
		}},
		{"create", []string{"insert"}, func() error {
			_, _, err := db.CreateTask(ctx, u.ID, draft("new"))
			return err
		}},
		{"update", []string{"findAndModify"}, func() error {
			_, _, err := db.UpdateTask(ctx, u.ID, tasks[0].ID, authdash.TaskPatch{Title: &title}, 0)
			return err
		}},
		{"update with If-Match", []string{"findAndModify"}, func() error {
			_, _, err := db.UpdateTask(ctx, u.ID, tasks[1].ID, authdash.TaskPatch{Title: &title}, tasks[1].Version)
			return err
		}},
		{"update with stale If-Match (412)", []string{"findAndModify", "find"}, func() error {
			_, _, err := db.UpdateTask(ctx, u.ID, tasks[1].ID, authdash.TaskPatch{Title: &title}, tasks[1].Version)
			if authdash.ErrorCodeOf(err) == authdash.CodePreconditionFailed {
				return nil
			}
			return err
		}},
		{"delete", []string{"findAndModify"}, func() error {
			_, err := db.DeleteTask(ctx, u.ID, tasks[2].ID, 0)
			return err
		}},
		{"restore (undo a delete)", []string{"findAndModify"}, func() error {
			_, _, err := db.RestoreTask(ctx, u.ID, tasks[2].ID, time.Now().Add(-time.Hour))
			return err
		}},
		{"create with Idempotency-Key", []string{"insert", "insert"}, func() error {
			_, _, _, err := db.CreateTaskOnce(ctx, u.ID, once("k1"), draft("keyed"))
			return err
		}},
		{"create with Idempotency-Key, repeated", []string{"insert", "find", "find"}, func() error {
			_, _, replayed, err := db.CreateTaskOnce(ctx, u.ID, once("k1"), draft("keyed"))
			if err == nil && !replayed {
				t.Error("the repeat created a task")
			}
			return err
		}},
		{"task stats", []string{"aggregate"}, func() error {
			_, err := db.TaskStats(ctx, u.ID)
			return err
		}},
		{"changes since (resume)", []string{"find", "find", "find"}, func() error {
			_, _, _, err := db.ChangesSince(ctx, u.ID, seqs[100], 100)
			return err
		}},
		{"change head (socket sign-in, heartbeat up to date)", []string{"find", "find"}, func() error {
			_, err := db.ChangeHead(ctx, u.ID)
			return err
		}},
		{"login from a known device (FindLogin + FindTOTP + CreateSession + RecordSignIn)", []string{"find", "find", "insert", "find", "insert"}, func() error {
			if _, _, err := db.FindLogin(ctx, "ann@example.com"); err != nil {
				return err
			}
			if _, err := db.FindTOTP(ctx, u.ID); authdash.ErrorCodeOf(err) != authdash.CodeNotFound {
				return fmt.Errorf("FindTOTP: %v, want not found", err)
			}
			if _, err := db.CreateSession(ctx, authdash.NewSession{UserID: u.ID, Device: "d", TokenHash: []byte("l0"), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
				return err
			}
			_, err := db.RecordSignIn(ctx, u.ID, signIn("known"))
			return err
		}},
		{"sign-in recorded from a new device", []string{"find", "find", "insert"}, func() error {
			isNew, err := db.RecordSignIn(ctx, u.ID, signIn("new"))
			if err == nil && !isNew {
				err = errors.New("not a new device")
			}
			return err
		}},
		{"sign-in activity", []string{"find"}, func() error {
			_, err := db.SignIns(ctx, u.ID, authdash.MaxSignInsListed)
			return err
		}},
		{"MFA challenge looked up (FindAccountToken)", []string{"find"}, func() error {
			_, err := db.FindAccountToken(ctx, mfaHash, authdash.PurposeMFA, time.Now())
			return err
		}},
		{"code accepted (UseTOTPStep)", []string{"update"}, func() error {
			return db.UseTOTPStep(ctx, mfaUser.ID, 2)
		}},
		{"code replayed (UseTOTPStep refused)", []string{"update", "find"}, func() error {
			if err := db.UseTOTPStep(ctx, mfaUser.ID, 2); authdash.ErrorCodeOf(err) != authdash.CodeConflict {
				return fmt.Errorf("replay: %v, want conflict", err)
			}
			return nil
		}},
		{"recovery code spent", []string{"update"}, func() error {
			return db.UseRecoveryCode(ctx, mfaUser.ID, authdash.TokenHash("rc"))
		}},
		{"refresh rotation", []string{"findAndModify"}, func() error {
			_, _, err := db.RotateSession(ctx, authdash.Rotation{Presented: []byte("r0"), Next: []byte("r1"), ExpiresAt: time.Now().Add(time.Hour)})
			return err
		}},
		{"list sessions", []string{"find"}, func() error {
			_, err := db.ListSessions(ctx, u.ID)
			return err
		}},
		{"save revocation (sign-out)", []string{"insert"}, func() error {
			return db.SaveRevocation(ctx, authdash.Revocation{User: u.ID, At: time.Now(), Until: time.Now().Add(time.Minute)})
		}},
		{"revocations since (the poll)", []string{"find"}, func() error {
			_, err := db.Revocations(ctx, time.Now().Add(-time.Minute))
			return err
		}},
		{"enqueue mail", []string{"insert"}, func() error {
			_, err := db.EnqueueMail(ctx, authdash.Mail{Kind: "k", To: "ann@example.com", Due: time.Now().Add(-time.Second)})
			return err
		}},
		{"claim mail (one due), then nothing left", []string{"findAndModify", "findAndModify"}, func() error {
			got, err := db.ClaimMail(ctx, time.Now(), time.Minute, 10)
			if err == nil && len(got) == 1 {
				mailID = got[0].ID
			}
			return err
		}},
		{"retry mail", []string{"update"}, func() error { return db.RetryMail(ctx, mailID, time.Now(), "451") }},
		{"delete mail (sent)", []string{"delete"}, func() error { return db.DeleteMail(ctx, mailID) }},
		{"create account token", []string{"insert"}, func() error {
			return db.CreateAccountToken(ctx, authdash.AccountToken{Hash: authdash.TokenHash("rt"), Purpose: authdash.PurposeVerifyEmail,
				User: u.ID, Email: u.Email, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
		}},
		{"use account token", []string{"findAndModify"}, func() error {
			_, err := db.UseAccountToken(ctx, authdash.TokenHash("rt"), authdash.PurposeVerifyEmail, time.Now())
			return err
		}},
		{"use account token again (refused: one more read says why)", []string{"findAndModify", "find"}, func() error {
			_, err := db.UseAccountToken(ctx, authdash.TokenHash("rt"), authdash.PurposeVerifyEmail, time.Now())
			if authdash.ErrorCodeOf(err) == authdash.CodeInvalid {
				return nil
			}
			return err
		}},
		{"delete account tokens", []string{"delete"}, func() error {
			_, err := db.DeleteAccountTokens(ctx, u.ID, authdash.PurposeResetPassword)
			return err
		}},
		{"verify email (SetEmail)", []string{"findAndModify"}, func() error {
			_, err := db.SetEmail(ctx, u.ID, u.Email, u.Email)
			return err
		}},
		{"GET /api/me, profile cache cold", []string{"find"}, func() error {
			_, err := cached.FindUser(ctx, u.ID)
			return err
		}},
		{"GET /api/me, profile cache warm", nil, func() error {
			_, err := cached.FindUser(ctx, u.ID)
			return err
		}},
	}
	for _, tt := range tests {
		rec.take()
		if err := tt.op(); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		got := rec.take()
		t.Logf("| %s | %d | %s |", tt.name, len(got), strings.Join(got, ", "))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s sent %q, want %q", tt.name, got, tt.want)
		}
	}
	if st := cached.Stats(); st.Hits != 1 || st.Misses != 1 {
		t.Errorf("profile cache stats = %+v, want one miss then one hit", st)
	}
}

// once is an idempotency key for a draft made by draft.
func once(key string) authdash.Idempotency {
	return authdash.Idempotency{Key: key, Fingerprint: draft("keyed").Fingerprint(), Since: time.Now().Add(-authdash.IdempotencyKeyTTL)}
}

// TestServerBinaryLeavesFerretDBOut keeps FerretDB a test-only import: the
// server binary links the driver, never the embedded database.
func TestServerBinaryLeavesFerretDBOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/authdash/authdash/cmd/authdash").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "go.mongodb.org/mongo-driver/v2/mongo") {
		t.Log("cmd/authdash does not link the MongoDB driver yet")
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/FerretDB/") {
			t.Errorf("cmd/authdash depends on %s", p)
		}
	}
}
