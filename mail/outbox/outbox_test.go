package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/internal/testkit"
	"github.com/authdash/authdash/mail"
	"github.com/authdash/authdash/mail/mailtest"
	"github.com/authdash/authdash/mail/outbox"
	"github.com/authdash/authdash/store/sqlite"
)

const wait = 10 * time.Second

// results receives every attempt's outcome once it is stored, so a test waits on a
// channel instead of sleeping.
type results chan outbox.Result

func (rs results) observe(_ string, r outbox.Result) { rs <- r }

func (rs results) next(tb testing.TB) outbox.Result {
	tb.Helper()
	select {
	case r := <-rs:
		return r
	case <-time.After(wait):
		tb.Fatal("no send attempt")
		return ""
	}
}

type rig struct {
	srv   *mailtest.Server
	store *sqlite.DB
	path  string
	clock *testkit.Clock
	send  mail.Sender
	got   results
	msg   mail.Message
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{srv: mailtest.Start(t, mailtest.Options{}), path: filepath.Join(t.TempDir(), "authdash.db"),
		clock: testkit.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))}
	r.store = r.open(t)
	s, err := mail.New(mail.Config{URL: r.srv.URL(), From: "Authdash <no-reply@authdash.test>", RootCAs: r.srv.Roots, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r.send, r.got = s, make(results, 100)
	app, _ := url.Parse("https://app.authdash.test")
	c, err := mail.NewComposer("Authdash", app)
	if err != nil {
		t.Fatal(err)
	}
	if r.msg, err = c.Compose(mail.KindResetPassword, "ann@example.com", mail.Data{Token: "tok", Valid: 30 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), r.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (r *rig) outbox(cfg outbox.Config) *outbox.Outbox {
	if cfg.Store == nil {
		cfg.Store = r.store
	}
	cfg.Sender, cfg.Now, cfg.Poll, cfg.Observe = r.send, r.clock.Now, time.Hour, r.got.observe
	return outbox.New(cfg)
}

// run starts o until the test ends.
func run(t *testing.T, o *outbox.Outbox) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

func (r *rig) empty(t *testing.T) {
	t.Helper()
	left, err := r.store.ClaimMail(context.Background(), r.clock.Now().Add(100*24*time.Hour), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("outbox still holds %d message(s): %+v", len(left), left[0])
	}
}

// wantStats waits a little for the counts: the worker reports a result to
// Observe before it counts it (so a metric is never behind Stats), so a test
// that has just received the result may read Stats a moment early.
func wantStats(t *testing.T, o *outbox.Outbox, want outbox.Stats) {
	t.Helper()
	got := o.Stats()
	for deadline := time.Now().Add(5 * time.Second); got != want && time.Now().Before(deadline); got = o.Stats() {
		time.Sleep(time.Millisecond)
	}
	if got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestDelivers(t *testing.T) {
	r := newRig(t)
	o := r.outbox(outbox.Config{})
	run(t, o)
	if err := o.Enqueue(context.Background(), r.msg, r.clock.Now().Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if res := r.got.next(t); res != outbox.Sent {
		t.Fatal(res)
	}
	got := r.srv.Wait(t, 1, wait)[0]
	if got.Subject != r.msg.Subject || got.To[0] != "ann@example.com" {
		t.Errorf("received %q to %v", got.Subject, got.To)
	}
	if _, err := got.Link("/reset-password"); err != nil {
		t.Error(err)
	}
	r.empty(t)
	wantStats(t, o, outbox.Stats{Sent: 1})
}

// The SMTP server is down when the message is enqueued: the attempt fails, the message
// waits, and goes out once the server is back and its retry is due.
func TestSurvivesSMTPDeath(t *testing.T) {
	r := newRig(t)
	r.srv.Stop()
	o := r.outbox(outbox.Config{Backoff: func(int) time.Duration { return time.Minute }})
	run(t, o)
	if err := o.Enqueue(context.Background(), r.msg, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if res := r.got.next(t); res != outbox.Retried {
		t.Fatal(res)
	}
	r.srv.Restart(t)
	o.Wake() // not due yet: nothing is sent
	r.clock.Advance(time.Minute)
	o.Wake()
	if res := r.got.next(t); res != outbox.Sent {
		t.Fatal(res)
	}
	if n := len(r.srv.Wait(t, 1, wait)); n != 1 {
		t.Errorf("received %d", n)
	}
	r.empty(t)
	wantStats(t, o, outbox.Stats{Sent: 1, Retried: 1})
}

// The process dies twice: once after enqueueing (before any worker ran), once in the
// middle of sending (its claim held). A new process sends the message once the lease
// has run out.
func TestSurvivesProcessDeath(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if err := r.outbox(outbox.Config{}).Enqueue(ctx, r.msg, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// The second process claims it, then dies without a word.
	claimed, err := r.store.ClaimMail(ctx, r.clock.Now(), outbox.DefaultLease, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := r.store.Close(); err != nil {
		t.Fatal(err)
	}

	r.store = r.open(t)
	o := r.outbox(outbox.Config{})
	run(t, o)
	o.Wake()
	r.clock.Advance(outbox.DefaultLease)
	o.Wake()
	if res := r.got.next(t); res != outbox.Sent {
		t.Fatal(res)
	}
	got := r.srv.Wait(t, 1, wait)
	if id := got[0].Header.Get("Message-Id"); id != fmt.Sprintf("<%s@authdash.test>", claimed[0].ID) {
		t.Errorf("Message-ID %q: a resend must keep the outbox's ID", id)
	}
	r.empty(t)
}

func TestGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    int           // the server's answer to DATA
		expires time.Duration // from enqueueing
		advance time.Duration // before the worker runs
		results []outbox.Result
		stats   outbox.Stats
	}{
		{name: "ErrRefusedForGood", code: 554, results: []outbox.Result{outbox.Failed}, stats: outbox.Stats{Failed: 1}},
		{name: "ErrOutOfAttempts", code: 451, results: []outbox.Result{outbox.Retried, outbox.Retried, outbox.Failed}, stats: outbox.Stats{Retried: 2, Failed: 1}},
		{name: "ErrLinkExpired", expires: 30 * time.Minute, advance: 30 * time.Minute, results: []outbox.Result{outbox.Failed}, stats: outbox.Stats{Failed: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.srv.FailWith(tc.code)
			o := r.outbox(outbox.Config{MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Minute }})
			var expires time.Time
			if tc.expires > 0 {
				expires = r.clock.Now().Add(tc.expires)
			}
			if err := o.Enqueue(context.Background(), r.msg, expires); err != nil {
				t.Fatal(err)
			}
			r.clock.Advance(tc.advance)
			run(t, o)
			for i, want := range tc.results {
				if got := r.got.next(t); got != want {
					t.Fatalf("attempt %d: %s, want %s", i+1, got, want)
				}
				r.clock.Advance(time.Minute)
				o.Wake()
			}
			// The message is gone: nothing more is attempted.
			r.empty(t)
			select {
			case res := <-r.got:
				t.Errorf("one attempt too many: %s", res)
			default:
			}
			wantStats(t, o, tc.stats)
			if n := len(r.srv.Messages()); n != 0 {
				t.Errorf("server received %d", n)
			}
		})
	}
}

// blocking never finishes a send by itself.
type blocking struct{ started chan struct{} }

func (b blocking) Send(ctx context.Context, _ mail.Message) error {
	close(b.started)
	<-ctx.Done()
	return ctx.Err()
}

// A worker stopped in the middle of a send puts the message back at once, rather than
// leaving it claimed until the lease runs out.
func TestShutdownPutsBack(t *testing.T) {
	r := newRig(t)
	b := blocking{started: make(chan struct{})}
	o := outbox.New(outbox.Config{Store: r.store, Sender: b, Now: r.clock.Now, Poll: time.Hour})
	if err := o.Enqueue(context.Background(), r.msg, time.Time{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.Run(ctx) }()
	<-b.started
	cancel()
	<-done
	back, err := r.store.ClaimMail(context.Background(), r.clock.Now(), time.Minute, 10)
	if err != nil || len(back) != 1 {
		t.Fatalf("after shutdown: %v %v, want the message due now", back, err)
	}
	wantStats(t, o, outbox.Stats{})
}

// Workers on two instances share one outbox: every message is sent exactly once.
func TestSeveralWorkers(t *testing.T) {
	r := newRig(t)
	a, b := r.outbox(outbox.Config{Batch: 2}), r.outbox(outbox.Config{Batch: 2})
	const n = 12
	for i := range n {
		m := r.msg
		m.To = fmt.Sprintf("user%d@example.com", i)
		if err := a.Enqueue(context.Background(), m, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	run(t, a)
	run(t, b)
	for range n {
		if res := r.got.next(t); res != outbox.Sent {
			t.Fatal(res)
		}
	}
	got := r.srv.Wait(t, n, wait)
	seen := map[string]int{}
	for _, m := range got {
		seen[m.To[0]]++
	}
	if len(seen) != n {
		t.Errorf("%d recipients, want %d", len(seen), n)
	}
	for to, k := range seen {
		if k != 1 {
			t.Errorf("%s got %d copies", to, k)
		}
	}
	sent := func() uint64 { return a.Stats().Sent + b.Stats().Sent }
	for deadline := time.Now().Add(5 * time.Second); sent() != uint64(n) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if s := sent(); s != uint64(n) {
		t.Errorf("sent %d, want %d", s, n)
	}
}

// failingStore stands for a store that is down: the worker keeps trying and recovers.
type failingStore struct {
	authdash.MailOutbox
	mu   sync.Mutex
	down bool
}

func (f *failingStore) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, n int) ([]authdash.Mail, error) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return nil, authdash.WrapError(authdash.CodeUnavailable, errors.New("disk on fire"), "unavailable")
	}
	return f.MailOutbox.ClaimMail(ctx, now, lease, n)
}

func TestStoreOutageRecovers(t *testing.T) {
	r := newRig(t)
	fs := &failingStore{MailOutbox: r.store, down: true}
	log, logs := testkit.NewLogger(0)
	o := r.outbox(outbox.Config{Store: fs, Log: log})
	if err := o.Enqueue(context.Background(), r.msg, time.Time{}); err != nil {
		t.Fatal(err)
	}
	run(t, o)
	o.Wake()
	o.Wake()
	fs.mu.Lock()
	fs.down = false
	fs.mu.Unlock()
	o.Wake()
	if res := r.got.next(t); res != outbox.Sent {
		t.Fatal(res)
	}
	r.srv.Wait(t, 1, wait)
	if n := logs.Count("cannot read the outbox"); n > 1 {
		t.Errorf("outage logged %d times, want once", n)
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		base    time.Duration
	}{{1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute}, {7, 30 * time.Minute}, {50, 30 * time.Minute}} {
		t.Run(fmt.Sprint(tc.attempt), func(t *testing.T) {
			for range 100 {
				d := outbox.Backoff(tc.attempt)
				if d < tc.base*8/10 || d > tc.base*12/10 {
					t.Fatalf("Backoff(%d) = %v, want %v ± 20%%", tc.attempt, d, tc.base)
				}
			}
		})
	}
}
