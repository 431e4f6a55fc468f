package authdash_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyFence keeps the arrows pointing inwards: the domain uses the
// standard library only, and the WebAssembly client never links a server-side
// dependency (which would also bloat app.wasm).
func TestDependencyFence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	forbidden := []string{
		"go.mongodb.org/", "github.com/redis/", "github.com/golang-jwt/", "github.com/go-chi/",
		"modernc.org/", "github.com/FerretDB/", "github.com/prometheus/", "golang.org/x/crypto",
	}
	tests := []struct {
		name    string
		pkg     string
		env     []string
		allowed func(path string) bool
	}{
		{"DomainStdlibOnly", ".", nil, func(p string) bool { return p == "github.com/authdash/authdash" }},
		{"WasmClientLean", "./wasm", []string{"GOOS=js", "GOARCH=wasm"}, func(p string) bool {
			for _, f := range forbidden {
				if strings.HasPrefix(p, f) {
					return false
				}
			}
			return true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", tt.pkg)
			cmd.Env = append(cmd.Environ(), tt.env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go list %s: %v\n%s", tt.pkg, err, out)
			}
			for _, p := range strings.Fields(string(out)) {
				if !tt.allowed(p) {
					t.Errorf("%s depends on %s", tt.pkg, p)
				}
			}
		})
	}
}
