package manager

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// waitTables waits until the simulator's authenticated connections hold
// exactly the given subscription tables (in any order).
func (e *env) waitTables(t *testing.T, what string, want ...[]string) {
	t.Helper()
	for _, w := range want {
		slices.Sort(w)
	}
	testkit.WaitFor(t, 10*time.Second, what, func() bool {
		var got [][]string
		for _, c := range e.sim.Conns() {
			if c.Authenticated {
				got = append(got, c.Subscriptions)
			}
		}
		if len(got) != len(want) {
			return false
		}
		for _, w := range want {
			if !slices.ContainsFunc(got, func(g []string) bool { return slices.Equal(g, w) }) {
				return false
			}
		}
		return true
	})
}

func relayOf(t *testing.T, m *Manager, connID string) []RelaySub {
	t.Helper()
	for _, s := range m.Slots() {
		if s.ConnectionID == connID {
			return s.Relay
		}
	}
	t.Fatalf("no slot %s", connID)
	return nil
}

// Relay pairs go on the connection that owns their ticker (a configured
// channel costs nothing upstream), relay-only tickers on the least-loaded
// connection, are reference-counted, follow a ticker an admin assigns
// elsewhere, stay out of the tick store, and never unsubscribe a
// configured ticker.
func TestRelayPairs(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, channels: []string{"A"}, tps: 400, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL", "MSFT"}},
		{ID: 2, Enabled: true, Symbols: []string{"TSLA"}},
		{ID: 3, Enabled: false},
	}})
	tap := newTapRecorder(t)
	e.m.AddTap(tap)
	e.m.Connect()
	e.waitConnected(t, 2)
	e.waitTables(t, "configured tables", []string{"A.AAPL", "A.MSFT"}, []string{"A.TSLA"})

	acquire := func(ch, tk, wantConn string) {
		t.Helper()
		r := e.m.AcquireRelay([]massive.Sub{{Channel: ch, Ticker: tk}})[0]
		if r.Err != nil || r.ConnectionID != wantConn {
			t.Fatalf("AcquireRelay(%s, %s) = %q, %v; want %s", ch, tk, r.ConnectionID, r.Err, wantConn)
		}
	}
	acquire("A", "AAPL", "connection_1") // already carried
	acquire("T", "AAPL", "connection_1") // the owner's connection, another channel
	acquire("T", "XOM", "connection_2")  // relay-only: the least-loaded connection
	acquire("Q", "XOM", "connection_2")  // same ticker, same connection
	acquire("T", "XOM", "connection_2")  // a second reference
	e.waitTables(t, "relay pairs subscribed",
		[]string{"A.AAPL", "A.MSFT", "T.AAPL"}, []string{"A.TSLA", "Q.XOM", "T.XOM"})

	if got, want := relayOf(t, e.m, "connection_1"), []RelaySub{{"A", "AAPL", true}, {"T", "AAPL", false}}; !slices.Equal(got, want) {
		t.Errorf("connection_1 relay = %v, want %v", got, want)
	}
	if !e.m.Carries("connection_2", "T", "XOM") || e.m.Carries("connection_1", "T", "XOM") ||
		!e.m.Carries("connection_1", "A", "MSFT") || e.m.Carries("connection_1", "T", "MSFT") ||
		!e.m.Carries("connection_2", "A", massive.Wildcard) || e.m.Carries("connection_3", "A", massive.Wildcard) {
		t.Error("Carries disagrees with the placement")
	}
	testkit.WaitFor(t, 10*time.Second, "XOM events at the tap", func() bool { return tap.symbol("XOM") > 0 })
	if _, ok := e.store.Latest("XOM"); ok {
		t.Error("a relay-only ticker entered the tick store")
	}

	// One reference of two released: still subscribed; both: gone.
	e.m.ReleaseRelay([]massive.Sub{{Channel: "T", Ticker: "XOM"}, {Channel: "Q", Ticker: "XOM"}})
	e.waitTables(t, "Q.XOM released", []string{"A.AAPL", "A.MSFT", "T.AAPL"}, []string{"A.TSLA", "T.XOM"})

	// An admin puts XOM on connection_1: the relay pair follows it.
	if _, err := e.m.Subscribe([]string{"XOM"}, "connection_1"); err != nil {
		t.Fatal(err)
	}
	e.waitTables(t, "T.XOM follows its ticker", []string{"A.AAPL", "A.MSFT", "A.XOM", "T.AAPL", "T.XOM"}, []string{"A.TSLA"})

	// The admin removes XOM again: the consumers' T.XOM stays.
	if _, err := e.m.Unsubscribe([]string{"XOM"}); err != nil {
		t.Fatal(err)
	}
	e.waitTables(t, "T.XOM kept for consumers", []string{"A.AAPL", "A.MSFT", "T.AAPL", "T.XOM"}, []string{"A.TSLA"})

	// The last consumers leave: configured A.AAPL stays.
	e.m.ReleaseRelay([]massive.Sub{{Channel: "T", Ticker: "XOM"}, {Channel: "T", Ticker: "AAPL"}, {Channel: "A", Ticker: "AAPL"}, {Channel: "A", Ticker: "NOPE"}})
	e.waitTables(t, "back to the configuration", []string{"A.AAPL", "A.MSFT"}, []string{"A.TSLA"})
	if got := relayOf(t, e.m, "connection_1"); len(got) != 0 {
		t.Errorf("connection_1 relay after release = %v", got)
	}
}

// A relay pair survives the client being rebuilt (disable, enable) and
// refusals name the reason.
func TestRelayPairsRebuiltClientAndRefusals(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, channels: []string{"A"}, tps: 400, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL"}},
		{ID: 2, Enabled: false, Symbols: []string{"TSLA"}},
	}})
	e.m.Connect()
	e.waitConnected(t, 1)
	if r := e.m.AcquireRelay([]massive.Sub{{Channel: "T", Ticker: "NVDA"}}); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	e.waitTables(t, "T.NVDA", []string{"A.AAPL", "T.NVDA"})
	if err := e.m.SetEnabled("connection_1", false); err != nil {
		t.Fatal(err)
	}
	e.waitTables(t, "no connection")
	if err := e.m.SetEnabled("connection_1", true); err != nil {
		t.Fatal(err)
	}
	e.waitTables(t, "T.NVDA after the rebuild", []string{"A.AAPL", "T.NVDA"})

	for _, c := range []struct {
		ch, tk string
		want   error
	}{
		{"LULD", "AAPL", ErrRelayChannel},
		{"T", "bad$", ErrInvalidSymbol},
	} {
		if r := e.m.AcquireRelay([]massive.Sub{{Channel: c.ch, Ticker: c.tk}}); !errors.Is(r[0].Err, c.want) {
			t.Errorf("AcquireRelay(%s, %s) = %v, want %v", c.ch, c.tk, r[0].Err, c.want)
		}
	}
	// TSLA's owner is disabled: refused rather than carried twice later.
	if _, err := e.m.RestoreConn("connection_2", ConnState{Tickers: []string{"TSLA"}}); err != nil {
		t.Fatal(err)
	}
	if r := e.m.AcquireRelay([]massive.Sub{{Channel: "T", Ticker: "TSLA"}}); !errors.Is(r[0].Err, ErrDisabled) {
		t.Errorf("AcquireRelay on a disabled owner = %v, want ErrDisabled", r[0].Err)
	}
}
