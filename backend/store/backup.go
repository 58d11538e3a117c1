package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// Backup writes a consistent copy of the open store to dest (VACUUM INTO:
// a snapshot of the last commit, compacted, readable as a tickwatch.db). It
// never overwrites: an existing dest is ErrBackupExists.
func (s *Store) Backup(ctx context.Context, dest string) error {
	// Through its own read-only connection, as from another process: the
	// pool's readers are query_only, which refuses VACUUM INTO, and the
	// writer must stay free for admin actions.
	return BackupFile(ctx, s.path, dest)
}

// BackupFile writes a consistent copy of the database at dbPath (see DBPath)
// to dest, from any process, while a server has the store open: it opens
// the file read-only and takes no DATA_DIR lock. This is what `tickwatch
// backup PATH` runs. It never overwrites dest.
func BackupFile(ctx context.Context, dbPath, dest string) error {
	src, err := filepath.Abs(dbPath)
	if err != nil {
		return fmt.Errorf("backup %s: %w", dbPath, err)
	}
	abs, err := checkBackupDest(dest)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: %w: no tickwatch database at %s (%v); is DATA_DIR right?", ErrNotFound, src, pathErrText(err))
	} else if fi.IsDir() {
		return fmt.Errorf("backup: %w: %s is a directory; pass DATA_DIR/%s", ErrInvalid, src, FileName)
	}
	busy := "_pragma=busy_timeout(" + strconv.FormatInt(DefaultBusyTimeout.Milliseconds(), 10) + ")"
	db, err := sql.Open("sqlite", dsn(src, "mode=ro&"+busy))
	if err != nil {
		return classify("backup", src, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := checkReadable(ctx, db, src); err != nil {
		return err
	}
	return vacuumInto(ctx, db, src, abs)
}

// checkReadable refuses a source that is not a tickwatch database before
// copying it, so a backup of the wrong file fails now, not at restore.
func checkReadable(ctx context.Context, db *sql.DB, src string) error {
	var appID int64
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return classify("backup", src, err)
	}
	if appID != applicationID {
		return failf(ErrCorrupt, "backup: %s is not a tickwatch database (application_id %#x)", src, appID)
	}
	return nil
}

// checkBackupDest makes dest absolute and refuses an existing file: a
// backup that silently replaced the previous one could destroy the only
// good copy.
func checkBackupDest(dest string) (string, error) {
	if dest == "" {
		return "", fmt.Errorf("backup: %w: no destination path given", ErrInvalid)
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return "", fmt.Errorf("backup to %s: %w", dest, err)
	}
	if _, err := os.Lstat(abs); err == nil {
		return "", failf(ErrBackupExists, "backup: %s already exists; backups never overwrite, so choose a new file name or move the old one away", abs)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("backup: cannot check %s (%v)", abs, pathErrText(err))
	}
	if fi, err := os.Stat(filepath.Dir(abs)); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("backup: %w: directory %s does not exist; create it first", ErrInvalid, filepath.Dir(abs))
	}
	return abs, nil
}

// vacuumInto copies the database on db to dest without ever leaving a
// partial file at dest or replacing one that appeared meanwhile: it vacuums
// into a fresh temporary file beside dest (created 0600, since the copy
// holds token hashes and the audit log; VACUUM INTO accepts an empty file),
// then links it to dest, which fails if dest exists.
func vacuumInto(ctx context.Context, db *sql.DB, src, dest string) error {
	op := fmt.Sprintf("backup %s to %s", src, dest)
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-*")
	if err != nil {
		return failf(ErrReadOnly, "backup: cannot write in %s (%v); choose a writable directory", filepath.Dir(dest), pathErrText(err))
	}
	tmpPath := tmp.Name()
	_ = tmp.Close()
	defer func() { _ = os.Remove(tmpPath) }() // after a successful link, dest keeps the data
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmpPath); err != nil {
		// A full disk shows up here: name the destination, the source is fine.
		return classify(op, dest, err)
	}
	if err := os.Link(tmpPath, dest); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return appeared(dest)
		}
		// A filesystem without hard links: rename, after checking again.
		if _, serr := os.Lstat(dest); serr == nil {
			return appeared(dest)
		}
		if err := os.Rename(tmpPath, dest); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	return nil
}

func appeared(dest string) error {
	return failf(ErrBackupExists, "backup: %s appeared while the backup ran; nothing was overwritten", dest)
}
