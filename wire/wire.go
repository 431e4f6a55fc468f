// Package wire is the vocabulary both ends of the API speak, beyond the
// domain's own types: for HTTP, the problem details of an error answer with
// the one table between error kinds and statuses, the grant a sign-in
// answers with, and the small request and answer bodies of the auth
// endpoints (http.go); for the realtime WebSocket (GET /api/ws), its frames
// and the close codes that end it, also one table read both ways
// (close.go). Both ends import it: the server (packages server and
// realtime), the browser client (app/api) and the load generator, so it
// depends on the standard library and the domain only.
//
// Every socket frame is one JSON text message with a "type" member. The
// protocol is described in docs/REALTIME.md, the HTTP API in openapi.json.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authdash/authdash"
)

// Type is the "type" member of a frame.
type Type string

// Frame types sent by the client.
const (
	// TypeAuth authenticates the socket. It must be the first frame, within
	// AuthTimeout of connecting, and may be sent again at any time with a
	// fresh access token to extend the socket's life.
	TypeAuth Type = "auth"
	// TypeResume asks for every change after a sequence number.
	TypeResume Type = "resume"
)

// Frame types sent by the server. Events use the authdash.EventKind values
// (task.created, task.updated, task.deleted, user.updated) as their type.
const (
	// TypeAuthed answers every accepted auth frame.
	TypeAuthed Type = "authed"
	// TypeReady follows the first authed: live events flow from here on.
	TypeReady Type = "ready"
	// TypeResync says the change log cannot answer a resume: reload over
	// REST, then continue from Seq.
	TypeResync Type = "resync"
	// TypeSynced confirms a point to resume from: every change numbered
	// at or below Seq has been sent on this socket.
	TypeSynced Type = "synced"
	// TypeError explains why the server is about to close the socket.
	TypeError Type = "error"

	TypeTaskCreated = Type(authdash.EventTaskCreated)
	TypeTaskUpdated = Type(authdash.EventTaskUpdated)
	TypeTaskDeleted = Type(authdash.EventTaskDeleted)
	TypeUserUpdated = Type(authdash.EventUserUpdated)
)

// Protocol limits both ends rely on.
const (
	// AuthTimeout is how long the server waits for the first auth frame.
	AuthTimeout = 10 * time.Second
	// MaxClientFrame is the largest frame the server reads; a larger one
	// closes the socket with status 1009 (message too big).
	MaxClientFrame = 4 << 10
)

// Frame is one message on the socket. The concrete types are Auth, Resume,
// Authed, Ready, Resync, Synced, Error and *Event.
type Frame interface {
	FrameType() Type
}

// Auth carries an access token (the same JWT the REST API takes), never in
// the URL.
type Auth struct {
	Token string `json:"token"`
}

// Resume asks the server to send every change with Seq greater than Since,
// deletions included, or a Resync if its log no longer reaches that far.
type Resume struct {
	Since int64 `json:"since"`
}

// Authed confirms an auth frame. The server closes the socket with
// CloseTokenExpired at ExpiresAt unless another auth frame arrives first.
type Authed struct {
	ExpiresAt time.Time `json:"expiresAt"`
}

// Ready follows the first Authed. Seq is the owner's current head sequence
// number: a client that already holds state up to some N < Seq sends
// Resume{Since: N}; a client with no state loads over REST.
type Ready struct {
	Seq int64 `json:"seq"`
}

// Resync tells the client to reload its tasks over REST and then treat Seq as
// the last sequence number it holds.
type Resync struct {
	Seq int64 `json:"seq"`
}

// Synced says that every change numbered at or below Seq has now been sent
// on this socket, live or from the change log. It follows a read of the log
// that brought the socket up to its head (a resume's answer, a check at a
// heartbeat, a catch-up after the broker lost messages), and only when Seq
// is new for the socket. Seq is the point to resume from after a
// disconnect: not the highest Seq applied, since a change numbered below
// that one may have been committed and never published (its instance died
// in between), and only the log sends it (docs/REALTIME.md).
type Synced struct {
	Seq int64 `json:"seq"`
}

// Error precedes a close by the server and says why. Code is a domain error
// kind, Message is safe to show, and Close is the close code that follows.
// The close frame carries that code too, but a Go client compiled to wasm
// cannot read it (coder/websocket's browser Conn answers net.ErrClosed,
// coder/websocket#505), so a browser learns from this frame whether to
// reconnect.
type Error struct {
	Code    authdash.ErrorCode `json:"code"`
	Message string             `json:"message"`
	Close   CloseCode          `json:"close,omitempty"`
}

// Event is a task or profile change: an authdash.Event on the wire, whose
// "type" is the event kind. Convert with authdash.Event(*ev).
type Event authdash.Event

// FrameType implements Frame.
func (Auth) FrameType() Type { return TypeAuth }

// FrameType implements Frame.
func (Resume) FrameType() Type { return TypeResume }

// FrameType implements Frame.
func (Authed) FrameType() Type { return TypeAuthed }

// FrameType implements Frame.
func (Ready) FrameType() Type { return TypeReady }

// FrameType implements Frame.
func (Resync) FrameType() Type { return TypeResync }

// FrameType implements Frame.
func (Synced) FrameType() Type { return TypeSynced }

// FrameType implements Frame.
func (Error) FrameType() Type { return TypeError }

// FrameType implements Frame.
func (e *Event) FrameType() Type { return Type(e.Kind) }

// The MarshalJSON methods add the "type" member so a frame can be encoded
// with json.Marshal directly.

// MarshalJSON implements json.Marshaler.
func (f Auth) MarshalJSON() ([]byte, error) {
	type plain Auth
	return json.Marshal(struct {
		Type Type `json:"type"`
		plain
	}{TypeAuth, plain(f)})
}

// MarshalJSON implements json.Marshaler.
func (f Resume) MarshalJSON() ([]byte, error) {
	type plain Resume
	return json.Marshal(struct {
		Type Type `json:"type"`
		plain
	}{TypeResume, plain(f)})
}

// MarshalJSON implements json.Marshaler.
func (f Authed) MarshalJSON() ([]byte, error) {
	type plain Authed
	return json.Marshal(struct {
		Type Type `json:"type"`
		plain
	}{TypeAuthed, plain(f)})
}

// MarshalJSON implements json.Marshaler.
func (f Ready) MarshalJSON() ([]byte, error) {
	type plain Ready
	return json.Marshal(struct {
		Type Type `json:"type"`
		plain
	}{TypeReady, plain(f)})
}

// MarshalJSON implements json.Marshaler.
func (f Resync) MarshalJSON() ([]byte, error) {
	type plain Resync
	return json.Marshal(struct {
		Type Type `json:"type"`
		plain
	}{TypeResync, plain(f)})
}

// MarshalJSON implements json.Marshaler.
func (f Synced) MarshalJSON() ([]byte, error) {
	type plain Synced
	return json.Marshal(struct {
		Type Type `json:"type"`
		plain
	}{TypeSynced, plain(f)})
}

// MarshalJSON implements json.Marshaler.
func (f Error) MarshalJSON() ([]byte, error) {
	type plain Error
	return json.Marshal(struct {
		Type Type `json:"type"`
		plain
	}{TypeError, plain(f)})
}

// ErrUnknownType is returned (wrapped) by the decoders for a frame whose type
// they do not know. A client should ignore such frames, so that the server
// can add new ones; the server treats them as a protocol error.
var ErrUnknownType = errors.New("wire: unknown frame type")

// DecodeClient parses a frame sent by a client: Auth or Resume.
func DecodeClient(b []byte) (Frame, error) {
	t, err := peekType(b)
	if err != nil {
		return nil, err
	}
	switch t {
	case TypeAuth:
		return decode[Auth](b)
	case TypeResume:
		return decode[Resume](b)
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownType, t)
}

// DecodeServer parses a frame sent by the server: Authed, Ready, Resync,
// Synced, Error or *Event.
func DecodeServer(b []byte) (Frame, error) {
	t, err := peekType(b)
	if err != nil {
		return nil, err
	}
	switch t {
	case TypeAuthed:
		return decode[Authed](b)
	case TypeReady:
		return decode[Ready](b)
	case TypeResync:
		return decode[Resync](b)
	case TypeSynced:
		return decode[Synced](b)
	case TypeError:
		return decode[Error](b)
	case TypeTaskCreated, TypeTaskUpdated, TypeTaskDeleted, TypeUserUpdated:
		ev := new(Event)
		if err := json.Unmarshal(b, ev); err != nil {
			return nil, fmt.Errorf("wire: %s frame: %w", t, err)
		}
		return ev, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownType, t)
}

func peekType(b []byte) (Type, error) {
	var h struct {
		Type Type `json:"type"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return "", fmt.Errorf("wire: frame is not a JSON object: %w", err)
	}
	if h.Type == "" {
		return "", errors.New("wire: frame has no type")
	}
	return h.Type, nil
}

// decode unmarshals b into a T. The "type" member is ignored by T's fields.
func decode[T Frame](b []byte) (Frame, error) {
	var f T
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("wire: %s frame: %w", f.FrameType(), err)
	}
	return f, nil
}
