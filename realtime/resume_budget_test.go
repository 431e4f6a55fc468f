package realtime_test

import (
	"testing"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/realtime"
	"github.com/authdash/authdash/wire"
)

// TestResumeBudgets: resumes answered from the change log are limited per
// socket and per account (review finding 2: 32 sockets replaying a log of
// 990 tasks 59 times each sent 1.12 M frames and slowed every other user).
// One over a budget is answered with a resync at the head (the client
// reloads, so nothing is lost), and counted; it costs no replay.
func TestResumeBudgets(t *testing.T) {
	tests := []struct {
		name              string
		perSocket, perAcc int
		// sockets[i] is the socket (0 or 1) that sends the i-th resume;
		// the last one is over a budget.
		sockets []int
	}{
		{name: "PerSocket", perSocket: 2, perAcc: 100, sockets: []int{0, 0, 0}},
		{name: "PerAccount", perSocket: 100, perAcc: 2, sockets: []int{0, 1, 0}},
		{name: "PerAccountKeepsTheSocketsOwn", perSocket: 2, perAcc: 3, sockets: []int{0, 1, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *realtime.Config) {
				c.ResumesPerMinute, c.AccountResumesPerMinute = tt.perSocket, tt.perAcc
				c.MaxMessagesPerMinute = 1000
			})
			alice := e.user("alice")
			var ids []authdash.TaskID
			for _, title := range []string{"one", "two", "three"} {
				ids = append(ids, e.create(alice, title).ID)
			}
			socks := []*client{e.login(alice, "s1"), e.login(alice, "s2")}
			last := len(tt.sockets) - 1
			for i, n := range tt.sockets {
				c := socks[n]
				c.send(wire.Resume{Since: 0})
				if i < last {
					for j, id := range ids {
						c.expectEvent(authdash.EventTaskCreated, id, e.seq(int64(j+1)))
					}
					continue
				}
				f := c.next()
				rs, ok := f.(wire.Resync)
				if !ok {
					t.Fatalf("resume %d over the budget: %T %+v, want a resync", i+1, f, f)
				}
				if rs.Seq != e.seq(3) {
					t.Errorf("resync at %d, want the head %d", rs.Seq, e.seq(3))
				}
			}
			if n := e.hub.Stats().ResumesLimited; n != 1 {
				t.Errorf("ResumesLimited %d, want 1", n)
			}
			// The socket carries on: live events still arrive.
			t4 := e.create(alice, "four")
			socks[tt.sockets[last]].expectEvent(authdash.EventTaskCreated, t4.ID, e.seq(4))
		})
	}
}
