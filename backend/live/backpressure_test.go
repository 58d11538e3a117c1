package live

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
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

// watcher reads a healthy client continuously and counts the tick_update
// frames it received and the snapshots (resyncs) it was sent.
type watcher struct {
	mu        sync.Mutex
	ticks     int
	snapshots int
	done      chan struct{}
}

func watch(c *client) *watcher {
	w := &watcher{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, msg, err := c.c.ReadMessage()
			if err != nil {
				return
			}
			w.mu.Lock()
			switch {
			case bytes.HasPrefix(msg, []byte(`[{"event":"tick_update"`)):
				w.ticks++
			case bytes.HasPrefix(msg, []byte(`[{"event":"snapshot"`)):
				w.snapshots++
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// counts returns the tick frames and snapshots received so far.
func (w *watcher) counts() (ticks, snapshots int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ticks, w.snapshots
}

func TestStalledClientClosed1013HealthyKeepsReceiving(t *testing.T) {
	const flush, maxBehind = 20 * time.Millisecond, time.Second
	h := newHarness(t, harnessOpts{run: true, Options: Options{
		FlushInterval: flush, QueueSize: 8, MaxBehind: maxBehind,
	}})
	healthy := h.dial(0)
	healthy.readUntil("snapshot", 2*time.Second)
	stalled := h.dial(4096)
	stalled.readUntil("snapshot", 2*time.Second) // then never reads again

	w := watch(healthy)
	p := startProducer(h.store, 300)
	// The checks are about order, not speed: from the stalled session's
	// first discarded frame until its 1013 close it is behind, and the
	// healthy client must receive frames in that span (a hub that waited
	// on the stalled browser would deliver none) and after it.
	testkit.WaitFor(t, 10*time.Second, "the stalled session to fall behind", func() bool {
		return h.hub.Stats().DroppedFrames > 0
	})
	behind, _ := w.counts()
	testkit.WaitFor(t, 10*time.Second, "the stalled session to be closed 1013", func() bool {
		s := h.hub.Stats()
		return s.SlowClosed == 1 && s.Sessions == 1
	})
	closed, _ := w.counts()
	testkit.WaitFor(t, 10*time.Second, "tick frames after the close", func() bool {
		n, _ := w.counts()
		return n >= closed+3
	})
	p.halt()
	_ = healthy.c.Close()
	<-w.done

	total, snapshots := w.counts()
	s := h.hub.Stats()
	t.Logf("healthy: %d tick frames while the stalled session was behind, %d in all; stats %+v", closed-behind, total, s)
	if snapshots != 0 {
		t.Errorf("healthy client was resynced %d times", snapshots)
	}
	// MaxBehind spans dozens of flushes; three is far from a flake and far
	// from a hub that stalls with the slow browser.
	if closed-behind < 3 {
		t.Errorf("healthy client got %d tick frames while the stalled session was behind (MaxBehind %v, flush %v)",
			closed-behind, maxBehind, flush)
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
	testkit.WaitFor(t, 10*time.Second, "the stalled session's queue to be discarded", func() bool {
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
	done := make(chan struct{})
	go func() { defer close(done); h.hub.Shutdown() }()
	// Returning at all proves the bound: without the close grace Shutdown
	// would wait for MaxBehind, an hour. The deadline only fails a hub
	// that hangs, and is generous for a loaded machine.
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown did not return within 30 s with a stuck peer (MaxBehind is an hour)")
	}
	if s := h.hub.Stats(); s.Sessions != 0 {
		t.Fatalf("Shutdown returned with %d sessions", s.Sessions)
	}
}
