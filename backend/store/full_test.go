package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestDiskFull: SQLITE_FULL (simulated with max_page_count on the writer
// connection, which is what a full volume looks like to SQLite) fails the
// action with ErrFull and a message saying what to do; nothing of the
// action is saved; reads go on; once space is back, writes work again.
func TestDiskFull(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	if err := s.AddTickers(ctx, "connection_1", []string{"AAPL"}, "admin"); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := s.w.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	setMaxPages(t, s, pages) // the file may not grow by a single page

	// Fill the free room left in existing pages, until the write that needs
	// a new page fails.
	var err error
	big := strings.Repeat("x", maxAuditField)
	for i := 0; i < 1000 && err == nil; i++ {
		_, err = s.AppendAudit(ctx, AuditEntry{User: "admin", Action: "fill", Detail: big})
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("writes never hit the limit; last error %v", err)
	}
	msg := err.Error()
	t.Logf("message: %s", msg)
	for _, want := range []string{`save audit entry "fill"`, s.Path() + " cannot grow", "free disk space", "nothing was saved"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q", want)
		}
	}
	if strings.Contains(msg, "SQLITE") || strings.Contains(msg, "(13)") {
		t.Errorf("message carries driver text: %s", msg)
	}

	// An admin action of many tickers fails whole, with ErrFull.
	many := make([]string, 500)
	for i := range many {
		many[i] = fmt.Sprintf("SYM%03d", i)
	}
	if err := s.AddTickers(ctx, "connection_2", many, "admin"); !errors.Is(err, ErrFull) {
		t.Fatalf("AddTickers on a full disk = %v, want ErrFull", err)
	}
	ov, err := s.Overrides(ctx)
	if err != nil {
		t.Fatalf("read while full: %v", err)
	}
	if len(ov) != 1 || ov[0].ConnectionID != "connection_1" {
		t.Errorf("a failed action left overrides behind: %+v", ov)
	}
	if _, err := s.ListAudit(ctx, AuditFilter{Limit: 1}); err != nil {
		t.Errorf("audit read while full: %v", err)
	}

	// Space comes back: the same connection writes again.
	setMaxPages(t, s, 1<<30)
	if err := s.AddTickers(ctx, "connection_2", many, "admin"); err != nil {
		t.Fatalf("after space was freed: %v", err)
	}
	if _, err := s.AppendAudit(ctx, AuditEntry{User: "admin", Action: "after"}); err != nil {
		t.Fatalf("after space was freed: %v", err)
	}
	if ov, _ := s.Overrides(ctx); len(ov) != 2 || len(ov[1].Tickers) != len(many) {
		t.Errorf("overrides after recovery: %d connections", len(ov))
	}
}

// setMaxPages caps the database's size on the single writer connection.
func setMaxPages(t *testing.T, s *Store, n int) {
	t.Helper()
	var got int
	if err := s.w.QueryRow(fmt.Sprintf("PRAGMA max_page_count = %d", n)).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got < n && n < 1<<30 {
		t.Fatalf("max_page_count = %d, asked %d", got, n)
	}
}
