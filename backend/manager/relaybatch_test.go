package manager

import (
	"strings"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// bulkPairs returns n distinct relay pairs T.XAAAA, T.XAAAB, ... that no
// slot owns.
func bulkPairs(n int) []massive.Sub {
	out := make([]massive.Sub, n)
	for i := range out {
		b := []byte("XAAAA")
		for j, v := 4, i; j > 0; j, v = j-1, v/26 {
			b[j] = 'A' + byte(v%26)
		}
		out[i] = massive.Sub{Channel: "T", Ticker: string(b)}
	}
	return out
}

// simSubCount is how many subscriptions the simulator's authenticated
// connections hold in all.
func (e *env) simSubCount() int {
	n := 0
	for _, c := range e.sim.Conns() {
		if c.Authenticated {
			n += len(c.Subscriptions)
		}
	}
	return n
}

// A consumer's 30,000-pair subscribe is one batch: one ConfigChanged, and
// each connection reconciles (and logs "subscriptions sent") once, sending
// its share in frames of massive's params limit; releasing the lot on the
// consumer's disconnect is one batch too. Counted, not timed: pair by pair
// this was 30,000 notifications and thousands of upstream rounds.
func TestRelayBatchOfThirtyThousand(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, channels: []string{"A"}, tps: 100, clientLogs: true, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL"}},
		{ID: 2, Enabled: true, Symbols: []string{"MSFT"}},
	}})
	e.m.Connect()
	e.waitConnected(t, 2)
	e.waitTables(t, "configured tables", []string{"A.AAPL"}, []string{"A.MSFT"})
	sent := func() int { return strings.Count(e.logs.String(), `"subscriptions sent"`) }
	sent0, configs0 := sent(), e.obs.configs.Load()

	const n = 30000
	pairs := bulkPairs(n)
	perConn := map[string]int{}
	for i, r := range e.m.AcquireRelay(pairs) {
		if r.Err != nil {
			t.Fatalf("pair %d %s: %v", i, pairs[i], r.Err)
		}
		perConn[r.ConnectionID]++
	}
	if len(perConn) != 2 || perConn["connection_1"]+perConn["connection_2"] != n {
		t.Errorf("placement %v: want the pairs spread over both connections", perConn)
	}
	testkit.WaitFor(t, 60*time.Second, "30,000 pairs at the simulator", func() bool { return e.simSubCount() == n+2 })
	testkit.WaitFor(t, 60*time.Second, "30,000 pairs acknowledged", func() bool {
		for _, d := range e.m.SubscriptionDrift() {
			if len(d.Missing)+len(d.Extra) > 0 {
				return false
			}
		}
		return true
	})
	if got := e.obs.configs.Load() - configs0; got != 1 {
		t.Errorf("acquire: %d ConfigChanged notifications, want 1", got)
	}
	if got := sent() - sent0; got < 1 || got > 2 {
		t.Errorf("acquire: %d \"subscriptions sent\" rounds, want one per connection (2)", got)
	}

	// A second consumer of the same pairs costs only references.
	sent1, configs1 := sent(), e.obs.configs.Load()
	e.m.AcquireRelay(pairs)
	e.m.ReleaseRelay(pairs)
	if got := e.obs.configs.Load() - configs1; got != 0 {
		t.Errorf("extra references: %d ConfigChanged notifications, want 0", got)
	}

	// The consumer leaves: one release of everything.
	e.m.ReleaseRelay(pairs)
	e.waitTables(t, "back to the configuration", []string{"A.AAPL"}, []string{"A.MSFT"})
	if got := e.obs.configs.Load() - configs1; got != 1 {
		t.Errorf("release: %d ConfigChanged notifications, want 1", got)
	}
	if got := sent() - sent1; got < 1 || got > 2 {
		t.Errorf("release: %d \"subscriptions sent\" rounds, want one per connection (2)", got)
	}
}

// BenchmarkRelayAcquireRelease measures placing and releasing a 30,000-pair
// consumer subscribe in one batch on a connected manager.
func BenchmarkRelayAcquireRelease(b *testing.B) {
	e := newEnv(b, envOpts{multi: true, channels: []string{"A"}, tps: 50, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL"}},
		{ID: 2, Enabled: true, Symbols: []string{"MSFT"}},
	}})
	e.m.Connect()
	testkit.WaitFor(b, 10*time.Second, "connections up", func() bool { return e.m.Health().ConnectedCount == 2 })
	pairs := bulkPairs(30000)
	b.ResetTimer()
	for range b.N {
		e.m.AcquireRelay(pairs)
		e.m.ReleaseRelay(pairs)
	}
}
