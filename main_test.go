package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests re-run this test binary as the real program (TICKWATCH_AS_MAIN=1)
// so start-up, signals and exit codes are exercised end to end.
func TestMain(m *testing.M) {
	if os.Getenv("TICKWATCH_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func program(t testing.TB, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0]) // no test flags: main() reads os.Args
	// A cost-4 hash keeps start-up fast under the race detector (cost 12
	// takes seconds there).
	// Its own DATA_DIR: the default (./tickwatch-data) would be shared, and
	// locked, by every run.
	cmd.Env = append(os.Environ(), append([]string{"TICKWATCH_AS_MAIN=1", "DATA_DIR=" + t.TempDir(),
		"ADMIN_PASSWORD_HASH=$2a$04$7pmP3Qd/21ye3dJioXeLJ.B5jvE5zqTPESH2mxUj6UXBpzAlIfAtW"}, env...)...)
	return cmd
}

func TestBadVariableExitsWithOneLine(t *testing.T) {
	for _, env := range []string{"HTTP_ADDR=nonsense", "LOG_LEVEL=loud", "WEBSOCKET_CONNECTIONS_MAX=42"} {
		t.Run(env, func(t *testing.T) {
			out, err := program(t, env).CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 2 {
				t.Fatalf("want exit code 2, got %v (output %q)", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			name := strings.SplitN(env, "=", 2)[0]
			if len(lines) != 1 || !strings.Contains(lines[0], name) || !strings.Contains(lines[0], "accepted:") {
				t.Fatalf("want one line naming %s and the accepted form, got %q", name, out)
			}
		})
	}
}

// running is the real program started by start: its base URL, and channels
// closed when it logs "stopped" and when its output ends (it has exited).
type running struct {
	cmd     *exec.Cmd
	base    string
	stopped chan struct{}
	output  chan struct{}
}

// start runs cmd, waits for its listen address, and kills it at cleanup.
func start(t testing.TB, cmd *exec.Cmd) *running {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	r := &running{cmd: cmd, stopped: make(chan struct{}), output: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(r.output)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var line struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			switch line.Message {
			case "tickwatch listening":
				addr <- line.Addr
			case "stopped":
				close(r.stopped)
			}
		}
	}()
	select {
	case r.base = <-addr:
	case <-r.output:
		t.Fatal("the program exited before it listened")
	case <-time.After(60 * time.Second):
		t.Fatal("the program did not report its listen address")
	}
	return r
}

// waitReady polls /readyz until it answers 200: every enabled connection
// finished its first attempt.
func (r *running) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(r.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz never answered 200")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSIGTERMExitsCleanly starts the real program on the simulator, waits
// until it serves and is ready, sends SIGTERM and expects an orderly exit:
// the "stopped" line (Run logs it after every part has shut down), then exit
// code 0. How long that took is logged, never asserted; the deadline only
// catches a hang.
func TestSIGTERMExitsCleanly(t *testing.T) {
	r := start(t, program(t, "HTTP_ADDR=127.0.0.1:0", "LOG_FORMAT=json", "LOG_LEVEL=info"))
	resp, err := http.Get(r.base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	// Shutdown then has live upstream links to close.
	r.waitReady(t)
	began := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Wait closes the pipe, so it comes after the output is read to EOF.
	select {
	case <-r.output:
	case <-time.After(60 * time.Second):
		t.Fatal("the program was still running 60 s after SIGTERM")
	}
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want exit code 0", err)
	}
	select {
	case <-r.stopped:
	default:
		t.Fatal(`exit code 0 without the "stopped" line: the shutdown did not run to its end`)
	}
	t.Logf("exited 0 in %v", time.Since(began))
}
