package authdash

import (
	"strings"
	"unicode"
)

// DeviceName names a User-Agent the way a person would recognise it,
// "Firefox on Linux": the browser and the system, no versions. The order of
// the checks matters, since most browsers claim to be several others.
func DeviceName(ua string) string {
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(ua, x) {
				return true
			}
		}
		return false
	}
	var browser string
	switch {
	case has("Edg/", "EdgA/", "EdgiOS/"):
		browser = "Edge"
	case has("OPR/", "Opera"):
		browser = "Opera"
	case has("SamsungBrowser/"):
		browser = "Samsung Internet"
	case has("Firefox/", "FxiOS/"):
		browser = "Firefox"
	case has("HeadlessChrome/"):
		browser = "Headless Chrome"
	case has("Chrome/", "CriOS/", "Chromium/"):
		browser = "Chrome"
	case has("Safari/"):
		browser = "Safari"
	case has("curl/"):
		browser = "curl"
	case has("Go-http-client/"):
		browser = "Go HTTP client"
	}
	var system string
	switch {
	case has("Windows"):
		system = "Windows"
	case has("iPhone", "iPod"):
		system = "iOS"
	case has("iPad"):
		system = "iPadOS"
	case has("Android"):
		system = "Android"
	case has("CrOS"):
		system = "ChromeOS"
	case has("Macintosh", "Mac OS X"):
		system = "macOS"
	case has("Linux", "X11"):
		system = "Linux"
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "A browser on " + system
	case strings.TrimSpace(ua) == "":
		return "Unknown device"
	}
	return "Other: " + firstWord(ua)
}

// firstWord is a User-Agent's product token, "Wget/1.21" of "Wget/1.21
// (linux-gnu)", without control characters and at most 40 bytes of valid
// UTF-8: it is shown, and mailed.
func firstWord(ua string) string {
	ua = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(ua, ""))
	ua = strings.TrimSpace(ua)
	if i := strings.IndexAny(ua, " ("); i > 0 {
		ua = ua[:i]
	}
	if len(ua) > 40 {
		ua = strings.ToValidUTF8(ua[:40], "")
	}
	return ua
}
