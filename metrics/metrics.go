// Package metrics exposes the server's Prometheus metrics: HTTP requests by
// route and status, store operation latency, WebSocket and event counters,
// cache hits and misses, rate-limit rejections, dropped log records, and the
// Go runtime and process collectors.
//
// Everything is registered on a *prometheus.Registry the caller passes in;
// nothing touches the default registry. The parts of the product it
// observes are reached through func values and small interfaces, so this
// package imports none of them.
package metrics

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authdash/authdash"
)

const namespace = "authdash"

// latencyBuckets suit an API whose requests take from tens of microseconds
// (a cached read) to seconds (a password hash under load).
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics is the set of collectors the server reports. Its methods are safe
// for concurrent use.
type Metrics struct {
	reg           *prometheus.Registry
	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	storeDuration *prometheus.HistogramVec
	rateLimited   *prometheus.CounterVec
	limiterErrors *prometheus.CounterVec
	publishErrors prometheus.Counter
	mail          *prometheus.CounterVec
}

// New registers the product's collectors, with the Go runtime and process
// collectors and a build-info gauge carrying version, on reg.
func New(reg *prometheus.Registry, version string) *Metrics {
	native := func(o prometheus.HistogramOpts) prometheus.HistogramOpts {
		// Native histograms (for scrapers that ask for them) at ≈10%
		// resolution, alongside the classic buckets.
		o.NativeHistogramBucketFactor = 1.1
		o.NativeHistogramMaxBucketNumber = 160
		o.NativeHistogramMinResetDuration = time.Hour
		return o
	}
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(native(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from a request's arrival to its last byte, by route pattern, method and status code.",
			Buckets: latencyBuckets,
		}), []string{"route", "method", "code"}),
		storeDuration: prometheus.NewHistogramVec(native(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "store", Name: "operation_duration_seconds",
			Help:    "Store operation latency, by operation and outcome (ok or the domain error code).",
			Buckets: latencyBuckets,
		}), []string{"op", "outcome"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ratelimit", Name: "rejections_total",
			Help: "Requests refused by a rate limit, by limiter and scope.",
		}, []string{"limiter", "scope"}),
		limiterErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "ratelimit", Name: "errors_total",
			Help: "Rate-limit checks that failed (the request was let through), by limiter.",
		}, []string{"limiter"}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "events", Name: "publish_errors_total",
			Help: "Committed changes whose event could not be handed to the broker (clients recover them from the change log).",
		}),
		mail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "mail", Name: "attempts_total",
			Help: "Mail sending attempts by message kind and result: sent, retried (failed, put back for later) or failed (given up).",
		}, []string{"kind", "result"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help:        "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	build.Set(1)
	reg.MustRegister(
		m.httpRequests, m.httpDuration, m.storeDuration, m.rateLimited, m.limiterErrors, m.publishErrors, m.mail, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the registry in the Prometheus text (or OpenMetrics, when
// asked) exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:          m.reg, // counts its own scrape errors
		EnableOpenMetrics: true,
		Timeout:           10 * time.Second,
	})
}

// Observe records one answered request. It matches server.Deps.Observe.
// route is the matched pattern (e.g. /api/tasks/{id}), never the raw path,
// so the label's values stay few; unmatched requests share one value.
func (m *Metrics) Observe(r *http.Request, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	code := strconv.Itoa(status)
	m.httpRequests.WithLabelValues(route, r.Method, code).Inc()
	m.httpDuration.WithLabelValues(route, r.Method, code).Observe(d.Seconds())
}

// ObserveStore records one store operation; it matches the observe func of
// store/instrumented. Errors are labelled by domain code, a small fixed set.
func (m *Metrics) ObserveStore(op string, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = string(authdash.ErrorCodeOf(err))
	}
	m.storeDuration.WithLabelValues(op, outcome).Observe(d.Seconds())
}

// Mail counts one mail sending attempt's result ("sent", "retried" or "failed").
func (m *Metrics) Mail(kind, result string) { m.mail.WithLabelValues(kind, result).Inc() }

// PublishError counts a failed publish; it matches
// authdash.TaskService.OnPublishError.
func (m *Metrics) PublishError(error) { m.publishErrors.Inc() }

// Limiter is the rate limiter shape the server takes.
type Limiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// Limiter returns l counting its rejections and failures under the given
// limiter name. The scope label is the key's first colon-separated part
// (login, register, refresh …), which the server draws from a fixed set.
func (m *Metrics) Limiter(name string, l Limiter) Limiter {
	return &countingLimiter{l: l, rejected: m.rateLimited, errors: m.limiterErrors.WithLabelValues(name), name: name}
}

type countingLimiter struct {
	l        Limiter
	name     string
	rejected *prometheus.CounterVec
	errors   prometheus.Counter
}

func (c *countingLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	ok, after, err := c.l.Allow(ctx, key)
	switch {
	case err != nil:
		c.errors.Inc()
	case !ok:
		c.rejected.WithLabelValues(c.name, scopeOf(key)).Inc()
	}
	return ok, after, err
}

// scopeOf returns the key's prefix up to the first colon if it is a short
// lower-case word, else "other", so a key never leaks an IP or an email into
// a label.
func scopeOf(key string) string {
	for i := 0; i < len(key) && i <= 32; i++ {
		c := key[i]
		switch {
		case c == ':' && i > 0:
			return key[:i]
		case (c < 'a' || c > 'z') && c != '-' && c != '_':
			return "other"
		}
	}
	return "other"
}

// LimiterFailures reports how many decisions a shared limiter skipped
// (letting the request through) because its backend failed, read from
// failures at each scrape.
func (m *Metrics) LimiterFailures(limiter string, failures func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "ratelimit", Name: "backend_failures_total",
		Help:        "Rate-limit decisions skipped because the shared backend (Redis) failed; the requests were allowed.",
		ConstLabels: prometheus.Labels{"limiter": limiter},
	}, func() float64 { return float64(failures()) }))
}

// RealtimeStats is a snapshot of the WebSocket hub's counters.
type RealtimeStats struct {
	Open            int64  // connections open now
	Published       uint64 // events handed to the broker by this instance
	Delivered       uint64 // events queued to a socket
	Dropped         uint64 // events not delivered (queue full, socket closing)
	SlowDisconnects uint64 // sockets closed for falling behind
	// Upgrades refused because too many sockets were waiting to
	// authenticate from one address (RefusedPerIP) or on the instance.
	RefusedPerIP, RefusedInstance uint64
	ResumesLimited                uint64 // resumes answered with a resync: over budget
}

// Realtime reports the hub's counters, read from stats at each scrape.
func (m *Metrics) Realtime(stats func() RealtimeStats) {
	m.reg.MustRegister(newRealtimeCollector(stats))
}

type realtimeCollector struct {
	stats                                     func() RealtimeStats
	open, published, delivered, dropped, slow *prometheus.Desc
	refused, resumesLimited                   *prometheus.Desc
}

func newRealtimeCollector(stats func() RealtimeStats) *realtimeCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_"+name, help, nil, nil)
	}
	return &realtimeCollector{
		stats:     stats,
		open:      desc("ws_connections", "WebSocket connections open on this instance."),
		published: desc("events_published_total", "Events this instance handed to the broker."),
		delivered: desc("events_delivered_total", "Events queued to a WebSocket on this instance."),
		dropped: desc("events_dropped_total",
			"Events a WebSocket on this instance did not get (clients recover them on resume)."),
		slow: desc("ws_slow_consumer_disconnects_total", "WebSockets closed because the client could not keep up."),
		refused: prometheus.NewDesc(namespace+"_ws_unauthenticated_refused_total",
			"WebSocket upgrades refused (503) because too many sockets were waiting to authenticate, from one address (scope=ip) or on this instance (scope=instance).",
			[]string{"scope"}, nil),
		resumesLimited: desc("ws_resumes_limited_total",
			"Resumes answered with a resync instead of a replay: the socket or its account was over its resume budget."),
	}
}

func (c *realtimeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.published, c.delivered, c.dropped, c.slow, c.refused, c.resumesLimited} {
		ch <- d
	}
}

func (c *realtimeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.Open))
	ch <- prometheus.MustNewConstMetric(c.published, prometheus.CounterValue, float64(s.Published))
	ch <- prometheus.MustNewConstMetric(c.delivered, prometheus.CounterValue, float64(s.Delivered))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(s.Dropped))
	ch <- prometheus.MustNewConstMetric(c.slow, prometheus.CounterValue, float64(s.SlowDisconnects))
	ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(s.RefusedPerIP), "ip")
	ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(s.RefusedInstance), "instance")
	ch <- prometheus.MustNewConstMetric(c.resumesLimited, prometheus.CounterValue, float64(s.ResumesLimited))
}

// Cache reports a cache's hit and miss counters, read from stats at each
// scrape; name tells caches apart (e.g. "profile").
func (m *Metrics) Cache(name string, stats func() (hits, misses uint64)) {
	labels := prometheus.Labels{"cache": name}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "cache", Name: "hits_total",
			Help: "Lookups answered from the cache.", ConstLabels: labels,
		}, func() float64 { h, _ := stats(); return float64(h) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "cache", Name: "misses_total",
			Help: "Lookups that went to the store.", ConstLabels: labels,
		}, func() float64 { _, mi := stats(); return float64(mi) }),
	)
}

// LogDrops reports how many log records were dropped because the log
// writer fell behind, read from dropped at each scrape.
func (m *Metrics) LogDrops(dropped func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "log", Name: "records_dropped_total",
		Help: "Log records dropped because the log writer fell behind (requests never wait on logging).",
	}, func() float64 { return float64(dropped()) }))
}
