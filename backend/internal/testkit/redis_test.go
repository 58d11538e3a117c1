package testkit

import (
	"fmt"
	"runtime"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fatalRecorder is a testing.TB whose Fatal* end only the goroutine that
// calls them, so a test can check that a helper fails, and how.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestStartRedisFailsWithoutServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartRedis(rec)
	}()
	<-done
	if rec.msg != redisInstall {
		t.Fatalf("StartRedis without redis-server failed with %q, want %q", rec.msg, redisInstall)
	}
}

func TestRedisStopRestartSamePort(t *testing.T) {
	r := StartRedis(t, "--requirepass", "pw")
	addr := r.Addr()
	if err := pingRedis(addr); err != nil {
		t.Fatalf("ping after start: %v", err)
	}
	if r.URL() != "redis://"+addr+"/0" {
		t.Fatalf("URL %q", r.URL())
	}
	r.Stop()
	r.Stop() // a second Stop does nothing
	if err := pingRedis(addr); err == nil {
		t.Fatal("server still answers after Stop")
	}
	r.Restart()
	if r.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", r.Addr(), addr)
	}
	if err := pingRedis(addr); err != nil {
		t.Fatalf("ping after Restart: %v", err)
	}
}
