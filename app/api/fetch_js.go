//go:build js && wasm

package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"syscall/js"
)

// newDoer returns a fetch-based doer. net/http's own js transport would do
// the same, but linking http.Client pulls the whole native HTTP/1 and
// HTTP/2 client and TLS stack into app.wasm (about 1 MB brotli) for a
// fallback the browser never takes.
func newDoer(*http.Client) doer { return fetchDoer{} }

type fetchDoer struct{}

// Do calls window.fetch with credentials "include", so the refresh cookie
// is sent even when the app is served from a CDN on another origin than the
// API, and mode "cors" for that same case.
func (fetchDoer) Do(req *http.Request) (*http.Response, error) {
	opts := js.Global().Get("Object").New()
	opts.Set("method", req.Method)
	opts.Set("credentials", "include")
	opts.Set("mode", "cors")
	opts.Set("cache", "no-store")
	hdr := js.Global().Get("Headers").New()
	for k, vs := range req.Header {
		for _, v := range vs {
			hdr.Call("append", k, v)
		}
	}
	opts.Set("headers", hdr)
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		a := js.Global().Get("Uint8Array").New(len(b))
		js.CopyBytesToJS(a, b)
		opts.Set("body", a)
	}
	ctx := req.Context()
	abort := js.Global().Get("AbortController").New()
	opts.Set("signal", abort.Get("signal"))

	type result struct {
		res *http.Response
		err error
	}
	done := make(chan result, 1)
	var onRes, onBody, onErr js.Func
	release := func() { onRes.Release(); onBody.Release(); onErr.Release() }
	var status int
	var header http.Header
	onErr = js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "fetch failed"
		if len(args) > 0 && args[0].Truthy() {
			msg = args[0].Call("toString").String()
		}
		done <- result{err: errors.New(msg)}
		return nil
	})
	onBody = js.FuncOf(func(_ js.Value, args []js.Value) any {
		a := js.Global().Get("Uint8Array").New(args[0])
		b := make([]byte, a.Get("length").Int())
		js.CopyBytesToGo(b, a)
		done <- result{res: &http.Response{
			Status: http.StatusText(status), StatusCode: status, Header: header, Request: req,
			Body: io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		}}
		return nil
	})
	onRes = js.FuncOf(func(_ js.Value, args []js.Value) any {
		r := args[0]
		status = r.Get("status").Int()
		header = http.Header{}
		it := r.Get("headers").Call("entries")
		for {
			n := it.Call("next")
			if n.Get("done").Bool() {
				break
			}
			kv := n.Get("value")
			header.Add(kv.Index(0).String(), kv.Index(1).String())
		}
		r.Call("arrayBuffer").Call("then", onBody, onErr)
		return nil
	})
	js.Global().Call("fetch", req.URL.String(), opts).Call("then", onRes, onErr)
	select {
	case r := <-done:
		release()
		return r.res, r.err
	case <-ctx.Done():
		abort.Call("abort")
		// The promise settles (rejected) after abort; release then.
		go func() { <-done; release() }()
		return nil, ctx.Err()
	}
}
