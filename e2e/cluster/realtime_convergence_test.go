package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/e2e/internal/rawapi"
)

// TestRealtimeConvergence runs two server processes on one SQLite database
// and one redis-server, with clients spread over both and writers on both.
// Mid-run Redis is killed and restarted, and then one instance is killed;
// its clients move to the other. In the end every client's view must equal
// the store, and no client may have received another user's event.
func TestRealtimeConvergence(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and runs two instances and redis-server")
	}
	a, b, rs := rtPair(t)

	const nUsers, nClients = 5, 20
	users := make([]rtUser, nUsers)
	for i := range users {
		users[i] = rtRegister(t, a.url, fmt.Sprintf("user%d@example.com", i))
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var clients []*rtClient
	var running sync.WaitGroup
	for i := range nClients {
		bases := []string{a.url, b.url}
		if i%2 == 1 {
			bases = []string{b.url, a.url}
		}
		c := rtNewClient(users[i%nUsers], bases...)
		clients = append(clients, c)
		running.Go(func() { c.run(ctx) })
	}

	// Live fan-out across instances: a write on A reaches a socket on B
	// before anything else happens, which only Redis can carry.
	// Every client is live before the first write.
	probeDeadline := time.After(10 * time.Second)
	for i, c := range clients {
		for !c.isReady() {
			select {
			case <-c.changed:
			case <-probeDeadline:
				t.Fatalf("client %d never got ready", i)
			}
		}
	}
	probeClient := clients[1] // on b, user 1
	var probe authdash.Task
	if err := rawapi.Call(t.Context(), a.url, probeClient.user.token, http.MethodPost, "/api/tasks", `{"title":"probe"}`, &probe); err != nil {
		t.Fatal(err)
	}
	for !probeClient.has(probe.ID) {
		select {
		case <-probeClient.changed:
		case <-probeDeadline:
			t.Fatal("a write on instance a never reached a socket on instance b")
		}
	}

	// Writers: per user one on each instance, each touching only the tasks
	// it created, so every write is meant to succeed. A write that fails
	// because its instance died moves to the other.
	created := make([]sync.Map, nUsers) // TaskID → struct{}, for the ownership check
	wctx, stopWriters := context.WithCancel(ctx)
	var writers sync.WaitGroup
	for u := range users {
		for w, bases := range [][]string{{a.url, b.url}, {b.url, a.url}} {
			writers.Go(func() {
				rtWrite(wctx, users[u], bases, &created[u], uint64(u*2+w))
			})
		}
	}

	// The faults, while the writers write.
	step := func(d time.Duration) {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	step(2 * time.Second)
	rs.Kill()
	step(time.Second)
	rs.Start()
	step(2 * time.Second)
	a.kill()
	step(3 * time.Second)
	stopWriters()
	writers.Wait()

	// Every client must reach exactly the store's state. The store is read
	// again while a client differs: a writer stopped mid-request may still
	// have its write committed after the first read (the server finishes a
	// request whose client went away), and the client rightly follows it.
	deadline := time.After(30 * time.Second)
	for i, c := range clients {
		for {
			want, err := rawapi.ListAll(t.Context(), b.url, c.user.token)
			if err != nil {
				t.Fatal(err)
			}
			d := c.diff(want)
			if d == "" {
				break
			}
			select {
			case <-c.changed:
			case <-time.After(250 * time.Millisecond):
			case <-deadline:
				t.Fatalf("client %d (user %s) did not converge: %s", i, c.user.id, d)
			}
		}
	}
	cancel()
	running.Wait()

	// And nobody saw anybody else's changes.
	owner := map[authdash.TaskID]authdash.UserID{probe.ID: probeClient.user.id}
	for u := range users {
		created[u].Range(func(k, _ any) bool {
			owner[k.(authdash.TaskID)] = users[u].id
			return true
		})
	}
	moved := 0
	for i, c := range clients {
		for _, ev := range c.received {
			if o, ok := owner[ev.TaskID]; ok && o != c.user.id {
				t.Errorf("client %d of %s received %s of %s's task %s", i, c.user.id, ev.Kind, o, ev.TaskID)
			}
		}
		if c.dials > 1 {
			moved++
		}
	}
	if moved < nClients/2 {
		t.Errorf("only %d clients reconnected; the instance kill should have moved %d", moved, nClients/2)
	}
	t.Logf("%d tasks written by %d users, %d clients converged", len(owner), nUsers, nClients)
}

// rtWrite creates, renames and deletes the user's tasks until ctx ends.
func rtWrite(ctx context.Context, u rtUser, bases []string, created *sync.Map, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 42))
	var mine []authdash.TaskID
	base := 0
	for n := 0; ctx.Err() == nil; n++ {
		var err error
		switch r := rnd.IntN(10); {
		case r < 2 && len(mine) > 0:
			i := rnd.IntN(len(mine))
			err = rawapi.Call(ctx, bases[base], u.token, http.MethodDelete, "/api/tasks/"+string(mine[i]), "", nil)
			if err == nil {
				mine = append(mine[:i], mine[i+1:]...)
			}
		case r < 6 && len(mine) > 0:
			id := mine[rnd.IntN(len(mine))]
			err = rawapi.Call(ctx, bases[base], u.token, http.MethodPatch, "/api/tasks/"+string(id), fmt.Sprintf(`{"title":"edit %d"}`, n), nil)
		default:
			var task authdash.Task
			err = rawapi.Call(ctx, bases[base], u.token, http.MethodPost, "/api/tasks", fmt.Sprintf(`{"title":"task %d"}`, n), &task)
			if err == nil {
				mine = append(mine, task.ID)
				created.Store(task.ID, struct{}{})
			}
		}
		if err != nil && ctx.Err() == nil {
			base = (base + 1) % len(bases) // its instance may be gone
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}
