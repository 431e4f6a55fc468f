//go:build !(js && wasm)

package api

// documentCookie is empty outside a browser, where MayHaveSession is asked
// only of clients with a BaseURL.
func documentCookie() string { return "" }
