package store

import (
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
	end := fired.Add(time.Hour)
	if n, err := s.ResolveOpenAlerts(ctx, end); err != nil || n != 2 {
		t.Fatalf("resolve open: %d, %v; want 2", n, err)
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
