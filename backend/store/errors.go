package store

import (
	"context"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors. Every error the store returns for a known bad state wraps
// one of these, with a message that names the path and says what to do, so a
// handler can pick the HTTP status with errors.Is and show Error() as detail.
var (
	// ErrDataDir: DATA_DIR cannot be created or written.
	ErrDataDir = errors.New("data directory unusable")
	// ErrInUse: another tickwatch process holds DATA_DIR's lock.
	ErrInUse = errors.New("data directory in use")
	// ErrCorrupt: the file is not a database, or not tickwatch's, or damaged.
	ErrCorrupt = errors.New("database damaged")
	// ErrNewerSchema: the file was written by a newer tickwatch.
	ErrNewerSchema = errors.New("database schema is newer than this tickwatch")
	// ErrBusy: another program kept the database locked past the busy timeout.
	ErrBusy = errors.New("database locked")
	// ErrReadOnly: the database file (or its -wal/-shm) cannot be written.
	ErrReadOnly = errors.New("database not writable")
	// ErrFull: the disk (or the page limit) left no room; nothing was saved.
	ErrFull = errors.New("no space left for the database")
	// ErrNotFound: no such token, key or record.
	ErrNotFound = errors.New("not found")
	// ErrExpired: the token exists but its expiry has passed.
	ErrExpired = errors.New("expired")
	// ErrRevoked: the token or key exists but was revoked.
	ErrRevoked = errors.New("revoked")
	// ErrInvalid: the caller passed a value the store refuses (empty id, ...).
	ErrInvalid = errors.New("invalid argument")
	// ErrBackupExists: the backup destination already exists.
	ErrBackupExists = errors.New("backup file exists")
)

// sqliteCode returns the primary SQLite result code in err's chain, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff // extended codes carry the primary code in the low byte
	}
	return 0
}

// classify turns a driver error from operation op on the database at path
// into one of the sentinel errors with a message a person can act on. The
// driver's own text is dropped for these: "database disk image is malformed
// (11)" tells an admin less than what to do about it. Unknown errors keep
// their chain, prefixed with op and path.
func classify(op, path string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	switch sqliteCode(err) {
	case sqlite3.SQLITE_FULL:
		return failf(ErrFull, "%s: %s cannot grow; free disk space on the volume that holds it, then retry (nothing was saved)", op, path)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return failf(ErrBusy, "%s: %s stayed locked by another program past the busy timeout; close whatever holds it (a sqlite3 shell, another tickwatch) and retry", op, path)
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return failf(ErrCorrupt, "%s: %s is damaged or is not a database; stop tickwatch and restore a backup, or move the file away to start with an empty store", op, path)
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN:
		return failf(ErrReadOnly, "%s: cannot write %s (or its -wal/-shm files); give the tickwatch user write access to it and its directory, or set DATA_DIR to a writable directory", op, path)
	}
	return fmt.Errorf("%s (%s): %w", op, path, err)
}

// kindError is a bad state's message with its sentinel behind it: Error()
// is only the message (no "database damaged: " label before a sentence
// that already says so), errors.Is still matches the sentinel.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// failf builds a kindError; format must not use %w.
func failf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
