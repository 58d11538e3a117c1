package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/store"
)

// TestPrunerUsesBothRetentions: the running app prunes the audit log by
// AUDIT_RETENTION and resolved alerts by ALERT_RETENTION, each by its own
// variable (the two differ here, so crossed wiring fails), at start.
func TestPrunerUsesBothRetentions(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now()
	day := 24 * time.Hour
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []store.AuditEntry{
		{Time: now.Add(-400 * day), User: "admin", Action: "older than AUDIT_RETENTION"},
		{Time: now.Add(-100 * day), User: "admin", Action: "older than ALERT_RETENTION only"},
	} {
		if _, err := st.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	alert := func(id int64, resolvedAgo time.Duration) store.AlertRecord {
		resolved := now.Add(-resolvedAgo)
		return store.AlertRecord{ID: id, Key: "drops:reader", Kind: "drops", Src: "reader", Since: resolved.Add(-time.Hour),
			FiredAt: resolved.Add(-time.Hour), ResolvedAt: &resolved, Unit: "frames", Message: "dropped"}
	}
	for _, a := range []store.AlertRecord{alert(1, 100*day), alert(2, 10*day), alert(3, 200*day)} {
		if err := st.SaveAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	e := apptest.Start(t, apptest.Options{DataDir: dir, Environ: []string{"AUDIT_RETENTION=365d", "ALERT_RETENTION=30d"}})
	// Id 3 is the newest: it carries the id sequence and stays.
	testkit.WaitFor(t, 10*time.Second, "the prune log line", func() bool {
		return strings.Contains(e.Logs.String(), `"audit_deleted":1,"alerts_deleted":1,`)
	})
	e.Stop()

	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	alerts, err := st.ListAlerts(ctx, time.UnixMilli(0), store.MaxAuditPage)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, a := range alerts {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []int64{3, 2}) {
		t.Errorf("alerts left %v, want [3 2]", ids)
	}
	page, err := st.ListAudit(ctx, store.AuditFilter{User: "admin", Since: now.Add(-500 * day), Until: now.Add(-50 * day)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].Action != "older than ALERT_RETENTION only" {
		t.Errorf("audit left %+v, want only the 100-day-old entry", page.Entries)
	}
}
