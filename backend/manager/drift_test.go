package manager

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// driftOf returns connection_1's drift as "missing=[..] extra=[..]", sorted.
func driftOf(t *testing.T, m *Manager, connID string) string {
	t.Helper()
	for _, d := range m.SubscriptionDrift() {
		if d.ConnectionID == connID {
			extra := slices.Sorted(slices.Values(d.Extra))
			return fmt.Sprintf("missing=%v extra=%v", d.Missing, extra)
		}
	}
	return "no link"
}

// Pairs carried for relay consumers are wanted: a consumer does not make
// its connection drift. Genuine drift still shows, relay pairs included:
// upstream acknowledging what nobody wants, or losing what is wanted.
func TestDriftCountsRelayPairsAsWanted(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, channels: []string{"A"}, tps: 200, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL", "MSFT"}},
	}})
	e.m.Connect()
	e.waitConnected(t, 1)
	for _, p := range []massive.Sub{{Channel: "T", Ticker: "ZZZZ"}, {Channel: "Q", Ticker: "AAPL"}} {
		if r := e.m.AcquireRelay([]massive.Sub{p}); r[0].Err != nil {
			t.Fatal(r[0].Err)
		}
	}
	e.waitTables(t, "relay pairs subscribed", []string{"A.AAPL", "A.MSFT", "Q.AAPL", "T.ZZZZ"})
	clean := "missing=[] extra=[]"
	testkit.WaitFor(t, 10*time.Second, "no drift with relay pairs acknowledged", func() bool {
		return driftOf(t, e.m, "connection_1") == clean
	})

	ci, ok := e.simConnFor([]string{"A.AAPL", "A.MSFT", "Q.AAPL", "T.ZZZZ"})
	if !ok {
		t.Fatal("simulator connection not found")
	}
	// Upstream loses a wanted relay pair (and says so): missing.
	if err := e.sim.Forget(ci.ID, "ZZZZ", true); err != nil {
		t.Fatal(err)
	}
	want := "missing=[T.ZZZZ] extra=[]"
	testkit.WaitFor(t, 10*time.Second, want, func() bool { return driftOf(t, e.m, "connection_1") == want })
	// Upstream acknowledges a pair nobody wants: extra.
	if err := e.sim.SendStatus(ci.ID, massive.StatusSuccess, massive.AckSubscribed+"T.NOPE", false); err != nil {
		t.Fatal(err)
	}
	want = "missing=[T.ZZZZ] extra=[T.NOPE]"
	testkit.WaitFor(t, 10*time.Second, want, func() bool { return driftOf(t, e.m, "connection_1") == want })
	// Losing a ticker loses its configured channel and its relay pair.
	if err := e.sim.Forget(ci.ID, "AAPL", true); err != nil {
		t.Fatal(err)
	}
	want = "missing=[A.AAPL Q.AAPL T.ZZZZ] extra=[T.NOPE]"
	testkit.WaitFor(t, 10*time.Second, want, func() bool { return driftOf(t, e.m, "connection_1") == want })
}
