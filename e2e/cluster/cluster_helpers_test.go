package cluster

// Helpers of the cluster tests (names start with cl): the loopback cluster
// of `make cluster`, brought up by the same script on free ports.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authdash/authdash/e2e/internal/binaries"
)

// clCluster is three instances, redis-server and nginx on loopback.
type clCluster struct {
	dir     string
	lb      string   // http://127.0.0.1:port of nginx
	apis    []string // http://127.0.0.1:port of each instance
	metrics []string // http://127.0.0.1:port of each admin listener
}

// clFreePorts returns n distinct free loopback ports.
func clFreePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// clStart brings the cluster up with deploy/cluster/cluster.sh and tears
// it down when the test ends. It skips if nginx or redis-server is missing.
func clStart(t testing.TB, bin string, env ...string) *clCluster {
	t.Helper()
	for _, tool := range []string{"nginx", "redis-server", "redis-cli", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				t.Skipf("%s not installed (make tools)", tool)
			}
		}
	}
	p := clFreePorts(t, 8)
	c := &clCluster{dir: t.TempDir(), lb: fmt.Sprintf("http://127.0.0.1:%d", p[0])}
	var apiPorts, metricPorts []string
	for i := range 3 {
		apiPorts = append(apiPorts, strconv.Itoa(p[1+i]))
		metricPorts = append(metricPorts, strconv.Itoa(p[4+i]))
		c.apis = append(c.apis, "http://127.0.0.1:"+apiPorts[i])
		c.metrics = append(c.metrics, "http://127.0.0.1:"+metricPorts[i])
	}
	root, err := binaries.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := func(verb string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "deploy/cluster/cluster.sh", verb)
		cmd.Dir = root
		cmd.Env = append(os.Environ(),
			"CLUSTER_DIR="+c.dir, "AUTHDASH_BIN="+bin,
			"LB_ADDR="+strings.TrimPrefix(c.lb, "http://"),
			"API_PORTS="+strings.Join(apiPorts, " "), "METRICS_PORTS="+strings.Join(metricPorts, " "),
			"REDIS_PORT="+strconv.Itoa(p[7]), "LOG_LEVEL=info")
		cmd.Env = append(cmd.Env, env...)
		return cmd.CombinedOutput()
	}
	t.Cleanup(func() {
		if out, err := script("down"); err != nil {
			t.Errorf("cluster down: %v\n%s", err, out)
		}
		if t.Failed() {
			for _, name := range []string{"api1", "api2", "api3", "nginx-error"} {
				b, _ := os.ReadFile(filepath.Join(c.dir, "logs", name+".log"))
				if len(b) > 3000 {
					b = b[len(b)-3000:]
				}
				t.Logf("%s log tail:\n%s", name, b)
			}
		}
	})
	if out, err := script("up"); err != nil {
		t.Fatalf("cluster up: %v\n%s", err, out)
	}
	return c
}

// pid returns the recorded PID of a cluster process (api1, nginx …).
func (c *clCluster) pid(t testing.TB, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// crash kills instance i (0-based) abruptly and waits until it is dead
// (gone, or a zombie where PID 1 does not reap).
func (c *clCluster) crash(t testing.TB, i int) {
	t.Helper()
	pid := c.pid(t, fmt.Sprintf("api%d", i+1))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill api%d (pid %d): %v", i+1, pid, err)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for clRunning(pid) {
		select {
		case <-tick.C: // a process gives no event to wait on that we can select on
		case <-deadline:
			t.Fatalf("api%d still running after SIGKILL", i+1)
		}
	}
}

func clRunning(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	if k := strings.LastIndexByte(s, ')'); k >= 0 && k+2 < len(s) {
		return s[k+2] != 'Z'
	}
	return true
}
