package manager

import (
	"sync"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// tapRecorder is a test Tap: it counts events per connection and symbol
// and checks that each symbol's trades arrive in sequence order.
type tapRecorder struct {
	t       *testing.T
	mu      sync.Mutex
	perConn map[string]uint64
	perSym  map[string]uint64
	lastSeq map[string]int64
}

func newTapRecorder(t *testing.T) *tapRecorder {
	return &tapRecorder{t: t, perConn: map[string]uint64{}, perSym: map[string]uint64{}, lastSeq: map[string]int64{}}
}

func (r *tapRecorder) Ticks(connID string, batch []massive.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.perConn[connID] += uint64(len(batch))
	for i := range batch {
		ev := &batch[i]
		r.perSym[ev.Symbol]++
		if ev.Seq <= r.lastSeq[ev.Symbol] {
			r.t.Errorf("%s: seq %d after %d", ev.Symbol, ev.Seq, r.lastSeq[ev.Symbol])
		}
		r.lastSeq[ev.Symbol] = ev.Seq
	}
}

func (r *tapRecorder) count(connID string) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.perConn[connID]
}

func (r *tapRecorder) symbol(sym string) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.perSym[sym]
}

// Every tap gets every event each connection delivered, unfiltered and in
// order: its counts equal the simulator's sent counts per connection and
// per symbol, and the slot's message_count.
func TestTapsSeeEveryEvent(t *testing.T) {
	e := newEnv(t, envOpts{multi: true, channels: []string{"T"}, tps: 400, slots: []SlotConfig{
		{ID: 1, Enabled: true, Symbols: []string{"AAPL", "MSFT", "NVDA"}},
		{ID: 2, Enabled: true, Symbols: []string{"TSLA", "AMZN"}},
	}})
	taps := []*tapRecorder{newTapRecorder(t), newTapRecorder(t)}
	for _, tp := range taps {
		e.m.AddTap(tp)
	}
	e.m.Connect()
	e.waitConnected(t, 2)
	testkit.WaitFor(t, 10*time.Second, "events on both connections", func() bool {
		return taps[0].count("connection_1") > 50 && taps[0].count("connection_2") > 50
	})

	// Freeze the feed so both ends can be compared exactly.
	c1 := e.waitSimSubs(t, "T", []string{"AAPL", "MSFT", "NVDA"})
	c2 := e.waitSimSubs(t, "T", []string{"AMZN", "TSLA"})
	for _, id := range []int64{c1.ID, c2.ID} {
		if err := e.sim.Stall(id, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	total := func(m map[string]uint64) (n uint64) {
		for _, v := range m {
			n += v
		}
		return n
	}
	// Re-read while waiting: a write in flight when the stall began may
	// still be counted as sent.
	var sent map[string]map[string]uint64
	for _, tp := range taps {
		testkit.WaitFor(t, 4*time.Second, "tap counts == simulator sent", func() bool {
			sent = map[string]map[string]uint64{
				"connection_1": e.sim.SentBySymbol(c1.ID),
				"connection_2": e.sim.SentBySymbol(c2.ID),
			}
			return tp.count("connection_1") == total(sent["connection_1"]) && tp.count("connection_2") == total(sent["connection_2"])
		})
		for _, bySym := range sent {
			for sym, n := range bySym {
				if got := tp.symbol(sym); got != n {
					t.Errorf("%s: tap got %d events, simulator sent %d", sym, got, n)
				}
			}
		}
	}
	h := e.m.Health()
	for id := range sent {
		if got := h.Connections[id].MessageCount; got != taps[0].count(id) {
			t.Errorf("%s: message_count %d, tap %d", id, got, taps[0].count(id))
		}
	}
}
