package live

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// paceOf reports the pace of the only session that asked for one.
func (h *harness) paced() time.Duration {
	var p time.Duration
	h.hub.forEach(func(s *session) {
		if v := time.Duration(s.pace.Load()); v != 0 {
			p = v
		}
	})
	return p
}

func tickPrices(t *testing.T, evs []event) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, e := range evs {
		if e.Event != "tick_update" {
			t.Fatalf("want tick_update events, got %q", e.Event)
		}
		var tk wireTick
		if err := json.Unmarshal(e.Data, &tk); err != nil {
			t.Fatal(err)
		}
		out[tk.Symbol] = tk.Price
	}
	return out
}

func TestPaceFor(t *testing.T) {
	h := New(Options{FlushInterval: 100 * time.Millisecond})
	for _, tc := range []struct {
		ms   int
		want time.Duration
	}{
		{0, 0}, {-5, 0}, {50, 0}, {100, 0},
		{101, 250 * time.Millisecond}, {250, 250 * time.Millisecond},
		{400, 500 * time.Millisecond}, {500, 500 * time.Millisecond},
		{1000, time.Second}, {60000, time.Second},
	} {
		if got := h.paceFor(tc.ms); got != tc.want {
			t.Errorf("paceFor(%d) = %v, want %v", tc.ms, got, tc.want)
		}
	}
}

// TestSetFlushSlowsOneSession: a session that asks for 500 ms gets one frame
// per 500 ms holding the latest tick of every symbol changed since its
// previous one, while the other session keeps the hub's pace; asking for the
// default again brings a snapshot (the slower group's held-back changes).
func TestSetFlushSlowsOneSession(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	clock := time.Unix(1_800_000_000, 0)
	h.hub.now = func() time.Time { return clock }
	fast, slow := h.dial(0), h.dial(0)
	fast.readUntil("snapshot", 2*time.Second)
	slow.readUntil("snapshot", 2*time.Second)
	slow.send(`{"event":"set_flush","interval_ms":500}`)
	testkit.WaitFor(t, 5*time.Second, "the session's pace set", func() bool { return h.paced() == 500*time.Millisecond })

	c := h.store.Conn("connection_1")
	c.Append(tickstore.Tick{Symbol: "AAPL", Price: 1, Time: 1})
	h.hub.flush() // the group starts: due at +500 ms
	clock = clock.Add(100 * time.Millisecond)
	c.Append(tickstore.Tick{Symbol: "AAPL", Price: 2, Time: 2})
	c.Append(tickstore.Tick{Symbol: "MSFT", Price: 3, Time: 3})
	h.hub.flush()
	clock = clock.Add(400 * time.Millisecond)
	h.hub.flush() // due, nothing new: sends what the group holds

	if got := tickPrices(t, fast.read(2*time.Second)); len(got) != 1 || got["AAPL"] != 1 {
		t.Fatalf("fast session, first flush: %v", got)
	}
	if got := tickPrices(t, fast.read(2*time.Second)); len(got) != 2 || got["AAPL"] != 2 || got["MSFT"] != 3 {
		t.Fatalf("fast session, second flush: %v", got)
	}
	got := tickPrices(t, slow.read(2*time.Second))
	if len(got) != 2 || got["AAPL"] != 2 || got["MSFT"] != 3 {
		t.Fatalf("slow session's one frame: want the latest AAPL and MSFT, got %v", got)
	}
	// Nothing else was queued for it: the next frame it gets is a status change.
	h.hub.StatusChanged(StatusEvent{ConnectionID: "connection_1", Status: "connecting"})
	if evs := slow.read(2 * time.Second); evs[0].Event != "connection_status_update" {
		t.Fatalf("slow session: an extra frame before the status change: %+v", evs)
	}

	// Faster again: what the group held back comes as a snapshot.
	c.Append(tickstore.Tick{Symbol: "AAPL", Price: 4, Time: 4})
	clock = clock.Add(100 * time.Millisecond)
	h.hub.flush()
	slow.send(`{"event":"set_flush","interval_ms":0}`)
	slow.readUntil("snapshot", 5*time.Second)
	if h.paced() != 0 {
		t.Fatal("pace not back to the hub's")
	}
}

// TestStatusOvertakesQueuedTicks: a browser that reads slowly has tick
// frames queued; a status change goes out before them, not after.
func TestStatusOvertakesQueuedTicks(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.dial(0)
	c.readUntil("snapshot", 2*time.Second)
	conn := h.store.Conn("connection_" + strings.Repeat("x", 400))
	const frames = 30
	for n := range frames {
		for i := range 1000 {
			conn.Append(tickstore.Tick{Symbol: fmt.Sprintf("S%04d", i), Price: float64(n + 1), Time: int64(n + 1)})
		}
		h.hub.flush()
	}
	// About 15 MB is waiting, most of it in the session's queue.
	h.hub.StatusChanged(StatusEvent{ConnectionID: "connection_1", Status: "disconnected", Previous: "connected"})
	ticks, statusAt := 0, -1
	for ticks < frames {
		evs := c.read(10 * time.Second)
		switch evs[0].Event {
		case "tick_update":
			ticks++
		case "connection_status_update":
			statusAt = ticks
		}
	}
	if st := h.hub.Stats(); st.Resyncs != 0 {
		t.Fatalf("the queue overflowed (%d resyncs): the test needs a queued backlog, not a resync", st.Resyncs)
	}
	if statusAt < 0 || statusAt >= frames-1 {
		t.Fatalf("the status change came after %d of %d queued tick frames (-1: after all): it waited in line", statusAt, frames)
	}
	t.Logf("status change overtook %d of %d tick frames", frames-statusAt, frames)
}
