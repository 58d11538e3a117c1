package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"go.uber.org/goleak"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
)

func TestMaxConnectionsEvictsOldest(t *testing.T) {
	cfg := testCfg()
	cfg.MaxConnsPerKey = 2
	s := startServer(t, cfg)
	c1 := handshake(t, s)
	c2 := handshake(t, s)
	other := dial(t, s)
	other.expectStatus("connected", "")
	other.send("auth", "other")
	other.expectStatus("auth_success", "")
	c3 := handshake(t, s)

	c1.expectStatus("max_connections", "Maximum number of connections exceeded.")
	if err := c1.expectClosed(); closeCode(err) != 1000 {
		t.Fatalf("evicted close err = %v", err)
	}
	testkit.WaitFor(t, patience, "eviction unregistered", func() bool { return len(s.Conns()) == 3 })
	var ids []int64
	for _, ci := range s.Conns() {
		ids = append(ids, ci.ID)
	}
	if ids[0] != 2 || ids[1] != 3 || ids[2] != 4 {
		t.Fatalf("live ids = %v, want [2 3 4]", ids)
	}
	// The survivors still work.
	for _, c := range []*client{c2, c3} {
		c.send("subscribe", "T.AAPL")
		c.expectStatus("success", "subscribed to: T.AAPL")
	}
}

func TestDrop(t *testing.T) {
	s := startServer(t, testCfg())
	c := handshake(t, s)
	id := s.Conns()[0].ID
	if err := s.Drop(id); err != nil {
		t.Fatal(err)
	}
	if err := c.expectClosed(); closeCode(err) != websocket.CloseAbnormalClosure {
		t.Fatalf("err = %v, want abnormal closure", err)
	}
	if err := s.Drop(id); !errors.Is(err, ErrUnknownConn) {
		t.Fatalf("second drop err = %v", err)
	}
}

func TestCloseWith(t *testing.T) {
	s := startServer(t, testCfg())
	c := handshake(t, s)
	id := s.Conns()[0].ID
	if err := s.CloseWith(id, 1005, ""); err == nil {
		t.Fatal("close code 1005 accepted")
	}
	if err := s.CloseWith(id, 4001, "bye"); err != nil {
		t.Fatal(err)
	}
	err := c.expectClosed()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Text != "bye" {
		t.Fatalf("err = %v", err)
	}
	testkit.WaitFor(t, patience, "connection gone", func() bool { return len(s.Conns()) == 0 })
}

func TestSendStatus(t *testing.T) {
	tests := []struct {
		status     string
		closeAfter bool
	}{
		{"force_disconnect", true},
		{"slow_consumer", true},
		{"auth_failed", true},
		{"info", false},
	}
	for _, tc := range tests {
		t.Run(tc.status, func(t *testing.T) {
			s := startServer(t, testCfg())
			c := handshake(t, s)
			if err := s.SendStatus(s.Conns()[0].ID, tc.status, "msg "+tc.status, tc.closeAfter); err != nil {
				t.Fatal(err)
			}
			c.expectStatus(tc.status, "msg "+tc.status)
			if tc.closeAfter {
				if err := c.expectClosed(); closeCode(err) != 1000 {
					t.Fatalf("close err = %v", err)
				}
				return
			}
			c.send("subscribe", "T.AAPL")
			c.expectStatus("success", "subscribed to: T.AAPL")
		})
	}
}

// TestStall checks that a stalled connection gets no market data for the
// stall's window and no pong for a ping sent during it, then resumes.
func TestStall(t *testing.T) {
	s := startServer(t, testCfg())
	c := handshake(t, s)
	c.send("subscribe", "T.AAPL")
	c.statuses(1)
	if _, err := c.read(); err != nil { // data flows
		t.Fatal(err)
	}
	pongs := make(chan string, 4)
	c.ws.SetPongHandler(func(d string) error { pongs <- d; return nil })
	const stall = 1500 * time.Millisecond
	if err := s.Stall(s.Conns()[0].ID, stall); err != nil {
		t.Fatal(err)
	}
	stallStart := time.Now().UnixMilli()
	stallEnd := stallStart + stall.Milliseconds()
	if err := c.ws.WriteControl(websocket.PingMessage, []byte("during"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	resumed := false
	sentAfter := false
	for {
		ms, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			// Trades are stamped when generated; none may come from inside the window.
			if m.T > stallStart && m.T < stallEnd-500 {
				t.Fatalf("trade stamped %d ms into a %v stall was sent", m.T-stallStart, stall)
			}
			if m.T >= stallEnd {
				resumed = true
			}
		}
		if resumed && !sentAfter {
			sentAfter = true
			if err := c.ws.WriteControl(websocket.PingMessage, []byte("after"), time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case p := <-pongs:
			if p != "after" {
				t.Fatalf("pong %q answered during the stall", p)
			}
			return
		default:
		}
	}
}

func TestSendMalformed(t *testing.T) {
	s := startServer(t, testCfg())
	c := handshake(t, s)
	c.send("subscribe", "Q.MSFT")
	c.statuses(1)
	id := s.Conns()[0].ID
	if err := s.SendMalformed(id); err != nil {
		t.Fatal(err)
	}
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte("garbage")) {
			continue // an ordinary quote frame
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(data, &elems); err != nil {
			t.Fatalf("malformed frame must stay valid JSON: %v", err)
		}
		var valid, invalid int
		for _, e := range elems {
			var tr struct {
				Ev  string  `json:"ev"`
				Sym string  `json:"sym"`
				P   float64 `json:"p"`
				I   string  `json:"i"`
				Q   int64   `json:"q"`
			}
			if json.Unmarshal(e, &tr) == nil && tr.Ev == "T" && tr.Sym == "MSFT" && tr.P > 0 && tr.I != "" && tr.Q > 0 {
				valid++
			} else {
				invalid++
			}
		}
		if valid != 1 || invalid < 3 {
			t.Fatalf("valid=%d invalid=%d in %s", valid, invalid, data)
		}
		break
	}
	testkit.WaitFor(t, patience, "valid event counted", func() bool { return s.SentBySymbol(id)["MSFT"] > 0 })
}

func TestSendOversize(t *testing.T) {
	s := startServer(t, testCfg())
	c := handshake(t, s)
	if err := s.SendOversize(s.Conns()[0].ID); err != nil {
		t.Fatal(err)
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) <= 1_000_000 || !json.Valid(data) {
		t.Fatalf("oversize frame: %d bytes, valid JSON %v", len(data), json.Valid(data))
	}

	// A client with the official read limit is cut off.
	c2 := handshake(t, s)
	c2.ws.SetReadLimit(1_000_000)
	if err := s.SendOversize(s.Conns()[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := c2.expectClosed(); !errors.Is(err, websocket.ErrReadLimit) {
		t.Fatalf("err = %v, want read limit", err)
	}
}

func TestRefuseNew(t *testing.T) {
	s := startServer(t, testCfg())
	s.RefuseNew(300 * time.Millisecond)
	_, resp, err := websocket.DefaultDialer.Dial(s.URL(), nil)
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial during refusal: err=%v resp=%v", err, resp)
	}
	_ = resp.Body.Close()
	testkit.WaitFor(t, patience, "refusal to end", func() bool {
		ws, resp, err := websocket.DefaultDialer.Dial(s.URL(), nil)
		if resp != nil {
			_ = resp.Body.Close()
		}
		if err != nil {
			return false
		}
		_ = ws.Close()
		return true
	})
}

func TestUnknownConn(t *testing.T) {
	s := startServer(t, testCfg())
	checks := map[string]error{
		"drop":      s.Drop(99),
		"close":     s.CloseWith(99, 1000, ""),
		"status":    s.SendStatus(99, "x", "", false),
		"stall":     s.Stall(99, time.Second),
		"malformed": s.SendMalformed(99),
		"oversize":  s.SendOversize(99),
	}
	for name, err := range checks {
		if !errors.Is(err, ErrUnknownConn) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestCloseLeaksNothing closes a server with connections in every state:
// unauthenticated, streaming, stalled, and mid graceful close.
func TestCloseLeaksNothing(t *testing.T) {
	s := New(testCfg())
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	raw := dial(t, s)
	raw.expectStatus("connected", "")
	streaming := handshake(t, s)
	streaming.send("subscribe", "T.*,Q.*,A.*")
	stalled := handshake(t, s)
	stalled.send("subscribe", "T.AAPL")
	stalled.statuses(1)
	closing := handshake(t, s)
	testkit.WaitFor(t, patience, "4 conns", func() bool { return len(s.Conns()) == 4 })
	conns := s.Conns()
	if err := s.Stall(conns[2].ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	// The client never echoes this close frame, so the server sits in its grace wait.
	if err := s.CloseWith(conns[3].ID, 1000, ""); err != nil {
		t.Fatal(err)
	}
	_ = closing
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	for _, c := range []*client{raw, streaming, stalled, closing} {
		_ = c.ws.Close()
	}
	goleak.VerifyNone(t)
}
