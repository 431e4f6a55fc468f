//go:build js && wasm

package api

import "syscall/js"

// documentCookie is the page's cookies as script sees them.
func documentCookie() string { return js.Global().Get("document").Get("cookie").String() }
