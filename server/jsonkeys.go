package server

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// duplicateKey reports the first object key in b that repeats an earlier key
// of the same object, ignoring case. encoding/json matches field names
// case-insensitively and lets the last of several win, so
// {"title":"a","Title":"b"} would store "b" while a proxy, a log or a
// validator that reads the first sees "a"; a body that can be read two ways
// is refused instead. b must be valid JSON (decode checks that first), so the
// scan only has to follow strings and nesting.
func duplicateKey(b []byte) (string, bool) {
	type frame struct {
		obj     bool
		wantKey bool
		keys    []string // folded; objects we accept have a handful of keys
	}
	var stack []frame
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case '{':
			stack = append(stack, frame{obj: true, wantKey: true})
		case '[':
			stack = append(stack, frame{})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if n := len(stack); n > 0 && stack[n-1].obj {
				stack[n-1].wantKey = true
			}
		case '"':
			end := stringEnd(b, i)
			if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
				top := &stack[n-1]
				top.wantKey = false
				name := jsonString(b[i : end+1])
				k := foldKey(name)
				for _, seen := range top.keys {
					if seen == k {
						return name, true
					}
				}
				top.keys = append(top.keys, k)
			}
			i = end
		}
	}
	return "", false
}

// stringEnd returns the index of the quote that closes the string opening at
// b[start].
func stringEnd(b []byte, start int) int {
	for i := start + 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(b) - 1
}

// jsonString decodes a quoted JSON string, escapes included ("\u0074itle"
// names the same field as "title").
func jsonString(q []byte) string {
	if !strings.Contains(string(q), `\`) {
		return string(q[1 : len(q)-1])
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return string(q[1 : len(q)-1])
	}
	return s
}

// foldKey maps s to one spelling per class of names strings.EqualFold (and
// so encoding/json) treats as equal: each rune becomes the smallest rune of
// its simple case-folding orbit, so "K", "k" and the Kelvin sign agree.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s) // the smallest of 'k' and 'K' is 'K'
	}
	return strings.Map(func(r rune) rune {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		return min
	}, s)
}
