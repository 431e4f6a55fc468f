package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"Direct", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"UntrustedPeerCannotSpoof", "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"ThroughProxy", "10.1.2.3:4000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"ClientPrependsLies", "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
		{"TwoProxies", "10.1.2.3:4000", []string{"198.51.100.7, 10.9.9.9"}, "198.51.100.7"},
		{"SeveralHeaders", "10.1.2.3:4000", []string{"1.2.3.4", "198.51.100.7"}, "198.51.100.7"},
		{"AllTrusted", "10.1.2.3:4000", []string{"10.0.0.9"}, "10.0.0.9"},
		{"Garbled", "10.1.2.3:4000", []string{"not-an-ip"}, "10.1.2.3"},
		{"NoHeader", "10.1.2.3:4000", nil, "10.1.2.3"},
		{"IPv6Proxy", "[::1]:4000", []string{"2001:db8::1"}, "2001:db8::1"},
		{"MappedIPv4", "[::ffff:203.0.113.5]:4000", nil, "203.0.113.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, trusted).String(); got != tt.want {
				t.Errorf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseETag(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{`"3"`, 3, true}, {`W/"3"`, 3, true}, {`3`, 3, true}, {` "12" `, 12, true},
		{`"0"`, 0, false}, {`"-1"`, 0, false}, {`"abc"`, 0, false}, {`"3`, 0, false}, {``, 0, false}, {`"3", "4"`, 0, false},
	}
	for _, tt := range tests {
		if got, ok := parseETag(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("parseETag(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		in   []string
		want bool
	}{
		{[]string{"gzip"}, true}, {[]string{"gzip, deflate, br"}, true}, {[]string{"br", "GZIP;q=0.5"}, true},
		{[]string{"*"}, true}, {nil, false}, {[]string{"br"}, false}, {[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.0"}, false}, {[]string{"identity"}, false},
	}
	for _, tt := range tests {
		if got := acceptsGzip(tt.in); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v", tt.in, got)
		}
	}
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.5":          "203.0.113.5",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
	} {
		if got := ipKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("ipKey(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		name, body, want string // want "" means no duplicate
	}{
		{"OK", `{"title":"a","description":"title"}`, ""},
		{"OKSameKeyInSiblingObjects", `[{"a":1},{"a":2}]`, ""},
		{"OKSameKeyNested", `{"a":{"a":1}}`, ""},
		{"OKKeyLikeStringsInArrays", `{"tags":["tags","tags"],"x":"tags"}`, ""},
		{"OKEscapedQuotes", `{"a\"b":1,"a\\":"\"a\\\"b\":"}`, ""},
		{"ErrRepeated", `{"title":"a","title":"b"}`, "title"},
		{"ErrCaseVariant", `{"title":"a","TITLE":"b"}`, "TITLE"},
		{"ErrEscaped", `{"title":"a","\u0074itle":"b"}`, "title"},
		{"ErrKelvin", `{"k":1,"\u212a":2}`, "\u212a"},
		{"ErrNested", `{"a":{"b":1,"b":2}}`, "b"},
		{"ErrAfterNested", `{"a":{"b":1},"a":2}`, "a"},
		{"ErrInArray", `[1,{"x":[],"x":null}]`, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dup := duplicateKey([]byte(tt.body))
			if dup != (tt.want != "") || got != tt.want {
				t.Fatalf("duplicateKey(%s) = %q, %v; want %q", tt.body, got, dup, tt.want)
			}
		})
	}
}
