package simulator

import (
	"reflect"
	"testing"
	"time"
)

func TestHandshake(t *testing.T) {
	s := startServer(t, testCfg())
	c := handshake(t, s)
	_ = c
	conns := s.Conns()
	if len(conns) != 1 || !conns[0].Authenticated || conns[0].Key != "good" {
		t.Fatalf("conns = %+v", conns)
	}
}

func TestAuthFailure(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		key  string
	}{
		{"wrong key", []string{"good"}, "bad"},
		{"empty key with open keys", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testCfg()
			cfg.Keys = tc.keys
			s := startServer(t, cfg)
			c := dial(t, s)
			c.expectStatus("connected", "")
			// Back to back, like the official clients: the subscribe must be ignored.
			c.send("auth", tc.key)
			c.send("subscribe", "T.AAPL")
			c.expectStatus("auth_failed", "authentication failed")
			if err := c.expectClosed(); closeCode(err) != 1000 {
				t.Fatalf("close err = %v", err)
			}
		})
	}
}

func TestAnyKeyWhenNoKeysConfigured(t *testing.T) {
	cfg := testCfg()
	cfg.Keys = nil
	s := startServer(t, cfg)
	c := dial(t, s)
	c.expectStatus("connected", "")
	c.send("auth", "whatever")
	c.expectStatus("auth_success", "authenticated")
}

func TestAuthTimeout(t *testing.T) {
	cfg := testCfg()
	cfg.AuthTimeout = 50 * time.Millisecond
	s := startServer(t, cfg)
	c := dial(t, s)
	c.expectStatus("connected", "")
	c.expectStatus("auth_timeout", "No authentication request received.")
	if err := c.expectClosed(); closeCode(err) != 1000 {
		t.Fatalf("close err = %v", err)
	}
}

func TestAuthRequired(t *testing.T) {
	s := startServer(t, testCfg())
	c := dial(t, s)
	c.expectStatus("connected", "")
	c.send("subscribe", "T.AAPL")
	c.expectStatus("auth_required", "")
	c.send("auth", "good")
	c.expectStatus("auth_success", "")
}

func TestSubscribeUnsubscribe(t *testing.T) {
	s := startServer(t, testCfg())
	c := dial(t, s)
	c.expectStatus("connected", "")
	c.send("auth", "good")
	c.send("subscribe", "T.AAPL, Q.AAPL,AM.MSFT,A.BRK.A,,LULD.AAPL")
	st := c.statuses(6)
	var got []string
	for _, m := range st {
		got = append(got, m.Status+" "+m.Message)
	}
	want := []string{
		"auth_success authenticated",
		"success subscribed to: T.AAPL",
		"success subscribed to: Q.AAPL",
		"success subscribed to: AM.MSFT",
		"success subscribed to: A.BRK.A",
		"success subscribed to: LULD.AAPL",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses\n got %q\nwant %q", got, want)
	}
	id := s.Conns()[0].ID
	subs := s.Conns()[0].Subscriptions
	if w := []string{"A.BRK.A", "AM.MSFT", "LULD.AAPL", "Q.AAPL", "T.AAPL"}; !reflect.DeepEqual(subs, w) {
		t.Fatalf("subscriptions = %v, want %v", subs, w)
	}
	if ci, ok := s.ConnBySymbol("BRK.A"); !ok || ci.ID != id {
		t.Fatalf("ConnBySymbol(BRK.A) = %+v %v", ci, ok)
	}
	if _, ok := s.ConnBySymbol("BRK"); ok {
		t.Fatal("ConnBySymbol(BRK) found a connection")
	}

	c.send("unsubscribe", "T.AAPL,A.BRK.A")
	st = c.statuses(2)
	if st[0].Message != "unsubscribed to: T.AAPL" || st[1].Message != "unsubscribed to: A.BRK.A" {
		t.Fatalf("unsubscribe statuses = %+v", st)
	}
	if subs := s.Conns()[0].Subscriptions; !reflect.DeepEqual(subs, []string{"AM.MSFT", "LULD.AAPL", "Q.AAPL"}) {
		t.Fatalf("subscriptions after unsubscribe = %v", subs)
	}
}

func TestBadMessages(t *testing.T) {
	s := startServer(t, testCfg())
	c := handshake(t, s)
	tests := []struct {
		name   string
		raw    string
		status string
	}{
		{"unknown action", `{"action":"dance","params":"x"}`, "error"},
		{"not json", `hello`, "error"},
		{"params not a string", `{"action":"subscribe","params":5}`, "error"},
		{"entry without dot", `{"action":"subscribe","params":"AAPL"}`, "error"},
		{"unknown prefix", `{"action":"subscribe","params":"X.AAPL"}`, "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.ws.WriteMessage(1, []byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			c.expectStatus(tc.status, "")
		})
	}
	if subs := s.Conns()[0].Subscriptions; len(subs) != 0 {
		t.Fatalf("subscriptions = %v", subs)
	}
}

func TestPingAnswered(t *testing.T) {
	s := startServer(t, testCfg())
	c := handshake(t, s)
	pong := make(chan string, 1)
	c.ws.SetPongHandler(func(d string) error { pong <- d; return nil })
	if err := c.ws.WriteControl(9, []byte("hi"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = c.read() }() // pongs are processed by reads
	select {
	case d := <-pong:
		if d != "hi" {
			t.Fatalf("pong = %q", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
}
