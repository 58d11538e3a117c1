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
	// A 3-byte rune straddles the cut: it must be dropped, not split.
	detail := strings.Repeat("a", maxAuditField-1) + "€" + strings.Repeat("b", 5000)
	if _, err := s.AppendAudit(ctx, AuditEntry{User: "u", Action: "x", Detail: detail}); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListAudit(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := page.Entries[0].Detail, strings.Repeat("a", maxAuditField-1)+"…"; got != want {
		t.Errorf("clipped detail has %d bytes, want %d (%q...)", len(got), len(want), got[len(got)-8:])
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
