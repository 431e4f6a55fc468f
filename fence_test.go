package authdash_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/authdash/authdash"

// libraries are the names docs/ARCHITECTURE.md's import table gives the
// third-party modules, and the import paths they stand for.
var libraries = map[string]string{
	"chi":                "github.com/go-chi/chi/v5",
	"klauspost/compress": "github.com/klauspost/compress",
	"golang-jwt":         "github.com/golang-jwt/jwt/v5",
	"x/crypto":           "golang.org/x/crypto",
	"go-redis":           "github.com/redis/go-redis/v9",
	"client_golang":      "github.com/prometheus/client_golang",
	"modernc.org/sqlite": "modernc.org/sqlite",
	"mongo-driver v2":    "go.mongodb.org/mongo-driver/v2",
	"coder/websocket":    "github.com/coder/websocket",
	"go-app":             "github.com/maxence-charriere/go-app/v10",
	"go-mail":            "github.com/wneessen/go-mail",
	"go-smtp":            "github.com/emersion/go-smtp",
	"go-sasl":            "github.com/emersion/go-sasl",
	"pquerna/otp":        "github.com/pquerna/otp",
	"skip2/go-qrcode":    "github.com/skip2/go-qrcode",
	"zxcvbn":             "github.com/trustelem/zxcvbn",
	"x/text":             "golang.org/x/text",
	"go-webauthn":        "github.com/go-webauthn/webauthn",
	"go-oidc":            "github.com/coreos/go-oidc/v3",
	"x/oauth2":           "golang.org/x/oauth2",
	"go-jose":            "github.com/go-jose/go-jose/v4",
	"chromedp":           "github.com/chromedp/chromedp",
	"cdproto":            "github.com/chromedp/cdproto",
}

// TestImportTable holds the code to docs/ARCHITECTURE.md's "who may import
// what" table, which is the truth about the code: every package has a row,
// and imports (outside the standard library and its tests) exactly the
// packages and libraries its row names, so an arrow the table does not draw
// (server -> realtime, a driver in the domain) fails here, and so does a
// row that no longer says what its package imports. Both builds count: the
// server's and the browser's (GOOS=js).
func TestImportTable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go tool")
	}
	rows, err := readImportTable("docs/ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	graph := map[string][]string{}
	goList(t, graph, nil, "./...")
	goList(t, graph, []string{"GOOS=js", "GOARCH=wasm"}, "./app/...", "./wasm/...")
	for _, v := range checkImports(rows, graph) {
		t.Error(v)
	}
}

// TestImportTableCatchesForbiddenEdges shows the check can fail: each case
// is the table and an import graph, and the violations it must report.
func TestImportTableCatchesForbiddenEdges(t *testing.T) {
	table := map[string]row{
		"authdash": {imports: nil},
		"server":   {imports: []string{"authdash", "chi"}},
		"realtime": {imports: []string{"authdash"}},
		"cmd/x":    {everything: true},
	}
	ok := map[string][]string{
		"authdash": nil,
		"server":   {module, "github.com/go-chi/chi/v5"},
		"realtime": {module},
		"cmd/x":    {module + "/server", module + "/realtime", "github.com/redis/go-redis/v9"},
	}
	with := func(pkg string, imports ...string) map[string][]string {
		g := map[string][]string{}
		for k, v := range ok {
			g[k] = v
		}
		g[pkg] = imports
		return g
	}
	tests := []struct {
		name  string
		graph map[string][]string
		want  []string // substrings, one per violation
	}{
		{"OK", ok, nil},
		{"ErrServerImportsRealtime", with("server", module, "github.com/go-chi/chi/v5", module+"/realtime"), []string{"server imports realtime"}},
		{"ErrDomainImportsDriver", with("authdash", "modernc.org/sqlite"), []string{"authdash imports modernc.org/sqlite"}},
		{"ErrUnlistedLibrary", with("realtime", module, "github.com/gorilla/websocket"), []string{"realtime imports github.com/gorilla/websocket"}},
		{"ErrRowOutOfDate", with("server", module), []string{"server no longer imports chi"}},
		{"ErrPackageWithoutRow", func() map[string][]string { g := with("store", module); return g }(), []string{"store has no row"}},
		{"ErrRowWithoutPackage", func() map[string][]string { g := with("server"); delete(g, "server"); return g }(), []string{"row names server"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkImports(table, tt.graph)
			if len(got) != len(tt.want) {
				t.Fatalf("violations %q, want %d matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %q, want it to say %q", got[i], w)
				}
			}
		})
	}
}

// TestDependencyFence keeps the arrows pointing inwards beyond direct
// imports: the domain uses the standard library only, and the WebAssembly
// client never links a server-side dependency (which would also bloat
// app.wasm).
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
		{"DomainStdlibOnly", ".", nil, func(p string) bool { return p == module }},
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

// row is what the table says of a package.
type row struct {
	imports    []string // names: "authdash", a package path in the module, or a libraries key
	everything bool
}

// readImportTable parses the table under "## Packages and who may import
// what": a row's first cell names one or more packages (`server`,
// `wasm`, `wasm/static`), its last lists what they import, comma-separated,
// or says "nothing" or "everything".
func readImportTable(path string) (map[string]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows := map[string]row{}
	in := false
	sc := bufio.NewScanner(f)
	code := regexp.MustCompile("`([^`]+)`")
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Packages and who may import what"
			continue
		case !in || !strings.HasPrefix(line, "|"):
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 3 || strings.HasPrefix(strings.TrimSpace(cells[0]), "---") || strings.TrimSpace(cells[0]) == "package" {
			continue
		}
		var r row
		switch imports := strings.TrimSpace(cells[len(cells)-1]); imports {
		case "everything":
			r.everything = true
		case "nothing", "—", "":
		default:
			for _, name := range strings.Split(imports, ",") {
				r.imports = append(r.imports, strings.TrimSpace(name))
			}
		}
		for _, m := range code.FindAllStringSubmatch(cells[0], -1) {
			rows[m[1]] = r
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no import table found", path)
	}
	return rows, sc.Err()
}

// goList adds the direct, non-test, non-standard imports of pkgs to graph,
// keyed by the package's path in the module ("authdash" for the root).
func goList(t *testing.T, graph map[string][]string, env []string, pkgs ...string) {
	t.Helper()
	// Directories of tests only (e2e/browser, e2e/dashboard, e2e/offline,
	// e2e/cluster, deploy) have no package to place.
	args := append([]string{"list", "-f", "{{if .GoFiles}}{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{end}}"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkg := rel(f[0])
		for _, imp := range f[1:] {
			first, _, _ := strings.Cut(imp, "/")
			if !strings.Contains(first, ".") || slices.Contains(graph[pkg], imp) {
				continue // the standard library, or already known
			}
			graph[pkg] = append(graph[pkg], imp)
		}
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
	}
}

func rel(importPath string) string {
	if importPath == module {
		return "authdash"
	}
	return strings.TrimPrefix(importPath, module+"/")
}

// checkImports returns every difference between the table and the graph.
func checkImports(table map[string]row, graph map[string][]string) []string {
	var out []string
	pkgs := make([]string, 0, len(graph))
	for p := range graph {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for _, pkg := range pkgs {
		r, ok := table[pkg]
		if !ok {
			out = append(out, fmt.Sprintf("%s has no row in the import table: add one", pkg))
			continue
		}
		if r.everything {
			continue
		}
		used := map[string]bool{}
		for _, imp := range graph[pkg] {
			name := nameOf(imp)
			if !slices.Contains(r.imports, name) {
				out = append(out, fmt.Sprintf("%s imports %s, which its row does not allow (%s)", pkg, name, strings.Join(r.imports, ", ")))
			}
			used[name] = true
		}
		for _, name := range r.imports {
			if !used[name] {
				out = append(out, fmt.Sprintf("%s no longer imports %s: its row says it does", pkg, name))
			}
		}
	}
	names := make([]string, 0, len(table))
	for p := range table {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		if _, ok := graph[p]; !ok {
			out = append(out, fmt.Sprintf("a row names %s, which is no package", p))
		}
	}
	return out
}

// nameOf is the table's name for an import: the module-relative path of
// one of ours, the libraries key of a third-party one, or the path itself.
func nameOf(imp string) string {
	if imp == module || strings.HasPrefix(imp, module+"/") {
		return rel(imp)
	}
	for name, prefix := range libraries {
		if imp == prefix || strings.HasPrefix(imp, prefix+"/") {
			return name
		}
	}
	return imp
}
