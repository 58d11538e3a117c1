package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

// insertRows runs insert n times with args(i), in one transaction, so that a
// test needing more rows than a prune batch does not fsync thousands of times.
func insertRows(t *testing.T, s *Store, n int, insert string, args func(i int) []any) {
	t.Helper()
	ctx := ctxT(t)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	for i := range n {
		if _, err := tx.ExecContext(ctx, insert, args(i)...); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestRunPrunerRefusesNonPositiveSettings(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	ok := Retention{Audit: time.Hour, Alerts: time.Hour}
	for _, tc := range []struct {
		name  string
		r     Retention
		every time.Duration
	}{
		{"zero audit retention", Retention{Alerts: time.Hour}, time.Second},
		{"zero alert retention", Retention{Audit: time.Hour}, time.Second},
		{"negative alert retention", Retention{Audit: time.Hour, Alerts: -time.Hour}, time.Second},
		{"zero interval", ok, 0},
	} {
		if err := s.RunPruner(ctx, tc.r, tc.every); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: RunPruner = %v, want ErrInvalid", tc.name, err)
		}
	}
}

// startPruner opens a store in dir with a fake clock and a captured log, and
// seeds it with one audit entry and one resolved incident from 2h ago, plus
// a firing incident now (the newest id, which a prune always keeps).
func startPruner(t *testing.T) (*Store, *testkit.Clock, *testkit.SyncBuffer) {
	t.Helper()
	clk := testkit.NewClock(t0)
	logs := &testkit.SyncBuffer{}
	s, err := Open(t.TempDir(), Options{Now: clk.Now, Log: zerolog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := ctxT(t)
	old := t0.Add(-2 * time.Hour)
	if _, err := s.AppendAudit(ctx, AuditEntry{Time: old, User: "u", Action: "old"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendAudit(ctx, AuditEntry{Time: t0, User: "u", Action: "new"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []AlertRecord{resolvedAlert(1, old.Add(-time.Minute), at(old)), resolvedAlert(2, t0, nil)} {
		if err := s.SaveAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	return s, clk, logs
}

// runPruner runs RunPruner with 3h retentions, ticking every 5ms, until the
// returned stop is called.
func runPruner(t *testing.T, s *Store) (stop func()) {
	runCtx, cancel := context.WithCancel(ctxT(t))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.RunPruner(runCtx, Retention{Audit: 3 * time.Hour, Alerts: 3 * time.Hour}, 5*time.Millisecond); err != nil {
			t.Errorf("RunPruner: %v", err)
		}
	}()
	return func() { cancel(); wg.Wait() }
}

func auditCount(t *testing.T, s *Store) int {
	page, err := s.ListAudit(ctxT(t), AuditFilter{})
	if err != nil {
		t.Error(err)
	}
	return len(page.Entries)
}

func TestRunPruner(t *testing.T) {
	s, clk, logs := startPruner(t)
	stop := runPruner(t, s)
	defer stop()
	// Retention 3h keeps everything at first; once the clock moves 2h on,
	// the old entry and the old incident are 4h old and the next tick
	// prunes both, in one run (one clock reading per run).
	clk.Advance(2 * time.Hour)
	testkit.WaitFor(t, 10*time.Second, "the old entry and incident pruned", func() bool {
		return auditCount(t, s) == 1 && len(alertIDs(t, s)) == 1
	})
	stop()
	if got := alertIDs(t, s); got[0] != 2 {
		t.Errorf("left incident %v, want the firing one, 2", got)
	}
	out := logs.String()
	if c := strings.Count(out, "history pruned"); c != 1 {
		t.Errorf("%d prune log lines, want 1 (only runs that deleted something log): %s", c, out)
	}
	// A duration field names its unit (zerolog's Dur writes milliseconds).
	want := `"level":"info","audit_deleted":1,"alerts_deleted":1,"audit_retention_ms":10800000,"alert_retention_ms":10800000`
	if !strings.Contains(out, want) {
		t.Errorf("prune log line lacks %s: %s", want, out)
	}
}

// TestRunPrunerGoesOnAfterAFailure: when one history cannot be pruned, the
// other still is, the failure is logged, and the pruner keeps running.
func TestRunPrunerGoesOnAfterAFailure(t *testing.T) {
	s, clk, logs := startPruner(t)
	if _, err := s.w.ExecContext(ctxT(t), `DROP TABLE audit`); err != nil {
		t.Fatal(err)
	}
	stop := runPruner(t, s)
	defer stop()
	clk.Advance(2 * time.Hour)
	testkit.WaitFor(t, 10*time.Second, "the old incident pruned", func() bool { return len(alertIDs(t, s)) == 1 })
	testkit.WaitFor(t, 10*time.Second, "a second failed run", func() bool {
		return strings.Count(logs.String(), "prune failed") >= 2
	})
	stop()
	out := logs.String()
	if !strings.Contains(out, `"level":"warn"`) || !strings.Contains(out, "prune audit entries before") {
		t.Errorf("failure not logged as a warning naming the audit prune: %s", out)
	}
	if !strings.Contains(out, `"audit_deleted":0,"alerts_deleted":1`) {
		t.Errorf("no prune line for the alerts: %s", out)
	}
}
