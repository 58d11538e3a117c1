package massive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fasthttp/websocket"
)

// maxParamsBytes bounds one subscribe/unsubscribe params string; the provider
// documents no limit, so stay well below anything a proxy might choke on.
const maxParamsBytes = 8000

// handshake phases of one link.
type phase uint8

const (
	phaseDialed   phase = iota // waiting for "connected"
	phaseAuthSent              // waiting for auth_success
	phaseAuthed                // authenticated
)

// session is one upstream connection's life, from dial to its end: the
// socket, its reader's queue and the handshake state. link() creates one per
// dial; only the run goroutine touches it (the reader only its queue, readErr
// and done).
type session struct {
	conn      *websocket.Conn
	queue     chan []byte
	readErr   chan error
	done      chan struct{}
	phase     phase
	authedAt  time.Time
	sent      map[string]struct{} // subscriptions requested on this link
	awaitAck  bool                // first subscription ack still due
	handshake *time.Timer
}

// link dials once, serves a session on the socket until it ends, and says
// how it ended; the run loop decides what comes next.
func (c *Client) link() linkEnd {
	if c.ctx.Err() != nil {
		return linkEnd{kind: endClosed}
	}
	c.setState(StateConnecting, "dialing")
	dctx, cancel := context.WithTimeout(c.ctx, c.cfg.HandshakeTimeout)
	conn, resp, err := c.dialer.DialContext(dctx, c.cfg.URL, nil)
	cancel()
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if c.ctx.Err() != nil {
			return linkEnd{kind: endClosed}
		}
		reason := "dial: " + err.Error()
		if resp != nil {
			reason = fmt.Sprintf("dial: %s (HTTP %d)", err, resp.StatusCode)
		}
		c.recordError(reason)
		return linkEnd{kind: endRetry, reason: reason, dial: true}
	}
	conn.SetReadLimit(MaxFrameSize)
	sess := &session{
		conn:      conn,
		queue:     make(chan []byte, c.cfg.QueueSize),
		readErr:   make(chan error, 1),
		done:      make(chan struct{}),
		sent:      make(map[string]struct{}),
		handshake: time.NewTimer(c.cfg.HandshakeTimeout),
	}
	go c.read(sess)
	end := c.serve(sess)
	sess.handshake.Stop()
	if end.kind == endClosed {
		// Best effort: tell the server we are leaving on purpose.
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	}
	_ = conn.Close()
	<-sess.done
	for {
		select {
		case buf := <-sess.queue:
			c.putBuf(buf)
			continue
		default:
		}
		break
	}
	if !sess.authedAt.IsZero() && time.Since(sess.authedAt) >= c.cfg.StableAfter {
		end.stable = true
	}
	if end.kind == endRetry || end.kind == endMaxConns || end.kind == endFatal {
		// Logged by the run loop, with what happens next.
		c.recordError(end.reason)
	}
	return end
}

// serve runs a link until it ends: handshake, frames, pings, subscription
// changes.
func (c *Client) serve(sess *session) linkEnd {
	ping := time.NewTicker(c.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return linkEnd{kind: endClosed}
		case <-c.reconnect:
			return linkEnd{kind: endOperator, reason: "reconnect requested"}
		case buf := <-sess.queue:
			if end, done := c.frame(sess, buf); done {
				return end
			}
		case err := <-sess.readErr:
			// Frames read before the error explain it best (slow_consumer
			// and the like arrive just before the server closes).
			for {
				select {
				case buf := <-sess.queue:
					if end, done := c.frame(sess, buf); done {
						return end
					}
					continue
				default:
				}
				break
			}
			return linkEnd{kind: endRetry, reason: c.describeReadError(err)}
		case <-sess.handshake.C:
			switch {
			case sess.phase == phaseDialed:
				return linkEnd{reason: fmt.Sprintf("handshake timeout: no connected status within %s", c.cfg.HandshakeTimeout)}
			case sess.phase == phaseAuthSent:
				return linkEnd{reason: fmt.Sprintf("handshake timeout: no auth reply within %s", c.cfg.HandshakeTimeout)}
			case sess.awaitAck:
				return linkEnd{reason: fmt.Sprintf("handshake timeout: no subscription ack within %s", c.cfg.HandshakeTimeout)}
			}
		case <-ping.C:
			if err := sess.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.HandshakeTimeout)); err != nil {
				return linkEnd{reason: "ping: " + err.Error()}
			}
		case <-c.kick:
			if sess.phase == phaseAuthed {
				if err := c.reconcile(sess); err != nil {
					return linkEnd{reason: err.Error()}
				}
			}
		}
	}
}

// frame decodes one frame, hands events to the observer and acts on statuses.
func (c *Client) frame(sess *session, buf []byte) (linkEnd, bool) {
	events, statuses, err := c.dec.Decode(buf, c.batch[:0], c.statuses[:0])
	c.putBuf(buf)
	st := c.dec.Stats()
	c.malformed.Store(st.Malformed)
	c.unknown.Store(st.Unknown)
	if err != nil {
		c.log.Debug().Err(err).Msg("malformed frame")
	}
	if len(events) > 0 {
		c.events.Add(uint64(len(events)))
		c.obs.Events(c.cfg.ID, events)
	}
	c.batch, c.statuses = events[:0], statuses[:0]
	for _, s := range statuses {
		if end, done := c.status(sess, s); done {
			return end, true
		}
	}
	return linkEnd{}, false
}

func (c *Client) status(sess *session, s StatusMessage) (linkEnd, bool) {
	msg := c.redact(s.Message)
	switch s.Status {
	case StatusConnected:
		if sess.phase == phaseDialed {
			if err := c.send(sess, ActionAuth, c.cfg.APIKey); err != nil {
				return linkEnd{reason: "auth: " + err.Error()}, true
			}
			sess.phase = phaseAuthSent
		}
	case StatusAuthSuccess:
		return c.authenticated(sess)
	case StatusSuccess:
		// Older servers acknowledged auth with "success"/"authenticated".
		if sess.phase == phaseAuthSent && msg == MessageAuthenticated {
			return c.authenticated(sess)
		}
		c.ack(sess, msg)
	case StatusAuthFailed:
		return linkEnd{kind: endFatal, reason: StatusAuthFailed + ": " + msg}, true
	case StatusMaxConnections:
		return linkEnd{kind: endMaxConns, reason: StatusMaxConnections + ": " + msg}, true
	case StatusAuthTimeout, StatusSlowConsumer, StatusForceDisconnect:
		return linkEnd{reason: s.Status + ": " + msg}, true
	case StatusError, StatusAuthRequired:
		c.recordError(s.Status + ": " + msg)
		c.log.Warn().Str("status", s.Status).Str("message", msg).Msg("provider error status")
	default:
		c.log.Info().Str("status", s.Status).Str("message", msg).Msg("provider status")
	}
	return linkEnd{}, false
}

func (c *Client) authenticated(sess *session) (linkEnd, bool) {
	if sess.phase == phaseAuthed {
		return linkEnd{}, false
	}
	sess.phase = phaseAuthed
	sess.authedAt = time.Now()
	sess.handshake.Stop()
	c.setState(StateConnected, "authenticated")
	if err := c.reconcile(sess); err != nil {
		return linkEnd{reason: err.Error()}, true
	}
	if len(sess.sent) > 0 {
		// The handshake ends with the first ack of the replayed set.
		sess.awaitAck = true
		sess.handshake.Reset(c.cfg.HandshakeTimeout)
	}
	return linkEnd{}, false
}

// ack records "subscribed to: A.AAPL" and "unsubscribed to: A.AAPL" replies.
func (c *Client) ack(sess *session, msg string) {
	var add bool
	var list string
	if rest, ok := strings.CutPrefix(msg, AckSubscribed); ok {
		add, list = true, rest
	} else if rest, ok := strings.CutPrefix(msg, AckUnsubscribed); ok {
		list = rest
	} else {
		c.log.Debug().Str("message", msg).Msg("provider success status")
		return
	}
	if sess.awaitAck {
		sess.awaitAck = false
		sess.handshake.Stop()
	}
	c.mu.Lock()
	for _, sub := range strings.Split(list, ",") {
		sub = strings.TrimSpace(sub)
		if sub == "" {
			continue
		}
		if add {
			c.acked[sub] = struct{}{}
		} else {
			delete(c.acked, sub)
		}
	}
	c.mu.Unlock()
}

// reconcile sends whatever makes the link's subscriptions equal the desired
// set: everything after auth_success, only the difference afterwards.
func (c *Client) reconcile(sess *session) error {
	c.mu.Lock()
	want := make(map[string]struct{}, len(c.desired)*len(c.subs)+len(c.extras))
	for t := range c.desired {
		for _, ch := range c.subs {
			want[Subscription(ch, t)] = struct{}{}
		}
	}
	for e := range c.extras {
		want[e] = struct{}{}
	}
	c.mu.Unlock()
	var add, remove []string
	for s := range want {
		if _, ok := sess.sent[s]; !ok {
			add = append(add, s)
		}
	}
	for s := range sess.sent {
		if _, ok := want[s]; !ok {
			remove = append(remove, s)
		}
	}
	sort.Strings(add)
	sort.Strings(remove)
	for _, chunk := range chunkParams(remove) {
		if err := c.send(sess, ActionUnsubscribe, chunk); err != nil {
			return fmt.Errorf("unsubscribe: %w", err)
		}
	}
	for _, s := range remove {
		delete(sess.sent, s)
	}
	for _, chunk := range chunkParams(add) {
		if err := c.send(sess, ActionSubscribe, chunk); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
	}
	for _, s := range add {
		sess.sent[s] = struct{}{}
	}
	if len(add)+len(remove) > 0 {
		c.log.Info().Int("subscribe", len(add)).Int("unsubscribe", len(remove)).Msg("subscriptions sent")
	}
	return nil
}

// chunkParams joins subscriptions into comma-separated params strings of at
// most maxParamsBytes each.
func chunkParams(subs []string) []string {
	var out []string
	var b strings.Builder
	for _, s := range subs {
		if b.Len() > 0 && b.Len()+1+len(s) > maxParamsBytes {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

type controlMessage struct {
	Action string `json:"action"`
	Params string `json:"params"`
}

// send writes one client message. Only the run goroutine writes data frames.
func (c *Client) send(sess *session, action, params string) error {
	msg, err := json.Marshal(controlMessage{Action: action, Params: params})
	if err != nil {
		return err
	}
	_ = sess.conn.SetWriteDeadline(time.Now().Add(c.cfg.HandshakeTimeout))
	if err := sess.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		// The error never carries the payload, but be safe about the key.
		return errors.New(c.redact(err.Error()))
	}
	return nil
}
