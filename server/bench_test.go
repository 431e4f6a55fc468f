package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/authdash/authdash"
)

// BenchmarkListTasks is the hot path: an authenticated page of 20 through
// every middleware, the router, auth and the SQLite store, in process.
// docs/BENCHMARKS.md has the numbers over real HTTP.
func BenchmarkListTasks(b *testing.B) {
	e := mustEnv(b)
	alice := e.mustUser(b, "alice")
	for i := range 1000 {
		if _, err := e.tasks.Create(context.Background(), alice.ID, authdash.TaskDraft{
			Title: fmt.Sprintf("task %d", i), Tags: []string{"bench"},
		}); err != nil {
			b.Fatal(err)
		}
	}
	for _, path := range []string{"/api/tasks?limit=20", "/api/tasks?limit=20&q=task%2099"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("GET", path, nil)
					req.Header.Set("Authorization", "Bearer "+alice.Token)
					res := httptest.NewRecorder()
					e.h.ServeHTTP(res, req)
					if res.Code != 200 {
						b.Fatalf("status %d", res.Code)
					}
				}
			})
		})
	}
}

// BenchmarkMiddleware measures the stack around a handler that does nothing.
func BenchmarkMiddleware(b *testing.B) {
	e := mustEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/healthz", nil)
		res := httptest.NewRecorder()
		e.h.ServeHTTP(res, req)
	}
}
