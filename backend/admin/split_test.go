package admin

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tickwatch/tickwatch/backend/store"
)

// TestSplitDetail: a detail within the store's bound stays one entry; a
// longer one becomes parts that each fit, are labelled, keep every ticker
// whole and, joined, give the list back.
func TestSplitDetail(t *testing.T) {
	var syms []string
	for i := range 20000 { // ~140 KB: three parts
		syms = append(syms, fmt.Sprintf("S%05d", i))
	}
	for _, tc := range []struct {
		name   string
		detail string
		parts  int
	}{
		{"short", "tickers: AAPL,MSFT", 1},
		{"at the bound", strings.Repeat("x", store.MaxAuditDetail), 1},
		{"long list", "via API token twt_ab (ci); tickers: " + strings.Join(syms, ","), 3},
		{"no separator", strings.Repeat("é", store.MaxAuditDetail), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := AuditEntry{User: "u", Action: ActionReset, Target: "connection_2", Result: "ok", Detail: tc.detail}
			out := splitDetail(e)
			if len(out) != tc.parts {
				t.Fatalf("%d parts, want %d", len(out), tc.parts)
			}
			if tc.parts == 1 {
				if out[0] != e {
					t.Fatalf("entry changed: %+v", out[0])
				}
				return
			}
			var joined []string
			for i, p := range out {
				label := fmt.Sprintf("(part %d of %d) ", i+1, tc.parts)
				if len(p.Detail) > store.MaxAuditDetail || !strings.HasPrefix(p.Detail, label) || p.Target != e.Target || p.Action != e.Action {
					t.Fatalf("part %d: %d bytes, target %q, starts %q", i, len(p.Detail), p.Target, p.Detail[:30])
				}
				joined = append(joined, strings.TrimPrefix(p.Detail, label))
			}
			// A cut after a comma loses nothing; one after "; " drops
			// the space.
			if got := strings.Join(joined, ""); strings.ReplaceAll(got, "; ", ";") != strings.ReplaceAll(tc.detail, "; ", ";") {
				t.Errorf("joined parts differ from the detail (%d vs %d bytes)", len(got), len(tc.detail))
			}
		})
	}
}
