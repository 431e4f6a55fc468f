package logging

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// ParseLevel reads a level name: debug, info, warn or error (any case), or
// an offset form slog understands such as "info+2".
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("logging: level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// LevelHandler serves the run-time log level: GET answers {"level":"INFO"},
// PUT with {"level":"debug"} (or the bare name as text) changes it. Mount it
// only on the operator's listener.
func LevelHandler(lv *slog.LevelVar, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPut, http.MethodPost:
			b, err := io.ReadAll(io.LimitReader(r.Body, 1<<10))
			if err != nil {
				http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
				return
			}
			name := string(b)
			var body struct {
				Level string `json:"level"`
			}
			if strings.HasPrefix(strings.TrimSpace(name), "{") {
				if err := json.Unmarshal(b, &body); err != nil {
					http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
					return
				}
				name = body.Level
			}
			l, err := ParseLevel(name)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			old := lv.Level()
			lv.Set(l)
			if log != nil {
				log.LogAttrs(r.Context(), slog.LevelWarn, "log level changed",
					slog.String("from", old.String()), slog.String("to", l.String()))
			}
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]string{"level": lv.Level().String()})
	})
}
