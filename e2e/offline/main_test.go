package offline

import (
	"os"
	"testing"

	"github.com/authdash/authdash/e2e/internal/browsertest"
)

// kit is the server, app.wasm and Chromium of this test run, shared by
// every test. Package state, but only for this test binary: TestMain owns
// it and closes it at the end.
var kit browsertest.Kit

func TestMain(m *testing.M) {
	code := m.Run()
	kit.Close()
	os.Exit(code)
}
