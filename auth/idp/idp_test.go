package idp_test

import (
	"strings"
	"testing"

	"github.com/authdash/authdash/auth/idp"
)

func TestParseProviders(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []idp.Config
		err      string
	}{
		{name: "Empty", in: ""},
		{name: "One", in: "google|https://accounts.google.com|id-1|secret-1", want: []idp.Config{
			{Name: "google", DisplayName: "Google", Issuer: "https://accounts.google.com", ClientID: "id-1", ClientSecret: "secret-1"}}},
		{name: "TwoWithDisplayName", in: " gitlab=GitLab EE|https://gitlab.example.com|a|b , corp|http://127.0.0.1:5556/dex|c|", want: []idp.Config{
			{Name: "gitlab", DisplayName: "GitLab EE", Issuer: "https://gitlab.example.com", ClientID: "a", ClientSecret: "b"},
			{Name: "corp", DisplayName: "Corp", Issuer: "http://127.0.0.1:5556/dex", ClientID: "c"}}},
		{name: "ErrFields", in: "google|https://accounts.google.com|id", err: "want name|issuer|clientId|clientSecret"},
		{name: "ErrName", in: "Goo gle|https://a.example|id|s", err: `name "Goo gle"`},
		{name: "ErrTwice", in: "a|https://a.example|id|s,a|https://b.example|id|s", err: "named twice"},
		{name: "ErrIssuer", in: "a|accounts.google.com|id|s", err: "not an http(s) URL"},
		{name: "ErrNoClient", in: "a|https://a.example||s", err: "client ID is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := idp.ParseProviders(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("%d: got %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}
