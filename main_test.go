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

func program(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0]) // no test flags: main() reads os.Args
	// A cost-4 hash keeps start-up fast under the race detector (cost 12
	// takes seconds there).
	cmd.Env = append(os.Environ(), append([]string{"TICKWATCH_AS_MAIN=1",
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

// TestSIGTERMExitsCleanly starts the real program on the simulator, waits
// until it serves, sends SIGTERM and expects exit code 0 within 5 s.
func TestSIGTERMExitsCleanly(t *testing.T) {
	cmd := program(t, "HTTP_ADDR=127.0.0.1:0", "LOG_FORMAT=json", "LOG_LEVEL=info")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "tickwatch listening" {
				addr <- line.Addr
			}
		}
	}()
	var base string
	select {
	case base = <-addr:
	case <-time.After(20 * time.Second):
		t.Fatal("the program did not report its listen address")
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	// /readyz turns 200 once every enabled connection finished its first
	// attempt; shutdown then has live upstream links to close.
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz never answered 200")
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
		t.Logf("exited 0 in %v", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("did not exit within 5 s of SIGTERM")
	}
}
