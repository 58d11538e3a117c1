package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenCreatesDataDirWithWALAndPragmas(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "data")
	s, _ := openT(t, dir)

	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("DATA_DIR mode = %o, want 700", got)
	}
	if s.Path() != filepath.Join(dir, FileName) || s.Dir() != dir {
		t.Errorf("Path, Dir = %s, %s", s.Path(), s.Dir())
	}
	for _, name := range []string{FileName, lockName} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s missing: %v", name, err)
		}
	}
	pid, _ := os.ReadFile(filepath.Join(dir, lockName))
	if strings.TrimSpace(string(pid)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock file holds %q, want our pid %d", pid, os.Getpid())
	}

	ctx := ctxT(t)
	for _, db := range []*sql.DB{s.w, s.r} {
		var mode string
		var fk, busy int
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy != int(DefaultBusyTimeout.Milliseconds()) {
			t.Errorf("journal_mode=%s foreign_keys=%d busy_timeout=%d, want wal 1 %d", mode, fk, busy, DefaultBusyTimeout.Milliseconds())
		}
	}
	if v, err := userVersion(ctx, s.w, s.path); err != nil || v != SchemaVersion() {
		t.Errorf("user_version = %d, %v; want %d", v, err, SchemaVersion())
	}
	// The read pool must refuse writes: a write there would bypass the
	// single-writer queue and could meet SQLITE_BUSY.
	if _, err := s.r.ExecContext(ctx, `DELETE FROM audit`); err == nil {
		t.Error("read pool accepted a write")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenRelativeDataDir(t *testing.T) {
	t.Chdir(t.TempDir())
	s, _ := openT(t, "tickwatch-data")
	if !filepath.IsAbs(s.Dir()) || filepath.Base(s.Dir()) != "tickwatch-data" {
		t.Errorf("Dir = %s, want an absolute path ending in tickwatch-data", s.Dir())
	}
}

func TestOpenRefusesDataDirInUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a, _ := openT(t, dir)

	_, err := Open(dir, Options{})
	want := fmt.Sprintf("DATA_DIR %s is in use by another tickwatch process (pid %d?)", dir, os.Getpid())
	if !errors.Is(err, ErrInUse) || !strings.Contains(fmt.Sprint(err), want) {
		t.Fatalf("second Open: %v\nwant ErrInUse containing %q", err, want)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after the first store closed: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenBadStates: every bad state is a typed error whose message names
// the path and says what to do, and leaves no lock behind (a second Open
// reports the same problem, not "in use").
func TestOpenBadStates(t *testing.T) {
	type setup func(t *testing.T, root string) (dir string)
	cases := []struct {
		name  string
		setup setup
		want  error
		// msg parts; "%DIR" and "%DB" are replaced by the paths.
		msg []string
	}{{
		name: "DATA_DIR under a regular file",
		setup: func(t *testing.T, root string) string {
			writeFile(t, filepath.Join(root, "file"), []byte("x"))
			return filepath.Join(root, "file", "data")
		},
		want: ErrDataDir,
		msg:  []string{"DATA_DIR %DIR cannot be created (not a directory)", "set DATA_DIR to a writable directory"},
	}, {
		name: "DATA_DIR is a file",
		setup: func(t *testing.T, root string) string {
			p := filepath.Join(root, "data")
			writeFile(t, p, []byte("x"))
			return p
		},
		want: ErrDataDir,
		msg:  []string{"DATA_DIR %DIR is a file, not a directory"},
	}, {
		// Works as root too: no permission bit stops root, but a
		// directory where the lock file must go does.
		name: "lock file cannot be created",
		setup: func(t *testing.T, root string) string {
			p := filepath.Join(root, "data")
			mkdir(t, filepath.Join(p, lockName))
			return p
		},
		want: ErrDataDir,
		msg:  []string{"DATA_DIR %DIR is not writable (tickwatch.lock: is a directory)", "give the tickwatch user write access"},
	}, {
		name: "garbage in tickwatch.db",
		setup: withDB(func(t *testing.T, db string) {
			garbage := make([]byte, 8192)
			_, _ = rand.Read(garbage)
			writeFile(t, db, garbage)
		}),
		want: ErrCorrupt,
		msg:  []string{"%DB is damaged or is not a database", "restore a backup"},
	}, {
		name: "short text in tickwatch.db",
		setup: withDB(func(t *testing.T, db string) {
			writeFile(t, db, []byte("hello, I am not a database at all\n"))
		}),
		want: ErrCorrupt,
		msg:  []string{"%DB is damaged or is not a database"},
	}, {
		name: "another program's SQLite file",
		setup: withDB(func(t *testing.T, db string) {
			rawExec(t, db, "PRAGMA application_id = 42", "CREATE TABLE t (x)")
		}),
		want: ErrCorrupt,
		msg:  []string{"%DB is a SQLite database of another program (application_id 0x2a)"},
	}, {
		name: "newer schema version",
		setup: func(t *testing.T, root string) string {
			p := filepath.Join(root, "data")
			s, err := Open(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			rawExec(t, filepath.Join(p, FileName), "PRAGMA user_version = 7")
			return p
		},
		want: ErrNewerSchema,
		msg:  []string{fmt.Sprintf("database %%DB has schema version 7; this tickwatch understands up to %d: upgrade tickwatch or restore a backup", SchemaVersion())},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t, t.TempDir())
			for attempt := range 2 {
				s, err := Open(dir, Options{})
				if err == nil {
					_ = s.Close()
					t.Fatalf("attempt %d: Open succeeded", attempt)
				}
				checkErr(t, err, tc.want, dir, tc.msg)
			}
		})
	}
}

// TestOpenUnwritableByPermission covers the plain permission cases. Root
// ignores permission bits, so as root it re-runs itself as uid 65534.
func TestOpenUnwritableByPermission(t *testing.T) {
	if isRoot() {
		// Permission bits do not stop root: run this test again in a
		// child process as an unprivileged user, where they do.
		runAsNobody(t, "^TestOpenUnwritableByPermission$")
		return
	}
	t.Run("parent not writable", func(t *testing.T) {
		root := t.TempDir()
		chmod(t, root, 0o500)
		dir := filepath.Join(root, "data")
		_, err := Open(dir, Options{})
		checkErr(t, err, ErrDataDir, dir, []string{"DATA_DIR %DIR cannot be created (permission denied)"})
	})
	t.Run("DATA_DIR not writable", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		mkdir(t, dir)
		chmod(t, dir, 0o500)
		_, err := Open(dir, Options{})
		checkErr(t, err, ErrDataDir, dir, []string{"DATA_DIR %DIR is not writable (tickwatch.lock: permission denied)"})
	})
	t.Run("database file read-only", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		mkdir(t, dir)
		writeFile(t, filepath.Join(dir, FileName), nil)
		chmod(t, filepath.Join(dir, FileName), 0o400)
		_, err := Open(dir, Options{})
		checkErr(t, err, ErrReadOnly, dir, []string{"cannot write %DB", "give the tickwatch user write access"})
	})
}

// TestLockedByAnotherProgram: a foreign writer (a sqlite3 shell, say)
// holding the database's lock past the busy timeout is ErrBusy, at Open
// when a migration or the switch to WAL needs the lock, and on a write
// once open; both recover when the lock goes.
func TestLockedByAnotherProgram(t *testing.T) {
	const busy = 100 * time.Millisecond
	t.Run("at open", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		mkdir(t, dir)
		path := filepath.Join(dir, FileName)
		// A rollback-journal database with an exclusive lock held: even
		// reading its schema must wait.
		db, tx := rawLock(t, path, "PRAGMA journal_mode = DELETE", "CREATE TABLE other (x)")
		_, err := Open(dir, Options{BusyTimeout: busy})
		checkErr(t, err, ErrBusy, dir, []string{"%DB stayed locked by another program past the busy timeout", "close whatever holds it"})
		rawUnlock(t, db, tx)
		// The foreign table does not stop migration (application_id 0 is a
		// blank file to us): only the lock did.
		s, err := Open(dir, Options{BusyTimeout: busy})
		if err != nil {
			t.Fatalf("Open after unlock: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("on write", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		s, err := Open(dir, Options{BusyTimeout: busy})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := ctxT(t)
		db, tx := rawLock(t, s.Path())
		err = s.SetEnabled(ctx, "connection_1", false, "admin")
		checkErr(t, err, ErrBusy, dir, []string{"save connection_1 enabled=false", "%DB stayed locked"})
		// Reads still work while another program writes (WAL).
		if _, err := s.Overrides(ctx); err != nil {
			t.Errorf("read while locked: %v", err)
		}
		rawUnlock(t, db, tx)
		if err := s.SetEnabled(ctx, "connection_1", false, "admin"); err != nil {
			t.Fatalf("write after unlock: %v", err)
		}
	})
}

// withDB is a setup that makes DATA_DIR root/data and lets fill write its
// tickwatch.db.
func withDB(fill func(t *testing.T, db string)) func(t *testing.T, root string) string {
	return func(t *testing.T, root string) string {
		p := filepath.Join(root, "data")
		mkdir(t, p)
		fill(t, filepath.Join(p, FileName))
		return p
	}
}

// checkErr asserts err wraps want and its text holds each of msg (with
// %DIR / %DB replaced), and carries no raw driver text.
func checkErr(t *testing.T, err, want error, dir string, msg []string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v\nwant errors.Is %v", err, want)
	}
	text := err.Error()
	t.Logf("message: %s", text)
	for _, m := range msg {
		m = strings.ReplaceAll(m, "%DIR", dir)
		m = strings.ReplaceAll(m, "%DB", filepath.Join(dir, FileName))
		if !strings.Contains(text, m) {
			t.Errorf("error %q\nlacks %q", text, m)
		}
	}
	if strings.Contains(text, "SQLITE_") || strings.Contains(text, "(5)") || strings.Contains(text, "(26)") {
		t.Errorf("error %q carries raw driver text", text)
	}
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
}

// chmod changes p's mode and restores 0700 at cleanup so TempDir can go.
func chmod(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(p, 0o700) })
}

// rawOpen opens path with the bare driver: the "other program" of the tests.
func rawOpen(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, "_pragma=busy_timeout(5000)"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// rawExec runs statements on path with the bare driver.
func rawExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db := rawOpen(t, path)
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// rawLock runs setup statements, then holds an EXCLUSIVE transaction on
// path until rawUnlock.
func rawLock(t *testing.T, path string, setup ...string) (*sql.DB, *sql.Conn) {
	t.Helper()
	db := rawOpen(t, path)
	for _, q := range setup {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	return db, conn
}

func rawUnlock(t *testing.T, db *sql.DB, conn *sql.Conn) {
	t.Helper()
	if _, err := conn.ExecContext(context.Background(), "COMMIT"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	_ = db.Close()
}
