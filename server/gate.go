package server

import (
	"net/http"
)

// gate lets at most cap(slots) requests run at once; the others wait, in
// the order they came (a channel wakes its blocked senders first in, first
// out), and give up when their client does.
type gate struct{ slots chan struct{} }

func newGate(n int) *gate { return &gate{slots: make(chan struct{}, n)} }

func (g *gate) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case g.slots <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		defer func() { <-g.slots }()
		next.ServeHTTP(w, r)
	})
}
