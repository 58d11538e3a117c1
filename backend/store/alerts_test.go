package store

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestAlertHistory(t *testing.T) {
	s, _ := openT(t, t.TempDir())
	ctx := ctxT(t)
	if id, err := s.LastAlertID(ctx); err != nil || id != 0 {
		t.Fatalf("empty history: last id %d, %v", id, err)
	}
	fired := time.UnixMilli(1796117520000).UTC()
	a := AlertRecord{ID: 5, Key: "ticker_silent:connection_1:AAPL", Kind: "ticker_silent", ConnectionID: "connection_1",
		Ticker: "AAPL", Since: fired.Add(-2 * time.Minute), FiredAt: fired, Value: 120, Threshold: 60, Unit: "seconds", Message: "no event"}
	if err := s.SaveAlert(ctx, a); err != nil {
		t.Fatal(err)
	}
	// The same incident again: acknowledged, then a second one left open.
	ack := fired.Add(time.Minute)
	a.AckedBy, a.AckedAt, a.Value = "admin", &ack, 180
	if err := s.SaveAlert(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := a
	b.ID, b.AckedBy, b.AckedAt = 6, "", nil
	if err := s.SaveAlert(ctx, b); err != nil {
		t.Fatal(err)
	}
	if id, _ := s.LastAlertID(ctx); id != 6 {
		t.Errorf("last id %d, want 6", id)
	}
	// The engine resolves what a previous run left firing one by one, as
	// it does any incident: SaveAlert with the resolution.
	end := fired.Add(time.Hour)
	for _, r := range []AlertRecord{a, b} {
		r.ResolvedAt = &end
		if err := s.SaveAlert(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListAlerts(ctx, fired, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != 6 || list[1].ID != 5 {
		t.Fatalf("list %+v", list)
	}
	got := list[1]
	if got.AckedBy != "admin" || got.AckedAt == nil || !got.AckedAt.Equal(ack) || got.Value != 180 ||
		got.ResolvedAt == nil || !got.ResolvedAt.Equal(end) || got.Ticker != "AAPL" || !got.Since.Equal(a.Since) {
		t.Errorf("stored %+v", got)
	}
	if list[0].AckedBy != "" || list[0].AckedAt != nil {
		t.Errorf("unacknowledged incident reads back as %+v", list[0])
	}
}

// resolvedAlert is incident id fired a minute before it resolved at resolved
// (nil: still firing, fired at fired).
func resolvedAlert(id int64, fired time.Time, resolved *time.Time) AlertRecord {
	return AlertRecord{ID: id, Key: fmt.Sprintf("drops:connection_1:%d", id), Kind: "drops", ConnectionID: "connection_1",
		Since: fired.Add(-time.Minute), FiredAt: fired, ResolvedAt: resolved, Value: 3, Threshold: 1, Unit: "frames", Message: "dropped"}
}

func at(t time.Time) *time.Time { return &t }

// alertIDs lists the ids in the history, newest first.
func alertIDs(t *testing.T, s *Store) []int64 {
	t.Helper()
	list, err := s.ListAlerts(ctxT(t), time.UnixMilli(0), MaxAuditPage)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{}
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestAlertPrune(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	cut := t0.Add(-DefaultAlertRetention)
	day := 24 * time.Hour
	for _, a := range []AlertRecord{
		resolvedAlert(1, cut.Add(-10*day), at(cut.Add(-9*day))),               // resolved long ago: goes
		resolvedAlert(2, cut.Add(-400*day), nil),                              // firing for over a year: stays
		resolvedAlert(3, cut.Add(-2*day), at(cut.Add(time.Millisecond))),      // fired before the cut, resolved after: stays
		resolvedAlert(4, cut.Add(-time.Hour), at(cut)),                        // resolved exactly at the cut: stays
		resolvedAlert(5, cut.Add(-time.Hour), at(cut.Add(-time.Millisecond))), // just before the cut: goes
		resolvedAlert(6, t0.Add(-time.Hour), at(t0.Add(-time.Minute))),        // recent: stays
		resolvedAlert(7, cut.Add(-3*day), nil),                                // firing: stays
		resolvedAlert(8, t0, nil),                                             // newest, firing: stays
	} {
		if err := s.SaveAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneAlerts(ctx, cut)
	if err != nil || n != 2 {
		t.Fatalf("PruneAlerts = %d, %v; want 2", n, err)
	}
	if got, want := alertIDs(t, s), []int64{8, 7, 6, 4, 3, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}
	if n, err := s.PruneAlerts(ctx, cut); err != nil || n != 0 {
		t.Errorf("second PruneAlerts = %d, %v; want 0", n, err)
	}
	// Firing rows stay whatever the cut-off, even one in the future.
	if n, err := s.PruneAlerts(ctx, t0.Add(day)); err != nil || n != 3 {
		t.Errorf("PruneAlerts(tomorrow) = %d, %v; want 3 (ids 3, 4, 6)", n, err)
	}
	if got, want := alertIDs(t, s), []int64{8, 7, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("left %v, want the firing %v", got, want)
	}
}

func TestAlertPruneBatches(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	// More old rows than one batch, then a few recent ones and one firing.
	const old, recent = 2*pruneBatch + 500, 5
	insertRows(t, s, old+recent+1, `INSERT INTO alerts (id, dedup_key, kind, conn_id, ticker, source, since_ms, fired_ms, resolved_ms, value, threshold, unit, message)
VALUES (?, 'k', 'drops', 'connection_1', '', '', ?, ?, ?, 1, 1, 'frames', '')`, func(i int) []any {
		fired := t0.Add(-100 * 24 * time.Hour)
		var resolved any = ms(fired.Add(time.Minute))
		switch {
		case i == old+recent:
			resolved = nil // the newest, still firing
		case i >= old:
			resolved = ms(t0.Add(-time.Duration(i-old) * time.Hour))
		}
		return []any{i + 1, ms(fired), ms(fired), resolved}
	})
	n, err := s.PruneAlerts(ctx, t0.Add(-DefaultAlertRetention))
	if err != nil || n != old {
		t.Fatalf("PruneAlerts = %d, %v; want %d", n, err, old)
	}
	if got := alertIDs(t, s); len(got) != recent+1 || got[0] != old+recent+1 || got[recent] != old+1 {
		t.Errorf("left %v, want ids %d..%d", got, old+1, old+recent+1)
	}
}

// TestAlertPruneKeepsIDSequence: ids come from LastAlertID (max(id)), so a
// prune must not let a restarted server reuse one, even when every incident
// was resolved long ago.
func TestAlertPruneKeepsIDSequence(t *testing.T) {
	dir := t.TempDir()
	s, _ := openT(t, dir)
	ctx := ctxT(t)
	old := t0.Add(-200 * 24 * time.Hour)
	for id := int64(1); id <= 3; id++ {
		if err := s.SaveAlert(ctx, resolvedAlert(id, old, at(old.Add(time.Hour)))); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneAlerts(ctx, t0.Add(-DefaultAlertRetention))
	if err != nil || n != 2 {
		t.Fatalf("PruneAlerts = %d, %v; want 2 (the newest carries the sequence)", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: the sequence goes on from 3; the next incident is 4.
	s, _ = openT(t, dir)
	if id, err := s.LastAlertID(ctx); err != nil || id != 3 {
		t.Fatalf("LastAlertID after prune and reopen = %d, %v; want 3", id, err)
	}
	if err := s.SaveAlert(ctx, resolvedAlert(4, old, at(old.Add(time.Hour)))); err != nil {
		t.Fatal(err)
	}
	// Now 3 may go (4 carries the sequence), and 4 stays however old.
	if n, err := s.PruneAlerts(ctx, t0); err != nil || n != 1 {
		t.Fatalf("PruneAlerts = %d, %v; want 1", n, err)
	}
	if got := alertIDs(t, s); !reflect.DeepEqual(got, []int64{4}) {
		t.Errorf("left %v, want [4]", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, _ = openT(t, dir)
	if id, err := s.LastAlertID(ctx); err != nil || id != 4 {
		t.Errorf("LastAlertID after the second prune and reopen = %d, %v; want 4", id, err)
	}
}

// TestRecentAlerts: what a restarted engine loads is every incident still
// firing, however old, and those resolved at or after the cut, oldest id
// first; older resolved ones stay in the history only.
func TestRecentAlerts(t *testing.T) {
	s, _ := openT(t, t.TempDir())
	ctx := ctxT(t)
	cut := t0.Add(-time.Hour)
	recs := []AlertRecord{
		resolvedAlert(1, t0.Add(-48*time.Hour), nil),                          // firing for two days: loaded
		resolvedAlert(2, cut.Add(-time.Hour), at(cut.Add(-time.Minute))),      // resolved before the cut
		resolvedAlert(3, cut.Add(-time.Hour), at(cut)),                        // exactly at the cut: loaded
		resolvedAlert(4, t0.Add(-time.Hour), at(t0.Add(-10*time.Minute))),     // recently resolved: loaded
		resolvedAlert(5, t0.Add(-time.Minute), nil),                           // firing: loaded
		resolvedAlert(6, cut.Add(-time.Hour), at(cut.Add(-time.Millisecond))), // just before the cut
	}
	for _, r := range recs {
		if err := s.SaveAlert(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.RecentAlerts(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{}
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	if want := []int64{1, 3, 4, 5}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("recent alerts %v, want %v", ids, want)
	}
	if got[0].ResolvedAt != nil || got[2].ResolvedAt == nil || !got[2].ResolvedAt.Equal(*recs[3].ResolvedAt) || got[2].Key != recs[3].Key {
		t.Errorf("rows read back as %+v", got)
	}
}
