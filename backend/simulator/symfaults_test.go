package simulator

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// fault POSTs /control/<action>?query and returns the status code.
func fault(t *testing.T, s *Server, action, query string) int {
	t.Helper()
	code, _ := control(t, s, http.MethodPost, "/control/"+action+"?"+query)
	return code
}

// countFor reads frames for d and counts trades per symbol and statuses.
func (c *client) countFor(d time.Duration) (map[string]int, []msg) {
	c.t.Helper()
	n := map[string]int{}
	var sts []msg
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		ms, err := c.read()
		if err != nil {
			c.t.Fatal(err)
		}
		for _, m := range ms {
			if m.Ev == "status" {
				sts = append(sts, m)
			} else if m.Ev == "T" {
				n[m.Sym]++
			}
		}
	}
	return n, sts
}

func TestSymbolFaults(t *testing.T) {
	s := startServer(t, testCfg())
	c := handshake(t, s)
	c.send("subscribe", "T.AAPL,T.MSFT")
	c.statuses(2)
	if n, _ := c.countFor(300 * time.Millisecond); n["AAPL"] == 0 || n["MSFT"] == 0 {
		t.Fatalf("before any fault: %v", n)
	}

	// mute: acknowledged, never delivered; unmute brings it back.
	if code := fault(t, s, "mute", "symbol=AAPL"); code != 200 {
		t.Fatalf("mute: %d", code)
	}
	c.countFor(100 * time.Millisecond) // frames built before the fault
	if n, _ := c.countFor(500 * time.Millisecond); n["AAPL"] != 0 || n["MSFT"] == 0 {
		t.Fatalf("muted AAPL: %v, want AAPL 0 and MSFT ticking", n)
	}
	if info := s.Conns()[0]; len(info.Subscriptions) != 2 {
		t.Errorf("mute changed the subscription table: %v", info.Subscriptions)
	}
	fault(t, s, "mute", "symbol=AAPL&on=false")
	c.countFor(100 * time.Millisecond)
	if n, _ := c.countFor(300 * time.Millisecond); n["AAPL"] == 0 {
		t.Fatalf("unmuted AAPL still silent: %v", n)
	}

	// slow: at most one trade per 200 ms (about 150/s otherwise).
	fault(t, s, "slow", "symbol=MSFT&seconds=0.2")
	c.countFor(100 * time.Millisecond)
	if n, _ := c.countFor(time.Second); n["MSFT"] > 6 || n["MSFT"] == 0 || n["AAPL"] < 20 {
		t.Fatalf("slowed MSFT: %v, want 1..6 MSFT in 1 s and AAPL at full rate", n)
	}
	fault(t, s, "slow", "symbol=MSFT&seconds=0")

	// forget quietly: no status, the table loses MSFT, data stops.
	id := s.Conns()[0].ID
	if code := fault(t, s, "forget", "conn="+strconv.FormatInt(id, 10)+"&symbol=MSFT"); code != 200 {
		t.Fatalf("forget: %d", code)
	}
	c.countFor(100 * time.Millisecond)
	n, sts := c.countFor(400 * time.Millisecond)
	if n["MSFT"] != 0 || len(sts) != 0 || n["AAPL"] == 0 {
		t.Fatalf("after quiet forget: counts %v statuses %v", n, sts)
	}
	if subs := s.Conns()[0].Subscriptions; len(subs) != 1 || subs[0] != "T.AAPL" {
		t.Errorf("table after forget: %v", subs)
	}
	// forget and tell: the client hears an unsubscribe it never asked for.
	if code := fault(t, s, "forget", "conn="+strconv.FormatInt(id, 10)+"&symbol=AAPL&tell=true"); code != 200 {
		t.Fatalf("forget tell: %d", code)
	}
	if st := c.statuses(1)[0]; st.Message != "unsubscribed to: T.AAPL" {
		t.Errorf("forget tell sent %q", st.Message)
	}
	for _, bad := range []struct{ action, q string }{
		{"mute", "symbol=lower case"}, {"slow", "symbol=AAPL&seconds=-1"}, {"forget", "conn=" + strconv.FormatInt(id, 10) + "&symbol=NVDA"},
	} {
		if code := fault(t, s, bad.action, bad.q); code != http.StatusBadRequest {
			t.Errorf("%s?%s: %d, want 400", bad.action, bad.q, code)
		}
	}
}
