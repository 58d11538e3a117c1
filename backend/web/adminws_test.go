package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

type wsEvent struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

type wsFrame struct {
	at     time.Time
	events []wsEvent
}

// dialAdminWSRaw opens /admin-ws as role from our own origin.
func (e *env) dialAdminWSRaw(role string) (*websocket.Conn, *http.Response) {
	e.t.Helper()
	h := http.Header{"Origin": {e.base}, "Cookie": {e.cookies[role].String()}}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.base, "http")+"/admin-ws", h)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	return conn, resp
}

// dialAdminWS opens /admin-ws as role and streams decoded frames.
func (e *env) dialAdminWS(role string) (*websocket.Conn, <-chan wsFrame) {
	e.t.Helper()
	conn, _ := e.dialAdminWSRaw(role)
	frames := make(chan wsFrame, 1024)
	go func() {
		defer close(frames)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			e.assertNoSecrets("an /admin-ws frame", string(data))
			var evs []wsEvent
			if err := json.Unmarshal(data, &evs); err != nil {
				e.t.Errorf("frame is not a JSON array of events: %v", err)
				return
			}
			frames <- wsFrame{at: time.Now(), events: evs}
		}
	}()
	return conn, frames
}

// next returns the first event named name, within d.
func next(t *testing.T, frames <-chan wsFrame, name string, d time.Duration, match func(json.RawMessage) bool) (wsEvent, time.Time) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatalf("socket closed while waiting for %s", name)
			}
			for _, ev := range f.events {
				if ev.Event == name && (match == nil || match(ev.Data)) {
					return ev, f.at
				}
			}
		case <-deadline:
			t.Fatalf("no %s within %v", name, d)
		}
	}
}

// TestAdminWSLive: the full path from the simulator to a browser socket:
// snapshot first, coalesced ticks, per-second metrics, and a status update
// within 100 ms of a fault injected in the simulator.
func TestAdminWSLive(t *testing.T) {
	e := newEnv(t, envOptions{})
	testkit.WaitFor(t, 5*time.Second, "connected", func() bool {
		var doc StatusDoc
		e.getJSON("/api/admin/websocket-status", "viewer", &doc)
		return doc.Summary.Connected == 2
	})
	_, frames := e.dialAdminWS("viewer")

	snap, _ := next(t, frames, "snapshot", 2*time.Second, nil)
	var sd struct {
		Status StatusDoc
		Ticks  []map[string]any
	}
	if err := json.Unmarshal(snap.Data, &sd); err != nil || len(sd.Status.Connections) != 3 {
		t.Fatalf("snapshot: %v %.300s", err, snap.Data)
	}

	// Coalesced ticks: within one frame a symbol appears at most once.
	ticks := 0
	deadline := time.Now().Add(3 * time.Second)
	for ticks < 5 && time.Now().Before(deadline) {
		f := <-frames
		seen := map[string]bool{}
		for _, ev := range f.events {
			if ev.Event != "tick_update" {
				continue
			}
			var tu struct {
				ConnectionID string  `json:"connection_id"`
				Symbol       string  `json:"symbol"`
				Price        float64 `json:"price"`
				Timestamp    float64 `json:"timestamp"`
			}
			if err := json.Unmarshal(ev.Data, &tu); err != nil || tu.Symbol == "" || tu.Price <= 0 || tu.ConnectionID == "" {
				t.Fatalf("tick_update: %v %s", err, ev.Data)
			}
			if seen[tu.Symbol] {
				t.Fatalf("symbol %s twice in one flush", tu.Symbol)
			}
			seen[tu.Symbol] = true
			ticks++
		}
	}
	if ticks < 5 {
		t.Fatalf("only %d tick updates in 3 s", ticks)
	}
	next(t, frames, "metrics_update", 2500*time.Millisecond, nil)

	// Fault: drop connection_1's upstream socket in the simulator.
	sc, ok := e.sim.ConnBySymbol("AAPL")
	if !ok {
		t.Fatal("simulator has no connection for AAPL")
	}
	dropped := time.Now()
	if err := e.sim.Drop(sc.ID); err != nil {
		t.Fatal(err)
	}
	isConn1 := func(status string) func(json.RawMessage) bool {
		return func(d json.RawMessage) bool {
			var su struct {
				ConnectionID string `json:"connection_id"`
				Status       string `json:"status"`
			}
			return json.Unmarshal(d, &su) == nil && su.ConnectionID == "connection_1" && su.Status == status
		}
	}
	ev, at := next(t, frames, "connection_status_update", 2*time.Second, isConn1("disconnected"))
	latency := at.Sub(dropped)
	t.Logf("status update %v after the fault: %s", latency, ev.Data)
	if latency > 100*time.Millisecond {
		t.Errorf("status update took %v, want within 100 ms", latency)
	}
	next(t, frames, "connection_status_update", 5*time.Second, isConn1("connected"))
}
