package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/tickwatch/tickwatch/backend/config"
)

// The handlers that need the whole stack (an upstream, the manager, the
// hub, logged-in users) are tested end to end against the real app.New in
// backend/app; what stays here needs only the Fiber app.

func TestMain(m *testing.M) {
	// fasthttp keeps one process-wide goroutine that refreshes the Date
	// header every second; it is started once and never stopped, by design.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"))
}

// newTestServer builds the Fiber app from d, filling in a configuration
// from environ when d has none, and a silent logger. No
// listener: tests call App().Test.
func newTestServer(tb testing.TB, d Deps, environ ...string) *Server {
	tb.Helper()
	if d.Config == nil {
		cfg, err := config.Load(append([]string{"MASSIVE_API_KEY=k"}, environ...), false)
		if err != nil {
			tb.Fatal(err)
		}
		d.Config = cfg
	}
	d.Logger = zerolog.Nop()
	s, err := New(d)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// get sends one GET through the Fiber app in memory.
func get(t *testing.T, s *Server, path string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return send(t, s, req)
}

// send sends req through the Fiber app in memory and reads the body whole.
func send(t *testing.T, s *Server, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := s.App().Test(req, 10_000)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return resp, string(b)
}

// TestStaticCaching: hashed assets are immutable and precompressed,
// index.html is revalidated and carries the security headers.
func TestStaticCaching(t *testing.T) {
	s := newTestServer(t, Deps{Static: fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html><title>Tickwatch</title>")},
		"assets/app-1234.js": {Data: []byte(strings.Repeat("console.log(1);", 100))},
	}})
	a, _ := get(t, s, "/assets/app-1234.js", map[string]string{"Accept-Encoding": "br, gzip"})
	if a.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || a.Header.Get("Content-Encoding") != "br" {
		t.Errorf("asset headers: %v", a.Header)
	}
	i, body := get(t, s, "/login", nil)
	if i.StatusCode != 200 || !strings.Contains(body, "<title>Tickwatch</title>") {
		t.Errorf("/login: %d %q", i.StatusCode, body)
	}
	if i.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(i.Header.Get("Content-Security-Policy"), "default-src 'self'") ||
		i.Header.Get("X-Content-Type-Options") != "nosniff" || i.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("index headers: %v", i.Header)
	}
	nm, _ := get(t, s, "/assets/app-1234.js", map[string]string{"If-None-Match": a.Header.Get("ETag")})
	if nm.StatusCode != 304 {
		t.Errorf("If-None-Match: %d", nm.StatusCode)
	}
}

// TestWithoutBuiltSPA: a binary built without the SPA says so instead of
// serving an empty page.
func TestWithoutBuiltSPA(t *testing.T) {
	s := newTestServer(t, Deps{})
	resp, body := get(t, s, "/login", nil)
	if resp.StatusCode != 503 || !strings.Contains(body, "not built") {
		t.Fatalf("/login without a build: %d %q", resp.StatusCode, body)
	}
}

// TestHealthAndReadiness: /healthz answers as soon as the process serves;
// /readyz follows the Ready function app hands in.
func TestHealthAndReadiness(t *testing.T) {
	var ready atomic.Bool
	s := newTestServer(t, Deps{Version: "v1.2.3", Ready: ready.Load})
	h, body := get(t, s, "/healthz", nil)
	if h.StatusCode != 200 || !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"version":"v1.2.3"`) {
		t.Errorf("/healthz: %d %s", h.StatusCode, body)
	}
	for _, tc := range []struct {
		ready  bool
		status int
		body   string
	}{{false, 503, `"starting"`}, {true, 200, `"ready"`}} {
		ready.Store(tc.ready)
		r, body := get(t, s, "/readyz", nil)
		if r.StatusCode != tc.status || !strings.Contains(body, tc.body) || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("/readyz with ready=%v: %d %s %v", tc.ready, r.StatusCode, body, r.Header)
		}
	}
}
