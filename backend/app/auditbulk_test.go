package app_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
)

// TestBulkSubscribeAudit: a subscribe of 500 tickers placed by the manager
// over three connections is audited one entry per connection, each with
// its own target and its whole ticker list, so ?connection=N finds what
// went to N and the entries together name all 500.
func TestBulkSubscribeAudit(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	waitConnected(t, e, 2)
	mustDo(t, e, "POST", "/api/admin/connections/3/enable", "")
	var syms []string
	for i := range 500 {
		syms = append(syms, fmt.Sprintf("ZQ%03d", i))
	}
	body, _ := json.Marshal(map[string]any{"tickers": syms})
	var added struct {
		Added []struct {
			Symbol       string `json:"symbol"`
			ConnectionID string `json:"connection_id"`
		}
	}
	if err := json.Unmarshal([]byte(mustDo(t, e, "POST", "/api/admin/subscriptions", string(body)).Body), &added); err != nil {
		t.Fatal(err)
	}
	placed := map[string][]string{}
	for _, a := range added.Added {
		placed[a.ConnectionID] = append(placed[a.ConnectionID], a.Symbol)
	}
	if len(added.Added) != 500 || len(placed) < 2 {
		t.Fatalf("placed %d tickers over %d connections; the test needs 500 over several", len(added.Added), len(placed))
	}
	var all []string
	for n := 1; n <= 3; n++ {
		conn := fmt.Sprintf("connection_%d", n)
		var page auditDoc
		e.GetJSON(fmt.Sprintf("/api/admin/audit?action=subscribe&connection=%d", n), "admin", &page)
		var got []string
		for _, en := range page.Entries {
			if en.Target != conn || en.Result != "ok" {
				t.Errorf("connection=%d: entry %+v", n, en)
			}
			i := strings.LastIndex(en.Detail, ": ")
			got = append(got, strings.Split(en.Detail[i+2:], ",")...)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(placed[conn]))
		if !slices.Equal(got, want) {
			t.Errorf("connection=%d: audit names %d tickers, %d went there", n, len(got), len(want))
		}
		all = append(all, got...)
	}
	if slices.Sort(all); !slices.Equal(all, syms) {
		t.Errorf("the entries name %d distinct tickers of the 500", len(slices.Compact(all)))
	}
}
