package simulator

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/massive"
)

const (
	writeTimeout = 10 * time.Second
	closeGrace   = time.Second // how long to wait for the client's close echo
	readLimit    = 1 << 20
)

// outItem is one frame waiting for the connection's writer.
type outItem struct {
	data       []byte
	syms       []string // symbol of each market event in data; nil for statuses
	closeAfter bool     // close the connection once this frame is written
}

// conn is one client connection. Two goroutines serve it: the reader (the
// HTTP handler's goroutine) processes client messages strictly in order, and
// the writer is the only one writing data frames.
type conn struct {
	s      *Server
	id     int64
	ws     *websocket.Conn
	opened time.Time
	log    zerolog.Logger

	ctx        context.Context
	cancel     context.CancelFunc
	readerDone chan struct{}
	notify     chan struct{}

	closing       atomic.Bool // no more data; the connection is on its way out
	graceful      atomic.Bool // a close frame was sent: give the client time to echo it
	authenticated atomic.Bool
	stalledUntil  atomic.Int64 // unix nanos

	mu         sync.Mutex // guards everything below
	key        string
	subs       subTable
	sent       uint64
	sentBySym  map[string]uint64
	queue      []outItem
	queuedData int
}

func newConn(s *Server, id int64, ws *websocket.Conn) *conn {
	ctx, cancel := context.WithCancel(s.ctx)
	return &conn{
		s:          s,
		id:         id,
		ws:         ws,
		opened:     time.Now(),
		log:        s.log.With().Int64("connection_id", id).Logger(),
		ctx:        ctx,
		cancel:     cancel,
		readerDone: make(chan struct{}),
		notify:     make(chan struct{}, 1),
		subs:       newSubTable(),
		sentBySym:  make(map[string]uint64),
	}
}

func (c *conn) info() ConnInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ConnInfo{
		ID:            c.id,
		Key:           c.key,
		Authenticated: c.authenticated.Load(),
		Subscriptions: c.subs.sorted(),
		Sent:          c.sent,
		Opened:        c.opened,
	}
}

func (c *conn) keyMatches(k string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.key == k
}

// serve runs the connection to completion on the caller's goroutine.
func (c *conn) serve() {
	c.ws.SetReadLimit(readLimit)
	c.ws.SetPingHandler(c.onPing)
	c.sendStatus(massive.StatusConnected, "Connected Successfully", false)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.readLoop()
	close(c.readerDone)
	c.cancel()
	<-writerDone
	c.closeNet()
}

func (c *conn) closeNet() { _ = c.ws.NetConn().Close() }

// shutdown is the server going away: say so, then cut the socket.
func (c *conn) shutdown() {
	c.closing.Store(true)
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"),
		time.Now().Add(100*time.Millisecond))
	c.closeNet()
	c.cancel()
}

// closeGracefully sends a close frame and lets the writer wait briefly for
// the client's echo before cutting the socket, so the frame is not lost to a
// TCP reset.
func (c *conn) closeGracefully(code int, text string) {
	c.closing.Store(true)
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
		time.Now().Add(closeGrace))
	c.graceful.Store(true)
	c.cancel()
	c.s.subsChanged()
}

func (c *conn) stalled() bool {
	u := c.stalledUntil.Load()
	return u != 0 && time.Now().UnixNano() < u
}

func (c *conn) onPing(data string) error {
	if c.stalled() {
		return nil // a stalled server answers nothing, pongs included
	}
	err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	var ne net.Error
	if err == nil || errors.Is(err, websocket.ErrCloseSent) || (errors.As(err, &ne) && ne.Timeout()) {
		return nil
	}
	return err
}

func (c *conn) readLoop() {
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) && !c.closing.Load() {
				c.log.Debug().Err(err).Msg("read ended")
			}
			return
		}
		// Once a connection is condemned (auth_failed, eviction) later
		// messages are ignored, but reading continues to catch the close echo.
		if c.closing.Load() {
			continue
		}
		c.handle(msg)
	}
}

func (c *conn) handle(raw []byte) {
	msg, err := massive.ParseClientMessage(raw)
	if err != nil {
		c.sendStatus(massive.StatusError, err.Error(), false)
		return
	}
	switch msg.Action {
	case massive.ActionAuth:
		c.auth(msg.Params)
	case massive.ActionSubscribe, massive.ActionUnsubscribe:
		c.subscribe(msg.Action == massive.ActionSubscribe, msg.Params)
	default:
		c.sendStatus(massive.StatusError, "unknown action: "+massive.ClipEcho(msg.Action), false)
	}
}

// closingText is the provider's message for a status that ends a connection.
func closingText(status string) string {
	msg, _ := massive.ClosingStatusText(status)
	return msg
}

func (c *conn) auth(key string) {
	if !c.s.validKey(key) {
		c.log.Info().Msg("authentication failed")
		c.sendStatus(massive.StatusAuthFailed, closingText(massive.StatusAuthFailed), true)
		return
	}
	c.mu.Lock()
	c.key = key
	c.mu.Unlock()
	c.authenticated.Store(true)
	c.sendStatus(massive.StatusAuthSuccess, massive.MessageAuthenticated, false)
	c.s.enforceLimit(c, key)
	c.s.subsChanged()
}

func (c *conn) subscribe(add bool, params string) {
	if !c.authenticated.Load() {
		c.sendStatus(massive.StatusAuthRequired, "authentication required", false)
		return
	}
	refs, bad := parseParams(params)
	verb := massive.AckSubscribed
	if !add {
		verb = massive.AckUnsubscribed
	}
	statuses := make([][2]string, 0, len(refs)+len(bad))
	c.mu.Lock()
	for _, r := range refs {
		if add {
			c.subs.add(r)
		} else {
			c.subs.remove(r)
		}
		statuses = append(statuses, [2]string{massive.StatusSuccess, verb + r.raw})
	}
	for _, b := range bad {
		statuses = append(statuses, [2]string{massive.StatusError, "invalid subscription: " + massive.ClipEcho(b)})
	}
	// Acks are queued under the same lock the market takes to queue data, so
	// a client never sees data for a channel before its ack.
	for len(statuses) > 0 {
		n := min(len(statuses), 4096) // keeps an ack frame far below 1 MB
		c.enqueueLocked(outItem{data: massive.StatusFrame(statuses[:n]...)})
		statuses = statuses[n:]
	}
	c.mu.Unlock()
	c.s.subsChanged()
}

// sendStatus queues one status frame; with closeAfter the connection is
// condemned at once (no more data, later client messages ignored) and closed
// after the frame is written. It reports false if the connection is already
// closing.
func (c *conn) sendStatus(status, message string, closeAfter bool) bool {
	c.mu.Lock()
	if c.closing.Load() {
		c.mu.Unlock()
		return false
	}
	if closeAfter {
		c.closing.Store(true)
	}
	c.enqueueLocked(outItem{data: massive.StatusFrame([2]string{status, message}), closeAfter: closeAfter})
	c.mu.Unlock()
	if closeAfter {
		c.s.subsChanged()
	}
	return true
}

// enqueueRaw queues an arbitrary frame (fault injection).
func (c *conn) enqueueRaw(data []byte, syms []string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing.Load() {
		return false
	}
	c.enqueueLocked(outItem{data: data, syms: syms})
	return true
}

func (c *conn) enqueueLocked(it outItem) {
	c.queue = append(c.queue, it)
	if it.syms != nil {
		c.queuedData++
	}
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// maxQueuedData is how many market frames may wait for a slow reader (about
// five seconds of feed) before it is cut off as a slow consumer.
func (c *conn) maxQueuedData() int {
	return max(8, int(5*time.Second/c.s.cfg.FlushInterval))
}

// deliver queues the part of the market batch this connection subscribes to.
func (c *conn) deliver(m *market) {
	if !c.authenticated.Load() || c.closing.Load() || c.stalled() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing.Load() {
		return
	}
	if c.queuedData >= c.maxQueuedData() {
		c.slowConsumerLocked()
		return
	}
	var frame []byte
	var syms []string
	for i := range m.evs {
		ev := &m.evs[i]
		if !c.subs.wants(ev.ch, ev.sym) {
			continue
		}
		if frame != nil && len(frame)+ev.end-ev.off+1 >= maxFrameBytes {
			c.enqueueLocked(outItem{data: append(frame, ']'), syms: syms})
			frame, syms = nil, nil
		}
		if frame == nil {
			frame = make([]byte, 0, 4096)
			frame = append(frame, '[')
		} else {
			frame = append(frame, ',')
		}
		frame = append(frame, m.buf[ev.off:ev.end]...)
		syms = append(syms, ev.sym)
	}
	if frame != nil {
		c.enqueueLocked(outItem{data: append(frame, ']'), syms: syms})
	}
}

func (c *conn) slowConsumerLocked() {
	kept := c.queue[:0]
	for _, it := range c.queue {
		if it.syms == nil {
			kept = append(kept, it)
		}
	}
	c.queue = kept
	c.queuedData = 0
	c.closing.Store(true)
	c.log.Warn().Msg("slow consumer, disconnecting")
	c.enqueueLocked(outItem{
		data:       massive.StatusFrame([2]string{massive.StatusSlowConsumer, closingText(massive.StatusSlowConsumer)}),
		closeAfter: true,
	})
}

func (c *conn) writeLoop() {
	authTimer := time.NewTimer(c.s.cfg.AuthTimeout)
	defer authTimer.Stop()
	var batch []outItem
	for {
		if !c.waitStall() {
			c.finish()
			return
		}
		c.mu.Lock()
		batch = append(batch[:0], c.queue...)
		clear(c.queue)
		c.queue = c.queue[:0]
		c.queuedData = 0
		c.mu.Unlock()

		if len(batch) == 0 {
			select {
			case <-c.ctx.Done():
				c.finish()
				return
			case <-c.notify:
			case <-authTimer.C:
				if !c.authenticated.Load() {
					c.sendStatus(massive.StatusAuthTimeout, closingText(massive.StatusAuthTimeout), true)
				}
			}
			continue
		}
		for i := range batch {
			it := &batch[i]
			if c.stalled() {
				c.requeueFront(batch[i:])
				break
			}
			if c.ctx.Err() != nil {
				c.finish()
				return
			}
			if err := c.write(it.data); err != nil {
				c.log.Debug().Err(err).Msg("write failed")
				c.closing.Store(true)
				c.closeNet()
				c.finish()
				return
			}
			if it.syms != nil {
				c.account(it.syms)
			}
			if it.closeAfter {
				c.closeGracefully(websocket.CloseNormalClosure, "")
				c.finish()
				return
			}
		}
		clear(batch)
	}
}

// waitStall blocks while the connection is stalled; false means shut down.
func (c *conn) waitStall() bool {
	for {
		u := c.stalledUntil.Load()
		d := time.Until(time.Unix(0, u))
		if u == 0 || d <= 0 {
			return true
		}
		t := time.NewTimer(d)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

func (c *conn) requeueFront(items []outItem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := make([]outItem, 0, len(items)+len(c.queue))
	q = append(q, items...)
	q = append(q, c.queue...)
	c.queue = q
	c.queuedData = 0
	for _, it := range q {
		if it.syms != nil {
			c.queuedData++
		}
	}
}

// finish ends the writer: after a close frame it waits for the client's
// echo (the reader ends) before cutting the socket.
func (c *conn) finish() {
	if c.graceful.Load() {
		t := time.NewTimer(closeGrace)
		select {
		case <-c.readerDone:
		case <-t.C:
		case <-c.s.ctx.Done():
		}
		t.Stop()
	}
	c.closeNet()
}

func (c *conn) write(data []byte) error {
	if err := c.ws.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

func (c *conn) account(syms []string) {
	c.mu.Lock()
	c.sent += uint64(len(syms))
	for _, s := range syms {
		c.sentBySym[s]++
	}
	c.mu.Unlock()
}
