//go:build !(js && wasm)

package api

import (
	"net/http"
	"time"
)

func newDoer(hc *http.Client) doer {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return hc
}
