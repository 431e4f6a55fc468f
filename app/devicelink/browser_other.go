//go:build !js

package devicelink

// Browser reports that outside a browser there is no profile to share a
// socket with: the caller keeps its own.
func Browser(string) (lock Lock, join func(receive func([]byte)) Channel, ok bool) {
	return nil, nil, false
}
