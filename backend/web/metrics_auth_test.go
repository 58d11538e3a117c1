package web

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestMetricsTokenRefusal: /metrics without the right METRICS_TOKEN answers
// 401 with a Bearer challenge and a detail that names METRICS_TOKEN, not
// the dashboard's login, and never the token itself.
func TestMetricsTokenRefusal(t *testing.T) {
	const token = "scrape-s3cret-42"
	s := newTestServer(t, Deps{}, "METRICS_TOKEN="+token)
	for _, tc := range []struct {
		name, auth, detail string
	}{
		{"missing", "", "send Authorization: Bearer <the value of METRICS_TOKEN>"},
		{"wrong", "Bearer wrong", "the bearer token does not match METRICS_TOKEN"},
		{"other scheme", "Basic YTpi", "does not match METRICS_TOKEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.auth != "" {
				h["Authorization"] = tc.auth
			}
			resp, body := get(t, s, "/metrics", h)
			var e struct{ Error, Detail string }
			_ = json.Unmarshal([]byte(body), &e)
			if resp.StatusCode != 401 || e.Error != "authentication required" || !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("%d %s, want 401 with detail containing %q", resp.StatusCode, body, tc.detail)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != `Bearer realm="tickwatch metrics"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
			if strings.Contains(body, token) || strings.Contains(strings.ToLower(body), "/login") {
				t.Errorf("body %s reveals the token or points at the login", body)
			}
		})
	}
	if resp, body := get(t, s, "/metrics", map[string]string{"Authorization": "Bearer " + token}); resp.StatusCode != 200 || !strings.Contains(body, "tickwatch_build_info") {
		t.Errorf("good token: %d %.200s", resp.StatusCode, body)
	}
}
