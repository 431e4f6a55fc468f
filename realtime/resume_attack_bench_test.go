package realtime_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/wire"
)

// BenchmarkResumeAttack replays review finding 2: one account of 990 tasks
// opens 32 sockets and sends each 59 `resume since:0` (all its message
// budget allows) at once, while another user lists 20 of their tasks in a
// loop. It reports the other user's list latency idle and under the attack
// (p50, p99, from the store through the same process), and the frames the
// attacker was sent, with the resume budgets on (the default) and, for
// comparison, off.
//
//	go test -run '^$' -bench BenchmarkResumeAttack -benchtime 1x ./realtime/
func BenchmarkResumeAttack(b *testing.B) {
	for _, tc := range []struct {
		name      string
		configure func(*realtime.Config)
	}{
		{"Budgeted", nil},
		{"Unbudgeted", func(c *realtime.Config) { c.ResumesPerMinute, c.AccountResumesPerMinute = 1<<20, 1<<20 }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				resumeAttack(b, tc.configure)
			}
		})
	}
}

func resumeAttack(b *testing.B, configure func(*realtime.Config)) {
	e := newEnv(b, configure)
	attacker, victim := e.user("mallory"), e.user("victim")
	ctx := b.Context()
	for i := range 990 {
		if _, err := e.tasks.Create(ctx, attacker, authdash.TaskDraft{Title: "task " + strconv.Itoa(i), Description: "some words to make the event the size of a real one"}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		e.create(victim, "mine "+strconv.Itoa(i))
	}
	list := func(d time.Duration) (p50, p99 time.Duration) {
		var lat []time.Duration
		for end := time.Now().Add(d); time.Now().Before(end); {
			start := time.Now()
			if _, err := e.db.FindTasks(ctx, victim, authdash.TaskQuery{Sort: authdash.SortCreated, Order: authdash.Desc, Limit: 20}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		return lat[len(lat)/2], lat[len(lat)*99/100]
	}
	idle50, idle99 := list(2 * time.Second)

	var frames atomic.Int64
	var wg sync.WaitGroup
	actx, stop := context.WithCancel(ctx)
	for i := range 32 {
		c := e.login(attacker, "a"+strconv.Itoa(i))
		for range 59 {
			c.send(wire.Resume{Since: 0})
		}
		wg.Go(func() {
			for {
				if _, _, err := c.ws.Read(actx); err != nil {
					return
				}
				frames.Add(1)
			}
		})
	}
	att50, att99 := list(5 * time.Second)
	stop()
	wg.Wait()
	b.ReportMetric(float64(idle50.Microseconds())/1000, "idle-p50-ms")
	b.ReportMetric(float64(idle99.Microseconds())/1000, "idle-p99-ms")
	b.ReportMetric(float64(att50.Microseconds())/1000, "attack-p50-ms")
	b.ReportMetric(float64(att99.Microseconds())/1000, "attack-p99-ms")
	b.ReportMetric(float64(frames.Load()), "attacker-frames")
}
