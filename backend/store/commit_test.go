package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCommitAppliesInOrderWithItsAuditEntry: Reset, Remove, Add, Enabled in
// that order, stamped with the entry's user and time, and the entry saved.
func TestCommitAppliesInOrderWithItsAuditEntry(t *testing.T) {
	s, clk := openT(t, "")
	ctx := ctxT(t)
	if err := s.AddTickers(ctx, "connection_2", []string{"OLD"}, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveTickers(ctx, "connection_1", []string{"AAPL"}, "bob"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	id, err := s.Commit(ctx, Change{
		Reset:   []string{"connection_2"},
		Remove:  map[string][]string{"connection_2": {"GOOGL"}},
		Add:     map[string][]string{"connection_1": {"AAPL", "TSLA"}, "connection_3": {}},
		Enabled: map[string]bool{"connection_3": false},
	}, AuditEntry{User: "alice", Role: "admin", Action: "reset", Target: "connection_2", Result: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	ov, err := s.Overrides(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now().UTC()
	want := []ConnOverride{
		// The add of AAPL cancelled bob's removal; TSLA is new.
		{ConnectionID: "connection_1", Tickers: []TickerOverride{{Symbol: "TSLA", Op: TickerAdded, By: "alice", At: now}}},
		// Reset dropped OLD before the removal was recorded.
		{ConnectionID: "connection_2", Tickers: []TickerOverride{{Symbol: "GOOGL", Op: TickerRemoved, By: "alice", At: now}}},
		{ConnectionID: "connection_3", Enabled: &EnabledOverride{Enabled: false, By: "alice", At: now}},
	}
	if !reflect.DeepEqual(ov, want) {
		t.Errorf("overrides\n got %+v\nwant %+v", ov, want)
	}
	page, err := s.ListAudit(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].ID != id || page.Entries[0].Action != "reset" || !page.Entries[0].Time.Equal(now) {
		t.Errorf("audit = %+v, want the reset entry with id %d", page.Entries, id)
	}
}

// TestCommitSavesEveryEntry: an action that touched several connections
// saves one entry per connection, all with the first entry's time, in the
// order given, and returns the first entry's id.
func TestCommitSavesEveryEntry(t *testing.T) {
	s, clk := openT(t, "")
	ctx := ctxT(t)
	clk.Advance(time.Minute)
	e := func(target, detail string) AuditEntry {
		return AuditEntry{User: "alice", Action: "subscribe", Target: target, Result: "ok", Detail: detail}
	}
	id, err := s.Commit(ctx, Change{Add: map[string][]string{"connection_1": {"A"}, "connection_2": {"B", "C"}}},
		e("connection_1", "tickers: A"), e("connection_2", "tickers: B,C"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.ListAudit(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range page.Entries {
		if !en.Time.Equal(clk.Now()) {
			t.Errorf("entry %d time %s, want %s", en.ID, en.Time, clk.Now())
		}
		got = append(got, fmt.Sprintf("%d %s %s", en.ID-id, en.Target, en.Detail))
	}
	if want := []string{"1 connection_2 tickers: B,C", "0 connection_1 tickers: A"}; !reflect.DeepEqual(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
}

// TestCommitRefusesBadIDsBeforeWriting: nothing is saved, not even the entry.
func TestCommitRefusesBadIDsBeforeWriting(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	for name, c := range map[string]Change{
		"reset":   {Reset: []string{""}},
		"remove":  {Remove: map[string][]string{"connection_1": {" AAPL"}}},
		"add":     {Add: map[string][]string{strings.Repeat("c", 65): {"AAPL"}}},
		"enabled": {Enabled: map[string]bool{"": true}},
	} {
		if _, err := s.Commit(ctx, c, AuditEntry{User: "u", Action: name}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if page, _ := s.ListAudit(ctx, AuditFilter{}); len(page.Entries) != 0 {
		t.Errorf("refused commits left audit entries: %+v", page.Entries)
	}
}

// TestCommitOnFullDiskSavesNothing: the overrides and the audit entry of
// an action go together; with the file capped through Options.MaxPageCount
// (as the app's tests use it), a large action fails whole with ErrFull.
func TestCommitOnFullDiskSavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, _ := openT(t, dir)
	ctx := ctxT(t)
	var pages int
	if err := s.w.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{MaxPageCount: pages})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	many := make([]string, 300)
	for i := range many {
		many[i] = fmt.Sprintf("SYM%03d", i)
	}
	_, err = s.Commit(ctx, Change{Add: map[string][]string{"connection_1": many}}, AuditEntry{User: "u", Action: "subscribe"})
	if !errors.Is(err, ErrFull) {
		t.Fatalf("Commit on a capped file = %v, want ErrFull", err)
	}
	if !strings.Contains(err.Error(), `save "subscribe"`) {
		t.Errorf("message does not name the action: %s", err)
	}
	ov, err := s.Overrides(ctx)
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.ListAudit(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ov) != 0 || len(page.Entries) != 0 {
		t.Errorf("a failed commit left %d overrides and %d audit entries", len(ov), len(page.Entries))
	}
}
