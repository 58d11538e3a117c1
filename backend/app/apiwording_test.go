package app_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
)

// TestAPIRefusalWording: refusals answer the same way wherever the same
// mistake is made, in a person's words: a limit out of range is one 400
// whatever its size, a malformed path id is a 400 on every :id route, and a
// body of the wrong type names the field and the type it takes.
func TestAPIRefusalWording(t *testing.T) {
	e := apptest.Start(t, apptest.Options{Environ: []string{"RELAY_ENABLED=true"}})
	waitConnected(t, e, 2)
	for _, tc := range []struct {
		method, path, body string
		status             int
		error, detail      string
	}{
		{"GET", "/api/admin/connections/1/ticks?limit=1001", "", 400, "invalid limit", `limit="1001": use an integer from 1 to 1000`},
		{"GET", "/api/admin/connections/1/ticks?limit=999999999", "", 400, "invalid limit", `limit="999999999": use an integer from 1 to 1000`},
		{"GET", "/api/admin/connections/1/ticks?limit=99999999999999999999", "", 400, "invalid limit", `limit="99999999999999999999": use an integer from 1 to 1000`},
		{"GET", "/api/admin/connections/1/ticks?limit=0", "", 400, "invalid limit", `limit="0": use an integer from 1 to 1000`},
		{"GET", "/api/admin/audit?limit=999999999", "", 400, "invalid limit", `limit="999999999": use an integer from 1 to 1000`},
		{"POST", "/api/admin/alerts/abc/ack", "", 400, "invalid id", `"abc": use the numeric id from GET /api/admin/alerts`},
		{"POST", "/api/admin/alerts/0/ack", "", 400, "invalid id", `"0": use the numeric id from GET /api/admin/alerts`},
		{"DELETE", "/api/admin/tokens/abc", "", 400, "invalid id", `"abc": use the numeric id from GET /api/admin/tokens`},
		{"DELETE", "/api/admin/consumer-keys/abc", "", 400, "invalid id", `"abc": use the numeric id from GET /api/admin/consumer-keys`},
		{"POST", "/api/admin/tokens", `{"name":123}`, 400, "invalid body", "; name must be a string, not a number"},
		{"POST", "/api/admin/consumer-keys", `{"name":"x","max_conns":"2"}`, 400, "invalid body", "; max_conns must be an integer, not a string"},
		{"POST", "/api/admin/subscriptions", `{"tickers":"AAPL"}`, 400, "invalid body", "; tickers must be a list of strings, not a string"},
	} {
		resp := e.Do(apptest.Request{Method: tc.method, Path: tc.path, Body: tc.body, Role: "admin"})
		var got struct{ Error, Detail string }
		_ = json.Unmarshal([]byte(resp.Body), &got)
		if resp.Status != tc.status || got.Error != tc.error || !strings.HasSuffix(got.Detail, tc.detail) {
			t.Errorf("%s %s %s: %d %s, want %d %q ending %q", tc.method, tc.path, tc.body, resp.Status, resp.Body, tc.status, tc.error, tc.detail)
		}
		for _, leak := range []string{"Go struct", "unmarshal", "web.", "json: "} {
			if strings.Contains(got.Detail, leak) {
				t.Errorf("%s %s: detail %q holds %q", tc.method, tc.path, got.Detail, leak)
			}
		}
	}
	// In range, the limit is honoured.
	var ticks struct{ Ticks []json.RawMessage }
	e.GetJSON("/api/admin/connections/1/ticks?limit=1000", "viewer", &ticks)
	if len(ticks.Ticks) > 1000 {
		t.Errorf("limit=1000 gave %d ticks", len(ticks.Ticks))
	}
}

// TestConnectionActionStatus: the status a connection action answers with
// is what api.md says: the connection's state at the answer. A reconnect
// runs in the background, so it answers either state around the drop.
func TestConnectionActionStatus(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	waitConnected(t, e, 2)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/api/admin/connections/1/reconnect", []string{"connected", "connecting"}},
		{"/api/admin/connections/2/disable", []string{"disconnected"}},
	} {
		var got struct {
			OK     bool
			Status string
		}
		if err := json.Unmarshal([]byte(mustDo(t, e, "POST", tc.path, "").Body), &got); err != nil {
			t.Fatal(err)
		}
		if !got.OK || !slices.Contains(tc.want, got.Status) {
			t.Errorf("%s: %+v, want status in %q", tc.path, got, tc.want)
		}
	}
}
