package authdash_test

import (
	"strings"
	"testing"

	"github.com/authdash/authdash"
)

// The sessions list and the sign-in activity name devices alike.
func TestDeviceName(t *testing.T) {
	for _, tt := range []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome on iOS"},
		{"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"},
		{"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36 OPR/86.0", "Opera on Android"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on ChromeOS"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Headless Chrome on Linux"},
		{"curl/8.5.0", "curl"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/604.1", "Safari on iOS"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox on macOS"},
		{"Bot/1 " + string([]byte{0xff, 0xfe}) + "é", "Other: Bot/1"},
		{"É" + strings.Repeat("x", 39) + "yz", "Other: É" + strings.Repeat("x", 38)},
		{"Go-http-client/1.1", "Go HTTP client"},
		{"", "Unknown device"},
		{"Wget/1.21.4 (linux-gnu)", "Other: Wget/1.21.4"},
		{"SomeBot/2 (X11; Linux)", "A browser on Linux"},
		{"Wget/1.21.4", "Other: Wget/1.21.4"},
		{"\x1b[2Jevil\x00/1", "Other: [2Jevil/1"},
	} {
		if got := authdash.DeviceName(tt.ua); got != tt.want {
			t.Errorf("DeviceName(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}
