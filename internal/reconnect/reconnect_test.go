package reconnect_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authdash/authdash/internal/reconnect"
	"github.com/authdash/authdash/internal/testkit"
)

// TestLoop runs sessions that fail before serving (F) or after (L) and
// reads the waits Loop announced: doubling from Min up to Max, back to Min
// after a live session. The last session cancels the context: Loop returns
// without reporting it.
func TestLoop(t *testing.T) {
	tests := []struct {
		name      string
		sessions  string
		wantWaits []string
	}{
		{"OK", "", nil},
		{"ErrDoublesUpToMax", "FFFF", []string{"1ms", "2ms", "4ms", "4ms"}},
		{"LiveSessionResets", "FFLF", []string{"1ms", "2ms", "1ms", "2ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logs := testkit.NewLogger(slog.LevelDebug)
			o := &reconnect.Outage{Log: log, Lost: "lost", Back: "back"}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			n := 0
			reconnect.Loop(ctx, reconnect.Backoff{Min: time.Millisecond, Max: 4 * time.Millisecond}, o, func(ctx context.Context) (bool, error) {
				if n == len(tt.sessions) {
					cancel()
					return true, nil
				}
				n++
				return tt.sessions[n-1] == 'L', errors.New("connection refused")
			})
			var waits []string
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var rec struct{ In *time.Duration }
				if json.Unmarshal([]byte(line), &rec) == nil && rec.In != nil {
					waits = append(waits, rec.In.String())
				}
			}
			if !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("waits %q, want %q", waits, tt.wantWaits)
			}
		})
	}
}

// TestLoopReturnsWhileWaiting: a context ended during the backoff ends
// Loop at once, not after the wait.
func TestLoopReturnsWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	started := make(chan struct{}, 1)
	go func() {
		defer close(done)
		reconnect.Loop(ctx, reconnect.Backoff{Min: time.Hour, Max: time.Hour}, &reconnect.Outage{}, func(context.Context) (bool, error) {
			started <- struct{}{}
			return false, errors.New("down")
		})
	}()
	<-started
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Loop still waiting after its context ended")
	}
}

// TestOutage: one warning when an outage begins, debug lines for the
// failures during it, one notice when it ends, and nothing for a success
// outside an outage.
func TestOutage(t *testing.T) {
	log, logs := testkit.NewLogger(slog.LevelDebug)
	o := &reconnect.Outage{Log: log, Lost: "cache lost", Back: "cache back"}
	ctx := t.Context()
	o.Recovered(ctx)
	for range 3 {
		o.Failed(ctx, errors.New("refused"))
	}
	o.Recovered(ctx)
	o.Recovered(ctx)
	o.Failed(ctx, errors.New("refused again"))
	got := logs.String()
	for _, want := range []struct {
		s string
		n int
	}{
		{`"level":"WARN","msg":"cache lost"`, 2},
		{`"level":"DEBUG","msg":"cache lost"`, 2},
		{`"level":"INFO","msg":"cache back"`, 1},
		{`"err":"refused again"`, 1},
	} {
		if n := strings.Count(got, want.s); n != want.n {
			t.Errorf("%d × %s, want %d:\n%s", n, want.s, want.n, got)
		}
	}
}
