package cluster

import (
	"os"
	"testing"

	"github.com/authdash/authdash/e2e/internal/binaries"
)

// builds is the server binary of this test run, built once for every
// test. Package state, but only for this test binary: TestMain owns it and
// removes it at the end.
var builds binaries.Builds

func TestMain(m *testing.M) {
	code := m.Run()
	builds.Remove()
	os.Exit(code)
}
