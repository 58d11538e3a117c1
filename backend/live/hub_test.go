package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// harness is a Hub behind a real HTTP server on 127.0.0.1:0, upgraded with
// fasthttp/websocket's net/http Upgrader (the same Conn type the Fiber
// contrib middleware hands to Serve).
type harness struct {
	t     *testing.T
	hub   *Hub
	store *tickstore.Store
	url   string
}

type harnessOpts struct {
	Options
	run bool // start Hub.Run; without it tests drive flush/pushMetrics by hand
}

func newHarness(t *testing.T, ho harnessOpts) *harness {
	t.Helper()
	store := tickstore.New(tickstore.Options{})
	o := ho.Options
	o.Store = store
	if o.Status == nil {
		o.Status = func() any { return map[string]any{"mode": "multi", "connections": []any{}} }
	}
	o.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	hub := New(o)
	hub.closeGrace = 200 * time.Millisecond

	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	// Handlers that upgraded are hijacked, so srv.Close does not wait for
	// them; the cleanup does, or a session could log through t after the
	// test ended (a data race on the test's state, seen once in CI).
	var handlers sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		// The peer comes from the query, so tests can be several users.
		p := Peer{User: r.URL.Query().Get("user"), AuthSession: r.URL.Query().Get("sid"), Admin: r.URL.Query().Has("admin")}
		if p.User == "" {
			p.User = "tester"
		}
		hub.Serve(c, p)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	if ho.run {
		go func() { defer close(runDone); hub.Run(ctx) }()
	} else {
		close(runDone)
	}
	t.Cleanup(func() {
		hub.Shutdown()
		cancel()
		<-runDone
		srv.Close()
		handlers.Wait()
	})
	return &harness{t: t, hub: hub, store: store, url: "ws" + strings.TrimPrefix(srv.URL, "http")}
}

type event struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

type client struct {
	t *testing.T
	c *websocket.Conn
}

// dial connects a client; rcvBuf > 0 shrinks its socket receive buffer so
// that a client which stops reading backs TCP up quickly.
func (h *harness) dial(rcvBuf int) *client {
	h.t.Helper()
	return h.dialAs(rcvBuf, "")
}

// dialAs connects as the peer in query ("user=alice&sid=s1&admin"; "" = tester, not an admin).
func (h *harness) dialAs(rcvBuf int, query string) *client {
	h.t.Helper()
	d := websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil && rcvBuf > 0 {
				_ = c.(*net.TCPConn).SetReadBuffer(rcvBuf)
			}
			return c, err
		},
	}
	url := h.url
	if query != "" {
		url += "?" + query
	}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	h.t.Cleanup(func() { _ = c.Close() })
	return &client{t: h.t, c: c}
}

// read returns the next frame's events.
func (c *client) read(timeout time.Duration) []event {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(timeout))
	_, msg, err := c.c.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var evs []event
	if err := json.Unmarshal(msg, &evs); err != nil {
		c.t.Fatalf("frame is not a JSON array of events: %v: %.200s", err, msg)
	}
	return evs
}

// readUntil returns the first frame whose first event is named name.
func (c *client) readUntil(name string, timeout time.Duration) []event {
	c.t.Helper()
	end := time.Now().Add(timeout)
	for {
		evs := c.read(time.Until(end))
		if len(evs) > 0 && evs[0].Event == name {
			return evs
		}
	}
}

// closeCode reads until the connection ends and returns its close code.
func (c *client) closeCode(timeout time.Duration) int {
	c.t.Helper()
	return c.closeOf(timeout).Code
}

// closeOf reads until the connection ends and returns its close frame.
func (c *client) closeOf(timeout time.Duration) *websocket.CloseError {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(timeout))
	for {
		_, _, err := c.c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce
	}
}

func (c *client) send(msg string) {
	c.t.Helper()
	if err := c.c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

type wireTick struct {
	ConnectionID string   `json:"connection_id"`
	Symbol       string   `json:"symbol"`
	Price        float64  `json:"price"`
	Timestamp    float64  `json:"timestamp"`
	Size         float64  `json:"size"`
	ChangePct    *float64 `json:"change_pct"`
	Count        uint64   `json:"count"`
}

func TestSnapshotOnConnect(t *testing.T) {
	h := newHarness(t, harnessOpts{Options: Options{
		Status: func() any { return map[string]any{"mode": "single", "uptime_seconds": 1.5} },
	}})
	conn := h.store.Conn("connection_1")
	conn.Append(tickstore.Tick{Symbol: "MSFT", Price: 410, Size: 5, Time: 1705853696500, DayOpen: 400})
	conn.Append(tickstore.Tick{Symbol: "AAPL", Price: 189.2, Size: 100, Time: 1705853696123})

	c := h.dial(0)
	evs := c.read(2 * time.Second)
	if len(evs) != 1 || evs[0].Event != "snapshot" {
		t.Fatalf("first frame: want one snapshot, got %+v", evs)
	}
	var snap struct {
		Status map[string]any `json:"status"`
		Ticks  []wireTick     `json:"ticks"`
	}
	if err := json.Unmarshal(evs[0].Data, &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Status["mode"] != "single" || snap.Status["uptime_seconds"] != 1.5 {
		t.Errorf("status document not passed through: %v", snap.Status)
	}
	if len(snap.Ticks) != 2 {
		t.Fatalf("want 2 ticks, got %+v", snap.Ticks)
	}
	aapl, msft := snap.Ticks[0], snap.Ticks[1]
	if aapl.Symbol != "AAPL" || aapl.ConnectionID != "connection_1" || aapl.Price != 189.2 ||
		aapl.Size != 100 || aapl.Timestamp != 1705853696.123 || aapl.Count != 1 {
		t.Errorf("AAPL tick: %+v", aapl)
	}
	if msft.Symbol != "MSFT" || msft.ChangePct == nil || *msft.ChangePct != 2.5 {
		t.Errorf("MSFT tick (change vs day open 400 -> 410 is 2.5%%): %+v", msft)
	}
	if s := h.hub.Stats(); s.Sessions != 1 || s.SessionsTotal != 1 {
		t.Errorf("stats after one connect: %+v", s)
	}
}

// TestTicksCoalesced drives flush by hand, so "one flush" is exact.
func TestTicksCoalesced(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.dial(0)
	c.readUntil("snapshot", 2*time.Second)
	testkit.WaitFor(t, 2*time.Second, "snapshot written", func() bool { return h.hub.Stats().FramesSent >= 1 })

	c1, c2 := h.store.Conn("connection_1"), h.store.Conn("connection_2")
	for i := range 5 {
		c1.Append(tickstore.Tick{Symbol: "AAPL", Price: 100 + float64(i), Size: 1, Time: 1000 + int64(i)})
	}
	c2.Append(tickstore.Tick{Symbol: "MSFT", Price: 400, Size: 2, Time: 2000})
	h.hub.flush()
	h.hub.flush() // nothing dirty: must not send an empty frame

	c1.Append(tickstore.Tick{Symbol: "AAPL", Price: 200, Size: 1, Time: 3000})
	h.hub.flush()

	first := c.read(2 * time.Second)
	if len(first) != 2 {
		t.Fatalf("first flush: want 2 coalesced events, got %d: %+v", len(first), first)
	}
	got := map[string]wireTick{}
	for _, e := range first {
		if e.Event != "tick_update" {
			t.Fatalf("unexpected event %q", e.Event)
		}
		var tk wireTick
		if err := json.Unmarshal(e.Data, &tk); err != nil {
			t.Fatal(err)
		}
		got[tk.Symbol] = tk
	}
	if a := got["AAPL"]; a.Price != 104 || a.Count != 5 || a.ConnectionID != "connection_1" || a.Timestamp != 1.004 {
		t.Errorf("AAPL not the latest of its flush: %+v", a)
	}
	if m := got["MSFT"]; m.Price != 400 || m.ConnectionID != "connection_2" {
		t.Errorf("MSFT: %+v", m)
	}
	second := c.read(2 * time.Second)
	if len(second) != 1 || !bytes.Contains(second[0].Data, []byte(`"price":200`)) {
		t.Fatalf("second flush: want the one new AAPL tick, got %+v", second)
	}
	if n := h.hub.Stats().LastFrameBytes; n != uint64(len(`[{"event":"tick_update","data":`)+len(second[0].Data)+2) {
		t.Errorf("LastFrameBytes = %d", n)
	}
}

// TestTickFrameSharedAcrossSessions checks that every session receives the
// same bytes for one flush.
func TestTickFrameSharedAcrossSessions(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	a, b := h.dial(0), h.dial(0)
	a.readUntil("snapshot", 2*time.Second)
	b.readUntil("snapshot", 2*time.Second)
	testkit.WaitFor(t, 2*time.Second, "two sessions", func() bool { return h.hub.Stats().Sessions == 2 })
	h.store.Conn("connection_1").Append(tickstore.Tick{Symbol: "AAPL", Price: 1, Time: 1})
	h.hub.flush()
	_ = a.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_ = b.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, ma, errA := a.c.ReadMessage()
	_, mb, errB := b.c.ReadMessage()
	if errA != nil || errB != nil {
		t.Fatalf("read: %v %v", errA, errB)
	}
	if !bytes.Equal(ma, mb) {
		t.Fatalf("sessions got different frames:\n%s\n%s", ma, mb)
	}
}

func TestStatusChangedSkipsFlushInterval(t *testing.T) {
	// An hour-long flush interval proves the update does not wait for it.
	h := newHarness(t, harnessOpts{run: true, Options: Options{FlushInterval: time.Hour}})
	c := h.dial(0)
	c.readUntil("snapshot", 2*time.Second)

	at := time.UnixMilli(1705853696100)
	h.hub.StatusChanged(StatusEvent{ConnectionID: "connection_2", Status: "disconnected",
		Previous: "connected", Reason: "drop: EOF", At: at})
	// With no flush due for an hour, the update arriving at all proves it
	// did not wait for one; the deadline only bounds a broken hub.
	evs := c.readUntil("connection_status_update", 10*time.Second)
	var got struct {
		ConnectionID string  `json:"connection_id"`
		Status       string  `json:"status"`
		Previous     string  `json:"previous"`
		Reason       string  `json:"reason"`
		Timestamp    float64 `json:"timestamp"`
	}
	if err := json.Unmarshal(evs[0].Data, &got); err != nil {
		t.Fatal(err)
	}
	if got.ConnectionID != "connection_2" || got.Status != "disconnected" || got.Previous != "connected" ||
		got.Reason != "drop: EOF" || got.Timestamp != 1705853696.1 {
		t.Errorf("status update: %+v", got)
	}
}

func TestMetricsPushedWithoutFlushes(t *testing.T) {
	metrics := func() []MetricsEvent {
		return []MetricsEvent{
			{ConnectionID: "connection_1", MsgsPerSec: 25.5, MessageCount: 10, RateHistory: []float64{1, 2}},
			{ConnectionID: "connection_2"},
		}
	}
	h := newHarness(t, harnessOpts{run: true, Options: Options{Metrics: metrics, FlushInterval: time.Hour}})
	c := h.dial(0)
	c.readUntil("snapshot", 2*time.Second)
	// No flush is due for an hour: two metrics frames prove that metrics go
	// out on their own schedule. Their spacing is the ticker's business and
	// a loaded machine's; it is not asserted.
	first := c.readUntil("metrics_update", 10*time.Second)
	second := c.readUntil("metrics_update", 10*time.Second)
	for _, evs := range [][]event{first, second} {
		if len(evs) != 2 || !bytes.Contains(evs[0].Data, []byte(`"connection_id":"connection_1","msgs_per_sec":25.5`)) ||
			!bytes.Contains(evs[1].Data, []byte(`"connection_id":"connection_2"`)) {
			t.Fatalf("want metrics for both connections, got %+v", evs)
		}
	}
}

func TestRequestMetricsAndIgnoredInput(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	metrics := func() []MetricsEvent {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return []MetricsEvent{{ConnectionID: "connection_1", MessageCount: uint64(calls)}}
	}
	h := newHarness(t, harnessOpts{Options: Options{Metrics: metrics}}) // no Run: no periodic metrics
	c := h.dial(0)
	c.readUntil("snapshot", 2*time.Second)
	for _, junk := range []string{`not json`, `{"event":"subscribe","data":{}}`, `[]`, `{"event":42}`} {
		c.send(junk)
	}
	c.send(`{"event":"request_metrics"}`)
	evs := c.read(2 * time.Second)
	if len(evs) != 1 || evs[0].Event != "metrics_update" ||
		!bytes.Contains(evs[0].Data, []byte(`"connection_id":"connection_1"`)) {
		t.Fatalf("want a metrics_update answer, got %+v", evs)
	}
	if s := h.hub.Stats(); s.Sessions != 1 {
		t.Fatalf("junk input must not end the session: %+v", s)
	}
}

func TestOversizedClientFrameCloses1009(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.dial(0)
	c.readUntil("snapshot", 2*time.Second)
	c.send(`{"event":"request_metrics","pad":"` + strings.Repeat("x", 5000) + `"}`)
	if code := c.closeCode(2 * time.Second); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	testkit.WaitFor(t, 2*time.Second, "session to end", func() bool { return h.hub.Stats().Sessions == 0 })
}

func TestShutdownCloses1001(t *testing.T) {
	h := newHarness(t, harnessOpts{run: true})
	a, b := h.dial(0), h.dial(0)
	a.readUntil("snapshot", 2*time.Second)
	b.readUntil("snapshot", 2*time.Second)
	testkit.WaitFor(t, 2*time.Second, "two sessions", func() bool { return h.hub.Stats().Sessions == 2 })

	codes := make(chan int, 2)
	for _, c := range []*client{a, b} {
		go func() {
			_ = c.c.SetReadDeadline(time.Now().Add(3 * time.Second))
			for {
				_, _, err := c.c.ReadMessage()
				if err != nil {
					var ce *websocket.CloseError
					if errors.As(err, &ce) {
						codes <- ce.Code
					} else {
						codes <- -1
					}
					return
				}
			}
		}()
	}
	h.hub.Shutdown()
	if s := h.hub.Stats(); s.Sessions != 0 {
		t.Fatalf("Shutdown returned with %d sessions", s.Sessions)
	}
	for range 2 {
		if code := <-codes; code != websocket.CloseGoingAway {
			t.Errorf("close code %d, want 1001", code)
		}
	}
	// A browser arriving after shutdown is turned away with 1001 too.
	late := h.dial(0)
	if code := late.closeCode(2 * time.Second); code != websocket.CloseGoingAway {
		t.Errorf("late session close code %d, want 1001", code)
	}
}

func TestResyncSendsSnapshotToEverySession(t *testing.T) {
	version := 1
	var mu sync.Mutex
	status := func() any {
		mu.Lock()
		defer mu.Unlock()
		return map[string]int{"version": version}
	}
	h := newHarness(t, harnessOpts{run: true, Options: Options{Status: status, FlushInterval: time.Hour}})
	a, b := h.dial(0), h.dial(0)
	a.readUntil("snapshot", 2*time.Second)
	b.readUntil("snapshot", 2*time.Second)
	testkit.WaitFor(t, 2*time.Second, "two sessions", func() bool { return h.hub.Stats().Sessions == 2 })
	mu.Lock()
	version = 2
	mu.Unlock()
	h.hub.Resync()
	for _, c := range []*client{a, b} {
		evs := c.readUntil("snapshot", 2*time.Second)
		if !bytes.Contains(evs[0].Data, []byte(`"version":2`)) {
			t.Errorf("resync snapshot is stale: %s", evs[0].Data)
		}
	}
}

func TestDeadPeerReaped(t *testing.T) {
	h := newHarness(t, harnessOpts{Options: Options{PingInterval: 50 * time.Millisecond}})
	h.dial(0) // never reads, so never answers a ping
	testkit.WaitFor(t, 2*time.Second, "a session", func() bool { return h.hub.Stats().SessionsTotal == 1 })
	testkit.WaitFor(t, 3*time.Second, "silent peer to be reaped", func() bool { return h.hub.Stats().Sessions == 0 })
}

// TestStatusEventsNeverLostToResync races configuration resyncs against
// status changes, the way the manager produces them (state updated first,
// then the event), and checks that a browser applying frames in order always
// ends on the latest state: no status event may be discarded by a snapshot
// swap, and no snapshot may overtake a newer event.
func TestStatusEventsNeverLostToResync(t *testing.T) {
	var mu sync.Mutex
	state := 0
	status := func() any {
		mu.Lock()
		v := state
		mu.Unlock()
		// Building the real document takes time; events keep coming.
		time.Sleep(200 * time.Microsecond)
		return map[string]int{"state": v}
	}
	h := newHarness(t, harnessOpts{run: true, Options: Options{Status: status, FlushInterval: time.Hour, QueueSize: 4096}})
	c := h.dial(0)
	c.readUntil("snapshot", 2*time.Second)

	const changes = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= changes; i++ {
			mu.Lock()
			state = i
			mu.Unlock()
			h.hub.StatusChanged(StatusEvent{ConnectionID: "connection_1", Status: strconv.Itoa(i)})
			if i%3 == 0 {
				h.hub.Resync()
			}
			time.Sleep(20 * time.Microsecond)
		}
	}()
	<-done
	// One last resync request may still be pending; the browser's view
	// after everything is delivered must be the final state either way.
	last := -1
	apply := func(v int) {
		if v < last {
			t.Fatalf("browser went back from state %d to %d: a stale snapshot overtook a newer event", last, v)
		}
		last = v
	}
	deadline := time.Now().Add(3 * time.Second)
	for last != changes && time.Now().Before(deadline) {
		_ = c.c.SetReadDeadline(time.Now().Add(time.Until(deadline)))
		_, msg, err := c.c.ReadMessage()
		if err != nil {
			break
		}
		var evs []event
		_ = json.Unmarshal(msg, &evs)
		for _, ev := range evs {
			switch ev.Event {
			case "snapshot":
				var d struct{ Status struct{ State int } }
				_ = json.Unmarshal(ev.Data, &d)
				apply(d.Status.State)
			case "connection_status_update":
				var d struct{ Status string }
				_ = json.Unmarshal(ev.Data, &d)
				v, _ := strconv.Atoi(d.Status)
				apply(v)
			}
		}
	}
	if last != changes {
		t.Fatalf("browser ended on state %d, want %d", last, changes)
	}
}
