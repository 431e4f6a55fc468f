package api

import "testing"

func TestSequencer(t *testing.T) {
	type step struct {
		op      string // "ready", "event", "resync"
		n       int64
		deliver bool  // event: delivered; ready: reload
		since   int64 // resume asked for, or -1
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"FreshClientReloadsThenFollows", []step{
			{"ready", 5, true, -1}, {"event", 6, true, -1}, {"event", 7, true, -1},
		}},
		{"DuplicatesDropped", []step{
			{"ready", 5, true, -1}, {"event", 6, true, -1}, {"event", 6, false, -1}, {"event", 4, false, -1},
		}},
		{"GapAsksForTheRest", []step{
			{"ready", 5, true, -1}, {"event", 8, false, 5},
			// The replay is compacted (latest change per task): 7 and 8.
			{"event", 7, true, -1}, {"event", 8, true, -1},
			// Back to strict order: a new gap is noticed again.
			{"event", 10, false, 8},
		}},
		{"ReconnectResumes", []step{
			{"ready", 3, true, -1}, {"event", 4, true, -1},
			{"ready", 9, false, 4}, {"event", 6, true, -1}, {"event", 9, true, -1}, {"event", 10, true, -1},
		}},
		{"ReconnectUpToDate", []step{
			{"ready", 3, true, -1}, {"ready", 3, false, -1}, {"event", 4, true, -1},
		}},
		{"ServerLogRestartedReloads", []step{
			{"ready", 30, true, -1}, {"ready", 2, true, -1}, {"event", 3, true, -1},
		}},
		{"ResyncContinuesFromItsSeq", []step{
			{"ready", 1, true, -1}, {"event", 5, false, 1}, {"resync", 20, false, -1},
			{"event", 20, false, -1}, {"event", 21, true, -1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q sequencer
			for i, s := range tt.steps {
				var deliver bool
				since := int64(-1)
				switch s.op {
				case "ready":
					deliver, since = q.ready(s.n)
				case "event":
					deliver, since = q.event(s.n)
				case "resync":
					q.resync(s.n)
				}
				if deliver != s.deliver || since != s.since {
					t.Fatalf("step %d %s(%d) = %v, %d; want %v, %d", i, s.op, s.n, deliver, since, s.deliver, s.since)
				}
			}
		})
	}
}
