package api

import "testing"

func TestSequencer(t *testing.T) {
	// A hybrid-clock stamp, as MongoDB numbers changes: far apart.
	const at = 1_767_225_600_000_000
	type step struct {
		op     string // "connect", "ready", "event", "resync"
		n      int64
		reload bool  // ready: reload over REST
		since  int64 // connect: the resume sent right behind auth, or -1
		last   int64 // what the stream holds after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"FreshClientLoadsThenFollows", []step{
			{"connect", 0, false, -1, 0}, {"ready", 5, true, -1, 5}, {"event", 6, false, -1, 6}, {"event", 7, false, -1, 7},
		}},
		{"JumpsAreNormal", []step{
			{"connect", 0, false, -1, 0}, {"ready", at, true, -1, at},
			{"event", at + 3_141_592, false, -1, at + 3_141_592}, {"event", at + 90_000_001, false, -1, at + 90_000_001},
			{"connect", 0, false, at + 90_000_001, at + 90_000_001},
		}},
		{"LowerSeqIsDeliveredAndKeepsLast", []step{
			// Committed late on another instance, or from a resume's
			// compacted answer: 7 after 9.
			{"connect", 0, false, -1, 0}, {"ready", 5, true, -1, 5}, {"event", 9, false, -1, 9}, {"event", 7, false, -1, 9},
			{"connect", 0, false, 9, 9},
		}},
		{"ReconnectResumesBehindAuth", []step{
			{"connect", 0, false, -1, 0}, {"ready", 3, true, -1, 3}, {"event", 4, false, -1, 4},
			{"connect", 0, false, 4, 4}, {"ready", 9, false, -1, 4},
			{"event", 6, false, -1, 6}, {"event", 9, false, -1, 9}, {"event", 12, false, -1, 12},
		}},
		{"ServerLogRestartedReloads", []step{
			{"connect", 0, false, -1, 0}, {"ready", 30, true, -1, 30}, {"connect", 0, false, 30, 30},
			{"ready", 2, true, -1, 2}, {"event", 3, false, -1, 3},
		}},
		{"ResyncContinuesFromItsSeq", []step{
			{"connect", 0, false, -1, 0}, {"ready", 1, true, -1, 1}, {"event", 5, false, -1, 5},
			{"resync", 20, false, -1, 20}, {"event", 21, false, -1, 21}, {"connect", 0, false, 21, 21},
		}},
		{"ResyncBelowLastTakesItsSeq", []step{
			// The log was restored from an older copy.
			{"connect", 0, false, -1, 0}, {"ready", 40, true, -1, 40}, {"event", 50, false, -1, 50},
			{"resync", 20, false, -1, 20}, {"connect", 0, false, 20, 20},
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
					q.event(s.n)
				case "resync":
					q.resync(s.n)
				default:
					t.Fatalf("step %d: unknown op %q", i, s.op)
				}
				if reload != s.reload || since != s.since || q.last != s.last {
					t.Fatalf("step %d %s(%d) = reload %v, since %d, last %d; want %v, %d, %d",
						i, s.op, s.n, reload, since, q.last, s.reload, s.since, s.last)
				}
			}
		})
	}
}
