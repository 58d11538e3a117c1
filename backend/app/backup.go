package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/tickwatch/tickwatch/backend/config"
	"github.com/tickwatch/tickwatch/backend/store"
)

// backup is `tickwatch backup PATH`: a consistent copy of DATA_DIR's
// database (VACUUM INTO) written to PATH, while a server may be running on
// it (the copy takes no DATA_DIR lock). DATA_DIR comes from the same
// environment the server reads. Exit codes: 0 written, 1 the copy failed,
// 2 bad usage or configuration.
func backup(args []string, environ []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		fmt.Fprintln(stderr, "usage: tickwatch backup PATH  (PATH must not exist; DATA_DIR is read from the environment)")
		return 2
	}
	cfg, err := config.Load(environ, false)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dest := args[0]
	if err := store.BackupFile(ctx, store.DBPath(cfg.DataDir), dest); err != nil {
		fmt.Fprintln(stderr, "tickwatch backup:", err)
		return 1
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		abs = dest
	}
	size := "unknown size"
	if fi, err := os.Stat(abs); err == nil {
		size = fmt.Sprintf("%d bytes", fi.Size())
	}
	fmt.Fprintf(stdout, "backup of %s written to %s (%s)\n", store.DBPath(cfg.DataDir), abs, size)
	return 0
}
