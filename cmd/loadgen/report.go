package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// report is the outcome of a run. Durations marshal as nanoseconds in the
// JSON format.
type report struct {
	Scenario string        `json:"scenario"`
	Label    string        `json:"label"`
	Target   string        `json:"target"`
	Conns    int           `json:"conns"`
	Users    int           `json:"users"`
	Tasks    int           `json:"tasksPerUser"`
	Rate     float64       `json:"rate,omitempty"`
	Elapsed  time.Duration `json:"elapsed"`
	Ops      []opReport    `json:"ops"`   // per operation, most frequent first
	Total    opReport      `json:"total"` // all operations together
	WS       *wsReport     `json:"ws,omitempty"`
}

type opReport struct {
	Name     string         `json:"name"`
	Count    int64          `json:"count"`
	PerSec   float64        `json:"perSec"`
	Errors   int64          `json:"errors"`
	Statuses map[int]int64  `json:"statuses"`
	Latency  latencySummary `json:"latency"`
}

type latencySummary struct {
	Mean time.Duration `json:"mean"`
	P50  time.Duration `json:"p50"`
	P95  time.Duration `json:"p95"`
	P99  time.Duration `json:"p99"`
	Max  time.Duration `json:"max"`
}

type wsReport struct {
	Sockets     int            `json:"sockets"`
	Received    int64          `json:"received"`
	Expected    int64          `json:"expected"` // events of writes that succeeded
	Unsure      int64          `json:"unsure"`   // events of writes the end of the run cut short`
	Disconnects int64          `json:"disconnects"`
	Closes      map[int]int64  `json:"closes,omitempty"`
	Latency     latencySummary `json:"latency"`
	latency     *histogram
}

func summarize(h *histogram) latencySummary {
	return latencySummary{
		Mean: h.mean(), P50: h.quantile(0.50), P95: h.quantile(0.95), P99: h.quantile(0.99), Max: h.max,
	}
}

func (r *report) addOps(workers []*worker) {
	merged := map[string]*opStats{}
	var total opStats
	total.statuses = map[int]int64{}
	for _, w := range workers {
		for name, s := range w.stats {
			m := merged[name]
			if m == nil {
				m = &opStats{statuses: map[int]int64{}}
				merged[name] = m
			}
			for _, dst := range []*opStats{m, &total} {
				dst.hist.merge(&s.hist)
				dst.errors += s.errors
				for k, v := range s.statuses {
					dst.statuses[k] += v
				}
			}
		}
	}
	secs := r.Elapsed.Seconds()
	mk := func(name string, s *opStats) opReport {
		var n int64
		for _, v := range s.statuses {
			n += v
		}
		return opReport{
			Name: name, Count: n, PerSec: float64(n) / secs, Errors: s.errors,
			Statuses: s.statuses, Latency: summarize(&s.hist),
		}
	}
	for _, name := range slices.Sorted(maps.Keys(merged)) {
		r.Ops = append(r.Ops, mk(name, merged[name]))
	}
	slices.SortStableFunc(r.Ops, func(a, b opReport) int { return int(b.Count - a.Count) })
	r.Total = mk("total", &total)
}

func (r *report) write(w io.Writer, cfg *config) error {
	if r.WS != nil && r.WS.latency != nil {
		r.WS.Latency = summarize(r.WS.latency)
	}
	switch cfg.format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "md":
		return r.writeMarkdown(w, cfg.mdHeader)
	}
	return r.writeText(w)
}

func (r *report) writeText(w io.Writer) error {
	fmt.Fprintf(w, "scenario %s  target %s  workers %d  accounts %d  measured %s\n",
		r.Scenario, r.Target, r.Conns, r.Users, r.Elapsed.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tcount\treq/s\tmean\tp50\tp95\tp99\tmax\terrors\tstatuses\t")
	rows := r.Ops
	if len(r.Ops) > 1 {
		rows = append(slices.Clip(rows), r.Total)
	}
	for _, o := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", o.Name, o.Count, o.PerSec,
			ms(o.Latency.Mean), ms(o.Latency.P50), ms(o.Latency.P95), ms(o.Latency.P99), ms(o.Latency.Max),
			o.Errors, statuses(o.Statuses))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if ws := r.WS; ws != nil {
		fmt.Fprintf(w, "events: %d sockets  received %d of %d%s (%s)  p50 %s  p95 %s  p99 %s  max %s  disconnects %d %s\n",
			ws.Sockets, ws.Received, ws.Expected, unsure(ws.Unsure), ratio(min(ws.Received, ws.Expected), ws.Expected),
			ms(ws.Latency.P50), ms(ws.Latency.P95), ms(ws.Latency.P99), ms(ws.Latency.Max),
			ws.Disconnects, statuses(ws.Closes))
	}
	return nil
}

func (r *report) writeMarkdown(w io.Writer, header bool) error {
	var b strings.Builder
	if header {
		b.WriteString("| run | op | workers | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | events p50 / p99 ms (received/expected) |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
	}
	rows := r.Ops
	if len(r.Ops) > 1 {
		rows = append(slices.Clip(rows), r.Total)
	}
	for i, o := range rows {
		ev := ""
		if r.WS != nil && i == len(rows)-1 {
			ev = fmt.Sprintf("%s / %s (%d/%d%s)", ms(r.WS.Latency.P50), ms(r.WS.Latency.P99), r.WS.Received, r.WS.Expected, unsure(r.WS.Unsure))
		}
		errs := strconv.FormatInt(o.Errors, 10)
		if o.Errors > 0 {
			errs += " " + statuses(errorStatuses(o.Statuses))
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %s | %s | %s | %s | %s | %s |\n", r.Label, o.Name, r.Conns,
			o.PerSec, ms(o.Latency.P50), ms(o.Latency.P95), ms(o.Latency.P99), ms(o.Latency.Max), errs, ev)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func errorStatuses(m map[int]int64) map[int]int64 {
	out := map[int]int64{}
	for k, v := range m {
		if k < 200 || k > 299 {
			out[k] = v
		}
	}
	return out
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

func statuses(m map[int]int64) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "neterr"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, m[k]))
	}
	return "(" + strings.Join(parts, " ") + ")"
}

func ratio(a, b int64) string {
	if b == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(100*float64(a)/float64(b), 'f', 1, 64) + "%"
}

// unsure formats the events that may or may not come, as "+N?".
func unsure(n int64) string {
	if n == 0 {
		return ""
	}
	return "+" + strconv.FormatInt(n, 10) + "?"
}
