// Package testkit is what tests need from their surroundings, in one place:
// a private redis-server (RedisServer), a clock they move by hand (Clock)
// and a log they can read while it is written (Logs). Only tests import it.
package testkit

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RedisServer is a private redis-server on a free loopback port, for one
// test. It never touches a shared Redis.
type RedisServer struct {
	t    testing.TB
	port int

	mu  sync.Mutex
	cmd *exec.Cmd
}

// StartRedis starts a redis-server without persistence and stops it when
// the test ends. It skips the test if redis-server is not installed (`make
// tools` installs it).
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed (run make tools)")
	}
	s := &RedisServer{t: t, port: freePort(t)}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// Addr is host:port.
func (s *RedisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is a redis:// URL for REDIS_URL.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() + "/0" }

// Start (re)starts the server on its port and waits until it accepts
// commands.
func (s *RedisServer) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.t.Fatal("redis-server already running")
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := ping(s.Addr()); err == nil {
			return
		} else if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s not ready: %v", s.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond) // a process we just started has no readiness channel to wait on
	}
}

// Kill stops the server abruptly, as a crash would.
func (s *RedisServer) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// Restart kills the server and starts it again on the same port, empty.
func (s *RedisServer) Restart() {
	s.t.Helper()
	s.Kill()
	s.Start()
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
