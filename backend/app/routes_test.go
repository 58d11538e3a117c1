package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fasthttp/websocket"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
)

// TestRouteAccess walks every route with every role: anonymous, user,
// viewer, admin. Rows run in order; the admin rows that change state are
// arranged so later rows still see a sane configuration.
func TestRouteAccess(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	type row struct {
		method, path, body string
		want               [4]int // anonymous, user, viewer, admin
	}
	rows := []row{
		{"GET", "/healthz", "", [4]int{200, 200, 200, 200}},
		{"GET", "/metrics", "", [4]int{200, 200, 200, 200}},
		{"GET", "/login", "", [4]int{200, 200, 200, 200}},
		{"GET", "/", "", [4]int{302, 302, 302, 302}},
		{"GET", "/admin/websockets", "", [4]int{302, 403, 200, 200}},
		{"GET", "/admin/tokens", "", [4]int{302, 403, 403, 200}}, // admin pages answer 403 (the SPA says "admins only")
		{"GET", "/admin/audit", "", [4]int{302, 403, 403, 200}},
		{"GET", "/admin/consumers", "", [4]int{302, 403, 403, 200}},
		{"GET", "/no/such/page", "", [4]int{404, 404, 404, 404}},
		{"GET", "/assets/app-1234.js", "", [4]int{200, 200, 200, 200}},
		{"GET", "/assets/missing.js", "", [4]int{404, 404, 404, 404}},
		{"GET", "/api/auth/me", "", [4]int{401, 200, 200, 200}},
		{"GET", "/api/admin/websocket-status", "", [4]int{401, 403, 200, 200}},
		{"GET", "/api/admin/websocket-health", "", [4]int{401, 403, 200, 200}},
		{"GET", "/api/admin/connections/1/ticks?limit=5", "", [4]int{401, 403, 200, 200}},
		{"GET", "/api/admin/connections/connection_2/ticks", "", [4]int{401, 403, 200, 200}},
		{"GET", "/api/admin/connections/9/ticks", "", [4]int{401, 403, 404, 404}},
		{"GET", "/api/admin/tickers/AAPL", "", [4]int{401, 403, 200, 200}},
		{"GET", "/api/admin/tickers/ZZZZ", "", [4]int{401, 403, 404, 404}},
		{"GET", "/api/admin/audit", "", [4]int{401, 403, 403, 200}},
		{"GET", "/api/admin/sessions", "", [4]int{401, 403, 403, 200}},
		{"DELETE", "/api/admin/sessions/no-such-session", "", [4]int{401, 403, 403, 404}},
		{"GET", "/admin/sessions", "", [4]int{302, 403, 403, 200}},
		{"POST", "/api/admin/connections/1/reconnect", "", [4]int{401, 403, 403, 200}},
		{"POST", "/api/admin/connections/3/enable", "", [4]int{401, 403, 403, 200}},
		{"POST", "/api/admin/connections/3/disable", "", [4]int{401, 403, 403, 200}},
		{"POST", "/api/admin/subscriptions", `{"tickers":["TSLA"],"connection_id":1}`, [4]int{401, 403, 403, 200}},
		{"DELETE", "/api/admin/subscriptions/TSLA", "", [4]int{401, 403, 403, 200}},
		{"GET", "/api/admin/tokens", "", [4]int{401, 403, 403, 200}},
		{"GET", "/api/admin/alerts", "", [4]int{401, 403, 200, 200}},
		{"POST", "/api/admin/alerts/999/ack", "", [4]int{401, 403, 403, 404}},
		{"DELETE", "/api/admin/tokens/999", "", [4]int{401, 403, 403, 404}},
		{"GET", "/api/admin/consumer-keys", "", [4]int{401, 403, 403, 200}},
		{"DELETE", "/api/admin/consumer-keys/999", "", [4]int{401, 403, 403, 404}},
		{"GET", "/api/admin/consumers", "", [4]int{401, 403, 403, 200}},
		{"DELETE", "/api/admin/consumers/999", "", [4]int{401, 403, 403, 404}},
		{"GET", "/stocks", "", [4]int{426, 426, 426, 426}}, // the relay: WebSocket only, guarded by its own keys
		{"PUT", "/api/admin/websocket-status", "", [4]int{405, 405, 405, 405}},
		{"GET", "/api/no-such-endpoint", "", [4]int{404, 404, 404, 404}},
	}
	roles := []string{"", "user", "viewer", "admin"}
	for _, r := range rows {
		for i, role := range roles {
			resp := e.Do(apptest.Request{Method: r.method, Path: r.path, Body: r.body, Role: role})
			if resp.Status != r.want[i] {
				t.Errorf("%s %s as %q: status %d, want %d (body %.200s)", r.method, r.path, role, resp.Status, r.want[i], resp.Body)
			}
			if strings.HasPrefix(r.path, "/api/") && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s as %q: content type %q, want JSON", r.method, r.path, role, resp.Header.Get("Content-Type"))
			}
		}
	}

	// The login redirect keeps where the admin wanted to go.
	resp := e.Do(apptest.Request{Method: "GET", Path: "/admin/websockets"})
	if loc := resp.Header.Get("Location"); loc != "/login?next=%2Fadmin%2Fwebsockets" {
		t.Errorf("redirect to %q", loc)
	}
}

// TestAdminWSAccess checks the upgrade rules: a session with the viewer or
// admin role from our own origin, nothing else.
func TestAdminWSAccess(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	wsURL := "ws" + strings.TrimPrefix(e.Base, "http") + "/admin-ws"
	for _, tc := range []struct {
		role, origin string
		want         int
	}{
		{"", e.Base, 401},
		{"user", e.Base, 403},
		{"viewer", e.Base, 101},
		{"admin", e.Base, 101},
		{"admin", "https://evil.example", 403},
		{"admin", "null", 403},
	} {
		h := http.Header{"Origin": {tc.origin}}
		if tc.role != "" {
			h.Set("Cookie", e.Cookie(tc.role).String())
		}
		conn, resp, err := websocket.DefaultDialer.Dial(wsURL, h)
		got := 0
		if resp != nil {
			got = resp.StatusCode
		}
		if got != tc.want {
			t.Errorf("role %q origin %q: status %d (%v), want %d", tc.role, tc.origin, got, err, tc.want)
		}
		if conn != nil {
			conn.Close()
		}
	}
}
