package api

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/coder/websocket"

	"github.com/authdash/authdash/wire"
)

func TestWithCloseCode(t *testing.T) {
	closed := fmt.Errorf("failed to read: %w", net.ErrClosed) // what a browser's Read says
	real := fmt.Errorf("failed to read: %w", websocket.CloseError{Code: websocket.StatusCode(wire.CloseTokenExpired)})
	tests := []struct {
		name      string
		err       error
		announced wire.CloseCode
		want      websocket.StatusCode
	}{
		{"BrowserAnnounced", closed, wire.CloseSessionRevoked, websocket.StatusCode(wire.CloseSessionRevoked)},
		{"BrowserNothingAnnounced", closed, 0, -1},
		{"NativeKeepsItsCode", real, wire.CloseSessionRevoked, websocket.StatusCode(wire.CloseTokenExpired)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withCloseCode(tt.err, tt.announced)
			if s := websocket.CloseStatus(got); s != tt.want {
				t.Errorf("CloseStatus = %d, want %d (%v)", s, tt.want, got)
			}
			if !errors.Is(got, errors.Unwrap(tt.err)) {
				t.Errorf("%v lost its cause", got)
			}
		})
	}
}
