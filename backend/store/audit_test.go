package store

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAuditAppendRoundTrip(t *testing.T) {
	s, clk := openT(t, "")
	ctx := ctxT(t)
	e := AuditEntry{User: "alice", Role: "admin", Action: "add_tickers", Target: "connection_2",
		Result: "ok", Detail: "NVDA,AMD", ClientIP: "192.0.2.7"}
	id, err := s.AppendAudit(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	stamped := e
	stamped.Time = t0.Add(-time.Hour)
	if _, err := s.AppendAudit(ctx, stamped); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListAudit(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 2 || page.NextBeforeID != 0 {
		t.Fatalf("page = %+v", page)
	}
	want := e
	want.ID, want.Time = id, t0 // zero Time: stamped with the store's clock
	if got := page.Entries[1]; !reflect.DeepEqual(got, want) {
		t.Errorf("entry\n got %+v\nwant %+v", got, want)
	}
	if got := page.Entries[0].Time; !got.Equal(t0.Add(-time.Hour)) {
		t.Errorf("caller's Time not kept: %s", got)
	}
}

func TestAuditClipsLongFields(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	// A list of 5000 tickers (about 30 KB) is kept whole: the 1 KiB bound
	// of the short fields once cut such a detail after ~200 tickers.
	var syms []string
	for i := range 5000 {
		syms = append(syms, fmt.Sprintf("T%04d", i))
	}
	whole := "tickers: " + strings.Join(syms, ",")
	// Past MaxAuditDetail, the cut says so. A 3-byte rune straddles the
	// cut of the short field: it must be dropped, not split.
	long := strings.Repeat("x", 2*MaxAuditDetail)
	user := strings.Repeat("a", maxAuditField-1) + "€" + strings.Repeat("b", 50)
	for _, e := range []AuditEntry{{User: "u", Action: "x", Detail: whole}, {User: user, Action: "y", Detail: long}} {
		if _, err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.ListAudit(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := page.Entries[1].Detail; got != whole {
		t.Errorf("detail of %d bytes stored as %d bytes", len(whole), len(got))
	}
	got := page.Entries[0]
	if len(got.Detail) > MaxAuditDetail || !strings.HasSuffix(got.Detail, fmt.Sprintf("… (truncated: %d more bytes not stored)", 2*MaxAuditDetail-(MaxAuditDetail-64))) {
		t.Errorf("over-long detail: %d bytes ending %q", len(got.Detail), got.Detail[len(got.Detail)-60:])
	}
	if want := strings.Repeat("a", maxAuditField-1) + "…"; got.User != want {
		t.Errorf("clipped user has %d bytes, want %d (%q...)", len(got.User), len(want), got.User[len(got.User)-8:])
	}
}

// TestAuditConnectionFilter: the connection filter finds an entry whose
// target is that connection or a list naming it, and no other.
func TestAuditConnectionFilter(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	targets := []string{"connection_2", "connection_1,connection_2,connection_3", "connection_12", "connection_1", "token 2 twt_ab"}
	for _, tg := range targets {
		if _, err := s.AppendAudit(ctx, AuditEntry{User: "u", Action: "subscribe", Target: tg}); err != nil {
			t.Fatal(err)
		}
	}
	for conn, want := range map[string][]string{
		"connection_2":  {targets[1], targets[0]},
		"connection_1":  {targets[3], targets[1]},
		"connection_12": {targets[2]},
		"connection_3":  {targets[1]},
		"connection_4":  nil,
	} {
		page, err := s.ListAudit(ctx, AuditFilter{Connection: conn})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range page.Entries {
			got = append(got, e.Target)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("connection %s: %q, want %q", conn, got, want)
		}
	}
}

func TestAuditListFiltersAndPages(t *testing.T) {
	s, clk := openT(t, "")
	ctx := ctxT(t)
	// 30 entries, one a minute: users alternate, actions cycle over 3,
	// targets over 2.
	actions := []string{"enable", "disable", "add_tickers"}
	var ids []int64
	for i := range 30 {
		id, err := s.AppendAudit(ctx, AuditEntry{
			User: []string{"alice", "bob"}[i%2], Action: actions[i%3],
			Target: fmt.Sprintf("connection_%d", i%2+1), Result: "ok",
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		clk.Advance(time.Minute)
	}
	cases := []struct {
		name string
		f    AuditFilter
		want []int // indexes into ids, newest first
	}{
		{"user", AuditFilter{User: "bob", Limit: 3}, []int{29, 27, 25}},
		{"action", AuditFilter{Action: "disable", Limit: 2}, []int{28, 25}},
		{"target and user", AuditFilter{Target: "connection_1", User: "alice", Limit: 2}, []int{28, 26}},
		{"since is inclusive", AuditFilter{Since: t0.Add(27 * time.Minute)}, []int{29, 28, 27}},
		{"until is exclusive", AuditFilter{Until: t0.Add(2 * time.Minute)}, []int{1, 0}},
		{"window", AuditFilter{Since: t0.Add(10 * time.Minute), Until: t0.Add(12 * time.Minute)}, []int{11, 10}},
		{"cursor", AuditFilter{BeforeID: ids[5]}, []int{4, 3, 2, 1, 0}},
		{"no match", AuditFilter{User: "mallory"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListAudit(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, e := range page.Entries {
				got = append(got, int(e.ID-ids[0]))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// Paging through everything with the cursor: 10 + 10 + 10, no
	// duplicates, no gaps, and no cursor after the last page.
	var seen []int64
	f := AuditFilter{Limit: 10}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("paging did not end")
		}
		page, err := s.ListAudit(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			seen = append(seen, e.ID)
		}
		if page.NextBeforeID == 0 {
			break
		}
		f.BeforeID = page.NextBeforeID
	}
	if len(seen) != 30 || seen[0] != ids[29] || seen[29] != ids[0] {
		t.Errorf("paged %d entries from %v to %v", len(seen), seen[0], seen[len(seen)-1])
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] != seen[i-1]-1 {
			t.Fatalf("gap or repeat at %d: %v", i, seen)
		}
	}

	// The default page and the cap.
	if page, _ := s.ListAudit(ctx, AuditFilter{}); len(page.Entries) != 30 {
		t.Errorf("default page held %d", len(page.Entries))
	}
	if page, _ := s.ListAudit(ctx, AuditFilter{Limit: MaxAuditPage * 10}); len(page.Entries) != 30 {
		t.Errorf("huge limit page held %d", len(page.Entries))
	}
}

func TestAuditPrune(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	// More old rows than one prune batch.
	const old, recent = 2*pruneBatch + 500, 7
	insertRows(t, s, old+recent, `INSERT INTO audit (at_ms, user, role, action, target, result, detail, client_ip)
VALUES (?, 'u', '', 'a', '', 'ok', '', '')`, func(i int) []any {
		at := t0.Add(-100 * 24 * time.Hour) // older than 90 days
		if i >= old {
			at = t0.Add(-time.Duration(i-old) * time.Hour)
		}
		return []any{ms(at)}
	})
	n, err := s.PruneAudit(ctx, t0.Add(-DefaultAuditRetention))
	if err != nil || n != old {
		t.Fatalf("PruneAudit = %d, %v; want %d", n, err, old)
	}
	page, err := s.ListAudit(ctx, AuditFilter{Limit: MaxAuditPage})
	if err != nil || len(page.Entries) != recent {
		t.Fatalf("left %d entries, %v; want %d", len(page.Entries), err, recent)
	}
	if n, err := s.PruneAudit(ctx, t0.Add(-DefaultAuditRetention)); err != nil || n != 0 {
		t.Errorf("second PruneAudit = %d, %v; want 0", n, err)
	}
	// Ids are never reused after a prune (AUTOINCREMENT): a cursor held
	// across a prune cannot point at a newer entry.
	id, err := s.AppendAudit(ctx, AuditEntry{User: "u", Action: "a"})
	if err != nil || id <= page.Entries[0].ID {
		t.Errorf("new id %d after prune, newest before %d", id, page.Entries[0].ID)
	}
}
