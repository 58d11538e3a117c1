package simulator

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestStartPriceDeterministic(t *testing.T) {
	tests := []struct {
		sym    string
		lo, hi float64
	}{
		{"AAPL", 200, 250},
		{"BRK.A", 600000, 700000},
		{"ZZZZ", 10, 900},
		{"BF.B", 10, 900},
	}
	for _, tc := range tests {
		p := startPrice(tc.sym, 42)
		if p < tc.lo || p > tc.hi {
			t.Errorf("startPrice(%s) = %v, want in [%v, %v]", tc.sym, p, tc.lo, tc.hi)
		}
		if p2 := startPrice(tc.sym, 42); p2 != p {
			t.Errorf("startPrice(%s) not deterministic: %v vs %v", tc.sym, p, p2)
		}
	}
}

func TestParseParams(t *testing.T) {
	refs, bad := parseParams(" T.AAPL , A.BRK.A,,AM.*, nodot, X.Y, T., T.aapl, T.TOOLONGTICKER, LULD.*")
	var got []string
	for _, r := range refs {
		got = append(got, r.prefix+"|"+r.symbol)
	}
	if fmt.Sprint(got) != "[T|AAPL A|BRK.A AM|* LULD|*]" {
		t.Errorf("refs = %v", got)
	}
	// Tickers follow massive's one ticker form (upper case, at most 10).
	if fmt.Sprint(bad) != "[nodot X.Y T. T.aapl T.TOOLONGTICKER]" {
		t.Errorf("bad = %v", bad)
	}
}

// TestBarCoverage drives the market on a simulated clock: with 500 symbols
// on A at the default rate nearly every symbol gets a bar at least every 2 s.
func TestBarCoverage(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	m := newMarket(1, 600, start)
	syms := make(map[string]struct{})
	for i := 0; len(syms) < 500; i++ {
		if i < len(builtinTickers) {
			syms[builtinTickers[i]] = struct{}{}
		} else {
			syms[fmt.Sprintf("SYM%d", i)] = struct{}{}
		}
	}
	m.setActive(syms, [numChannels]bool{chA: true})
	last := make(map[string]int64)
	var gaps, bars int
	for step := 1; step <= 200; step++ { // 20 s at 100 ms
		now := start.Add(time.Duration(step) * 100 * time.Millisecond)
		m.generate(now)
		for _, ev := range m.evs {
			var a msg
			if err := json.Unmarshal(m.buf[ev.off:ev.end], &a); err != nil {
				t.Fatal(err)
			}
			if a.Ev != "A" || a.E-a.S != 1000 || a.L > a.O || a.O > a.H || a.L > a.close() || a.close() > a.H || a.V <= 0 {
				t.Fatalf("bad bar %+v", a)
			}
			bars++
			if prev, ok := last[a.Sym]; ok && a.S-prev > 2000 {
				gaps++
			}
			last[a.Sym] = a.S
		}
		m.reset()
	}
	if len(last) != 500 {
		t.Fatalf("%d symbols got bars, want 500", len(last))
	}
	if gaps > bars/100 {
		t.Fatalf("%d of %d bars came more than 2 s after the previous one", gaps, bars)
	}
}

func BenchmarkMarketTick(b *testing.B) {
	start := time.Unix(1_700_000_000, 0)
	m := newMarket(1, 600, start)
	syms := make(map[string]struct{})
	for _, s := range builtinTickers {
		syms[s] = struct{}{}
	}
	m.setActive(syms, [numChannels]bool{true, true, true, true})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.generate(start.Add(time.Duration(i+1) * 100 * time.Millisecond))
		m.reset()
	}
}

// TestSlowConsumer fills a connection's queue without a writer draining it:
// the market data is dropped and the connection condemned with slow_consumer.
func TestSlowConsumer(t *testing.T) {
	s := New(testCfg())
	t.Cleanup(func() { _ = s.Close() })
	c := newConn(s, 1, nil)
	c.authenticated.Store(true)
	c.subs.add(channelRef{raw: "T.AAPL", prefix: "T", symbol: "AAPL"})
	m := newMarket(1, 600, time.Unix(1_700_000_000, 0))
	m.setActive(map[string]struct{}{"AAPL": {}}, [numChannels]bool{chT: true})
	for i := 1; i <= c.maxQueuedData()+1; i++ {
		m.generate(time.Unix(1_700_000_000, int64(i)*int64(20*time.Millisecond)))
		c.deliver(m)
		m.reset()
	}
	if !c.closing.Load() || len(c.queue) != 1 || !c.queue[0].closeAfter ||
		!strings.Contains(string(c.queue[0].data), `"slow_consumer"`) {
		t.Fatalf("closing=%v queue=%d", c.closing.Load(), len(c.queue))
	}
}
