package live

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// producer appends a tick to every symbol every few milliseconds until
// stopped. A 400-character connection id makes each flush a frame of about
// 170 KB, so a client that stops reading backs TCP up within a few flushes
// while the producer itself stays cheap.
type producer struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func startProducer(store *tickstore.Store, symbols int) *producer {
	p := &producer{stop: make(chan struct{})}
	conn := store.Conn("connection_" + strings.Repeat("x", 400))
	syms := make([]string, symbols)
	for i := range syms {
		syms[i] = fmt.Sprintf("S%04d", i)
	}
	p.wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for n := int64(1); ; n++ {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			for _, s := range syms {
				conn.Append(tickstore.Tick{Symbol: s, Price: float64(n), Size: 1, Time: n})
			}
		}
	})
	return p
}

func (p *producer) halt() {
	close(p.stop)
	p.wg.Wait()
}

// watcher reads a healthy client continuously and records when each
// tick_update frame arrived and whether it was ever resynced.
type watcher struct {
	mu        sync.Mutex
	ticks     []time.Time
	snapshots int
	done      chan struct{}
}

func watch(c *client) *watcher {
	w := &watcher{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, msg, err := c.c.ReadMessage()
			if err != nil {
				return
			}
			w.mu.Lock()
			switch {
			case bytes.HasPrefix(msg, []byte(`[{"event":"tick_update"`)):
				w.ticks = append(w.ticks, time.Now())
			case bytes.HasPrefix(msg, []byte(`[{"event":"snapshot"`)):
				w.snapshots++
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// maxGap is the longest wait between tick frames from `from` to `to`.
func (w *watcher) maxGap(from, to time.Time) (gap time.Duration, frames int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	prev := from
	for _, at := range w.ticks {
		if at.Before(from) || at.After(to) {
			continue
		}
		frames++
		gap = max(gap, at.Sub(prev))
		prev = at
	}
	return max(gap, to.Sub(prev)), frames
}

func TestStalledClientClosed1013HealthyKeepsReceiving(t *testing.T) {
	const flush = 20 * time.Millisecond
	h := newHarness(t, harnessOpts{run: true, Options: Options{
		FlushInterval: flush, QueueSize: 8, MaxBehind: 300 * time.Millisecond,
	}})
	healthy := h.dial(0)
	healthy.readUntil("snapshot", 2*time.Second)
	stalled := h.dial(4096)
	stalled.readUntil("snapshot", 2*time.Second) // then never reads again

	w := watch(healthy)
	p := startProducer(h.store, 300)
	start := time.Now()
	eventually(t, 10*time.Second, "the stalled session to be closed 1013", func() bool {
		s := h.hub.Stats()
		return s.SlowClosed == 1 && s.Sessions == 1
	})
	closedAt := time.Now()
	// The healthy browser must keep getting frames after the close as well.
	time.Sleep(10 * flush)
	end := time.Now()
	p.halt()
	_ = healthy.c.Close()
	<-w.done

	gap, frames := w.maxGap(start, end)
	s := h.hub.Stats()
	t.Logf("stalled closed after %v; healthy: %d tick frames in %v, longest gap %v; stats %+v",
		closedAt.Sub(start), frames, end.Sub(start), gap, s)
	if w.snapshots != 0 {
		t.Errorf("healthy client was resynced %d times", w.snapshots)
	}
	// A hub that waited on the stalled browser would leave a gap of at
	// least its 1 s write timeout; the bound sits well below that and well
	// above scheduling noise on a loaded 2-core machine.
	if gap > 500*time.Millisecond {
		t.Errorf("healthy client waited %v between frames (flush interval %v)", gap, flush)
	}
	if s.Resyncs == 0 || s.DroppedFrames == 0 {
		t.Errorf("the stalled session's queue should have been discarded first: %+v", s)
	}
}

func TestStalledClientResyncedWhenItCatchesUp(t *testing.T) {
	const flush = 20 * time.Millisecond
	h := newHarness(t, harnessOpts{run: true, Options: Options{
		FlushInterval: flush, QueueSize: 4, MaxBehind: 10 * time.Second,
	}})
	// A receive buffer this small would make the catching up crawl (delayed
	// ACKs on a tiny window), so this one is only modest.
	c := h.dial(32 << 10)
	c.readUntil("snapshot", 2*time.Second)
	p := startProducer(h.store, 300)
	defer p.halt()
	eventually(t, 10*time.Second, "the stalled session's queue to be discarded", func() bool {
		return h.hub.Stats().Resyncs >= 1
	})
	// It reads again: after what was already in flight comes a fresh
	// snapshot, then live ticks.
	c.rawUntil(`[{"event":"snapshot"`, 5*time.Second)
	c.rawUntil(`[{"event":"tick_update"`, 5*time.Second)
	if s := h.hub.Stats(); s.SlowClosed != 0 || s.Sessions != 1 {
		t.Fatalf("a client that caught up must stay open: %+v", s)
	}
}

// rawUntil reads until a frame starts with prefix, without decoding the
// frames (the race detector makes decoding 170 KB frames slower than they
// arrive).
func (c *client) rawUntil(prefix string, timeout time.Duration) {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(timeout))
	for {
		_, msg, err := c.c.ReadMessage()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", prefix, err)
		}
		if bytes.HasPrefix(msg, []byte(prefix)) {
			return
		}
	}
}

// TestShutdownWithStuckPeerIsBounded: a browser that stopped reading in the
// middle of large frames must not hold Shutdown for MaxBehind (here an
// hour): the session is cut after its close grace.
func TestShutdownWithStuckPeerIsBounded(t *testing.T) {
	h := newHarness(t, harnessOpts{run: true, Options: Options{
		FlushInterval: 20 * time.Millisecond, QueueSize: 1 << 12, MaxBehind: time.Hour,
	}})
	stuck := h.dial(4096)
	stuck.readUntil("snapshot", 2*time.Second) // then never reads again
	p := startProducer(h.store, 3000)
	defer p.halt()
	// ~500 KB frames every 20 ms fill the 4 KB receive buffer and the
	// kernel's send buffer well within a second; the writer is then stuck
	// inside a write.
	time.Sleep(time.Second)
	start := time.Now()
	h.hub.Shutdown()
	took := time.Since(start)
	t.Logf("Shutdown took %v with a stuck peer", took)
	// Structural bound: closeGrace-based (a few hundred ms in tests), far
	// from the hour a MaxBehind-based deadline would take.
	if took > 5*time.Second {
		t.Fatalf("Shutdown took %v", took)
	}
}
