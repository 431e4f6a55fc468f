package api

import "testing"

func TestSequencer(t *testing.T) {
	// A hybrid-clock stamp, as MongoDB numbers changes: far apart.
	const at = 1_767_225_600_000_000
	type step struct {
		op     string // "connect", "ready" (and the load it asks for), "event", "synced", "resync", "from" (ResumeFrom)
		n      int64
		reload bool  // ready: reload over REST
		since  int64 // connect: the resume sent right behind auth, or -1
		synced int64 // the point the stream resumes from after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"FreshClientLoadsThenFollows", []step{
			{"connect", 0, false, -1, 0}, {"ready", 5, true, -1, 5}, {"event", 6, false, -1, 5}, {"event", 7, false, -1, 5},
			{"synced", 7, false, -1, 7}, {"connect", 0, false, 7, 7},
		}},
		{"JumpsAreNormal", []step{
			{"connect", 0, false, -1, 0}, {"ready", at, true, -1, at},
			{"event", at + 3_141_592, false, -1, at}, {"event", at + 90_000_001, false, -1, at},
			{"synced", at + 90_000_001, false, -1, at + 90_000_001},
			{"connect", 0, false, at + 90_000_001, at + 90_000_001},
		}},
		// The crash synced exists for: change 6 committed on an instance
		// that died before publishing it; 7 and 9 came live from others.
		// Resuming from 9 would never bring 6: resume from the last
		// confirmed point.
		{"ResumesFromSyncedNotFromHighestApplied", []step{
			{"connect", 0, false, -1, 0}, {"ready", 5, true, -1, 5}, {"event", 7, false, -1, 5}, {"event", 9, false, -1, 5},
			{"connect", 0, false, 5, 5}, {"ready", 9, false, -1, 5},
			{"event", 6, false, -1, 5}, {"event", 7, false, -1, 5}, {"event", 9, false, -1, 5}, {"synced", 9, false, -1, 9},
			{"connect", 0, false, 9, 9},
		}},
		{"EmptyAccountResumesFromZero", []step{
			{"connect", 0, false, -1, 0}, {"ready", 0, true, -1, 0}, {"event", 1, false, -1, 0},
			{"connect", 0, false, 0, 0}, {"ready", 1, false, -1, 0},
		}},
		{"LowerSeqIsDeliveredAndKeepsSynced", []step{
			// Committed late on another instance, or from a resume's
			// compacted answer: 7 after 9.
			{"connect", 0, false, -1, 0}, {"ready", 5, true, -1, 5}, {"event", 9, false, -1, 5}, {"event", 7, false, -1, 5},
			{"synced", 9, false, -1, 9}, {"synced", 8, false, -1, 9}, {"connect", 0, false, 9, 9},
		}},
		{"ServerLogRestartedReloads", []step{
			{"connect", 0, false, -1, 0}, {"ready", 30, true, -1, 30}, {"connect", 0, false, 30, 30},
			{"ready", 2, true, -1, 2}, {"event", 3, false, -1, 2}, {"connect", 0, false, 2, 2},
		}},
		{"AppliedAboveHeadReloads", []step{
			{"connect", 0, false, -1, 0}, {"ready", 30, true, -1, 30}, {"event", 40, false, -1, 30},
			{"connect", 0, false, 30, 30}, {"ready", 35, true, -1, 35},
		}},
		{"ResyncContinuesFromItsSeq", []step{
			{"connect", 0, false, -1, 0}, {"ready", 1, true, -1, 1}, {"event", 5, false, -1, 1},
			{"resync", 20, false, -1, 20}, {"event", 21, false, -1, 20}, {"connect", 0, false, 20, 20},
		}},
		{"ResyncBelowLastTakesItsSeq", []step{
			// The log was restored from an older copy.
			{"connect", 0, false, -1, 0}, {"ready", 40, true, -1, 40}, {"synced", 50, false, -1, 50},
			{"resync", 20, false, -1, 20}, {"connect", 0, false, 20, 20},
		}},
		{"TakeoverResumesFromTheHandedPoint", []step{
			{"from", 12, false, -1, 12}, {"connect", 0, false, 12, 12}, {"ready", 15, false, -1, 12},
			{"event", 14, false, -1, 12}, {"synced", 15, false, -1, 15},
		}},
		{"TakeoverFromNothingLoads", []step{
			{"from", 0, false, -1, 0}, {"connect", 0, false, -1, 0}, {"ready", 3, true, -1, 3},
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
					if reload = q.ready(s.n); reload {
						q.loaded(s.n)
					}
				case "event":
					q.event(s.n)
				case "synced":
					q.confirm(s.n)
				case "resync":
					q.resync(s.n)
				case "from":
					q.resumeFrom(s.n)
				default:
					t.Fatalf("step %d: unknown op %q", i, s.op)
				}
				if reload != s.reload || since != s.since || q.synced != s.synced {
					t.Fatalf("step %d %s(%d) = reload %v, since %d, synced %d; want %v, %d, %d",
						i, s.op, s.n, reload, since, q.synced, s.reload, s.since, s.synced)
				}
			}
		})
	}
}
