package instance_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/authdash/authdash/instance"
)

// TestUnauthenticatedCapFromConfig: WS_MAX_UNAUTHENTICATED_PER_IP reaches
// the hub Build wires (review finding 5): with a cap of 2, the third socket
// from one address that has not authenticated is refused before the
// upgrade with 503, Retry-After and a problem document.
func TestUnauthenticatedCapFromConfig(t *testing.T) {
	in, err := instance.Build(t.Context(), instance.Config{
		DataDir: t.TempDir(), Env: "dev", JWTSecret: testSecret,
		HashWait: time.Minute, StoreTimeout: time.Minute,
		WSMaxUnauthenticated: 100, WSMaxUnauthenticatedPerIP: 2,
	}, instance.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	srv := httptest.NewServer(in.Handler)
	t.Cleanup(srv.Close)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/ws"

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for i := range 2 {
		ws, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatalf("socket %d under the cap: %v", i+1, err)
		}
		t.Cleanup(func() { ws.CloseNow() })
	}
	ws, res, err := websocket.Dial(ctx, url, nil)
	if err == nil {
		ws.CloseNow()
		t.Fatal("the third socket waiting to authenticate was accepted over WS_MAX_UNAUTHENTICATED_PER_IP=2")
	}
	if res == nil {
		t.Fatalf("no HTTP answer: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("refused with %d, Retry-After %q, %s: %s", res.StatusCode, res.Header.Get("Retry-After"), res.Header.Get("Content-Type"), body)
	}
}
