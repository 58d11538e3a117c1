package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fillForBackup writes one of everything and returns the token plaintext.
func fillForBackup(t *testing.T, s *Store) string {
	t.Helper()
	ctx := ctxT(t)
	if err := s.AddTickers(ctx, "connection_2", []string{"NVDA"}, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendAudit(ctx, AuditEntry{User: "admin", Action: "add_tickers", Target: "connection_2", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	plain, _, err := s.CreateToken(ctx, "admin", "admin", "backup-check", nil)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// checkBackupCopy opens the copy as a DATA_DIR of its own and checks it
// holds what fillForBackup wrote.
func checkBackupCopy(t *testing.T, copyPath, token string) {
	t.Helper()
	fi, err := os.Stat(copyPath)
	if err != nil {
		t.Fatalf("no backup at %s: %v", copyPath, err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %o, want 600", fi.Mode().Perm())
	}
	dir := filepath.Join(t.TempDir(), "restored")
	mkdir(t, dir)
	if err := os.Rename(copyPath, filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	r, _ := openT(t, dir)
	ctx := ctxT(t)
	ov, err := r.Overrides(ctx)
	if err != nil || len(ov) != 1 || ov[0].Tickers[0].Symbol != "NVDA" {
		t.Errorf("restored overrides = %+v, %v", ov, err)
	}
	page, err := r.ListAudit(ctx, AuditFilter{})
	if err != nil || len(page.Entries) != 1 {
		t.Errorf("restored audit = %+v, %v", page, err)
	}
	if _, err := r.LookupToken(ctx, token); err != nil {
		t.Errorf("restored token: %v", err)
	}
}

func TestBackupFromOpenStore(t *testing.T) {
	s, _ := openT(t, "")
	token := fillForBackup(t, s)
	ctx := ctxT(t)
	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, dest); err != nil {
		t.Fatal(err)
	}
	// The store keeps working after a backup.
	if err := s.SetEnabled(ctx, "connection_1", false, "admin"); err != nil {
		t.Fatal(err)
	}
	// No temporary file left beside the copy.
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".*partial*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	checkBackupCopy(t, dest, token)
}

// TestBackupFileFromAnotherProcess is `tickwatch backup PATH` while the
// server runs: a second process (this test binary, re-executed) copies the
// database that store A holds open and locked.
func TestBackupFileFromAnotherProcess(t *testing.T) {
	s, _ := openT(t, "")
	token := fillForBackup(t, s)
	dest := filepath.Join(t.TempDir(), "backup.db")

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envBackupSrc+"="+DBPath(s.Dir()), envBackupDest+"="+dest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("backup process: %v\n%s", err, out)
	}
	// A still has it open and can write.
	if _, err := s.AppendAudit(ctxT(t), AuditEntry{User: "admin", Action: "after-backup"}); err != nil {
		t.Fatal(err)
	}
	checkBackupCopy(t, dest, token)
}

func TestBackupFileInProcessWhileOpen(t *testing.T) {
	s, _ := openT(t, "")
	token := fillForBackup(t, s)
	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := BackupFile(ctxT(t), DBPath(s.Dir()), dest); err != nil {
		t.Fatal(err)
	}
	checkBackupCopy(t, dest, token)
}

func TestBackupRefusals(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	tmp := t.TempDir()
	existing := filepath.Join(tmp, "exists.db")
	writeFile(t, existing, []byte("keep me"))
	notDB := filepath.Join(tmp, "notes.txt")
	writeFile(t, notDB, []byte("just some text, long enough to not be mistaken for an empty database file"))

	cases := []struct {
		name string
		run  func() error
		want error
		msg  string
	}{
		{"store backup over an existing file", func() error { return s.Backup(ctx, existing) },
			ErrBackupExists, existing + " already exists; backups never overwrite"},
		{"file backup over an existing file", func() error { return BackupFile(ctx, DBPath(s.Dir()), existing) },
			ErrBackupExists, existing + " already exists"},
		{"destination directory missing", func() error { return s.Backup(ctx, filepath.Join(tmp, "no", "b.db")) },
			ErrInvalid, "directory " + filepath.Join(tmp, "no") + " does not exist"},
		{"empty destination", func() error { return s.Backup(ctx, "") }, ErrInvalid, "no destination path given"},
		{"no database at the source", func() error {
			return BackupFile(ctx, filepath.Join(tmp, "none", FileName), filepath.Join(tmp, "b1.db"))
		},
			ErrNotFound, "no tickwatch database at " + filepath.Join(tmp, "none", FileName)},
		{"source is DATA_DIR itself", func() error { return BackupFile(ctx, s.Dir(), filepath.Join(tmp, "b2.db")) },
			ErrInvalid, "is a directory; pass DATA_DIR/tickwatch.db"},
		{"source is not a database", func() error { return BackupFile(ctx, notDB, filepath.Join(tmp, "b3.db")) },
			ErrCorrupt, notDB + " is damaged or is not a database"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v\nwant %v containing %q", err, tc.want, tc.msg)
			}
			t.Logf("message: %s", err)
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Errorf("existing file changed: %q", b)
	}
	for _, n := range []string{"b1.db", "b2.db", "b3.db"} {
		if _, err := os.Stat(filepath.Join(tmp, n)); err == nil {
			t.Errorf("failed backup left %s", n)
		}
	}
}
