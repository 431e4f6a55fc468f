package server

import (
	"bytes"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/authdash/authdash"
)

// Tasks are the bulk of what the API writes (a list page is twenty of
// them), and encoding/json spends most of its time there on reflection and
// on time.Time. appendTask writes the same bytes json.Marshal would, without
// either; TestTaskJSONMatchesEncodingJSON holds it to that, field for field,
// so a field added to authdash.Task fails the test until it is added here.

func appendTask(b []byte, t *authdash.Task) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, string(t.ID))
	b = append(b, `,"title":`...)
	b = appendString(b, t.Title)
	b = append(b, `,"description":`...)
	b = appendString(b, t.Description)
	b = append(b, `,"status":`...)
	b = appendString(b, string(t.Status))
	b = append(b, `,"priority":`...)
	b = appendString(b, string(t.Priority))
	b = append(b, `,"dueDate":`...)
	if t.DueDate == nil {
		b = append(b, "null"...)
	} else {
		b = appendTime(b, *t.DueDate)
	}
	b = append(b, `,"tags":[`...)
	for i, tag := range t.Tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, tag)
	}
	b = append(b, `],"createdAt":`...)
	b = appendTime(b, t.CreatedAt)
	b = append(b, `,"updatedAt":`...)
	b = appendTime(b, t.UpdatedAt)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, t.Version, 10)
	return append(b, '}')
}

func appendTaskPage(b []byte, p *authdash.TaskPage) []byte {
	b = append(b, `{"items":[`...)
	for i := range p.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTask(b, &p.Items[i])
	}
	b = append(b, `],"nextCursor":`...)
	b = appendString(b, p.NextCursor)
	return append(b, '}')
}

// appendTime writes t as time.Time.MarshalJSON does (RFC 3339 with the
// fractional seconds it has).
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string exactly as encoding/json does with
// its default HTML escaping: <, > and & as \u003c…, invalid UTF-8 as
// U+FFFD, and U+2028/U+2029 escaped for JavaScript.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// writeTaskJSON answers with the bytes an append function makes, through
// the same pooled buffer and headers as writeJSON.
func writeTaskJSON(w http.ResponseWriter, status int, appendFn func([]byte) []byte) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuf {
			bufPool.Put(buf)
		}
	}()
	b := append(appendFn(buf.AvailableBuffer()), '\n')
	buf.Write(b) // keeps the capacity for the next response
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
