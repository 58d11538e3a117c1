package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// patience bounds the waits on server state (testkit.WaitFor).
const patience = 5 * time.Second

// testCfg is a fast configuration for tests.
func testCfg() Config {
	return Config{
		Keys:           []string{"good", "other"},
		AuthTimeout:    2 * time.Second,
		TicksPerSecond: 600,
		FlushInterval:  20 * time.Millisecond,
		Seed:           7,
	}
}

func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s := New(cfg)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// msg is a decoded server message (status or market event).
type msg struct {
	Ev      string          `json:"ev"`
	Status  string          `json:"status"`
	Message string          `json:"message"`
	Sym     string          `json:"sym"`
	Q       int64           `json:"q"`
	P       float64         `json:"p"`
	I       string          `json:"i"`
	S       int64           `json:"s"`
	E       int64           `json:"e"`
	O       float64         `json:"o"`
	H       float64         `json:"h"`
	L       float64         `json:"l"`
	C       json.RawMessage `json:"c"` // trade conditions or bar close
	T       int64           `json:"t"`
	V       int64           `json:"v"`
	AV      int64           `json:"av"`
	VW      float64         `json:"vw"`
	OP      float64         `json:"op"`
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, s *Server) *client {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial(s.URL(), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	_ = resp.Body.Close()
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.Close() })
	return c
}

func (c *client) send(action, params string) {
	c.t.Helper()
	b, _ := json.Marshal(map[string]string{"action": action, "params": params})
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("send %s: %v", action, err)
	}
}

// read returns the messages of the next frame, leniently: elements that do
// not decode (SendMalformed) are skipped.
func (c *client) read() ([]msg, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(data, &elems); err != nil {
		return nil, fmt.Errorf("frame %.200q: %w", data, err)
	}
	out := make([]msg, 0, len(elems))
	for _, e := range elems {
		var m msg
		if json.Unmarshal(e, &m) == nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// statuses reads frames until n status messages arrived, skipping market data.
func (c *client) statuses(n int) []msg {
	c.t.Helper()
	var out []msg
	for len(out) < n {
		ms, err := c.read()
		if err != nil {
			c.t.Fatalf("reading statuses (have %v): %v", out, err)
		}
		for _, m := range ms {
			if m.Ev == "status" {
				out = append(out, m)
			}
		}
	}
	return out
}

func (c *client) expectStatus(status, message string) {
	c.t.Helper()
	got := c.statuses(1)[0]
	if got.Status != status || (message != "" && got.Message != message) {
		c.t.Fatalf("status = %q %q, want %q %q", got.Status, got.Message, status, message)
	}
}

// close is the bar close price.
func (m msg) close() float64 {
	var f float64
	_ = json.Unmarshal(m.C, &f)
	return f
}

// handshake connects and authenticates with key "good".
func handshake(t *testing.T, s *Server) *client {
	t.Helper()
	c := dial(t, s)
	c.expectStatus("connected", "Connected Successfully")
	c.send("auth", "good")
	c.expectStatus("auth_success", "authenticated")
	return c
}

// expectClosed reads until the connection ends and returns the error.
func (c *client) expectClosed() error {
	c.t.Helper()
	for {
		_, _, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
	}
}

func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
