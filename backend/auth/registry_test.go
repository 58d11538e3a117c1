package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// v1Token signs payload the way the stateless v1 sessions did; such a
// cookie must not be accepted any more.
func v1Token(s *Sessions, payload string) string {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte("v1|session|" + payload))
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(h.Sum(nil))
}

// endRecorder collects the sessions OnEnd reports.
type endRecorder struct {
	mu    sync.Mutex
	ended []Session
}

func (r *endRecorder) record(s Session) { r.mu.Lock(); r.ended = append(r.ended, s); r.mu.Unlock() }

func (r *endRecorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.ended {
		out = append(out, s.ID)
	}
	return out
}

func newRegistry(t *testing.T) (*Sessions, *endRecorder, interface {
	Now() time.Time
	Advance(time.Duration)
}) {
	t.Helper()
	clock := newFakeClock()
	s, err := NewSessions(testSecret('k'), time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	rec := &endRecorder{}
	s.OnEnd(rec.record)
	return s, rec, clock
}

func issue(t *testing.T, s *Sessions, user string, role Role) (string, Claims) {
	t.Helper()
	tok, _, err := s.Issue(User{Username: user, Role: role}, Client{Addr: "192.0.2.7", UserAgent: "test-agent"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	return tok, c
}

// TestSessionEndIsImmediate: a session the server ended is refused at
// once, whatever its cookie says (issue 10, item 1); the stateless v1
// sessions stayed valid until they expired.
func TestSessionEndIsImmediate(t *testing.T) {
	s, rec, _ := newRegistry(t)
	tok, c := issue(t, s, "alice", RoleAdmin)
	if c.SessionID == "" || c.Username != "alice" || c.Role != RoleAdmin {
		t.Fatalf("claims %+v", c)
	}
	ended, ok := s.End(c.SessionID)
	if !ok || ended.Username != "alice" {
		t.Fatalf("End = %+v, %v", ended, ok)
	}
	if _, err := s.Verify(tok); !errors.Is(err, ErrEnded) {
		t.Fatalf("Verify after End: %v, want ErrEnded", err)
	}
	if _, ok := s.End(c.SessionID); ok {
		t.Fatal("ended twice")
	}
	if got := rec.ids(); len(got) != 1 || got[0] != c.SessionID {
		t.Fatalf("OnEnd saw %v, want [%s]", got, c.SessionID)
	}
}

// TestSessionEndUser ends every session of one user and no other.
func TestSessionEndUser(t *testing.T) {
	s, rec, _ := newRegistry(t)
	a1, _ := issue(t, s, "alice", RoleAdmin)
	a2, _ := issue(t, s, "alice", RoleAdmin)
	b, _ := issue(t, s, "bob", RoleViewer)
	if n := len(s.EndUser("alice")); n != 2 {
		t.Fatalf("EndUser(alice) ended %d, want 2", n)
	}
	for _, tok := range []string{a1, a2} {
		if _, err := s.Verify(tok); !errors.Is(err, ErrEnded) {
			t.Errorf("alice's session after EndUser: %v", err)
		}
	}
	if _, err := s.Verify(b); err != nil {
		t.Errorf("bob's session after EndUser(alice): %v", err)
	}
	if len(rec.ids()) != 2 {
		t.Errorf("OnEnd saw %d sessions, want 2", len(rec.ids()))
	}
}

// TestSessionRestartForgets: the registry is in memory, so a cookie from
// before a restart (same secret) is refused: everyone logs in again.
func TestSessionRestartForgets(t *testing.T) {
	s, _, _ := newRegistry(t)
	tok, _ := issue(t, s, "alice", RoleAdmin)
	restarted, _, _ := newRegistry(t)
	if _, err := restarted.Verify(tok); !errors.Is(err, ErrEnded) {
		t.Fatalf("a cookie from before the restart: %v, want ErrEnded", err)
	}
}

// TestSessionList: what the admin sees, oldest first; last seen moves on
// use at most every lastSeenEvery; expired sessions drop out and are
// reported as ended; the User-Agent is bounded.
func TestSessionList(t *testing.T) {
	s, rec, clock := newRegistry(t)
	tok, first := issue(t, s, "alice", RoleAdmin)
	created := clock.Now()
	clock.Advance(time.Second)
	if _, _, err := s.Issue(User{Username: "bob", Role: RoleViewer}, Client{Addr: "198.51.100.1", UserAgent: strings.Repeat("x", 10_000)}); err != nil {
		t.Fatal(err)
	}
	list := s.List()
	if len(list) != 2 || list[0].ID != first.SessionID || list[1].Username != "bob" {
		t.Fatalf("list %+v", list)
	}
	a := list[0]
	if a.Role != RoleAdmin || !a.Created.Equal(created) || !a.LastSeen.Equal(created) ||
		a.Client != (Client{Addr: "192.0.2.7", UserAgent: "test-agent"}) || !a.Expires.Equal(time.Unix(created.Add(time.Hour).Unix(), 0)) {
		t.Errorf("alice's session: %+v", a)
	}
	if n := len(list[1].Client.UserAgent); n != maxUserAgentLen {
		t.Errorf("user agent kept: %d bytes, want %d", n, maxUserAgentLen)
	}

	for _, step := range []struct {
		advance time.Duration
		moved   bool
	}{{lastSeenEvery / 2, false}, {lastSeenEvery / 2, true}, {time.Second, false}} {
		clock.Advance(step.advance)
		before, _ := s.Get(first.SessionID)
		if _, err := s.Verify(tok); err != nil {
			t.Fatal(err)
		}
		after, _ := s.Get(first.SessionID)
		if moved := !after.LastSeen.Equal(before.LastSeen); moved != step.moved || (moved && !after.LastSeen.Equal(clock.Now())) {
			t.Errorf("after %v: last seen %v -> %v (now %v), want moved=%v", step.advance, before.LastSeen, after.LastSeen, clock.Now(), step.moved)
		}
	}

	clock.Advance(time.Hour)
	if list := s.List(); len(list) != 0 {
		t.Fatalf("expired sessions listed: %+v", list)
	}
	if len(rec.ids()) != 2 {
		t.Fatalf("expired sessions reported ended: %v, want 2", rec.ids())
	}
}

// TestSessionsPerUserBound: one user cannot grow the registry without end;
// the oldest session makes room.
func TestSessionsPerUserBound(t *testing.T) {
	s, rec, clock := newRegistry(t)
	_, oldest := issue(t, s, "alice", RoleAdmin)
	for range MaxSessionsPerUser {
		clock.Advance(time.Millisecond)
		issue(t, s, "alice", RoleAdmin)
	}
	if n := len(s.List()); n != MaxSessionsPerUser {
		t.Fatalf("%d sessions kept, want %d", n, MaxSessionsPerUser)
	}
	if got := rec.ids(); len(got) != 1 || got[0] != oldest.SessionID {
		t.Fatalf("ended %v, want the oldest %s", got, oldest.SessionID)
	}
}

// TestSessionsConcurrent: issue, verify, list and end in parallel (run
// with -race).
func TestSessionsConcurrent(t *testing.T) {
	s, err := NewSessions(testSecret('k'), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				tok, _, err := s.Issue(User{Username: "u" + string(rune('a'+i)), Role: RoleViewer}, Client{})
				if err != nil {
					t.Error(err)
					return
				}
				c, err := s.Verify(tok)
				if err != nil {
					t.Error(err)
					return
				}
				_ = s.List()
				s.End(c.SessionID)
			}
		})
	}
	wg.Wait()
	if n := len(s.List()); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
}
