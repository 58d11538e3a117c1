// Package wsconn is the connection plumbing that the server's two
// WebSocket fan-outs share: the live hub's browser sessions and the relay's
// consumers. Both follow gorilla/websocket's chat example: one reader
// goroutine with a read limit, a read deadline pushed out by every sign of
// life, and one writer goroutine that does every write (queued frames, pings,
// pongs, the close frame), woken by a signal when something is queued. Both
// need the same careful ending: the first close code asked for wins, a write
// to a peer that stopped reading is cut short once the connection stops, the
// close handshake gets a bounded grace, and the caller gets the connection
// back only after the writer has stopped (the Fiber contrib package recycles
// it at once).
//
// What differs stays with the callers, behind Writer: what is queued and
// how (the live hub's urgent lane, pacing and snapshot resync; the relay's
// slow_consumer cut and shared frames), and what a failed write means.
package wsconn

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
)

// Options configure a Conn. Every field is required (the callers own the
// defaults: they differ between the live hub and the relay).
type Options struct {
	// PingInterval is the ping period; a peer silent (no message, no pong)
	// for twice that is dropped.
	PingInterval time.Duration
	// ControlTimeout bounds writing a ping or a pong.
	ControlTimeout time.Duration
	// CloseGrace bounds the ending: the write in progress once Stop is
	// called, the close frame, and the wait for the peer's answer to it.
	CloseGrace time.Duration
	// ReadLimit is the largest message read; a bigger one makes the library
	// close with 1009.
	ReadLimit int64
}

// Writer is what a Conn's writer goroutine calls; it is called on that
// goroutine only.
type Writer interface {
	// Drain writes what is queued (with Conn.WriteMessage or
	// Conn.WritePrepared). done means it wrote the connection's last frame:
	// the Conn closes with 1000. It should return soon after Stopping turns
	// true, and should not write everything ever queued in one call, so that
	// pings still go out while frames keep coming.
	Drain() (done bool, err error)
	// WriteFailed is told of a failed write that Stop did not cause;
	// timedOut means the peer stopped reading for the write's deadline.
	// The Conn is stopped after it returns.
	WriteFailed(err error, timedOut bool)
}

// Conn is one server-side WebSocket connection's reader, writer and
// ending. Build it with New before the connection can be stopped by anyone
// (Stop may be called before Serve), then call Serve.
type Conn struct {
	ws   *websocket.Conn
	opts Options

	wake       chan struct{} // capacity 1: something was queued
	pong       chan string   // capacity 1: the peer pinged, the writer owes a pong
	quit       chan struct{} // closed by Stop
	quitOnce   sync.Once
	writerDone chan struct{}

	mu        sync.Mutex
	closeCode int // close frame the writer owes; the first non-zero code wins
	closeText string
	stopped   bool // writes get CloseGrace from now on

	// deadlineMu orders the reader's deadline extensions against the
	// writer's final short deadline, so a late message cannot undo it.
	deadlineMu sync.Mutex
	finished   bool
}

// New prepares ws (which may be nil in benchmarks that only queue).
func New(ws *websocket.Conn, o Options) *Conn {
	return &Conn{
		ws:         ws,
		opts:       o,
		wake:       make(chan struct{}, 1),
		pong:       make(chan string, 1),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
}

// Refuse closes ws, not served, with code and reason.
func Refuse(ws *websocket.Conn, code int, reason string, grace time.Duration) {
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(grace))
	_ = ws.Close()
}

// Serve runs the writer on a new goroutine and the reader on the caller's,
// handing handle every message in order, until the connection ends. It
// returns after the writer has stopped, with the error that ended reading
// when it was unexpected (not a normal close, not caused by Stop) for the
// caller to log; it does not close ws.
func (c *Conn) Serve(w Writer, handle func(msg []byte)) error {
	go c.writeLoop(w)
	err := c.readLoop(handle)
	c.Stop(0, "") // the reader is done: nobody will read a close answer
	<-c.writerDone
	return err
}

// Signal wakes the writer: something was queued. It never blocks.
func (c *Conn) Signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Stopping reports whether Stop was called.
func (c *Conn) Stopping() bool {
	select {
	case <-c.quit:
		return true
	default:
		return false
	}
}

// CloseCode is the close code the connection ends (or ended) with, 0 when
// none was asked for; owners use it to tell why a connection ended.
func (c *Conn) CloseCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode
}

// Stop ends the connection: the writer sends a close frame with code (the
// first non-zero code of any Stop wins; none when every code was 0) and
// quits. The write in progress is capped at CloseGrace, so a writer stuck
// on a peer that stopped reading gives up soon.
func (c *Conn) Stop(code int, text string) {
	c.mu.Lock()
	if c.closeCode == 0 && code != 0 {
		c.closeCode, c.closeText = code, text
	}
	if !c.stopped && c.ws != nil {
		// Cap the write in progress; arm caps the ones after it.
		_ = c.ws.NetConn().SetWriteDeadline(time.Now().Add(c.opts.CloseGrace))
	}
	c.stopped = true
	c.mu.Unlock()
	c.quitOnce.Do(func() {
		close(c.quit)
		// The websocket library re-arms the socket deadline for every chunk
		// of a large message, so a deadline alone cannot bound a write to a
		// peer that stopped reading; closing the socket can.
		if c.ws != nil {
			time.AfterFunc(2*c.opts.CloseGrace, func() {
				select {
				case <-c.writerDone:
				default:
					_ = c.ws.NetConn().Close()
				}
			})
		}
	})
}

// WriteMessage writes one text message with deadline timeout (CloseGrace
// once stopping). For the Writer's Drain.
func (c *Conn) WriteMessage(data []byte, timeout time.Duration) error {
	c.arm(timeout)
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

// WritePrepared writes a prepared message with deadline timeout
// (CloseGrace once stopping). For the Writer's Drain.
func (c *Conn) WritePrepared(pm *websocket.PreparedMessage, timeout time.Duration) error {
	c.arm(timeout)
	return c.ws.WritePreparedMessage(pm)
}

// FrameRoom is the room a payload built for Frame leaves in front of it
// for the frame header (the longest a server's frame header can be).
const FrameRoom = 10

// Frame turns buf, FrameRoom bytes of room followed by a payload, into one
// final, unmasked text frame as the server sends it on the wire, and
// returns the part of buf that is the frame. Building frames once lets many
// connections share them, and lets WriteFrames send several in one system
// call, which the websocket library's one-write-per-message API cannot.
func Frame(buf []byte) []byte {
	n := len(buf) - FrameRoom
	var h []byte
	switch {
	case n < 126:
		h = buf[FrameRoom-2 : FrameRoom]
		h[1] = byte(n)
	case n <= 0xffff:
		h = buf[FrameRoom-4 : FrameRoom]
		h[1] = 126
		binary.BigEndian.PutUint16(h[2:], uint16(n))
	default:
		h = buf[:FrameRoom]
		h[1] = 127
		binary.BigEndian.PutUint64(h[2:], uint64(n))
	}
	h[0] = 0x81 // FIN, text
	return buf[FrameRoom-len(h):]
}

// TextFrame is Frame for a payload built elsewhere (it copies it).
func TextFrame(payload []byte) []byte {
	buf := make([]byte, FrameRoom, FrameRoom+len(payload))
	return Frame(append(buf, payload...))
}

// WriteFrames writes whole frames made by Frame, all of them with one
// writev where the system allows, with deadline timeout (CloseGrace once
// stopping); frames is consumed. For the Writer's Drain. The frames go to
// the socket beside the library's writer, which is safe because every
// write but one happens on the writer goroutine, and the one exception (the
// library answering the peer's close frame from the reader) is a single
// socket write, which the runtime never interleaves with another.
func (c *Conn) WriteFrames(frames *net.Buffers, timeout time.Duration) error {
	c.mu.Lock()
	if c.stopped {
		timeout = c.opts.CloseGrace
	}
	nc := c.ws.NetConn()
	_ = nc.SetWriteDeadline(time.Now().Add(timeout))
	c.mu.Unlock()
	// net.Buffers uses writev only on the runtime's own connections;
	// fasthttp hands a hijacked one over wrapped, with an accessor for the
	// connection inside (the same socket, so deadlines set above apply).
	if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
		nc = u.UnsafeConn()
	}
	_, err := frames.WriteTo(nc)
	return err
}

// arm sets the next write's deadline. Under mu, so that it cannot undo the
// short deadline Stop sets.
func (c *Conn) arm(d time.Duration) {
	c.mu.Lock()
	if c.stopped {
		d = c.opts.CloseGrace
	}
	_ = c.ws.SetWriteDeadline(time.Now().Add(d))
	c.mu.Unlock()
}

func (c *Conn) writeLoop(w Writer) {
	defer close(c.writerDone)
	ping := time.NewTicker(c.opts.PingInterval)
	defer ping.Stop()
	for {
		var err error
		select {
		case <-c.quit:
			c.finish(true)
			return
		case <-ping.C:
			err = c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.opts.ControlTimeout))
		case data := <-c.pong:
			err = c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.opts.ControlTimeout))
		case <-c.wake:
			var done bool
			done, err = w.Drain()
			if err == nil && done {
				c.Stop(websocket.CloseNormalClosure, "")
				c.finish(true)
				return
			}
		}
		if err != nil {
			if !c.Stopping() {
				var ne interface{ Timeout() bool }
				w.WriteFailed(err, errors.As(err, &ne) && ne.Timeout())
			}
			c.Stop(0, "")
			c.finish(false)
			return
		}
	}
}

// finish sends the owed close frame (if the socket can still carry one)
// and gives the reader CloseGrace to receive the peer's answer.
func (c *Conn) finish(canWrite bool) {
	c.mu.Lock()
	code, text := c.closeCode, c.closeText
	c.mu.Unlock()
	wait := time.Duration(0)
	if canWrite && code != 0 {
		err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(c.opts.CloseGrace))
		if err == nil {
			wait = c.opts.CloseGrace
		}
	}
	c.deadlineMu.Lock()
	c.finished = true
	_ = c.ws.NetConn().SetReadDeadline(time.Now().Add(wait))
	c.deadlineMu.Unlock()
}

// extendRead pushes the read deadline out after any sign of life.
func (c *Conn) extendRead() {
	c.deadlineMu.Lock()
	if !c.finished {
		_ = c.ws.NetConn().SetReadDeadline(time.Now().Add(2 * c.opts.PingInterval))
	}
	c.deadlineMu.Unlock()
}

func (c *Conn) readLoop(handle func([]byte)) error {
	c.ws.SetReadLimit(c.opts.ReadLimit) // the library answers bigger messages with 1009
	c.extendRead()
	c.ws.SetPongHandler(func(string) error {
		c.extendRead()
		return nil
	})
	// The peer's pings are answered by the writer, so that every data and
	// pong frame goes out from one goroutine. A pong still owed when the
	// next ping comes is replaced: the peer wants the latest.
	c.ws.SetPingHandler(func(data string) error {
		c.extendRead()
		select {
		case <-c.pong:
		default:
		}
		select {
		case c.pong <- data:
		default:
		}
		return nil
	})
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			if !c.Stopping() && websocket.IsUnexpectedCloseError(err, websocket.CloseGoingAway, websocket.CloseNormalClosure) {
				return err
			}
			return nil
		}
		c.extendRead()
		handle(msg)
	}
}
