package live

import (
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

// TestSessionCaps: beyond the total cap or one user's cap, a session is
// refused at once with 1013 and a reason naming the cap; a refused session
// takes no place, and a place freed is taken again (issue 10, item 5).
func TestSessionCaps(t *testing.T) {
	h := newHarness(t, harnessOpts{Options: Options{MaxSessions: 3, MaxPerUser: 2, CapNames: [2]string{"ADMIN_WS_MAX_SESSIONS", "ADMIN_WS_MAX_PER_USER"}}})
	alice1 := h.dialAs(0, "user=alice")
	alice1.readUntil("snapshot", 2*time.Second)
	h.dialAs(0, "user=alice").readUntil("snapshot", 2*time.Second)

	ce := h.dialAs(0, "user=alice").closeOf(2 * time.Second)
	if want := "too many dashboard sessions: 2 per user (ADMIN_WS_MAX_PER_USER)"; ce.Code != websocket.CloseTryAgainLater || ce.Text != want {
		t.Fatalf("alice's third session: close %d %q, want 1013 %q", ce.Code, ce.Text, want)
	}
	h.dialAs(0, "user=bob").readUntil("snapshot", 2*time.Second) // other users still get in
	ce = h.dialAs(0, "user=carol").closeOf(2 * time.Second)
	if ce.Code != websocket.CloseTryAgainLater || !strings.Contains(ce.Text, "3 in total (ADMIN_WS_MAX_SESSIONS)") {
		t.Fatalf("fourth session: close %d %q, want 1013 naming the total cap", ce.Code, ce.Text)
	}
	if st := h.hub.Stats(); st.Sessions != 3 || st.Refused != 2 {
		t.Fatalf("stats %+v, want 3 sessions and 2 refused", st)
	}

	_ = alice1.c.Close()
	testkit.WaitFor(t, 2*time.Second, "alice's first session to end", func() bool { return h.hub.Stats().Sessions == 2 })
	h.dialAs(0, "user=alice").readUntil("snapshot", 2*time.Second)
}

// TestEndAuthSession: ending a login session closes its sockets, and only
// its own, with 4001 "session ended" (issue 10, item 1).
func TestEndAuthSession(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a1, a2 := h.dialAs(0, "user=alice&sid=s1"), h.dialAs(0, "user=alice&sid=s1")
	other := h.dialAs(0, "user=alice&sid=s2")
	for _, c := range []*client{a1, a2, other} {
		c.readUntil("snapshot", 2*time.Second)
	}
	if got := h.hub.SocketsByAuthSession(); got["s1"] != 2 || got["s2"] != 1 {
		t.Fatalf("sockets by session: %v", got)
	}
	if n := h.hub.EndAuthSession("s1"); n != 2 {
		t.Fatalf("EndAuthSession closed %d, want 2", n)
	}
	for _, c := range []*client{a1, a2} {
		if ce := c.closeOf(2 * time.Second); ce.Code != CloseSessionEnded || ce.Text != "session ended" {
			t.Fatalf("close %d %q, want 4001 \"session ended\"", ce.Code, ce.Text)
		}
	}
	testkit.WaitFor(t, 2*time.Second, "the two sockets to go", func() bool { return h.hub.Stats().Sessions == 1 })
	if got := h.hub.SocketsByAuthSession(); len(got) != 1 || got["s2"] != 1 {
		t.Fatalf("sockets by session after: %v", got)
	}
	if n := h.hub.EndAuthSession(""); n != 0 {
		t.Fatalf("EndAuthSession(\"\") closed %d", n)
	}
}
