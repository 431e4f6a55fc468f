package wire_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/authdash/authdash"
	"github.com/authdash/authdash/wire"
)

func TestFramesRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)
	task := &authdash.Task{ID: "t1", Title: "x", Status: authdash.StatusTodo, Priority: authdash.PriorityLow, Tags: []string{}, CreatedAt: at, UpdatedAt: at, Version: 2}
	tests := []struct {
		name   string
		frame  wire.Frame
		json   string
		client bool
	}{
		{"Auth", wire.Auth{Token: "abc"}, `{"type":"auth","token":"abc"}`, true},
		{"Resume", wire.Resume{Since: 7}, `{"type":"resume","since":7}`, true},
		{"Authed", wire.Authed{ExpiresAt: at}, `{"type":"authed","expiresAt":"2026-11-29T02:00:00Z"}`, false},
		{"Ready", wire.Ready{Seq: 3}, `{"type":"ready","seq":3}`, false},
		{"Resync", wire.Resync{Seq: 9}, `{"type":"resync","seq":9}`, false},
		{"Synced", wire.Synced{Seq: 8}, `{"type":"synced","seq":8}`, false},
		{"Error", wire.Error{Code: authdash.CodeUnauthorized, Message: "no"}, `{"type":"error","code":"unauthorized","message":"no"}`, false},
		{"TaskDeleted", &wire.Event{Kind: authdash.EventTaskDeleted, Seq: 4, TaskID: "t1", Version: 3, At: at, Origin: "tab"},
			`{"type":"task.deleted","seq":4,"taskId":"t1","version":3,"at":"2026-11-29T02:00:00Z","origin":"tab"}`, false},
		{"TaskUpdated", &wire.Event{Kind: authdash.EventTaskUpdated, Seq: 5, TaskID: "t1", Version: 2, Task: task, At: at}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.frame)
			if err != nil {
				t.Fatal(err)
			}
			if tt.json != "" && string(b) != tt.json {
				t.Errorf("marshal = %s, want %s", b, tt.json)
			}
			decode := wire.DecodeServer
			if tt.client {
				decode = wire.DecodeClient
			}
			got, err := decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.frame) {
				t.Errorf("decode = %#v, want %#v", got, tt.frame)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		client  bool
		unknown bool
	}{
		{"ErrNotJSON", `hello`, true, false},
		{"ErrNoType", `{"token":"x"}`, true, false},
		{"ErrServerFrameFromClient", `{"type":"ready","seq":1}`, true, true},
		{"ErrClientFrameFromServer", `{"type":"auth","token":"x"}`, false, true},
		{"ErrBadField", `{"type":"resume","since":"x"}`, true, false},
		{"ErrFutureType", `{"type":"presence"}`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decode := wire.DecodeServer
			if tt.client {
				decode = wire.DecodeClient
			}
			_, err := decode([]byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, wire.ErrUnknownType); got != tt.unknown {
				t.Errorf("errors.Is(ErrUnknownType) = %v, want %v (%v)", got, tt.unknown, err)
			}
		})
	}
}

func TestCloseCodeMeaning(t *testing.T) {
	tests := []struct {
		code      wire.CloseCode
		want      authdash.ErrorCode
		reconnect bool
	}{
		{wire.CloseSlowConsumer, authdash.CodeUnavailable, true},
		{wire.CloseGoingAway, authdash.CodeUnavailable, true},
		{wire.CloseTooManyMessages, authdash.CodeRateLimited, true},
		{wire.CloseAuthFailed, authdash.CodeUnauthorized, false},
		{wire.CloseTokenExpired, authdash.CodeUnauthorized, false},
		{wire.CloseSessionRevoked, authdash.CodeUnauthorized, false},
		{wire.CloseAccountDeleted, authdash.CodeNotFound, false},
		{wire.CloseOriginNotAllowed, authdash.CodeForbidden, false},
		{wire.CloseProtocolError, authdash.CodeInvalid, false},
		{wire.CloseTooManySockets, authdash.CodeRateLimited, false},
		{wire.CloseMessageTooBig, authdash.CodeTooLarge, false},
		{wire.CloseAbnormal, authdash.CodeUnavailable, true},
		{wire.CloseNormal, "", false},
		{4321, authdash.CodeUnavailable, true},   // unknown, reconnect range
		{4999, authdash.CodeUnauthorized, false}, // unknown, terminal range
	}
	for _, tt := range tests {
		code, reconnect := tt.code.Meaning()
		if code != tt.want || reconnect != tt.reconnect {
			t.Errorf("%d.Meaning() = %q, %v; want %q, %v", tt.code, code, reconnect, tt.want, tt.reconnect)
		}
		if got := authdash.ErrorCodeOf(tt.code.Err()); got != tt.want {
			t.Errorf("%d.Err() code = %q, want %q", tt.code, got, tt.want)
		}
	}
}
