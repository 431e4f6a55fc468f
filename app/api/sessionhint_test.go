package api

import "testing"

func TestHasCookie(t *testing.T) {
	tests := []struct {
		cookies string
		want    bool
	}{
		{"", false},
		{"authdash_session=1", true},
		{"a=b; authdash_session=1; c=d", true},
		{"a=b;authdash_session=1", true},
		{"authdash_session=", false},
		{"xauthdash_session=1", false},
		{"authdash_session_old=1", false},
		{"a=authdash_session=1", false},
	}
	for _, tt := range tests {
		if got := hasCookie(tt.cookies, "authdash_session"); got != tt.want {
			t.Errorf("hasCookie(%q) = %v, want %v", tt.cookies, got, tt.want)
		}
	}
}

func TestMayHaveSession(t *testing.T) {
	if !New(Config{BaseURL: "https://api.example.com"}).MayHaveSession() {
		t.Error("an API on another origin: the page cannot see its hint, so a session may exist")
	}
	if New(Config{}).MayHaveSession() {
		t.Error("same origin, no hint cookie: no session")
	}
}
