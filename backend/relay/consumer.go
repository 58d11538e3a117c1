package relay

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
	"github.com/tickwatch/tickwatch/backend/internal/wsconn"
	"github.com/tickwatch/tickwatch/backend/massive"
)

const closeGoingAway = websocket.CloseGoingAway

// outItem is one frame waiting for a consumer's writer.
type outItem struct {
	data       []byte // a whole WebSocket frame (wsconn.Frame), shared with other consumers: never modified
	events     int    // market events in data; 0 for statuses
	closeAfter bool   // close the connection once this frame is written
}

// consumer is one connection. Two goroutines serve it (see wsconn): the
// reader (Serve's caller's goroutine) handles client messages strictly in
// order, as the official clients expect; the writer does every write.
type consumer struct {
	h      *Hub
	id     uint64
	ws     *wsconn.Conn
	remote string
	since  time.Time
	log    zerolog.Logger

	authed atomic.Bool
	who    Consumer // set once by the reader before authed is stored

	subs    map[massive.Sub]struct{} // guarded by h.subMu
	nsubs   atomic.Int64
	pending []int32 // guarded by h.tickMu: this batch's events for Ticks

	mu        sync.Mutex // guards the queue fields
	queue     []outItem
	queued    int  // data frames in queue
	condemned bool // a closing status is queued: no more data, messages ignored
	dropped   uint64
	endStatus string // the closing status condemn queued, for endReason
	endText   string

	sent atomic.Uint64
	slow atomic.Bool

	batch []outItem   // the writer's
	bufs  net.Buffers // the writer's: batch's frames for one writev
}

// Serve runs one consumer connection on an upgraded WebSocket until it
// ends, on the caller's goroutine; remote is the client's address (used
// for the auth failure limit and shown in stats). It closes conn and returns
// only after the connection's writer goroutine has stopped, so the caller
// may recycle conn (the Fiber contrib package does).
func (h *Hub) Serve(conn *websocket.Conn, remote string) {
	c := &consumer{
		h:      h,
		remote: remote,
		since:  time.Now(),
		subs:   make(map[massive.Sub]struct{}),
		ws: wsconn.New(conn, wsconn.Options{
			PingInterval:   h.opts.PingInterval,
			ControlTimeout: h.opts.WriteTimeout,
			CloseGrace:     closeGrace,
			ReadLimit:      readLimit,
		}),
	}
	if !h.register(c) {
		wsconn.Refuse(conn, websocket.CloseGoingAway, "server shutting down", closeGrace)
		return
	}
	c.log = h.log.With().Uint64("consumer_id", c.id).Str("remote", logsafe.Clip(remote)).Logger()
	c.log.Debug().Msg("relay: consumer connected")
	c.status(massive.StatusConnected, "Connected Successfully")
	authTimer := time.AfterFunc(h.opts.AuthTimeout, func() {
		if !c.authed.Load() {
			c.condemn(massive.StatusAuthTimeout, "")
		}
	})
	err := c.ws.Serve(c, func(msg []byte) {
		// A condemned connection ignores what it is sent but keeps reading
		// for the close echo.
		if !c.isCondemned() {
			c.handle(msg)
		}
	})
	authTimer.Stop()
	if err != nil {
		c.log.Debug().Err(err).Msg("relay: read ended")
	}
	h.unregister(c)
	_ = conn.Close()
	if c.authed.Load() {
		h.changed(c, false)
	}
	c.log.Info().Str("consumer", c.name()).Uint64("sent", c.sent.Load()).Msg("relay: consumer disconnected")
}

func (c *consumer) handle(raw []byte) {
	msg, err := massive.ParseClientMessage(raw)
	if err != nil {
		c.status(massive.StatusError, err.Error())
		return
	}
	switch msg.Action {
	case massive.ActionAuth:
		c.auth(msg.Params)
	case massive.ActionSubscribe, massive.ActionUnsubscribe:
		if !c.authed.Load() {
			c.status(massive.StatusAuthRequired, "authentication required")
			return
		}
		c.h.subscribe(c, msg.Action == massive.ActionSubscribe, msg.Params)
	default:
		c.status(massive.StatusError, "unknown action: "+massive.ClipEcho(msg.Action))
	}
}

// auth checks key and answers auth_success, or auth_failed /
// max_connections and closes. Failures are limited like logins (see
// Options.AuthFailures): per (address, key identity) and, more loosely,
// per address; a blocked attempt is refused without looking the key up.
func (c *consumer) auth(key string) {
	if c.authed.Load() {
		c.status(massive.StatusError, "already authenticated")
		return
	}
	h := c.h
	addrKey := c.remote
	pairKey := c.remote + "\x00" + keyIdentity(key)
	// Check, then Fail on a bad key, rather than Take and Forgive: Take
	// counts every attempt in flight, so a fleet of programs on one host
	// opening more connections at once than the limit would block its own
	// address for a window. The gap Take closes matters for a slow bcrypt;
	// a key lookup is a hash and an indexed read, and keys are 256-bit.
	for _, l := range []struct {
		lim   *auth.Limiter
		key   string
		scope string
	}{{h.opts.AuthFailuresPerAddr, addrKey, "address"}, {h.opts.AuthFailures, pairKey, "key"}} {
		if ok, retry := l.lim.Check(l.key); !ok {
			h.authFailures.Add(1)
			// No part of the presented key in the log: it may be
			// anything pasted by mistake (a Massive API key, a password).
			c.log.Warn().Str("limit", l.scope).Msg("relay: auth refused, too many failures")
			c.condemn(massive.StatusAuthFailed, "too many failed attempts, retry in "+auth.RetryAfterSeconds(retry)+" s")
			return
		}
	}
	who, err := c.lookup(key)
	if err != nil {
		h.authFailures.Add(1)
		if errors.Is(err, ErrUnknownKey) {
			h.opts.AuthFailuresPerAddr.Fail(addrKey)
			h.opts.AuthFailures.Fail(pairKey)
			c.log.Info().Msg("relay: authentication failed")
		} else {
			// Not the client's fault: not counted against the address.
			c.log.Error().Err(err).Msg("relay: consumer key lookup failed")
		}
		c.condemn(massive.StatusAuthFailed, "")
		return
	}
	if !h.admit(who) {
		h.maxConnRefusals.Add(1)
		c.log.Warn().Str("consumer", who.Name).Int("max_conns", who.MaxConns).Msg("relay: connection over the key's limit refused")
		c.condemn(massive.StatusMaxConnections, "")
		return
	}
	c.who = who
	c.authed.Store(true)
	c.log.Info().Str("consumer", who.Name).Str("key_prefix", who.KeyPrefix).Msg("relay: consumer authenticated")
	c.status(massive.StatusAuthSuccess, massive.MessageAuthenticated)
	h.changed(c, true)
}

// keyIdentity is what the per-key auth limit knows of a presented key: its
// first keyIdentityLen bytes, the display prefix of a real key (public:
// the admin pages show it), so the limiter never holds a whole key. It is
// not logged: a failed key may be anything pasted by mistake. A typo in the tail of a valid key counts against that
// key's identity from that address, as a wrong password counts against
// the username it was tried for.
func keyIdentity(key string) string {
	if len(key) > keyIdentityLen {
		return key[:keyIdentityLen]
	}
	return key
}

func (c *consumer) lookup(key string) (Consumer, error) {
	if c.h.opts.Keys == nil || key == "" {
		return Consumer{}, ErrUnknownKey
	}
	ctx, cancel := context.WithTimeout(c.h.ctx, lookupTimeout)
	defer cancel()
	return c.h.opts.Keys.Lookup(ctx, key)
}

// statusFrame is massive.StatusFrame as a whole WebSocket frame.
func statusFrame(st ...[2]string) []byte { return wsconn.TextFrame(massive.StatusFrame(st...)) }

// status queues one status frame.
func (c *consumer) status(status, message string) {
	c.enqueue(outItem{data: statusFrame([2]string{status, message})})
}

// condemn queues a closing status (its provider text when message is "")
// and closes the connection once it is written; nothing else is queued
// after it and later client messages are ignored.
func (c *consumer) condemn(status, message string) {
	if message == "" {
		message, _ = massive.ClosingStatusText(status)
	}
	c.mu.Lock()
	if !c.condemned {
		c.condemned = true
		c.endStatus, c.endText = status, message
		c.queue = append(c.queue, outItem{data: statusFrame([2]string{status, message}), closeAfter: true})
	}
	c.mu.Unlock()
	c.ws.Signal()
}

func (c *consumer) isCondemned() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.condemned
}

func (c *consumer) enqueue(it outItem) {
	c.mu.Lock()
	if !c.condemned {
		c.queue = append(c.queue, it)
	}
	c.mu.Unlock()
	c.ws.Signal()
}

// enqueueData queues market frames without blocking. A consumer whose
// queue would overflow is cut off like Massive does: its queued data is
// discarded, it gets slow_consumer, and it is closed.
func (c *consumer) enqueueData(frames []outItem) {
	c.mu.Lock()
	if c.condemned {
		c.mu.Unlock()
		return
	}
	if c.queued+len(frames) > c.h.opts.QueueSize {
		c.cutSlowLocked(frames)
		c.mu.Unlock()
		c.ws.Signal()
		return
	}
	c.queue = append(c.queue, frames...)
	c.queued += len(frames)
	c.mu.Unlock()
	c.ws.Signal()
}

// cutSlowLocked condemns c as a slow consumer; lost are the events still
// queued plus those of the frames that did not fit. c.mu is held.
func (c *consumer) cutSlowLocked(lost []outItem) {
	kept := c.queue[:0]
	for _, it := range c.queue {
		if it.events == 0 {
			kept = append(kept, it)
		} else {
			c.dropped += uint64(it.events)
		}
	}
	clear(c.queue[len(kept):])
	c.queue = kept
	c.queued = 0
	for _, it := range lost {
		c.dropped += uint64(it.events)
	}
	msg, _ := massive.ClosingStatusText(massive.StatusSlowConsumer)
	c.queue = append(c.queue, outItem{data: statusFrame([2]string{massive.StatusSlowConsumer, msg}), closeAfter: true})
	c.condemned = true
	c.markSlow("queue full")
}

// markSlow counts and logs a slow consumer once.
func (c *consumer) markSlow(why string) {
	if c.slow.CompareAndSwap(false, true) {
		c.h.slowCuts.Add(1)
		c.log.Warn().Str("consumer", c.name()).Str("reason", why).Uint64("sent", c.sent.Load()).Msg("relay: slow consumer disconnected")
	}
}

// name is the consumer key's name, "" before auth. c.who is written once,
// before authed is set, so any goroutine may read it after that.
func (c *consumer) name() string {
	if c.authed.Load() {
		return c.who.Name
	}
	return ""
}

// Drain is wsconn's: it writes what is queued, all of it in one system
// call (a consumer that fell behind catches up in few writes, instead of
// one per frame); done means a closing status was written.
func (c *consumer) Drain() (done bool, err error) {
	c.mu.Lock()
	c.batch = append(c.batch[:0], c.queue...)
	clear(c.queue)
	c.queue = c.queue[:0]
	c.queued = 0
	c.mu.Unlock()
	defer clear(c.batch) // let shared frames go
	events := 0
	for i := range c.batch {
		it := &c.batch[i]
		c.bufs = append(c.bufs, it.data)
		events += it.events
		if it.closeAfter {
			done = true
			break
		}
	}
	bufs := c.bufs
	defer func() { clear(c.bufs); c.bufs = c.bufs[:0] }()
	if len(bufs) == 0 || c.ws.Stopping() {
		return false, nil
	}
	if err := c.ws.WriteFrames(&bufs, c.h.opts.WriteTimeout); err != nil {
		return false, err
	}
	c.sent.Add(uint64(events))
	c.h.eventsOut.Add(uint64(events))
	return done, nil
}

// WriteFailed is wsconn's: a write that timed out while nobody asked the
// connection to stop means the consumer stopped reading for WriteTimeout:
// that is a slow consumer too.
func (c *consumer) WriteFailed(err error, timedOut bool) {
	if timedOut {
		c.markSlow("write timed out")
	} else {
		c.log.Debug().Err(err).Msg("relay: write failed")
	}
}

func (c *consumer) stats() ConsumerStats {
	c.mu.Lock()
	depth, dropped := len(c.queue), c.dropped
	c.mu.Unlock()
	st := ConsumerStats{
		ID:            c.id,
		Remote:        c.remote,
		Since:         c.since,
		Subscriptions: int(c.nsubs.Load()),
		QueueDepth:    depth,
		Sent:          c.sent.Load(),
		Dropped:       dropped,
		Slow:          c.slow.Load(),
	}
	if c.authed.Load() {
		st.Authenticated, st.Name, st.KeyPrefix, st.KeyID = true, c.who.Name, c.who.KeyPrefix, c.who.ID
	}
	return st
}
