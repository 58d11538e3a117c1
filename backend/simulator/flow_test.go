package simulator

import (
	"strings"
	"testing"
)

// TestEventsFlow checks the tape a subscriber sees: increasing q per symbol
// across trades and quotes, string trade ids, and per-second bars that are
// exactly the aggregation of the trades received.
func TestEventsFlow(t *testing.T) {
	s := startServer(t, testCfg())
	c := handshake(t, s)
	c.send("subscribe", "T.AAPL,Q.AAPL,A.AAPL,T.BRK.B,A.BRK.B")
	c.statuses(5)

	type agg struct {
		v          int64
		o, h, l, c float64
		n          int
	}
	trades := map[string]map[int64]*agg{} // sym -> second start -> aggregate of received trades
	lastQ := map[string]int64{}
	kinds := map[string]int{}
	var bars []msg
	for len(bars) < 4 {
		ms, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			kinds[m.Ev]++
			switch m.Ev {
			case "T", "Q":
				if m.Q <= lastQ[m.Sym] {
					t.Fatalf("%s %s q=%d after %d", m.Ev, m.Sym, m.Q, lastQ[m.Sym])
				}
				lastQ[m.Sym] = m.Q
			}
			switch m.Ev {
			case "T":
				if m.I == "" || m.P <= 0 || m.S <= 0 {
					t.Fatalf("bad trade %+v", m)
				}
				sec := m.T / 1000 * 1000
				if trades[m.Sym] == nil {
					trades[m.Sym] = map[int64]*agg{}
				}
				a := trades[m.Sym][sec]
				if a == nil {
					a = &agg{o: m.P, h: m.P, l: m.P}
					trades[m.Sym][sec] = a
				}
				a.v += m.S
				a.h, a.l, a.c = max(a.h, m.P), min(a.l, m.P), m.P
				a.n++
			case "A":
				bars = append(bars, m)
			case "status":
				t.Fatalf("unexpected status %+v", m)
			}
		}
	}
	if kinds["T"] == 0 || kinds["Q"] == 0 {
		t.Fatalf("kinds = %v", kinds)
	}
	for _, b := range bars {
		if b.Sym != "AAPL" && b.Sym != "BRK.B" {
			t.Fatalf("bar for unsubscribed %s", b.Sym)
		}
		if b.E-b.S != 1000 || b.AV < b.V || b.OP <= 0 || b.VW < b.L || b.VW > b.H {
			t.Fatalf("inconsistent bar %+v", b)
		}
		a := trades[b.Sym][b.S]
		if a == nil || a.v != b.V || a.o != b.O || a.h != b.H || a.l != b.L || a.c != b.close() {
			t.Fatalf("bar %+v (close %v) does not aggregate the trades received %+v", b, b.close(), a)
		}
	}
	info := s.Conns()[0]
	by := s.SentBySymbol(info.ID)
	if by["AAPL"] == 0 || by["BRK.B"] == 0 || len(by) != 2 {
		t.Fatalf("SentBySymbol = %v", by)
	}
	if info.Sent < by["AAPL"]+by["BRK.B"] && info.Sent != 0 {
		t.Fatalf("Sent = %d, by symbol %v", info.Sent, by)
	}
}

func TestWildcard(t *testing.T) {
	s := startServer(t, testCfg())
	c := handshake(t, s)
	c.send("subscribe", "T.*")
	c.expectStatus("success", "subscribed to: T.*")
	seen := map[string]bool{}
	for len(seen) < 50 {
		ms, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Ev != "T" {
				t.Fatalf("unexpected %+v", m)
			}
			seen[m.Sym] = true
		}
	}
	if ci, ok := s.ConnBySymbol("MSFT"); !ok || strings.Join(ci.Subscriptions, ",") != "T.*" {
		t.Fatalf("ConnBySymbol(MSFT) = %+v %v", ci, ok)
	}
	c.send("unsubscribe", "T.*")
	c.expectStatus("success", "unsubscribed to: T.*")
}
