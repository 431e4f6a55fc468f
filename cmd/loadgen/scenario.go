package main

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/authdash/authdash/wire"
)

// op is one unit of work a worker repeats. It records what it sends through
// worker.do; failures are counted there, never returned, so a run goes on
// while the server misbehaves.
type op func(ctx context.Context, w *worker)

// scenario prepares, after seeding, the operation every worker repeats.
// Add one here to make it available as -scenario NAME.
type scenario struct {
	help    string
	prepare func(e *env) (op, error)
}

func scenarios() map[string]scenario {
	ops := mixOps()
	single := func(name, help string) scenario {
		return scenario{help: help, prepare: func(*env) (op, error) { return ops[name], nil }}
	}
	return map[string]scenario{
		"list":    single("list", "GET /api/tasks?limit=20"),
		"search":  single("search", "GET /api/tasks?q=TERM&limit=20 (-q)"),
		"stats":   single("stats", "GET /api/tasks/stats"),
		"create":  single("create", "POST /api/tasks"),
		"update":  single("update", "PATCH /api/tasks/{id} on the seeded tasks"),
		"delete":  single("delete", "create then DELETE /api/tasks/{id}"),
		"refresh": single("refresh", "POST /api/auth/refresh, one rotating session per worker"),
		"login":   single("login", "POST /api/auth/login"),
		"mixed": {
			help: "a weighted mix of operations (-mix)",
			prepare: func(e *env) (op, error) {
				total := 0
				for _, m := range e.cfg.mix {
					total += m.weight
				}
				return func(ctx context.Context, w *worker) {
					n := w.rng.IntN(total)
					for _, m := range e.cfg.mix {
						if n < m.weight {
							ops[m.name](ctx, w)
							return
						}
						n -= m.weight
					}
				}, nil
			},
		},
		"ws": {
			help: "creates and updates tasks (pace them with -rate) while -ws sockets time event delivery",
			prepare: func(e *env) (op, error) {
				if e.cfg.sockets == 0 {
					return nil, errors.New("scenario ws needs -ws N sockets")
				}
				return func(ctx context.Context, w *worker) {
					if w.rng.IntN(2) == 0 {
						ops["create"](ctx, w)
					} else {
						ops["update"](ctx, w)
					}
				}, nil
			},
		},
	}
}

// maxOwn bounds how many created tasks a worker remembers for later updates
// and deletes.
const maxOwn = 1024

// mixOps are the operations the scenarios and -mix are made of.
func mixOps() map[string]op {
	statuses := []string{"todo", "in_progress", "done"}
	var ops map[string]op
	ops = map[string]op{
		"list": func(ctx context.Context, w *worker) {
			_, _ = w.do(ctx, "list", "GET", "/api/tasks?limit=20", nil, nil)
		},
		"search": func(ctx context.Context, w *worker) {
			q := w.env.cfg.query
			if q == "" {
				q = seedWords[w.rng.IntN(len(seedWords))]
			}
			_, _ = w.do(ctx, "search", "GET", "/api/tasks?limit=20&q="+url.QueryEscape(q), nil, nil)
		},
		"stats": func(ctx context.Context, w *worker) {
			_, _ = w.do(ctx, "stats", "GET", "/api/tasks/stats", nil, nil)
		},
		"create": func(ctx context.Context, w *worker) {
			sent := time.Now()
			body := mustJSON(map[string]any{
				"title":       stamp(sent, "c"),
				"description": "Created under load.",
				"priority":    []string{"low", "medium", "high"}[w.rng.IntN(3)],
				"tags":        []string{"load", seedWords[w.rng.IntN(len(seedWords))]},
			})
			var t taskRef
			if _, err := w.do(ctx, "create", "POST", "/api/tasks", body, &t); err != nil {
				w.cutShort(ctx, sent)
				return
			}
			w.wrote(sent)
			if len(w.own) < maxOwn {
				w.own = append(w.own, t)
			} else {
				w.own[w.rng.IntN(maxOwn)] = t
			}
		},
		"update": func(ctx context.Context, w *worker) {
			var id string
			switch {
			case len(w.own) > 0 && (len(w.user.tasks) == 0 || w.rng.IntN(2) == 0):
				id = w.own[w.rng.IntN(len(w.own))].ID
			case len(w.user.tasks) > 0:
				id = w.user.tasks[w.rng.IntN(len(w.user.tasks))]
			default:
				ops["create"](ctx, w)
				return
			}
			sent := time.Now()
			body := mustJSON(map[string]any{"title": stamp(sent, "u"), "status": statuses[w.rng.IntN(3)]})
			if _, err := w.do(ctx, "update", "PATCH", "/api/tasks/"+url.PathEscape(id), body, nil); err != nil {
				w.cutShort(ctx, sent)
				return
			}
			w.wrote(sent)
		},
		"delete": func(ctx context.Context, w *worker) {
			// Only tasks this worker created are deleted, so no other worker
			// ever updates a task that is gone.
			if len(w.own) == 0 {
				ops["create"](ctx, w)
				return
			}
			i := w.rng.IntN(len(w.own))
			t := w.own[i]
			w.own[i] = w.own[len(w.own)-1]
			w.own = w.own[:len(w.own)-1]
			_, _ = w.do(ctx, "delete", "DELETE", "/api/tasks/"+url.PathEscape(t.ID), nil, nil)
		},
		"login": func(ctx context.Context, w *worker) {
			body := mustJSON(map[string]string{"email": w.user.email, "password": w.user.password})
			_, _ = w.doAs(ctx, "", "login", "POST", "/api/auth/login", body, nil)
		},
		"refresh": func(ctx context.Context, w *worker) {
			if w.refresh == "" {
				// Each worker needs its own session: a refresh token rotates
				// on every use, and reusing an old one ends the session.
				if w.refresh = w.user.claimRefresh(); w.refresh == "" {
					g, err := w.env.authenticate(ctx, w.user, false)
					if err != nil {
						if ctx.Err() == nil {
							w.statsFor("refresh").statuses[0]++
						}
						return
					}
					w.refresh = g.RefreshToken
				}
			}
			var g wire.Grant
			body := mustJSON(wire.RefreshRequest{RefreshToken: w.refresh})
			if _, err := w.doAs(ctx, "", "refresh", "POST", "/api/auth/refresh", body, &g); err != nil {
				w.refresh = ""
				return
			}
			w.refresh = g.RefreshToken
		},
	}
	return ops
}

// cutShort notes a write the end of the run interrupted: it may or may not
// have happened, so its event may or may not come.
func (w *worker) cutShort(ctx context.Context, sent time.Time) {
	if ctx.Err() != nil && sent.UnixNano() >= w.env.measureFrom.Load() && w.user.sockets > 0 {
		w.user.unsure.Add(1)
	}
}

// wrote notes a task write sent at sent whose event the user's sockets
// should receive; like the sockets, it counts only writes sent while
// measuring.
func (w *worker) wrote(sent time.Time) {
	if sent.UnixNano() >= w.env.measureFrom.Load() && w.user.sockets > 0 {
		w.user.writes.Add(1)
	}
}
