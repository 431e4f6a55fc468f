// Package deploy_test keeps the deployment files honest: every YAML
// document parses and says what the runbook promises, the nginx
// configuration passes `nginx -t`, and the Dockerfile's build steps build
// this checkout.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// docs decodes every YAML document in a file.
func docs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			out = append(out, d)
		}
	}
}

// get walks a decoded document: get(d, "spec", "template", 0, "name").
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func TestKubernetesManifests(t *testing.T) {
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	byKind := map[string]map[string]any{}
	for _, f := range files {
		for _, d := range docs(t, f) {
			kind, _ := d["kind"].(string)
			if kind == "" || d["apiVersion"] == nil {
				t.Errorf("%s: a document without apiVersion and kind", f)
				continue
			}
			if kind != "Kustomization" && get(d, "metadata", "name") == nil {
				t.Errorf("%s: %s without a name", f, kind)
			}
			if _, dup := byKind[kind]; !dup {
				byKind[kind] = d
			}
		}
	}
	for _, kind := range []string{"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler",
		"PodDisruptionBudget", "ConfigMap", "Secret", "NetworkPolicy", "Kustomization"} {
		if byKind[kind] == nil {
			t.Errorf("no %s", kind)
		}
	}

	for _, r := range get(byKind["Kustomization"], "resources").([]any) {
		if _, err := os.Stat(filepath.Join("k8s", r.(string))); err != nil {
			t.Errorf("kustomization lists %s: %v", r, err)
		}
	}

	c := get(byKind["Deployment"], "spec", "template", "spec", "containers", 0)
	checks := []struct {
		what string
		path []any
		want any
	}{
		{"readiness probe", []any{"readinessProbe", "httpGet", "path"}, "/readyz"},
		{"liveness probe", []any{"livenessProbe", "httpGet", "path"}, "/healthz"},
		{"read-only root", []any{"securityContext", "readOnlyRootFilesystem"}, true},
		{"no privilege escalation", []any{"securityContext", "allowPrivilegeEscalation"}, false},
		{"capabilities dropped", []any{"securityContext", "capabilities", "drop", 0}, "ALL"},
		{"config from the ConfigMap", []any{"envFrom", 0, "configMapRef", "name"}, get(byKind["ConfigMap"], "metadata", "name")},
		{"secrets from the Secret", []any{"envFrom", 1, "secretRef", "name"}, get(byKind["Secret"], "metadata", "name")},
	}
	for _, ck := range checks {
		if got := get(c, ck.path...); got != ck.want {
			t.Errorf("Deployment %s: %v, want %v", ck.what, got, ck.want)
		}
	}
	for _, res := range []string{"requests", "limits"} {
		for _, r := range []string{"cpu", "memory"} {
			if get(c, "resources", res, r) == nil {
				t.Errorf("Deployment: no resources.%s.%s", res, r)
			}
		}
	}
	if get(byKind["Deployment"], "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Error("Deployment: pods may run as root")
	}

	// The Secret is a template: every value a placeholder.
	for k, v := range get(byKind["Secret"], "stringData").(map[string]any) {
		if !strings.Contains(v.(string), "<") {
			t.Errorf("Secret template: %s looks like a real value", k)
		}
	}
	// The admin port listens beyond loopback, so the token must be there.
	if get(byKind["ConfigMap"], "data", "METRICS_ADDR") != nil && get(byKind["Secret"], "stringData", "METRICS_TOKEN") == nil {
		t.Error("METRICS_ADDR is set but the Secret has no METRICS_TOKEN: the server would refuse to start")
	}
	// ENV=production refuses to start without a mail server, and links in
	// mail must open the real site.
	if get(byKind["ConfigMap"], "data", "ENV") == "production" {
		if get(byKind["Secret"], "stringData", "SMTP_URL") == nil {
			t.Error("ENV=production but the Secret has no SMTP_URL: the server would refuse to start")
		}
		for _, k := range []string{"MAIL_FROM", "APP_URL"} {
			if get(byKind["ConfigMap"], "data", k) == nil {
				t.Errorf("ENV=production but the ConfigMap has no %s: the server would refuse to start", k)
			}
		}
	}
	// Whoever is in TRUSTED_PROXIES can pose as any client: never a whole
	// private range (10.0.0.0/8 was), only what the operator fills in.
	if tp, _ := get(byKind["ConfigMap"], "data", "TRUSTED_PROXIES").(string); !strings.HasPrefix(tp, "<REPLACE") {
		for p := range strings.SplitSeq(tp, ",") {
			if pre, err := netip.ParsePrefix(strings.TrimSpace(p)); err == nil && pre.Bits() < 16 {
				t.Errorf("ConfigMap TRUSTED_PROXIES %q trusts a whole range: name the ingress controller", tp)
			}
		}
	}
	// WebSockets: an Ingress for /api/ws with long timeouts, unbuffered.
	ws := false
	for _, f := range files {
		for _, d := range docs(t, f) {
			if d["kind"] == "Ingress" && get(d, "spec", "rules", 0, "http", "paths", 0, "path") == "/api/ws" {
				ws = true
				a := get(d, "metadata", "annotations").(map[string]any)
				if a["nginx.ingress.kubernetes.io/proxy-buffering"] != "off" || a["nginx.ingress.kubernetes.io/proxy-read-timeout"] == nil {
					t.Errorf("the /api/ws Ingress must be unbuffered with a long read timeout: %v", a)
				}
			}
		}
	}
	if !ws {
		t.Error("no Ingress for /api/ws")
	}
}

func TestCompose(t *testing.T) {
	d := docs(t, "compose/compose.yaml")[0]
	services := get(d, "services").(map[string]any)
	for _, s := range []string{"api1", "api2", "api3", "nginx", "mongo1", "mongo2", "mongo3", "mongo-init", "redis"} {
		if services[s] == nil {
			t.Errorf("no service %s", s)
		}
	}
	for _, s := range []string{"api1", "api2", "api3"} {
		env := get(services[s], "environment").(map[string]any)
		if !strings.Contains(env["MONGO_URI"].(string), "replicaSet=rs0") || env["REDIS_URL"] == nil {
			t.Errorf("%s: MONGO_URI must name the replica set and REDIS_URL be set: %v", s, env)
		}
	}
	for _, s := range []string{"api1", "api2", "api3"} {
		env := get(services[s], "environment").(map[string]any)
		if env["METRICS_ADDR"] != nil && env["METRICS_TOKEN"] == nil {
			t.Errorf("%s: METRICS_ADDR without METRICS_TOKEN: the server would refuse to start", s)
		}
		if env["ENV"] == "production" {
			for _, k := range []string{"SMTP_URL", "MAIL_FROM", "APP_URL"} {
				if env[k] == nil {
					t.Errorf("%s: ENV=production without %s: the server would refuse to start", s, k)
				}
			}
		}
		nginxIP := get(services["nginx"], "networks", "backend", "ipv4_address")
		if env["TRUSTED_PROXIES"] != nginxIP {
			t.Errorf("%s: TRUSTED_PROXIES %v, want exactly nginx's address %v", s, env["TRUSTED_PROXIES"], nginxIP)
		}
	}
	for _, v := range get(services["nginx"], "volumes").([]any) {
		src := strings.SplitN(v.(string), ":", 2)[0]
		if _, err := os.Stat(filepath.Join("compose", src)); err != nil {
			t.Errorf("nginx mounts %s: %v", src, err)
		}
	}
}

// TestNginxConfig runs `nginx -t` on the production configuration, with
// the compose host names and absolute paths pointed at a temp directory.
func TestNginxConfig(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if nginx = "/usr/sbin/nginx"; !fileExists(nginx) {
			t.Skip("nginx not installed (make tools)")
		}
	}
	dir := t.TempDir()
	conf, err := os.ReadFile("nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("nginx/locations.conf")
	s := string(conf)
	for old, new := range map[string]string{
		"/etc/nginx/authdash/locations.conf": abs,
		"/var/cache/nginx/authdash":          filepath.Join(dir, "cache"),
		"/var/run/nginx.pid":                 filepath.Join(dir, "nginx.pid"),
		"api1:8080":                          "127.0.0.1:1",
		"api2:8080":                          "127.0.0.1:2",
		"api3:8080":                          "127.0.0.1:3",
		"listen 80;":                         "listen 127.0.0.1:1;",
		"listen [::]:80;":                    "",
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("nginx.conf no longer contains %q; update this test", old)
		}
		s = strings.ReplaceAll(s, old, new)
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nginx, "-t", "-q", "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", path).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}

// TestDockerfileBuilds runs the Dockerfile's `go build` steps, as written,
// on a copy of this checkout, and checks they use the Makefile's flags.
func TestDockerfileBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the server and the wasm frontend")
	}
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	var builds []string
	for _, run := range dockerRuns(string(df)) {
		if strings.Contains(run, "go build") {
			builds = append(builds, run)
		}
	}
	if len(builds) != 2 {
		t.Fatalf("want the wasm and the server build steps, found %d: %q", len(builds), builds)
	}
	// Same targets and flags as the Makefile.
	for _, want := range []struct{ docker, make []string }{
		{[]string{"GOOS=js GOARCH=wasm go build -trimpath -ldflags '-s -w'", "./wasm"},
			[]string{"GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags '-s -w'", "./wasm"}},
		{[]string{"CGO_ENABLED=0 go build -trimpath", "-s -w -X main.version=", "./cmd/authdash"},
			[]string{"CGO_ENABLED=0 $(GO) build -trimpath", "-s -w -X main.version=", "./cmd/authdash"}},
	} {
		if !slices.ContainsFunc(builds, func(b string) bool { return containsAll(b, want.docker) }) {
			t.Errorf("no Dockerfile build step with %q", want.docker)
		}
		if !containsAll(string(mk), want.make) {
			t.Errorf("the Makefile has no build with %q: Dockerfile and Makefile drifted", want.make)
		}
	}

	src := t.TempDir()
	copyTree(t, "..", src)
	out := t.TempDir()
	for _, b := range builds {
		b = strings.ReplaceAll(b, "/out/", out+"/")
		cmd := exec.Command("sh", "-ec", b)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "VERSION=docker-test")
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s\n%v\n%s", b, err, o)
		}
	}
	for _, f := range []string{filepath.Join(src, "app/frontend/dist/app.wasm"), filepath.Join(out, "authdash")} {
		if !fileExists(f) {
			t.Errorf("%s was not built", f)
		}
	}
}

// dockerRuns returns the shell commands of the RUN instructions, with
// line continuations joined and BuildKit --mount flags removed.
func dockerRuns(df string) []string {
	joined := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(df, " ")
	mount := regexp.MustCompile(`--mount=\S+\s+`)
	var runs []string
	for line := range strings.SplitSeq(joined, "\n") {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "RUN "); ok {
			runs = append(runs, strings.TrimSpace(mount.ReplaceAllString(cmd, "")))
		}
	}
	return runs
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// copyTree copies the sources the image build sees (.dockerignore keeps out
// the same kind of things: VCS data, build output, local data).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	skip := map[string]bool{".git": true, "bin": true, "build": true, "data": true, "dist": true,
		"e2e/artifacts": true, "app/frontend/dist": true}
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if skip[filepath.ToSlash(rel)] {
			if !d.IsDir() {
				// In a git worktree .git is a file; SkipDir returned for
				// a file would skip the rest of its folder (go.mod too).
				return nil
			}
			return filepath.SkipDir
		}
		dst := filepath.Join(to, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o644)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
