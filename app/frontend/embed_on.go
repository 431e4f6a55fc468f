//go:build embedweb

package frontend

import (
	"embed"
	"io/fs"
)

// dist is app.wasm and its compressed forms, copied here by `make
// embedweb` before `go build -tags embedweb`, so the binary needs no files
// beside it (the container image).
//
//go:embed dist
var dist embed.FS

func embeddedBuild() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil
	}
	return sub
}
