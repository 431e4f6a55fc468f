package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// readyTimeout bounds all readiness checks together, below a typical probe
// timeout, so a hung dependency reads as "not ready" rather than a probe
// that never answers.
const readyTimeout = 2 * time.Second

// handleHealthz is the liveness probe: the process is up and serving.
func handleHealthz() http.HandlerFunc {
	body := []byte(`{"status":"ok"}` + "\n")
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = jsonContentType
		h["Cache-Control"] = noStoreValue
		w.Write(body)
	}
}

// handleReadyz is the readiness probe: it runs every check concurrently and
// answers 200 if every required check passes, else 503, with each check's
// status; a failing optional check makes the status "degraded", still 200. Failure
// details go to the log, not to whoever can reach the probe.
func handleReadyz(checks []Check, log *slog.Logger) http.HandlerFunc {
	type response struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		errs := make([]error, len(checks))
		var wg sync.WaitGroup
		for i, c := range checks {
			wg.Go(func() { errs[i] = c.Check(ctx) })
		}
		wg.Wait()
		resp := response{Status: "ok", Checks: make(map[string]string, len(checks))}
		status := http.StatusOK
		for i, c := range checks {
			if errs[i] != nil {
				resp.Checks[c.Name] = "fail"
				switch {
				case !c.Optional:
					resp.Status, status = "unavailable", http.StatusServiceUnavailable
				case status == http.StatusOK:
					resp.Status = "degraded"
				}
				log.LogAttrs(ctx, slog.LevelWarn, "readiness check failed", slog.String("check", c.Name), slog.Any("err", errs[i]))
				continue
			}
			resp.Checks[c.Name] = "ok"
		}
		w.Header()["Cache-Control"] = noStoreValue
		encode(w, status, resp)
	}
}
