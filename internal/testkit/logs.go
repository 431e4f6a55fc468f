package testkit

import (
	"log/slog"
	"strings"
	"sync"
)

// Logs is a log destination a test reads while the code under test writes
// to it from any goroutine: what was logged (and how often: one line per
// outage, not per retry) is part of what tests check.
type Logs struct {
	mu sync.Mutex
	b  strings.Builder
}

// NewLogger returns a JSON logger at level writing to a new Logs.
func NewLogger(level slog.Level) (*slog.Logger, *Logs) {
	l := &Logs{}
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: level})), l
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Count returns how many times s occurs in what was written so far.
func (l *Logs) Count(s string) int { return strings.Count(l.String(), s) }
