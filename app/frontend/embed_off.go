//go:build !embedweb

package frontend

import "io/fs"

// embeddedBuild is nil without -tags embedweb: the build is read from disk.
func embeddedBuild() fs.FS { return nil }
