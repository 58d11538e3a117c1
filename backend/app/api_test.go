package app_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/status"
)

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func hasKeys(t *testing.T, where string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: missing field %q (has %v)", where, k, keysOf(m))
		}
	}
}

// TestWebsocketStatusShape asserts the original's Endpoint 1 document field
// by field, plus the extensions, in multi mode.
func TestWebsocketStatusShape(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	testkit.WaitFor(t, 5*time.Second, "two connections connected", func() bool {
		doc := e.Status()
		return doc.Summary.Connected == 2 && doc.Summary.TicksTotal > 0
	})
	var raw map[string]any
	e.GetJSON("/api/admin/websocket-status", "viewer", &raw)
	hasKeys(t, "document", raw, "connections", "summary", "mode", "simulated", "uptime_seconds", "server_time")
	summary := raw["summary"].(map[string]any)
	hasKeys(t, "summary", summary, "total", "connected", "ticks_total", "errors_total")
	conns := raw["connections"].([]any)
	if len(conns) != 3 || summary["total"].(float64) != 3 || raw["mode"] != "multi" {
		t.Fatalf("want 3 slots in multi mode, got %d, summary %v, mode %v", len(conns), summary, raw["mode"])
	}
	for i, c := range conns {
		cm := c.(map[string]any)
		hasKeys(t, "connection", cm, "id", "name", "enabled", "connected", "status", "config", "metrics",
			"connection_id", "state_since", "reason", "last_error", "reconnects", "dropped", "message_count", "rate_history")
		hasKeys(t, "config", cm["config"].(map[string]any), "ticker_count", "universe_key", "tickers")
		hasKeys(t, "metrics", cm["metrics"].(map[string]any), "messages_per_second", "last_update", "error_count")
		if int(cm["id"].(float64)) != i+1 {
			t.Errorf("slot %d has id %v", i+1, cm["id"])
		}
	}

	var doc status.Doc
	e.GetJSON("/api/admin/websocket-status", "admin", &doc)
	c1, c2, c3 := doc.Connections[0], doc.Connections[1], doc.Connections[2]
	if c1.Name != "primary" || !c1.Enabled || !c1.Connected || c1.Status != "connected" ||
		strings.Join(c1.Config.Tickers, ",") != "AAPL,MSFT,NVDA" || c1.Config.TickerCount != 3 {
		t.Errorf("connection 1: %+v", c1)
	}
	if c2.Name != "secondary" || strings.Join(c2.Config.Tickers, ",") != "AMZN,BRK.B,GOOGL" {
		t.Errorf("connection 2: %+v", c2)
	}
	if c3.Enabled || c3.Connected || c3.Status != "disconnected" || c3.Config.TickerCount != 0 || c3.EnableHint == "" {
		t.Errorf("connection 3 (disabled): %+v", c3)
	}
	if c1.Metrics.LastUpdate < float64(time.Now().Add(-time.Minute).Unix()) || c1.Metrics.LastUpdate > float64(time.Now().Unix()+1) {
		t.Errorf("last_update %v is not a recent unix time in seconds", c1.Metrics.LastUpdate)
	}
	if doc.Summary.TicksTotal != c1.MessageCount+c2.MessageCount+c3.MessageCount {
		t.Errorf("ticks_total %d != sum of message counts", doc.Summary.TicksTotal)
	}
	if len(c1.RateHistory) == 0 {
		t.Error("rate_history is empty")
	}

	// Health keeps the original get_health_status() shape.
	var health map[string]any
	e.GetJSON("/api/admin/websocket-health", "viewer", &health)
	hasKeys(t, "health", health, "total_connections", "connected_count", "total_ticks_received", "total_errors", "connections")
	hc := health["connections"].(map[string]any)["connection_1"].(map[string]any)
	hasKeys(t, "health connection", hc, "name", "status", "assigned_tickers", "message_count", "error_count", "last_message_time")
	if hc["assigned_tickers"].(float64) != 3 {
		t.Errorf("assigned_tickers = %v, want a count of 3", hc["assigned_tickers"])
	}
}

// TestSingleMode: only connection 1 runs, the API still answers 200 with
// every slot listed.
func TestSingleMode(t *testing.T) {
	e := apptest.Start(t, apptest.Options{Environ: []string{"USE_MULTI_CONNECTION=false"}})
	var doc status.Doc
	e.GetJSON("/api/admin/websocket-status", "viewer", &doc)
	if doc.Mode != "single" || len(doc.Connections) != 3 {
		t.Fatalf("mode %q with %d slots", doc.Mode, len(doc.Connections))
	}
	if !doc.Connections[0].Enabled || doc.Connections[1].Enabled || doc.Connections[2].Enabled {
		t.Fatalf("single mode must enable only slot 1: %+v", doc.Connections)
	}
	if !strings.Contains(doc.Connections[1].EnableHint, "USE_MULTI_CONNECTION=true") {
		t.Errorf("hint %q", doc.Connections[1].EnableHint)
	}
}

// TestBadInput: every kind of bad request gets JSON with the right status.
func TestBadInput(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	for _, tc := range []struct {
		name string
		req  apptest.Request
		want int
		msg  string
	}{
		{"invalid symbol", apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Body: `{"tickers":["A$B"]}`}, 400, `A$B`},
		{"duplicate", apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Body: `{"tickers":["AAPL"]}`}, 409, "AAPL"},
		{"no tickers", apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Body: `{"tickers":[]}`}, 400, "tickers"},
		{"bad json", apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Body: `{"tickers":`}, 400, "invalid body"},
		{"bad connection", apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Body: `{"tickers":["TSLA"],"connection_id":7}`}, 400, "connection_id"},
		{"disabled connection", apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Body: `{"tickers":["TSLA"],"connection_id":3}`}, 409, "connection_3"},
		{"wrong content type", apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Body: `tickers=TSLA`, ContentType: "application/x-www-form-urlencoded"}, 415, "application/json"},
		{"too large", apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Body: `{"tickers":["` + strings.Repeat("A", 70<<10) + `"]}`}, 413, "64 KiB"},
		{"unassigned delete", apptest.Request{Method: "DELETE", Path: "/api/admin/subscriptions/ZZZZ"}, 404, "ZZZZ"},
		{"bad symbol delete", apptest.Request{Method: "DELETE", Path: "/api/admin/subscriptions/a%24b"}, 400, "invalid symbol"},
		{"unknown connection", apptest.Request{Method: "POST", Path: "/api/admin/connections/12/reconnect"}, 404, "12"},
		{"bad limit", apptest.Request{Method: "GET", Path: "/api/admin/connections/1/ticks?limit=lots"}, 400, "limit"},
		{"cross-origin post", apptest.Request{Method: "POST", Path: "/api/admin/connections/1/reconnect", Origin: "https://evil.example"}, 403, "cross-origin"},
		{"no origin post", apptest.Request{Method: "POST", Path: "/api/admin/connections/1/reconnect", Origin: "-"}, 403, "cross-origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Role = "admin"
			resp := e.Do(tc.req)
			if resp.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.Status, tc.want, resp.Body)
			}
			var body struct{ Error, Detail string }
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.Error == "" {
				t.Fatalf("not a JSON error: %q", resp.Body)
			}
			if !strings.Contains(body.Error+" "+body.Detail, tc.msg) {
				t.Errorf("error %q / %q does not mention %q", body.Error, body.Detail, tc.msg)
			}
		})
	}
}

// TestAdminActions: subscribe places tickers where asked (or on the least
// loaded connection), the simulator's subscription table follows, the audit
// log records who did what.
func TestAdminActions(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	testkit.WaitFor(t, 5*time.Second, "connected", func() bool {
		doc := e.Status()
		return doc.Summary.Connected == 2
	})
	resp := e.Do(apptest.Request{Method: "POST", Path: "/api/admin/subscriptions", Role: "admin", Body: `{"tickers":["tsla","META"],"connection_id":"connection_2"}`})
	if resp.Status != 200 || !strings.Contains(resp.Body, `"symbol":"TSLA","connection_id":"connection_2"`) {
		t.Fatalf("subscribe: %d %s", resp.Status, resp.Body)
	}
	testkit.WaitFor(t, 5*time.Second, "simulator subscribed to TSLA", func() bool {
		c, ok := e.SimConnBySymbol("TSLA")
		return ok && strings.Contains(strings.Join(c.Subscriptions, ","), "A.TSLA")
	})
	var look struct {
		Symbol       string
		ConnectionID string `json:"connection_id"`
		Connection   int
	}
	e.GetJSON("/api/admin/tickers/TSLA", "viewer", &look)
	if look.ConnectionID != "connection_2" || look.Connection != 2 {
		t.Errorf("lookup: %+v", look)
	}
	resp = e.Do(apptest.Request{Method: "DELETE", Path: "/api/admin/subscriptions/TSLA", Role: "admin"})
	if resp.Status != 200 || !strings.Contains(resp.Body, `"connection_id":"connection_2"`) {
		t.Fatalf("unsubscribe: %d %s", resp.Status, resp.Body)
	}
	testkit.WaitFor(t, 5*time.Second, "simulator unsubscribed TSLA", func() bool {
		_, ok := e.SimConnBySymbol("TSLA")
		return !ok
	})
	var audit struct {
		Entries []struct{ User, Action, Target, Result string }
	}
	e.GetJSON("/api/admin/audit", "admin", &audit)
	if len(audit.Entries) < 2 || audit.Entries[0].Action != "unsubscribe" || audit.Entries[0].User != "admin" || audit.Entries[1].Action != "subscribe" {
		t.Errorf("audit: %+v", audit.Entries)
	}
}

// TestLoginRules: wrong password and unknown user get the same answer, and
// the per-user limit answers 429 with Retry-After.
func TestLoginRules(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	wrong := e.Do(apptest.Request{Method: "POST", Path: "/api/auth/login", Body: `{"username":"admin","password":"nope"}`})
	unknown := e.Do(apptest.Request{Method: "POST", Path: "/api/auth/login", Body: `{"username":"ghost","password":"nope"}`})
	if wrong.Status != 401 || unknown.Status != 401 || wrong.Body != unknown.Body {
		t.Fatalf("wrong password %d %s vs unknown user %d %s", wrong.Status, wrong.Body, unknown.Status, unknown.Body)
	}
	var last apptest.Response
	for i := 0; i < 6; i++ {
		last = e.Do(apptest.Request{Method: "POST", Path: "/api/auth/login", Body: `{"username":"viewer","password":"nope"}`})
	}
	if last.Status != 429 || last.Header.Get("Retry-After") == "" || !strings.Contains(last.Body, "retry_after") {
		t.Fatalf("after 6 failures: %d %v %s", last.Status, last.Header, last.Body)
	}
	// The limit applies to the username even with the right password.
	right := e.Do(apptest.Request{Method: "POST", Path: "/api/auth/login", Body: fmt.Sprintf(`{"username":"viewer","password":%q}`, apptest.Password("viewer"))})
	if right.Status != 429 {
		t.Fatalf("blocked user logged in: %d", right.Status)
	}
	// The cookie is HttpOnly and SameSite=Strict.
	ok := e.Do(apptest.Request{Method: "POST", Path: "/api/auth/login", Body: fmt.Sprintf(`{"username":"admin","password":%q}`, apptest.Password("admin"))})
	sc := ok.Header.Get("Set-Cookie")
	if !strings.Contains(sc, "HttpOnly") || !strings.Contains(strings.ToLower(sc), "samesite=strict") {
		t.Fatalf("cookie flags: %q", sc)
	}
	out := e.Do(apptest.Request{Method: "POST", Path: "/api/auth/logout", Role: "admin"})
	if out.Status != 204 {
		t.Fatalf("logout: %d", out.Status)
	}
}

// TestDashboardDisabled: the rollback switch turns the dashboard, its API
// and /admin-ws into 404s.
func TestDashboardDisabled(t *testing.T) {
	e := apptest.Start(t, apptest.Options{Environ: []string{"ADMIN_WEBSOCKET_DASHBOARD_ENABLED=false"}})
	for _, p := range []string{"/admin/websockets", "/api/admin/websocket-status", "/admin-ws"} {
		if resp := e.Do(apptest.Request{Method: "GET", Path: p, Role: "admin"}); resp.Status != 404 {
			t.Errorf("%s: %d, want 404", p, resp.Status)
		}
	}
}

// TestMetricsEndpoint: Prometheus text with per-connection series, behind
// METRICS_TOKEN when set.
func TestMetricsEndpoint(t *testing.T) {
	e := apptest.Start(t, apptest.Options{Environ: []string{"METRICS_TOKEN=scrape-token-123"}})
	if resp := e.Do(apptest.Request{Method: "GET", Path: "/metrics"}); resp.Status != 401 {
		t.Fatalf("without token: %d", resp.Status)
	}
	if resp := e.Do(apptest.Request{Method: "GET", Path: "/metrics", Header: map[string]string{"Authorization": "Bearer wrong"}}); resp.Status != 401 {
		t.Fatalf("wrong token: %d", resp.Status)
	}
	resp := e.Do(apptest.Request{Method: "GET", Path: "/metrics", Header: map[string]string{"Authorization": "Bearer scrape-token-123"}})
	if resp.Status != 200 {
		t.Fatalf("with token: %d", resp.Status)
	}
	for _, series := range []string{`tickwatch_connection_up{connection_id="connection_1",name="primary"}`,
		"tickwatch_connection_messages_total", "tickwatch_connection_reconnects_total", "tickwatch_connection_dropped_total",
		"tickwatch_browser_sessions", "tickwatch_live_last_frame_bytes"} {
		if !strings.Contains(resp.Body, series) {
			t.Errorf("metrics lack %s", series)
		}
	}
	// The ticker gauge is the slot's count (read without copying the list).
	first := e.Status().Connections[0]
	gauge := fmt.Sprintf("tickwatch_connection_assigned_tickers{connection_id=%q,name=%q} %d\n", first.ConnectionID, first.Name, len(first.Config.Tickers))
	if len(first.Config.Tickers) == 0 || !strings.Contains(resp.Body, gauge) {
		t.Errorf("metrics lack %q", gauge)
	}
}

// TestLoginLimitResistsSpoofingAndParallelGuesses: the per-IP key ignores
// what the client wrote into X-Forwarded-For, and parallel guesses are
// counted before bcrypt runs.
func TestLoginLimitResistsSpoofingAndParallelGuesses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		xff     func(i int) string
	}{
		{"no trusted proxy", nil, func(i int) string { return fmt.Sprintf("10.0.0.%d", i) }},
		{"behind a trusted proxy", []string{"TRUSTED_PROXIES=127.0.0.1"}, func(i int) string { return fmt.Sprintf("10.0.0.%d, 203.0.113.7", i) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := apptest.Start(t, apptest.Options{Environ: tc.environ})
			var last apptest.Response
			for i := 0; i < 11; i++ {
				last = e.Do(apptest.Request{Method: "POST", Path: "/api/auth/login", Header: map[string]string{"X-Forwarded-For": tc.xff(i)},
					Body: fmt.Sprintf(`{"username":"nobody%d","password":"x"}`, i)})
			}
			if last.Status != 429 {
				t.Fatalf("11th failure from one client with varying X-Forwarded-For: %d, want 429", last.Status)
			}
		})
	}

	e := apptest.Start(t, apptest.Options{})
	var wg sync.WaitGroup
	var unauthorized atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e.Do(apptest.Request{Method: "POST", Path: "/api/auth/login", Body: `{"username":"viewer","password":"guess"}`}).Status == 401 {
				unauthorized.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := unauthorized.Load(); n > 5 {
		t.Fatalf("%d parallel guesses reached bcrypt, want at most 5", n)
	}
}
