package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authdash/authdash/wire"
)

// env is what a run shares: configuration, the API client, the seeded
// accounts and the counters that tie writes to the events they cause.
type env struct {
	cfg   *config
	api   *client
	log   io.Writer
	users []*user
	runID string

	// measureFrom is when measuring starts (after the warm-up); writes
	// stamped earlier are not counted, and neither are their events.
	measureFrom atomic.Int64 // unix ns
}

// user is one account the load runs as.
type user struct {
	email, password string
	id              string
	token           string // access token, shared by the workers and sockets of this user

	// refresh is the registration's refresh token, claimed by the first
	// worker that needs one; later workers sign in for their own session,
	// since a refresh token rotates on every use.
	refreshMu sync.Mutex
	refresh   string

	tasks   []string // seeded task IDs; read-only once the run starts
	sockets int      // listening sockets, fixed before the run

	// writes counts measured task writes whose event every socket of this
	// user should receive.
	writes atomic.Int64
	// unsure counts writes the end of the run cut short.
	unsure atomic.Int64
}

func (u *user) claimRefresh() string {
	u.refreshMu.Lock()
	defer u.refreshMu.Unlock()
	r := u.refresh
	u.refresh = ""
	return r
}

func newEnv(cfg *config, log io.Writer) *env {
	var b [4]byte
	_, _ = crand.Read(b[:])
	return &env{
		cfg:   cfg,
		api:   newClient(cfg.base.String(), max(cfg.conns, cfg.seedConns), cfg.gzip),
		log:   log,
		runID: hex.EncodeToString(b[:]),
	}
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "loadgen: "+format+"\n", args...)
}

// seedWords gives search something to find: each seeded title carries one
// of them, so a word matches a quarter of a user's tasks, while the
// description's "ref" number matches exactly one.
var seedWords = [...]string{"alpha", "bravo", "charlie", "delta"}

const seedPassword = "loadgen-password-1"

// seed registers (or signs in) the accounts and creates their tasks, with at
// most cfg.seedConns requests in flight.
func (e *env) seed(ctx context.Context) error {
	start := time.Now()
	e.users = make([]*user, e.cfg.users)
	err := e.parallel(ctx, e.cfg.users, func(ctx context.Context, i int) error {
		u := &user{email: e.cfg.email, password: e.cfg.password}
		if u.email == "" {
			u.email = fmt.Sprintf("lg-%s-%d@loadgen.example.com", e.runID, i)
			u.password = seedPassword
		}
		g, err := e.authenticate(ctx, u, e.cfg.email == "")
		if err != nil {
			return fmt.Errorf("account %s: %w", u.email, err)
		}
		u.id, u.token, u.refresh = string(g.User.ID), g.AccessToken, g.RefreshToken
		e.users[i] = u
		return nil
	})
	if err != nil {
		return err
	}
	e.logf("%d account(s) ready in %s", len(e.users), time.Since(start).Round(time.Millisecond))

	start = time.Now()
	total := e.cfg.tasks * len(e.users)
	ids := make([]string, total)
	err = e.parallel(ctx, total, func(ctx context.Context, i int) error {
		u, n := e.users[i%len(e.users)], i/len(e.users)
		body := mustJSON(map[string]any{
			"title":       fmt.Sprintf("Task %06d %s", n, seedWords[n%len(seedWords)]),
			"description": fmt.Sprintf("Seeded by loadgen, ref%06d.", n),
			"priority":    []string{"low", "medium", "high"}[n%3],
			"status":      []string{"todo", "in_progress", "done"}[n%3],
			"tags":        []string{seedWords[n%len(seedWords)], fmt.Sprintf("t%d", n%10)},
		})
		var t taskRef
		err := retry429(ctx, func() error {
			_, err := e.api.call(ctx, "POST", "/api/tasks", u.token, body, &t)
			return err
		})
		ids[i] = t.ID
		return err
	})
	if err != nil {
		return fmt.Errorf("seeding tasks: %w", err)
	}
	for i, id := range ids {
		u := e.users[i%len(e.users)]
		u.tasks = append(u.tasks, id)
	}
	if total > 0 {
		e.logf("%d task(s) created in %s", total, time.Since(start).Round(time.Millisecond))
	}
	// An existing account brings its own tasks: take the first page so
	// update has something to work on.
	for _, u := range e.users {
		if len(u.tasks) > 0 {
			continue
		}
		var page struct {
			Items []taskRef `json:"items"`
		}
		if _, err := e.api.call(ctx, "GET", "/api/tasks?limit=100", u.token, nil, &page); err != nil {
			return fmt.Errorf("listing tasks of %s: %w", u.email, err)
		}
		for _, t := range page.Items {
			u.tasks = append(u.tasks, t.ID)
		}
	}
	return nil
}

// authenticate registers u (or signs in when register is false), waiting
// out rate limits.
func (e *env) authenticate(ctx context.Context, u *user, register bool) (*wire.Grant, error) {
	var g wire.Grant
	err := retry429(ctx, func() error {
		if register {
			_, err := e.api.call(ctx, "POST", "/api/auth/register", "",
				mustJSON(map[string]string{"email": u.email, "password": u.password, "name": "Load Generator"}), &g)
			return err
		}
		_, err := e.api.call(ctx, "POST", "/api/auth/login", "",
			mustJSON(map[string]string{"email": u.email, "password": u.password}), &g)
		return err
	})
	if err != nil {
		return nil, err
	}
	if g.AccessToken == "" || g.RefreshToken == "" || g.User == nil {
		return nil, errors.New("the answer has no user, accessToken or refreshToken (is X-Auth-Mode: token supported?)")
	}
	return &g, nil
}

// retry429 calls f again while the server answers 429, waiting as long as
// Retry-After asks (within bounds), so seeding survives auth rate limits.
func retry429(ctx context.Context, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status != 429 || attempt == 30 {
			return err
		}
		wait := min(max(ae.RetryAfter, 100*time.Millisecond), 5*time.Second)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// parallel calls f(i) for i in [0, n) with at most cfg.seedConns in flight
// and returns the first error, cancelling the rest.
func (e *env) parallel(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	return parallel(ctx, n, e.cfg.seedConns, f)
}

// parallel calls f(i) for i in [0, n) with at most conc in flight and
// returns the first error, cancelling the rest.
func parallel(ctx context.Context, n, conc int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(n, conc) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// worker is one closed-loop client. Everything in it is owned by its
// goroutine, so recording needs no locks.
type worker struct {
	id    int
	env   *env
	user  *user
	rng   *rand.Rand
	stats map[string]*opStats

	own     []taskRef // tasks this worker created and has not deleted
	refresh string    // this worker's refresh token chain
}

// opStats is what one kind of operation did.
type opStats struct {
	hist     histogram
	statuses map[int]int64 // every answer by status; 0 counts transport errors
	errors   int64         // transport errors and non-2xx answers
}

func (w *worker) statsFor(op string) *opStats {
	s := w.stats[op]
	if s == nil {
		s = &opStats{statuses: map[int]int64{}}
		w.stats[op] = s
	}
	return s
}

// do sends one timed request as op, as the worker's user, and records its
// latency and status.
func (w *worker) do(ctx context.Context, op, method, path string, body []byte, out any) (int, error) {
	return w.doAs(ctx, w.user.token, op, method, path, body, out)
}

// doAs is do with an explicit access token ("" for none).
func (w *worker) doAs(ctx context.Context, token, op, method, path string, body []byte, out any) (int, error) {
	start := time.Now()
	status, err := w.env.api.call(ctx, method, path, token, body, out)
	d := time.Since(start)
	if ctx.Err() != nil && status == 0 {
		// The run ended mid-request: that is not the server's fault.
		return 0, ctx.Err()
	}
	if start.UnixNano() < w.env.measureFrom.Load() {
		return status, err
	}
	s := w.statsFor(op)
	s.statuses[status]++
	if status != 0 {
		s.hist.record(d)
	}
	if err != nil {
		s.errors++
	}
	return status, err
}

// stamp is a title that carries the time a write was sent, so a socket that
// receives the resulting event can tell how long delivery took: the
// latency reported is from sending the write to the event's arrival.
func stamp(sent time.Time, kind string) string {
	return stampPrefix + strconv.FormatInt(sent.UnixNano(), 10) + ":" + kind
}

const stampPrefix = "lg:"
