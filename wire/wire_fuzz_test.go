package wire_test

import (
	"encoding/json"
	"testing"

	"github.com/authdash/authdash/wire"
)

// frameSeeds are frames of every type, well and badly formed.
var frameSeeds = []string{
	`{"type":"auth","token":"eyJhbGciOiJIUzI1NiJ9.e30.x"}`,
	`{"type":"resume","since":42}`,
	`{"type":"resume","since":-1}`,
	`{"type":"resume","since":1e400}`,
	`{"type":"resume","since":"1"}`,
	`{"type":"authed","userId":"u1","expiresAt":"2026-01-01T00:00:00Z"}`,
	`{"type":"ready","seq":3}`,
	`{"type":"resync","seq":9}`,
	`{"type":"synced","seq":8}`,
	`{"type":"error","code":"rate_limited","message":"slow down"}`,
	`{"type":"task.created","seq":1,"task":{"id":"t","title":"x"}}`,
	`{"type":"task.deleted","seq":2,"taskId":"t"}`,
	`{"type":"user.updated","seq":5,"user":{"id":"u"}}`,
	`{"type":"AUTH","token":"x"}`,
	`{"type":"auth","type":"resume"}`,
	`{"type":null}`,
	`[]`, `null`, `"auth"`, `{`, ``,
}

// FuzzDecodeClient is what the server does with every frame a socket sends
// (realtime/conn.go's read loop): it never panics, an accepted frame is an
// Auth or a Resume, and what it encodes to decodes to the same frame.
func FuzzDecodeClient(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := wire.DecodeClient(b)
		if err != nil {
			if fr != nil {
				t.Fatalf("error %v with a frame %#v", err, fr)
			}
			return
		}
		switch fr.(type) {
		case wire.Auth, wire.Resume:
		default:
			t.Fatalf("client frame of type %T", fr)
		}
		roundTrip(t, fr, wire.DecodeClient)
	})
}

// FuzzDecodeServer is what the client does with every frame the server
// sends: no panic, and an accepted frame survives encoding again.
func FuzzDecodeServer(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := wire.DecodeServer(b)
		if err != nil {
			return
		}
		roundTrip(t, fr, wire.DecodeServer)
	})
}

func roundTrip(t *testing.T, fr wire.Frame, decode func([]byte) (wire.Frame, error)) {
	t.Helper()
	out, err := json.Marshal(fr)
	if err != nil {
		t.Fatalf("encode %#v: %v", fr, err)
	}
	again, err := decode(out)
	if err != nil {
		t.Fatalf("%s does not decode again: %v", out, err)
	}
	if again.FrameType() != fr.FrameType() {
		t.Fatalf("type %q became %q through %s", fr.FrameType(), again.FrameType(), out)
	}
	// Encoding once more must give the same bytes: a frame has one form.
	out2, err := json.Marshal(again)
	if err != nil || string(out2) != string(out) {
		t.Fatalf("second encoding differs: %s then %s (%v)", out, out2, err)
	}
}
