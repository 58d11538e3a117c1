package web

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

// loginServer is a Server with one admin (password "admin-pw") and real
// sessions, for the login tests that need the server's own login guard.
func loginServer(t *testing.T) *Server {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte("admin-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users, err := auth.NewUsers([]auth.User{{Username: "admin", Hash: h, Role: auth.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := auth.NewSessions([]byte(strings.Repeat("s", auth.MinSecretLen)), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	return newTestServer(t, Deps{Users: users, Sessions: sessions})
}

// TestLoginFloodIsRefusedNotQueued: password checks run on a pool of about
// one worker per core with a short queue; with every place taken, further
// logins (unknown users as well as known ones) get 503 with Retry-After at
// once, while /healthz and the API keep answering (issue 10, item 4). The
// pool is held by calls that block until the test lets go, so "at once" is
// structural: a login that queued would never return. (The same flood
// against the whole app, with figures, is BenchmarkLoginFlood in
// backend/app; the pool's size is auth's TestLoginGuardDefaultPool.)
func TestLoginFloodIsRefusedNotQueued(t *testing.T) {
	s := loginServer(t)
	pool := s.logins.Pool()
	workers, queue := pool.Capacity()
	gate := make(chan struct{})
	var held sync.WaitGroup
	for range workers + queue {
		held.Go(func() { _ = pool.Do(func() { <-gate }) })
	}
	release := sync.OnceFunc(func() { close(gate); held.Wait() })
	t.Cleanup(release)
	testkit.WaitFor(t, 5*time.Second, "the pool to fill", func() bool { return pool.Admitted() == workers+queue })

	login := func(user, pw string) (int, string, string) {
		t.Helper()
		req := httptest.NewRequest("POST", "/api/auth/login", strings.NewReader(`{"username":"`+user+`","password":"`+pw+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://example.com")
		resp, body := send(t, s, req) // a queued login would time out here
		return resp.StatusCode, resp.Header.Get("Retry-After"), body
	}
	for _, user := range []string{"admin", "ghost", "flood-1234"} {
		status, ra, body := login(user, "guess")
		if status != 503 || ra != "1" || !strings.Contains(body, `"retry_after":1`) {
			t.Fatalf("login as %s with the pool full: %d Retry-After %q %s; want 503, 1 s", user, status, ra, body)
		}
	}
	if resp, _ := get(t, s, "/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("/healthz with the pool full: %d", resp.StatusCode)
	}
	if resp, _ := get(t, s, "/api/auth/me", nil); resp.StatusCode != 401 {
		t.Fatalf("/api/auth/me with the pool full: %d, want a quick 401", resp.StatusCode)
	}

	release()
	// The refused attempts were no guesses: the same address logs in now.
	if status, _, body := login("admin", "admin-pw"); status != 200 {
		t.Fatalf("login after the flood: %d %s", status, body)
	}
}

func TestHasHeader(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want bool
	}{
		{"Host: x\r\nContent-Length: 5\r\n\r\n", true},
		{"Host: x\ncontent-LENGTH:5\n", true},
		{"Content-Length: 5", true},
		{"Host: x\r\nContent-Length-Extra: 5\r\n", false},
		{"Host: x\r\nX: Content-Length: 5\r\n", false},
		{"", false},
	} {
		if got := hasHeader([]byte(tc.raw), "Content-Length"); got != tc.want {
			t.Errorf("hasHeader(%q) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}
