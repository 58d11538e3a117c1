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

// redisInstall is the line a test fails with when redis-server is missing:
// tests run against a real Redis, and a missing one is a broken machine,
// not a reason to skip.
const redisInstall = "redis-server not found: apt-get install redis-server"

// redisReady bounds how long a starting redis-server may take to answer.
const redisReady = 10 * time.Second

// Redis is a real redis-server owned by one test: on 127.0.0.1, a free
// port, no persistence, its files in a temporary directory. It is killed
// when the test ends.
type Redis struct {
	t    testing.TB
	bin  string
	dir  string
	args []string
	port int
	log  SyncBuffer // the server's own output, shown when it fails to start

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartRedis starts a redis-server for t and waits until it answers PING.
// extra are more server arguments, e.g. "--requirepass", "secret". If
// redis-server is not on PATH the test fails with the install line.
func StartRedis(t testing.TB, extra ...string) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(redisInstall)
	}
	r := &Redis{t: t, bin: bin, dir: t.TempDir(), args: extra}
	t.Cleanup(r.Stop)
	// A free port found by listening and closing can be taken by someone
	// else before redis-server binds it; a few tries make that harmless.
	for attempt := 1; ; attempt++ {
		r.port = freePort(t)
		err := r.start()
		if err == nil {
			return r
		}
		if attempt == 3 {
			t.Fatalf("start redis-server: %v\n%s", err, r.log.String())
		}
	}
}

// Addr is host:port.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// URL is redis://127.0.0.1:port/0, without credentials.
func (r *Redis) URL() string { return "redis://" + r.Addr() + "/0" }

// Stop kills the server at once, as a crash would, and waits for it to
// exit. Stopping a stopped server does nothing.
func (r *Redis) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill() // an already exited process is fine
	<-r.done
	r.cmd, r.done = nil, nil
}

// Restart stops the server if it runs and starts it again on the same
// port, with the same arguments and an empty data set.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Stop()
	if err := r.start(); err != nil {
		r.t.Fatalf("restart redis-server on %s: %v\n%s", r.Addr(), err, r.log.String())
	}
}

func (r *Redis) start() error {
	args := append([]string{
		"--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", r.dir,
		"--daemonize", "no",
		"--logfile", "",
	}, r.args...)
	cmd := exec.Command(r.bin, args...)
	cmd.Stdout, cmd.Stderr = &r.log, &r.log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit status of a killed server says nothing
		close(done)
	}()
	r.mu.Lock()
	r.cmd, r.done = cmd, done
	r.mu.Unlock()

	deadline := time.Now().Add(redisReady)
	for {
		err := pingRedis(r.Addr())
		if err == nil {
			return nil
		}
		select {
		case <-done:
			r.mu.Lock()
			r.cmd, r.done = nil, nil
			r.mu.Unlock()
			return fmt.Errorf("redis-server exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			r.Stop()
			return fmt.Errorf("no answer to PING within %s: %v", redisReady, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pingRedis sends an inline PING. A server that requires a password
// answers NOAUTH, which says just as well that it is up.
func pingRedis(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") {
		return nil
	}
	return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
