package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
)

// createdToken is the 201 answer of POST /api/admin/tokens.
type createdToken struct {
	Token     string     `json:"token"`
	ID        int64      `json:"id"`
	User      string     `json:"user"`
	Role      string     `json:"role"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	ExpiresAt *time.Time `json:"expires_at"`
	State     string     `json:"state"`
}

// createToken makes a token as the admin's session and registers its
// plaintext as a secret of the stack: from then on no response and no log
// line may contain it.
func createToken(t *testing.T, e *apptest.Stack, body string) createdToken {
	t.Helper()
	resp := e.Do(apptest.Request{Method: "POST", Path: "/api/admin/tokens", Role: "admin", Body: body})
	var c createdToken
	if resp.Status != 201 {
		t.Fatalf("create token %s: %d %s", body, resp.Status, resp.Body)
	}
	if err := json.Unmarshal([]byte(resp.Body), &c); err != nil {
		t.Fatalf("create token: %v in %s", err, resp.Body)
	}
	if !strings.HasPrefix(c.Token, "twt_") || !strings.HasPrefix(c.Token, c.Prefix) || len(c.Prefix) >= len(c.Token) {
		t.Fatalf("create token: token %.8s... prefix %q", c.Token, c.Prefix)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("create token: Cache-Control %q, want no-store", cc)
	}
	e.AddSecret(c.Token)
	return c
}

// withToken is a script's request: the token in the header, no cookie, no Origin.
func withToken(method, path, token string) apptest.Request {
	return apptest.Request{Method: method, Path: path, Origin: "-",
		Header: map[string]string{"Authorization": "Bearer " + token}}
}

// tokenList is GET /api/admin/tokens.
type tokenList struct {
	Tokens []struct {
		ID         int64      `json:"id"`
		Prefix     string     `json:"prefix"`
		User       string     `json:"user"`
		LastUsedAt *time.Time `json:"last_used_at"`
		State      string     `json:"state"`
	} `json:"tokens"`
}

type tokenCheck struct {
	method, path, token string
	want                int
	wantErr             string // the JSON "error" of a refusal
}

func checkTokens(t *testing.T, e *apptest.Stack, checks []tokenCheck) {
	t.Helper()
	for _, c := range checks {
		resp := e.Do(withToken(c.method, c.path, c.token))
		if resp.Status != c.want {
			t.Errorf("%s %s with token %.12s: %d, want %d (%s)", c.method, c.path, c.token, resp.Status, c.want, resp.Body)
			continue
		}
		if c.wantErr == "" {
			continue
		}
		var body struct{ Error, Detail string }
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.Error != c.wantErr || body.Detail == "" {
			t.Errorf("%s %s with token %.12s: body %s, want error %q with a detail", c.method, c.path, c.token, resp.Body, c.wantErr)
		}
		if resp.Header.Get("WWW-Authenticate") == "" && resp.Status == 401 {
			t.Errorf("%s %s: 401 without WWW-Authenticate", c.method, c.path)
		}
	}
}

const (
	statusPath    = "/api/admin/websocket-status"
	reconnectPath = "/api/admin/connections/1/reconnect"
)

// TestAPITokens follows tokens through their life and across restarts on one
// DATA_DIR: made by an admin, used by a script without Origin, refused when
// revoked or expired, still valid after a restart, and never stronger than
// their user is now.
func TestAPITokens(t *testing.T) {
	dir := t.TempDir()
	var admin, viewer, grafana, short createdToken
	// restart starts the next run on the same DATA_DIR; the tokens stay
	// secrets of every run.
	restart := func(t *testing.T, o apptest.Options) *apptest.Stack {
		o.DataDir = dir
		e := apptest.Start(t, o)
		for _, tok := range []createdToken{admin, viewer, grafana, short} {
			e.AddSecret(tok.Token)
		}
		return e
	}

	t.Run("first run", func(t *testing.T) {
		e := apptest.Start(t, apptest.Options{DataDir: dir})
		admin = createToken(t, e, `{"name":"nightly export"}`) // for the admin making it
		viewer = createToken(t, e, `{"user":"viewer","name":"dashboard script"}`)
		grafana = createToken(t, e, `{"user":"viewer","name":"grafana","expires_in":"30d"}`)
		short = createToken(t, e, `{"user":"viewer","name":"short","expires_in":"2s"}`)
		if admin.User != "admin" || admin.Role != "admin" || viewer.Role != "viewer" || admin.State != "active" {
			t.Errorf("records: %+v %+v", admin, viewer)
		}
		if grafana.ExpiresAt == nil || time.Until(*grafana.ExpiresAt) < 29*24*time.Hour {
			t.Errorf("expires_in 30d: expires_at %v", grafana.ExpiresAt)
		}

		checkTokens(t, e, []tokenCheck{
			{"GET", statusPath, admin.Token, 200, ""},
			{"POST", reconnectPath, admin.Token, 200, ""},
			{"GET", statusPath, viewer.Token, 200, ""},
			{"POST", reconnectPath, viewer.Token, 403, "forbidden"},
			{"GET", "/api/auth/me", viewer.Token, 200, ""},
			// A token cannot manage tokens, so a stolen one cannot mint successors.
			{"GET", "/api/admin/tokens", admin.Token, 403, "forbidden"},
			{"POST", "/api/admin/tokens", admin.Token, 403, "forbidden"},
			{"GET", statusPath, "twt_" + strings.Repeat("A", 43), 401, "invalid token"},
			{"GET", statusPath, "not-even-a-token", 401, "invalid token"},
		})
		// /metrics keeps its own credential: an API token is no concern of it.
		if resp := e.Do(withToken("GET", "/metrics", "twt_whatever")); resp.Status != 200 {
			t.Errorf("/metrics with a bearer header: %d", resp.Status)
		}
		// Cookies keep the Origin rule.
		if resp := e.Do(apptest.Request{Method: "POST", Path: reconnectPath, Role: "admin", Origin: "-"}); resp.Status != 403 {
			t.Errorf("cookie POST without Origin: %d, want 403", resp.Status)
		}
		// A bad token is refused even when a good cookie rides along.
		resp := e.Do(apptest.Request{Method: "GET", Path: statusPath, Role: "admin",
			Header: map[string]string{"Authorization": "Bearer twt_bogus"}})
		if resp.Status != 401 {
			t.Errorf("bad token with a good cookie: %d, want 401", resp.Status)
		}

		// /admin-ws takes the token on the upgrade request, without Origin.
		for _, tc := range []struct {
			token string
			want  int
		}{{admin.Token, 101}, {viewer.Token, 101}, {"twt_bogus", 401}} {
			conn, resp, err := websocket.DefaultDialer.Dial(e.WSURL(), http.Header{"Authorization": {"Bearer " + tc.token}})
			got := 0
			if resp != nil {
				got = resp.StatusCode
				_ = resp.Body.Close()
			}
			if got != tc.want {
				t.Errorf("/admin-ws with token %.12s: %d (%v), want %d", tc.token, got, err, tc.want)
			}
			if conn != nil {
				if _, _, err := conn.ReadMessage(); err != nil {
					t.Errorf("/admin-ws with token %.12s: no snapshot: %v", tc.token, err)
				}
				_ = conn.Close()
			}
		}

		// The list never holds a plaintext (every token is a registered
		// secret, so Do fails on one) and shows the use.
		var list tokenList
		e.GetJSON("/api/admin/tokens", "admin", &list)
		if len(list.Tokens) != 4 {
			t.Fatalf("list: %d tokens, want 4", len(list.Tokens))
		}
		for _, tok := range list.Tokens {
			if tok.ID == admin.ID && (tok.LastUsedAt == nil || tok.Prefix != admin.Prefix || tok.State != "active") {
				t.Errorf("admin token in the list: %+v", tok)
			}
		}

		// Revoked: 401 saying so.
		if resp := e.Do(apptest.Request{Method: "DELETE", Path: fmt.Sprintf("/api/admin/tokens/%d", viewer.ID), Role: "admin"}); resp.Status != 200 {
			t.Fatalf("revoke: %d %s", resp.Status, resp.Body)
		}
		// Expired: 401 saying so, once its two seconds are over.
		time.Sleep(time.Until(*short.ExpiresAt) + 100*time.Millisecond)
		checkTokens(t, e, []tokenCheck{
			{"GET", statusPath, viewer.Token, 401, "token revoked"},
			{"GET", statusPath, short.Token, 401, "token expired"},
			{"GET", statusPath, grafana.Token, 200, ""},
		})

		// Admin actions name the token they were done with; creation and
		// revocation are audited.
		resp = e.Do(apptest.Request{Method: "GET", Path: "/api/admin/audit", Role: "admin"})
		for _, want := range []string{`"token_create"`, `"token_revoke"`, "via API token " + admin.Prefix} {
			if !strings.Contains(resp.Body, want) {
				t.Errorf("audit lacks %q: %s", want, resp.Body)
			}
		}
		if !strings.Contains(e.Logs.String(), `"token":"`+admin.Prefix+`"`) {
			t.Errorf("request log does not name the token prefix")
		}
	})

	t.Run("after restart", func(t *testing.T) {
		e := restart(t, apptest.Options{})
		checkTokens(t, e, []tokenCheck{
			{"GET", statusPath, admin.Token, 200, ""},
			{"POST", reconnectPath, admin.Token, 200, ""},
			{"GET", statusPath, grafana.Token, 200, ""},
			{"GET", statusPath, viewer.Token, 401, "token revoked"},
			{"GET", statusPath, short.Token, 401, "token expired"},
		})
	})

	t.Run("roles swapped", func(t *testing.T) {
		// The admin is now a viewer and the viewer an admin: the admin's
		// token loses its power at once, the viewer's does not gain any.
		e := restart(t, apptest.Options{Roles: map[string]string{"admin": "viewer", "viewer": "admin"}})
		checkTokens(t, e, []tokenCheck{
			{"GET", statusPath, admin.Token, 200, ""},
			{"POST", reconnectPath, admin.Token, 403, "forbidden"},
			{"GET", statusPath, grafana.Token, 200, ""},
			{"POST", reconnectPath, grafana.Token, 403, "forbidden"},
		})
	})

	t.Run("user removed", func(t *testing.T) {
		e := restart(t, apptest.Options{Users: []string{"admin", "user"}})
		checkTokens(t, e, []tokenCheck{
			{"GET", statusPath, grafana.Token, 401, "invalid token"},
			{"POST", reconnectPath, admin.Token, 200, ""},
		})
		var list tokenList
		e.GetJSON("/api/admin/tokens", "admin", &list)
		for _, tok := range list.Tokens {
			if tok.ID == grafana.ID && tok.State != "user_removed" {
				t.Errorf("grafana token state %q, want user_removed", tok.State)
			}
		}
	})
}

// TestAPITokenRequests checks what POST and DELETE /api/admin/tokens accept:
// every refusal is a 400 naming the field and the accepted form.
func TestAPITokenRequests(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		method, path, body string
		role               string
		want               int
		detail             string // a fragment of the detail
	}{
		{"POST", "/api/admin/tokens", `{"name":"x","expires_in":"soon"}`, "admin", 400, "expires_in"},
		{"POST", "/api/admin/tokens", `{"name":"x","expires_in":"-5m"}`, "admin", 400, "positive duration"},
		{"POST", "/api/admin/tokens", `{"name":"x","expires_in":"4000d"}`, "admin", 400, "3650d"},
		{"POST", "/api/admin/tokens", `{"name":"x","expires_at":"tomorrow"}`, "admin", 400, "RFC 3339"},
		{"POST", "/api/admin/tokens", `{"name":"x","expires_at":"` + past + `"}`, "admin", 400, "expires_at"},
		{"POST", "/api/admin/tokens", `{"name":"x","expires_in":"1h","expires_at":"` + future + `"}`, "admin", 400, "not both"},
		{"POST", "/api/admin/tokens", `{"name":"x","expires":"30d"}`, "admin", 400, "unknown field"},
		{"POST", "/api/admin/tokens", `{"name":"  "}`, "admin", 400, "name"},
		{"POST", "/api/admin/tokens", `{"name":"` + strings.Repeat("n", 129) + `"}`, "admin", 400, "name"},
		{"POST", "/api/admin/tokens", `{"name":"x","user":"mallory"}`, "admin", 400, "not a configured user"},
		{"POST", "/api/admin/tokens", `{"name":"x","user":"user"}`, "admin", 400, "no API access"},
		{"POST", "/api/admin/tokens", `[1]`, "admin", 400, "expected JSON"},
		{"POST", "/api/admin/tokens", `{"name":"x","expires_at":"` + future + `"}`, "admin", 201, ""},
		{"POST", "/api/admin/tokens", `{"name":"x"}`, "viewer", 403, ""},
		{"POST", "/api/admin/tokens", `{"name":"x"}`, "", 401, ""},
		{"GET", "/api/admin/tokens", ``, "viewer", 403, ""},
		{"DELETE", "/api/admin/tokens/abc", ``, "admin", 400, "numeric id"},
		{"DELETE", "/api/admin/tokens/999", ``, "admin", 404, "999"},
		{"DELETE", "/api/admin/tokens/1", ``, "viewer", 403, ""},
		{"PUT", "/api/admin/tokens", ``, "admin", 405, ""},
	} {
		resp := e.Do(apptest.Request{Method: tc.method, Path: tc.path, Body: tc.body, Role: tc.role})
		if resp.Status != tc.want || !strings.Contains(resp.Body, tc.detail) {
			t.Errorf("%s %s %.60s as %q: %d %s, want %d with %q", tc.method, tc.path, tc.body, tc.role, resp.Status, resp.Body, tc.want, tc.detail)
		}
		if resp.Status == 201 {
			var c createdToken
			_ = json.Unmarshal([]byte(resp.Body), &c)
			e.AddSecret(c.Token)
		}
	}
}

// TestAPITokenFailuresLimited: failed bearer attempts from one address are
// limited like logins; past the limit even a good token from there waits,
// and the address's cookie sessions are not affected.
func TestAPITokenFailuresLimited(t *testing.T) {
	e := apptest.Start(t, apptest.Options{})
	good := createToken(t, e, `{"user":"viewer","name":"script"}`)
	const limit = 10 // failures per minute per address (web.bearerFailuresPerIP)
	for i := range limit {
		if resp := e.Do(withToken("GET", statusPath, fmt.Sprintf("twt_guess%d", i))); resp.Status != 401 {
			t.Fatalf("bad token %d: %d, want 401", i, resp.Status)
		}
	}
	for _, tok := range []string{"twt_guess", good.Token} {
		resp := e.Do(withToken("GET", statusPath, tok))
		if resp.Status != 429 || resp.Header.Get("Retry-After") == "" {
			t.Errorf("token %.9s after %d failures: %d (Retry-After %q), want 429 with Retry-After", tok, limit, resp.Status, resp.Header.Get("Retry-After"))
		}
	}
	if resp := e.Do(apptest.Request{Method: "GET", Path: statusPath, Role: "viewer"}); resp.Status != 200 {
		t.Errorf("cookie session from the same address: %d, want 200", resp.Status)
	}
}
