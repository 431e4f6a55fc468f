package main

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// run seeds, opens the sockets, runs the workers and gathers the report.
func (e *env) run(ctx context.Context) (*report, error) {
	sc := scenarios()[e.cfg.scenario]
	if err := e.seed(ctx); err != nil {
		return nil, err
	}
	o, err := sc.prepare(e)
	if err != nil {
		return nil, err
	}
	// Nothing counts until the run starts: no event is measured before.
	e.measureFrom.Store(time.Now().Add(maxDuration * 10).UnixNano())
	var ws *sockets
	if e.cfg.sockets > 0 {
		if ws, err = openSockets(ctx, e); err != nil {
			return nil, err
		}
		defer ws.close()
	}

	start := time.Now()
	measureStart := start.Add(e.cfg.warmup)
	e.measureFrom.Store(measureStart.UnixNano())
	runCtx, cancel := context.WithDeadline(ctx, measureStart.Add(e.cfg.duration))
	defer cancel()

	var (
		issued atomic.Int64
		slot   atomic.Int64
		wg     sync.WaitGroup
	)
	var interval time.Duration
	if e.cfg.rate > 0 {
		interval = time.Duration(float64(time.Second) / e.cfg.rate)
	}
	workers := make([]*worker, e.cfg.conns)
	for i := range workers {
		w := &worker{
			id:    i,
			env:   e,
			user:  e.users[i%len(e.users)],
			rng:   rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano()))),
			stats: map[string]*opStats{},
		}
		workers[i] = w
		wg.Go(func() {
			for runCtx.Err() == nil {
				if e.cfg.requests > 0 && issued.Add(1) > e.cfg.requests {
					cancel()
					return
				}
				if interval > 0 && !waitUntil(runCtx, start.Add(time.Duration(slot.Add(1)-1)*interval)) {
					return
				}
				o(runCtx, w)
			}
		})
	}
	wg.Wait()
	end := time.Now()
	elapsed := end.Sub(measureStart)
	if elapsed <= 0 {
		elapsed = end.Sub(start)
	}

	rep := &report{
		Scenario: e.cfg.scenario,
		Label:    e.cfg.label,
		Target:   e.cfg.base.String(),
		Conns:    e.cfg.conns,
		Users:    len(e.users),
		Tasks:    e.cfg.tasks,
		Rate:     e.cfg.rate,
		Elapsed:  elapsed,
	}
	rep.addOps(workers)
	if ws != nil {
		ws.drain(ctx, e.cfg.drain)
		expected, unsure := ws.expected()
		rep.WS = &wsReport{
			Sockets:     e.cfg.sockets,
			Received:    ws.received.Load(),
			Expected:    expected,
			Unsure:      unsure,
			Disconnects: ws.disconnects.Load(),
			Closes:      ws.closeCounts(),
		}
		rep.WS.latency = ws.histogram()
	}
	return rep, nil
}

// waitUntil sleeps until t, or returns false if ctx ends first.
func waitUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func (s *sockets) closeCounts() map[int]int64 {
	s.closesMu.Lock()
	defer s.closesMu.Unlock()
	out := make(map[int]int64, len(s.closes))
	for k, v := range s.closes {
		out[k] = v
	}
	return out
}
