package wsconn_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"go.uber.org/goleak"

	"github.com/tickwatch/tickwatch/backend/internal/wsconn"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// queue is the simplest Writer: frames written in order; a frame "LAST"
// ends the connection once written. It records what WriteFailed is told.
type queue struct {
	c *wsconn.Conn

	mu       sync.Mutex
	frames   [][]byte
	failed   chan bool // timedOut of each WriteFailed
	writeFor time.Duration
	wire     bool // write with WriteFrames, all queued frames at once
}

func (q *queue) push(b []byte) {
	q.mu.Lock()
	q.frames = append(q.frames, b)
	q.mu.Unlock()
	q.c.Signal()
}

func (q *queue) Drain() (bool, error) {
	q.mu.Lock()
	fs := q.frames
	q.frames = nil
	q.mu.Unlock()
	if q.wire {
		bufs := make(net.Buffers, 0, len(fs))
		for _, f := range fs {
			bufs = append(bufs, wsconn.TextFrame(f))
		}
		return false, q.c.WriteFrames(&bufs, q.writeFor)
	}
	for _, f := range fs {
		if q.c.Stopping() {
			return false, nil
		}
		if err := q.c.WriteMessage(f, q.writeFor); err != nil {
			return false, err
		}
		if string(f) == "LAST" {
			return true, nil
		}
	}
	return false, nil
}

func (q *queue) WriteFailed(_ error, timedOut bool) { q.failed <- timedOut }

// server serves every connection with a Conn and reports each one's Serve
// result; handle answers client messages through the queue.
type server struct {
	url   string
	conns chan *queue
	ended chan error
	got   chan string
}

func serve(t *testing.T, o wsconn.Options) *server {
	t.Helper()
	s := &server{conns: make(chan *queue, 1), ended: make(chan error, 1), got: make(chan string, 64)}
	up := websocket.Upgrader{WriteBufferSize: 1024}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		q := &queue{failed: make(chan bool, 1), writeFor: 200 * time.Millisecond}
		q.c = wsconn.New(ws, o)
		s.conns <- q
		err = q.c.Serve(q, func(msg []byte) {
			s.got <- string(msg)
			if string(msg) == "echo" {
				q.push([]byte("echoed"))
			}
		})
		_ = ws.Close()
		s.ended <- err
	}))
	t.Cleanup(srv.Close)
	s.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return s
}

func opts() wsconn.Options {
	return wsconn.Options{PingInterval: time.Hour, ControlTimeout: time.Second, CloseGrace: 200 * time.Millisecond, ReadLimit: 64}
}

func dial(t *testing.T, s *server) (*websocket.Conn, *queue) {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(s.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	select {
	case q := <-s.conns:
		return c, q
	case <-time.After(5 * time.Second):
		t.Fatal("server never served the connection")
		return nil, nil
	}
}

// closeCode reads until the connection ends and returns the close code the
// server sent (-1: none).
func closeCode(t *testing.T, c *websocket.Conn) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		return -1
	}
}

func waitEnded(t *testing.T, s *server) error {
	t.Helper()
	select {
	case err := <-s.ended:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

func TestMessagesInOrderAndDrainDoneClosesNormally(t *testing.T) {
	s := serve(t, opts())
	c, q := dial(t, s)
	for _, m := range []string{"a", "b", "echo"} {
		if err := c.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"a", "b", "echo"} {
		if got := <-s.got; got != want {
			t.Fatalf("handled %q, want %q", got, want)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "echoed" {
		t.Fatalf("read %q, %v; want echoed", msg, err)
	}
	q.push([]byte("LAST"))
	q.push([]byte("never written"))
	_, msg, err := c.ReadMessage()
	if err != nil || string(msg) != "LAST" {
		t.Fatalf("read %q, %v; want LAST", msg, err)
	}
	if code := closeCode(t, c); code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d, want 1000 after the last frame", code)
	}
	if err := waitEnded(t, s); err != nil {
		t.Fatalf("Serve: %v after a normal close", err)
	}
}

func TestFirstStopCodeWins(t *testing.T) {
	s := serve(t, opts())
	c, q := dial(t, s)
	// The first code is set before the writer can see any Stop, so the
	// order is deterministic; a Stop(0) first would race the writer, which
	// may finish (owing no close frame) before a later code arrives.
	q.c.Stop(websocket.CloseTryAgainLater, "too slow")
	q.c.Stop(0, "")
	q.c.Stop(websocket.CloseGoingAway, "later code loses")
	if !q.c.Stopping() {
		t.Fatal("Stopping false after Stop")
	}
	if code := closeCode(t, c); code != websocket.CloseTryAgainLater {
		t.Fatalf("close code %d, want 1013 (the first non-zero code)", code)
	}
	waitEnded(t, s)
}

func TestOversizeMessageCloses1009(t *testing.T) {
	s := serve(t, opts())
	c, _ := dial(t, s)
	if err := c.WriteMessage(websocket.TextMessage, make([]byte, 65)); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, c); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	waitEnded(t, s)
}

// The writer answers the peer's pings, and a peer that neither talks nor
// answers pings is dropped after two ping intervals.
func TestPingPongAndSilentPeer(t *testing.T) {
	o := opts()
	o.PingInterval = 150 * time.Millisecond
	s := serve(t, o)
	c, _ := dial(t, s)
	pong := make(chan string, 1)
	c.SetPongHandler(func(d string) error { pong <- d; return nil })
	pings := 0
	c.SetPingHandler(func(string) error { pings++; return nil }) // read, never answered
	if err := c.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	closeCode(t, c) // reading runs the handlers until the server gives up
	select {
	case d := <-pong:
		if d != "hi" {
			t.Fatalf("pong carried %q, want hi", d)
		}
	default:
		t.Fatal("no pong for the client's ping")
	}
	if pings == 0 {
		t.Fatal("server never pinged")
	}
	waitEnded(t, s)
}

// A peer that stops reading makes a write time out: WriteFailed hears of
// it with timedOut, and Serve still returns once the connection is gone.
func TestStalledPeerTimesOut(t *testing.T) {
	s := serve(t, opts())
	c, q := dial(t, s)
	big := make([]byte, 1<<20)
	for range 64 { // far more than the socket buffers hold
		q.push(big)
	}
	select {
	case timedOut := <-q.failed:
		if !timedOut {
			t.Fatal("WriteFailed told timedOut=false for a peer that stopped reading")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("write to a stalled peer never failed")
	}
	_ = c.Close()
	waitEnded(t, s)
}

// Stop before anything was written, with a writer blocked on a stalled
// peer: the write in progress is cut within the grace, not the write's own
// (long) deadline, and WriteFailed is not told (Stop caused it).
func TestStopCutsBlockedWrite(t *testing.T) {
	s := serve(t, opts())
	c, q := dial(t, s)
	q.writeFor = time.Hour
	big := make([]byte, 1<<20)
	for range 64 {
		q.push(big)
	}
	time.Sleep(100 * time.Millisecond) // let the writer block
	q.c.Stop(websocket.CloseGoingAway, "bye")
	waitEnded(t, s)
	select {
	case <-q.failed:
		t.Fatal("WriteFailed told of a failure Stop caused")
	default:
	}
	_ = c.Close()
}

// Serve reports how reading ended only when the peer went away without a
// normal close.
func TestServeReportsUnexpectedEnd(t *testing.T) {
	for _, tc := range []struct {
		name    string
		end     func(*websocket.Conn)
		wantErr bool
	}{
		{"close 1000", func(c *websocket.Conn) {
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		}, false},
		{"close 1001", func(c *websocket.Conn) {
			_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
		}, false},
		{"socket dropped", func(c *websocket.Conn) { _ = c.NetConn().Close() }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := serve(t, opts())
			c, _ := dial(t, s)
			tc.end(c)
			if err := waitEnded(t, s); (err != nil) != tc.wantErr {
				t.Fatalf("Serve returned %v, want an error: %v", err, tc.wantErr)
			}
		})
	}
}

// Frames built by Frame, of every header length, written together by
// WriteFrames, reach a client library as the messages they carry, in order.
func TestWriteFrames(t *testing.T) {
	s := serve(t, opts())
	c, q := dial(t, s)
	q.wire = true
	sizes := []int{0, 1, 125, 126, 65535, 65536, 300_000}
	q.mu.Lock()
	for i, n := range sizes {
		q.frames = append(q.frames, []byte(strings.Repeat(string(rune('a'+i)), n)))
	}
	q.mu.Unlock()
	q.c.Signal()
	c.SetReadLimit(1 << 20)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i, n := range sizes {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("frame %d (%d bytes): %v", i, n, err)
		}
		if typ != websocket.TextMessage || len(msg) != n || strings.Trim(string(msg), string(rune('a'+i))) != "" {
			t.Fatalf("frame %d: type %d, %d bytes, want a text message of %d %q", i, typ, len(msg), n, rune('a'+i))
		}
	}
	q.c.Stop(websocket.CloseNormalClosure, "")
	if code := closeCode(t, c); code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d after frames, want 1000", code)
	}
	waitEnded(t, s)
}
