package main

import (
	"io"
	"strings"
	"testing"
)

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8088/", true},
		{"https://127.0.0.2:8443", true},
		{"http://[::1]:8080", true},
		{"http://10.0.0.1:8080", false},
		{"http://example.com", false},
		{"http://0.0.0.0:8080", false},
		{"ftp://127.0.0.1", false},
		{"http://127.0.0.1:8080/api", false},
		{"http://user:pw@127.0.0.1:8080", false},
		{"127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := checkTarget(tt.url)
			if (err == nil) != tt.ok {
				t.Errorf("checkTarget(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		wantErr string
	}{
		{"OK", "-scenario mixed -c 8 -d 1s", ""},
		{"ErrScenario", "-scenario nope", "unknown scenario"},
		{"ErrDuration", "-d 11m", "-d must be"},
		{"ErrConns", "-c 0", "-c must be"},
		{"ErrMix", "-mix list=x", "not name=weight"},
		{"ErrMixOp", "-mix fly=1", "unknown operation"},
		{"ErrMixEmpty", "-mix list=0", "no operation"},
		{"ErrEmailAlone", "-email a@b.c", "go together"},
		{"ErrFormat", "-format xml", "-format"},
		{"ErrTooMuch", "-users 1000 -tasks 10000", "-tasks"},
		{"ErrRemote", "-url http://192.0.2.1", "loopback"},
		{"ErrArgs", "extra", "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(strings.Fields(tt.args), io.Discard)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}
