package api

import "testing"

func TestSequencer(t *testing.T) {
	type step struct {
		op     string // "connect", "ready", "event", "resync"
		n      int64
		reload bool  // ready: reload over REST
		since  int64 // resume asked for, or -1
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"FreshClientLoadsThenFollows", []step{
			{"connect", 0, false, -1}, {"ready", 5, true, -1}, {"event", 6, false, -1}, {"event", 7, false, -1},
		}},
		{"GapAsksForTheRest", []step{
			{"connect", 0, false, -1}, {"ready", 5, true, -1}, {"event", 8, false, 5},
			// The answer is compacted (latest change per task): 7 after 8.
			{"event", 7, false, -1}, {"event", 9, false, -1},
			// Back in order: a new jump is noticed again.
			{"event", 11, false, 9},
		}},
		{"NoResumeStormDuringAnswer", []step{
			{"connect", 0, false, -1}, {"ready", 1, true, -1}, {"event", 4, false, 1}, {"event", 9, false, -1}, {"event", 15, false, -1},
		}},
		{"ReconnectResumesBehindAuth", []step{
			{"connect", 0, false, -1}, {"ready", 3, true, -1}, {"event", 4, false, -1},
			{"connect", 0, false, 4}, {"ready", 9, false, -1}, {"event", 6, false, -1}, {"event", 9, false, -1}, {"event", 10, false, -1},
			{"event", 12, false, 10},
		}},
		{"ServerLogRestartedReloads", []step{
			{"connect", 0, false, -1}, {"ready", 30, true, -1}, {"connect", 0, false, 30}, {"ready", 2, true, -1}, {"event", 3, false, -1},
		}},
		{"ResyncContinuesFromItsSeq", []step{
			{"connect", 0, false, -1}, {"ready", 1, true, -1}, {"event", 5, false, 1}, {"resync", 20, false, -1},
			{"event", 21, false, -1}, {"event", 23, false, 21},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q sequencer
			for i, s := range tt.steps {
				reload, since := false, int64(-1)
				switch s.op {
				case "connect":
					since = q.connected()
				case "ready":
					reload = q.ready(s.n)
				case "event":
					since = q.event(s.n)
				case "resync":
					q.resync(s.n)
				}
				if reload != s.reload || since != s.since {
					t.Fatalf("step %d %s(%d) = %v, %d; want %v, %d", i, s.op, s.n, reload, since, s.reload, s.since)
				}
			}
		})
	}
}
