package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/authdash/authdash"
)

// errPasskeyCancelled is the browser's answer when the person closed its
// dialog, or no passkey was there.
var errPasskeyCancelled = &authdash.Error{Code: authdash.CodeInvalid, Message: "No passkey was used. Try again, or sign in another way."}

// credentials runs navigator.credentials.create or .get with the options a
// begin route answered (binary fields in base64url, turned into buffers
// here) and answers the credential as JSON for the finish route.
func credentials(ctx context.Context, method string, opts json.RawMessage, mediation string, abort ...app.Value) (json.RawMessage, error) {
	nav := app.Window().Get("navigator").Get("credentials")
	if !nav.Truthy() || !app.Window().Get("PublicKeyCredential").Truthy() {
		return nil, &authdash.Error{Code: authdash.CodeInvalid, Message: "This browser does not support passkeys."}
	}
	var wrap struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &wrap); err != nil || len(wrap.PublicKey) == 0 {
		return nil, errors.New("passkeys: the server's options are not readable")
	}
	pk := app.Window().Get("JSON").Call("parse", string(wrap.PublicKey))
	toBuffer(pk, "challenge")
	if u := pk.Get("user"); u.Truthy() {
		toBuffer(u, "id")
	}
	for _, list := range []string{"excludeCredentials", "allowCredentials"} {
		if l := pk.Get(list); l.Truthy() {
			for i := 0; i < l.Length(); i++ {
				toBuffer(l.Index(i), "id")
			}
		}
	}
	req := app.Window().Get("Object").New()
	req.Set("publicKey", pk)
	if mediation != "" {
		req.Set("mediation", mediation)
	}
	if len(abort) > 0 {
		req.Set("signal", abort[0].Get("signal"))
	}
	cred, err := await(ctx, nav.Call(method, req), abort)
	if err != nil {
		return nil, err
	}
	if !cred.Truthy() {
		return nil, errPasskeyCancelled
	}
	r := cred.Get("response")
	resp := map[string]any{"clientDataJSON": fromBuffer(r.Get("clientDataJSON"))}
	if method == "create" {
		resp["attestationObject"] = fromBuffer(r.Get("attestationObject"))
		if r.Get("getTransports").Truthy() {
			ts := r.Call("getTransports")
			var out []string
			for i := 0; i < ts.Length(); i++ {
				out = append(out, ts.Index(i).String())
			}
			resp["transports"] = out
		}
	} else {
		resp["authenticatorData"] = fromBuffer(r.Get("authenticatorData"))
		resp["signature"] = fromBuffer(r.Get("signature"))
		if h := r.Get("userHandle"); h.Truthy() {
			resp["userHandle"] = fromBuffer(h)
		}
	}
	out := map[string]any{"id": cred.Get("id").String(), "rawId": fromBuffer(cred.Get("rawId")),
		"type": cred.Get("type").String(), "response": resp, "clientExtensionResults": map[string]any{}}
	if at := cred.Get("authenticatorAttachment"); at.Truthy() {
		out["authenticatorAttachment"] = at.String()
	}
	return json.Marshal(out)
}

var b64url = base64.RawURLEncoding

func toBuffer(obj app.Value, key string) {
	b, _ := b64url.DecodeString(strings.TrimRight(obj.Get(key).String(), "="))
	a := app.Window().Get("Uint8Array").New(len(b))
	app.CopyBytesToJS(a, b)
	obj.Set(key, a)
}

func fromBuffer(v app.Value) string {
	if !v.Truthy() {
		return ""
	}
	a := app.Window().Get("Uint8Array").New(v)
	b := make([]byte, a.Length())
	app.CopyBytesToGo(b, a)
	return b64url.EncodeToString(b)
}

// await waits for the promise p to settle. When ctx ends first the request
// is aborted (with abort, if given) and still waited for: its callbacks
// must not outlive their release.
func await(ctx context.Context, p app.Value, abort []app.Value) (app.Value, error) {
	type result struct {
		v   app.Value
		err error
	}
	done := make(chan result, 1)
	ok := app.FuncOf(func(_ app.Value, args []app.Value) any {
		var v app.Value = app.Null()
		if len(args) > 0 {
			v = args[0]
		}
		done <- result{v: v}
		return nil
	})
	fail := app.FuncOf(func(_ app.Value, args []app.Value) any {
		done <- result{err: browserError(args)}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		if len(abort) > 0 {
			abort[0].Call("abort")
		}
		r := <-done
		return r.v, r.err
	}
}

// browserError reads a rejected WebAuthn request (a DOMException).
func browserError(args []app.Value) error {
	name, msg := "", ""
	if len(args) > 0 && args[0].Truthy() {
		name, msg = args[0].Get("name").String(), args[0].Get("message").String()
	}
	return passkeyFailure(name, msg)
}

// passkeyFailure words a WebAuthn failure, by the DOMException's name, as
// what happened and what the person can do. The browser's own message is
// not shown: it is written for developers ("The operation either timed
// out or was not allowed. See: https://www.w3.org/TR/webauthn-2/…"), in
// the browser's language rather than the page's; it is kept as the
// error's cause for whoever debugs. The person cancelling or no passkey
// being there (NotAllowedError, AbortError) reads as such.
func passkeyFailure(name, msg string) error {
	var cause error
	if msg != "" {
		cause = fmt.Errorf("%s: %s", name, msg)
	}
	fail := func(code authdash.ErrorCode, text string) error {
		return &authdash.Error{Code: code, Message: text, Err: cause}
	}
	switch name {
	case "NotAllowedError", "AbortError":
		return errPasskeyCancelled
	case "InvalidStateError":
		return fail(authdash.CodeConflict, "This device already holds a passkey for your account.")
	case "SecurityError":
		return fail(authdash.CodeInvalid, "Passkeys cannot be used at this address. Open the app at its usual address and try again.")
	case "NotSupportedError":
		return fail(authdash.CodeInvalid, "This device cannot make the kind of passkey needed here. Try another device, or sign in another way.")
	case "ConstraintError":
		return fail(authdash.CodeInvalid, "This device has no screen lock, fingerprint or face to check it is you. Set one up, or use another device.")
	}
	return fail(authdash.CodeInvalid, "The passkey did not work on this device. Try again, or sign in another way.")
}
