package app_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
	"github.com/tickwatch/tickwatch/backend/store"
)

// TestStaleOverridesBeyondMax: saved changes of a connection above
// WEBSOCKET_CONNECTIONS_MAX are kept (a lowered slot count must not cost
// them) and the start-up warning says how to drop them; following it
// works: the reset drops them, audited with what they were, and the next
// start is quiet. An id beyond the max with nothing saved is still 404.
func TestStaleOverridesBeyondMax(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddTickers(ctx, "connection_4", []string{"ZZZT", "QQQX"}, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetEnabled(ctx, "connection_4", true, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	e := apptest.Start(t, apptest.Options{DataDir: dir}) // WEBSOCKET_CONNECTIONS_MAX=3
	waitConnected(t, e, 2)
	if logs := e.Logs.String(); !strings.Contains(logs, "they stay saved and apply again once WEBSOCKET_CONNECTIONS_MAX is 4 or more; to drop them (audited), POST /api/admin/connections/4/reset") {
		t.Fatalf("start-up warning does not say what happens and how to drop them:\n%s", logs)
	}
	resp := mustDo(t, e, "POST", "/api/admin/connections/4/reset", "")
	var got map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &got)
	if got["ok"] != true || got["connection_id"] != "connection_4" || got["status"] != "not configured" {
		t.Errorf("reset answer %s", resp.Body)
	}
	var audit auditDoc
	e.GetJSON("/api/admin/audit?action=reset&connection=4", "admin", &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Result != "ok" ||
		!strings.Contains(audit.Entries[0].Detail, "WEBSOCKET_CONNECTIONS_MAX=3); dropped its saved changes: enabled by alice; added: QQQX,ZZZT") {
		t.Errorf("audit %+v", audit.Entries)
	}
	for _, id := range []string{"4", "connection_5"} {
		// 4: nothing saved any more; 5: never anything.
		r := e.Do(apptest.Request{Method: "POST", Path: "/api/admin/connections/" + id + "/reset", Role: "admin"})
		if r.Status != 404 || !strings.Contains(r.Body, `is not a connection; use 1..3`) {
			t.Errorf("reset %s: %d %s, want 404", id, r.Status, r.Body)
		}
	}
	e.Stop()

	e = apptest.Start(t, apptest.Options{DataDir: dir})
	waitConnected(t, e, 2)
	if logs := e.Logs.String(); strings.Contains(logs, "were skipped") {
		t.Errorf("warning after the reset:\n%s", logs)
	}
}
