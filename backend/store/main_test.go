package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

// Environment variables that turn the test binary into a second process
// running BackupFile, so the backup test crosses a real process boundary
// (separate flock owner, separate SQLite library state).
const (
	envBackupSrc  = "STORE_TEST_BACKUP_SRC"
	envBackupDest = "STORE_TEST_BACKUP_DEST"
)

func TestMain(m *testing.M) {
	if src := os.Getenv(envBackupSrc); src != "" {
		if err := BackupFile(context.Background(), src, os.Getenv(envBackupDest)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// t0 is the fake clock's start in every test.
var t0 = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

// openT opens a store in a fresh temp dir (or dir, if given) with a fake
// clock, closed when the test ends.
func openT(t *testing.T, dir string) (*Store, *testkit.Clock) {
	t.Helper()
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "data")
	}
	clk := testkit.NewClock(t0)
	s, err := Open(dir, Options{Now: clk.Now})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, clk
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func isRoot() bool { return os.Geteuid() == 0 }
