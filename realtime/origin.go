package realtime

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// parseOrigins checks the allow-list once, so a typo fails at startup rather
// than refusing every browser later.
func parseOrigins(list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for _, o := range list {
		o = strings.ToLower(strings.TrimSpace(o))
		if o == "" {
			continue
		}
		if strings.Contains(o, "://") {
			u, err := url.Parse(o)
			if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return nil, fmt.Errorf("realtime: allowed origin %q is not scheme://host[:port]", o)
			}
			o = u.Scheme + "://" + u.Host
		} else if _, err := path.Match(o, ""); err != nil {
			return nil, fmt.Errorf("realtime: allowed origin pattern %q: %w", o, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// originAllowed reports whether a browser on the request's Origin may open a
// socket. Requests without Origin come from non-browser clients, which
// cross-site WebSocket hijacking cannot involve; the endpoint's own origin is
// always allowed. Tokens travel in the first frame rather than in cookies,
// so this is defence in depth rather than the only guard.
func (h *Hub) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	host, reqHost := strings.ToLower(u.Host), strings.ToLower(r.Host)
	if host == reqHost {
		return true
	}
	// A proxy that forwards nginx's $host drops the port: then the host
	// name alone decides.
	if _, _, err := net.SplitHostPort(reqHost); err != nil && strings.Trim(reqHost, "[]") == u.Hostname() {
		return true
	}
	full := strings.ToLower(u.Scheme) + "://" + host
	for _, p := range h.origins {
		if strings.Contains(p, "://") {
			if p == full {
				return true
			}
		} else if ok, _ := path.Match(p, host); ok {
			return true
		}
	}
	return false
}
