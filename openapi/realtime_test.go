package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/authdash/authdash/openapi"
	"github.com/authdash/authdash/wire"
)

// frameSchemas compiles the WebSocket frame schema, asserting formats
// (date-time) too.
func frameSchemas(t *testing.T) (client, server *jsonschema.Schema) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapi.RealtimeSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://authdash.example/api/realtime.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	client, err = c.Compile(url + "#/$defs/ClientFrame")
	if err != nil {
		t.Fatal(err)
	}
	server, err = c.Compile(url + "#/$defs/ServerFrame")
	if err != nil {
		t.Fatal(err)
	}
	return client, server
}

func validateFrame(t *testing.T, s *jsonschema.Schema, b []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("frame %s: %v", b, err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("frame does not match the schema: %s\n%v", b, err)
	}
}

// TestSchemasAgree keeps the copies of the shared types in the frame schema
// identical to the OpenAPI components.
func TestSchemasAgree(t *testing.T) {
	var oa struct {
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	var ws struct {
		Defs map[string]any `json:"$defs"`
	}
	if err := json.Unmarshal(openapi.Spec(), &oa); err != nil {
		t.Fatal(err)
	}
	b := bytes.ReplaceAll(openapi.RealtimeSchema(), []byte("#/$defs/"), []byte("#/components/schemas/"))
	if err := json.Unmarshal(b, &ws); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Task", "TaskStatus", "TaskPriority", "User"} {
		if !reflect.DeepEqual(oa.Components.Schemas[name], ws.Defs[name]) {
			t.Errorf("%s differs between openapi.json and realtime.schema.json", name)
		}
	}
}

// TestFrameSchemaHasTeeth: frames that break the protocol are refused.
func TestFrameSchemaHasTeeth(t *testing.T) {
	client, server := frameSchemas(t)
	bad := []struct {
		s     *jsonschema.Schema
		frame string
	}{
		{client, `{"type":"auth"}`},
		{client, `{"type":"auth","token":"x","extra":1}`},
		{client, `{"type":"resume","since":-1}`},
		{client, `{"type":"hello"}`},
		{server, `{"type":"ready"}`},
		{server, `{"type":"synced","seq":-1}`},
		{server, `{"type":"task.created","seq":1,"taskId":"a","at":"2026-01-01T00:00:00Z"}`},
		{server, `{"type":"task.deleted","seq":1,"taskId":"a","at":"yesterday"}`},
		{server, `{"type":"error","code":"teapot","message":"x"}`},
	}
	for _, tt := range bad {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.frame))
		if err != nil {
			t.Fatal(err)
		}
		if tt.s.Validate(v) == nil {
			t.Errorf("schema accepts %s", tt.frame)
		}
	}
}

// TestSocketMatchesSchema validates every frame a real socket exchanges
// with the real server: the handshake, one event of each kind, a resume
// replay and the error frame before an authentication failure.
func TestSocketMatchesSchema(t *testing.T) {
	a := mustAPI(t)
	clientSchema, serverSchema := frameSchemas(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	call := func(method, path, token, body string) []byte {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, a.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Auth-Mode", "token")
		req.Header.Set("X-Client-ID", "tab-A")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := a.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	var g wire.Grant
	mustDecode(t, call("POST", "/api/auth/register", "", `{"email":"wes@example.com","password":"wes-password-1","name":"Wes"}`), &g)

	dial := func() *websocket.Conn {
		t.Helper()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(a.url, "http")+"/api/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	send := func(c *websocket.Conn, frame string) {
		t.Helper()
		validateFrame(t, clientSchema, []byte(frame))
		if err := c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	// next reads one frame, validates it and returns its type.
	next := func(c *websocket.Conn) (string, []byte) {
		t.Helper()
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		validateFrame(t, serverSchema, b)
		var f struct {
			Type string `json:"type"`
		}
		mustDecode(t, b, &f)
		return f.Type, b
	}
	expect := func(c *websocket.Conn, want ...string) {
		t.Helper()
		for _, w := range want {
			if got, b := next(c); got != w {
				t.Fatalf("frame %s, want type %s", b, w)
			}
		}
	}

	c := dial()
	send(c, `{"type":"auth","token":"`+g.AccessToken+`"}`)
	expect(c, "authed", "ready")

	var task struct {
		ID string `json:"id"`
	}
	mustDecode(t, call("POST", "/api/tasks", g.AccessToken, `{"title":"Live","dueDate":"2030-01-01T00:00:00Z","tags":["a"]}`), &task)
	expect(c, "task.created")
	call("PATCH", "/api/tasks/"+task.ID, g.AccessToken, `{"status":"done","dueDate":null}`)
	expect(c, "task.updated")
	call("DELETE", "/api/tasks/"+task.ID, g.AccessToken, "")
	expect(c, "task.deleted")
	call("PATCH", "/api/me", g.AccessToken, `{"name":"Wes W."}`)
	expect(c, "user.updated")

	// A replay from the change log: the deletion as a tombstone, then
	// the point it confirms.
	send(c, `{"type":"resume","since":0}`)
	expect(c, "task.deleted", "synced")
	// Re-authentication on a live socket.
	send(c, `{"type":"auth","token":"`+g.AccessToken+`"}`)
	expect(c, "authed")
	c.Close(websocket.StatusNormalClosure, "")

	// A bad token: an error frame, then close code 4500.
	bad := dial()
	send(bad, `{"type":"auth","token":"not-a-token"}`)
	expect(bad, "error")
	if _, _, err := bad.Read(ctx); websocket.CloseStatus(err) != 4500 {
		t.Errorf("close after a bad token: %v, want status 4500", err)
	}
}
