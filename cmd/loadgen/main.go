// Command loadgen drives load against an authdash server (or a cluster behind
// a load balancer) on this machine and reports throughput, latency
// percentiles, errors by status and WebSocket event delivery latency.
//
// It seeds what a scenario needs through the API itself (accounts, tasks),
// then runs -c closed-loop workers for -d (or -n operations), optionally paced
// to -rate operations per second in total, while -ws sockets listen for the
// events the writes cause:
//
//	loadgen -url http://127.0.0.1:8080 -scenario list -c 64 -d 10s -tasks 1000
//	loadgen -url http://127.0.0.1:8088 -scenario mixed -users 32 -ws 200 -format md
//
// Only loopback targets are accepted: this is a benchmark tool, not a way to
// flood someone else's server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// Bounds on what one run may ask for.
const (
	maxDuration = 10 * time.Minute
	maxConns    = 4096
	maxSockets  = 20000
	maxUsers    = 10000
	maxSeeded   = 1_000_000
)

type config struct {
	base      *url.URL
	scenario  string
	conns     int
	duration  time.Duration
	requests  int64
	rate      float64
	warmup    time.Duration
	users     int
	tasks     int
	sockets   int
	mix       []weighted
	query     string
	email     string
	password  string
	format    string
	label     string
	mdHeader  bool
	gzip      bool
	seedConns int
	drain     time.Duration
}

type weighted struct {
	name   string
	weight int
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	sc := scenarios()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range sc {
			if !yield(k) {
				return
			}
		}
	})
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		c      config
		rawURL string
		mix    string
	)
	fs.StringVar(&rawURL, "url", "http://127.0.0.1:8080", "base URL of the server or load balancer (loopback only)")
	fs.StringVar(&c.scenario, "scenario", "list", "what to run: "+strings.Join(names, ", "))
	fs.IntVar(&c.conns, "c", 64, "concurrent workers (and keep-alive connections)")
	fs.DurationVar(&c.duration, "d", 10*time.Second, "how long to measure (at most 10m)")
	fs.Int64Var(&c.requests, "n", 0, "stop after this many operations (0: only -d bounds the run)")
	fs.Float64Var(&c.rate, "rate", 0, "operations per second in total (0: as fast as the server answers)")
	fs.DurationVar(&c.warmup, "warmup", 0, "run this long before measuring")
	fs.IntVar(&c.users, "users", 1, "accounts to register and spread the workers over")
	fs.IntVar(&c.tasks, "tasks", 100, "tasks to create per account before the run")
	fs.IntVar(&c.sockets, "ws", 0, "WebSocket clients listening for events, spread over the accounts")
	fs.StringVar(&mix, "mix", "list=50,create=15,update=15,delete=10,search=5,refresh=3,login=2",
		"operation weights of the mixed scenario")
	fs.StringVar(&c.query, "q", "", "search term of the search scenario (default: a word in a quarter of the seeded titles)")
	fs.StringVar(&c.email, "email", "", "use this existing account instead of registering (with -password)")
	fs.StringVar(&c.password, "password", "", "password of -email")
	fs.StringVar(&c.format, "format", "text", "report format: text, md (a table row for docs/BENCHMARKS.md) or json")
	fs.StringVar(&c.label, "label", "", "first column of the md row (default: the scenario)")
	fs.BoolVar(&c.mdHeader, "md-header", true, "print the table header before md rows")
	fs.BoolVar(&c.gzip, "gzip", true, "accept gzip-compressed responses, as browsers do")
	fs.IntVar(&c.seedConns, "seed-c", 0, "concurrent requests while seeding (default -c)")
	fs.DurationVar(&c.drain, "drain", 3*time.Second, "after the run, wait at most this long for the last events to arrive")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	u, err := checkTarget(rawURL)
	if err != nil {
		return nil, err
	}
	c.base = u
	if _, ok := sc[c.scenario]; !ok {
		return nil, fmt.Errorf("unknown scenario %q (have %s)", c.scenario, strings.Join(names, ", "))
	}
	if c.mix, err = parseMix(mix); err != nil {
		return nil, err
	}
	if c.email != "" {
		c.users = 1
	}
	if c.seedConns == 0 {
		c.seedConns = c.conns
	}
	if c.label == "" {
		c.label = c.scenario
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.conns >= 1 && c.conns <= maxConns, "-c must be between 1 and %d", maxConns)
	check(c.seedConns >= 1 && c.seedConns <= maxConns, "-seed-c must be between 1 and %d", maxConns)
	check(c.duration > 0 && c.duration <= maxDuration, "-d must be positive and at most %s", maxDuration)
	check(c.warmup >= 0 && c.warmup <= maxDuration, "-warmup must be between 0 and %s", maxDuration)
	check(c.requests >= 0, "-n must not be negative")
	check(c.rate >= 0, "-rate must not be negative")
	check(c.users >= 1 && c.users <= maxUsers, "-users must be between 1 and %d", maxUsers)
	check(c.tasks >= 0 && c.tasks*c.users <= maxSeeded, "-tasks × -users must be between 0 and %d", maxSeeded)
	check(c.sockets >= 0 && c.sockets <= maxSockets, "-ws must be between 0 and %d", maxSockets)
	check(c.drain >= 0 && c.drain <= maxDuration, "-drain must be between 0 and %s", maxDuration)
	check((c.email == "") == (c.password == ""), "-email and -password go together")
	check(slices.Contains([]string{"text", "md", "json"}, c.format), "-format must be text, md or json")
	return &c, errors.Join(errs...)
}

// checkTarget accepts only http(s) URLs whose host is a loopback address or
// resolves to loopback addresses only.
func checkTarget(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("-url %q: scheme must be http or https", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("-url %q: give only scheme, host and port", raw)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("-url %q: no host", raw)
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else if host == "localhost" {
		ips = []net.IP{net.IPv4(127, 0, 0, 1)}
	} else {
		return nil, fmt.Errorf("-url %q: only loopback targets (127.0.0.0/8, ::1, localhost) are allowed", raw)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return nil, fmt.Errorf("-url %q: only loopback targets (127.0.0.0/8, ::1, localhost) are allowed", raw)
		}
	}
	u.Path = ""
	return u, nil
}

func parseMix(s string) ([]weighted, error) {
	var out []weighted
	ops := mixOps()
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("-mix: %q is not name=weight", part)
		}
		if _, ok := ops[name]; !ok {
			return nil, fmt.Errorf("-mix: unknown operation %q", name)
		}
		if n > 0 {
			out = append(out, weighted{name, n})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("-mix: no operation has a weight")
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].weight > out[j].weight })
	return out, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	// Hard stop for the whole run, seeding included, so a hung server cannot
	// keep the tool alive forever.
	ctx, cancel := context.WithTimeout(ctx, 2*maxDuration+cfg.warmup+cfg.duration)
	defer cancel()

	e := newEnv(cfg, stderr)
	defer e.api.close()
	rep, err := e.run(ctx)
	if err != nil {
		return err
	}
	return rep.write(stdout, cfg)
}
