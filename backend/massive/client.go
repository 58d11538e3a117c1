package massive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"
)

// MaxFrameSize is the read limit for one server frame (the official Go
// client's). A bigger frame is an error and the connection is replaced.
const MaxFrameSize = 1_000_000

// maxParamsBytes bounds one subscribe/unsubscribe params string; the provider
// documents no limit, so stay well below anything a proxy might choke on.
const maxParamsBytes = 8000

// Frame buffers that grew past this are not kept for reuse.
const maxPooledFrame = 256 << 10

// Defaults for zero Config fields.
const (
	DefaultReconnectDelay        = time.Second
	DefaultMaxReconnectDelay     = 60 * time.Second
	DefaultMaxConnectionsBackoff = 5 * time.Minute
	DefaultStableAfter           = 60 * time.Second
	DefaultPingInterval          = 25 * time.Second
	DefaultReadTimeout           = 30 * time.Second
	DefaultHandshakeTimeout      = 10 * time.Second
	DefaultQueueSize             = 256
)

// Config configures one Client. Zero durations and sizes get the defaults.
type Config struct {
	ID                    string   // "connection_1"; names the connection in logs and events
	URL                   string   // ws(s)://host/stocks
	APIKey                string   // never logged or returned; see Client.MaskedKey
	Channels              []string // any of T, Q, A, AM (NormalizeChannels); default ["A"]
	Tickers               []string // initial desired set
	ReconnectDelay        time.Duration
	MaxReconnectDelay     time.Duration
	MaxRetries            int // consecutive failed attempts before giving up; 0 = forever
	MaxConnectionsBackoff time.Duration
	StableAfter           time.Duration // connected this long resets the backoff
	PingInterval          time.Duration
	ReadTimeout           time.Duration // no frame or pong for this long = dead link
	HandshakeTimeout      time.Duration // dial+auth, and again for the first subscription ack
	QueueSize             int           // frames buffered between reader and decoder
	Logger                zerolog.Logger
}

// Stats is a snapshot of a Client.
type Stats struct {
	State          State
	Reason         string
	StateSince     time.Time
	ConnectedSince time.Time // zero unless connected
	NextAttempt    time.Time // when the next dial is due during a backoff; zero otherwise
	Reconnects     uint64    // dials after the first
	Frames         uint64    // frames read from the socket
	Events         uint64    // events handed to the observer
	Dropped        uint64    // frames dropped because the queue was full
	Malformed      uint64    // events (or frame tails) the decoder dropped
	Unknown        uint64    // events of types this package does not model
	Oversize       uint64    // frames over MaxFrameSize
	Errors         uint64    // failed dials, lost links, error statuses
	LastError      string
	Desired        int // desired tickers
}

// Client owns one upstream connection: it dials, authenticates, subscribes the
// desired set, reads, and reconnects until closed.
//
// Goroutines: run owns the link (dial, handshake, decode, observer calls, all
// writes, backoff); a per-link reader only reads frames into a bounded queue,
// so a slow observer costs dropped frames, never a stalled socket.
type Client struct {
	cfg    Config
	obs    Observer
	log    zerolog.Logger
	dialer websocket.Dialer
	subs   []string // channel prefixes

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	kick      chan struct{} // the desired set changed
	reconnect chan struct{} // an operator asked for a new link
	free      chan []byte   // recycled frame buffers

	frames, events, dropped, oversize, errs, reconnects atomic.Uint64
	malformed, unknown                                  atomic.Uint64

	mu             sync.Mutex
	started        bool
	closed         bool
	desired        map[string]struct{}
	state          State
	reason         string
	stateSince     time.Time
	connectedSince time.Time
	nextAttempt    time.Time
	lastError      string
	acked          map[string]struct{}

	// Owned by the run goroutine.
	dec      Decoder
	batch    []Event
	statuses []StatusMessage
}

// NewClient validates cfg and builds a Client; nothing happens until Start.
// A nil observer discards everything.
func NewClient(cfg Config, obs Observer) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if obs == nil {
		obs = nopObserver{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg:        cfg,
		obs:        obs,
		log:        cfg.Logger.With().Str("connection_id", cfg.ID).Logger(),
		subs:       cfg.Channels,
		ctx:        ctx,
		cancel:     cancel,
		kick:       make(chan struct{}, 1),
		reconnect:  make(chan struct{}, 1),
		free:       make(chan []byte, cfg.QueueSize+2),
		desired:    make(map[string]struct{}, len(cfg.Tickers)),
		acked:      make(map[string]struct{}),
		stateSince: time.Now(),
		reason:     "not started",
		batch:      make([]Event, 0, 256),
		dialer: websocket.Dialer{
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: cfg.HandshakeTimeout,
			ReadBufferSize:   64 << 10,
			WriteBufferSize:  16 << 10,
		},
	}
	for _, t := range cfg.Tickers {
		if t, err := normalizeTarget(t); err == nil {
			c.desired[t] = struct{}{}
		}
	}
	return c, nil
}

func (cfg *Config) validate() error {
	if cfg.ID == "" {
		return errors.New("massive: config: ID is empty")
	}
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("massive: %s: config %s: %s", cfg.ID, field, fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return bad("URL", "%q is not a ws:// or wss:// URL with a host", cfg.URL)
	}
	if cfg.APIKey == "" {
		return bad("APIKey", "is empty")
	}
	if len(cfg.Channels) == 0 {
		cfg.Channels = []string{KindSecondAgg.Prefix()}
	}
	channels, err := NormalizeChannels(cfg.Channels)
	if err != nil {
		return bad("Channels", "%v (want %s)", err, ChannelForm)
	}
	cfg.Channels = channels
	for _, t := range cfg.Tickers {
		if _, err := normalizeTarget(t); err != nil {
			return bad("Tickers", "%v", err)
		}
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"ReconnectDelay", &cfg.ReconnectDelay, DefaultReconnectDelay},
		{"MaxReconnectDelay", &cfg.MaxReconnectDelay, DefaultMaxReconnectDelay},
		{"MaxConnectionsBackoff", &cfg.MaxConnectionsBackoff, DefaultMaxConnectionsBackoff},
		{"StableAfter", &cfg.StableAfter, DefaultStableAfter},
		{"PingInterval", &cfg.PingInterval, DefaultPingInterval},
		{"ReadTimeout", &cfg.ReadTimeout, DefaultReadTimeout},
		{"HandshakeTimeout", &cfg.HandshakeTimeout, DefaultHandshakeTimeout},
	}
	for _, d := range durations {
		if *d.v < 0 {
			return bad(d.name, "must not be negative, got %s", *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.MaxReconnectDelay < cfg.ReconnectDelay {
		return bad("MaxReconnectDelay", "%s is below ReconnectDelay %s", cfg.MaxReconnectDelay, cfg.ReconnectDelay)
	}
	if cfg.MaxRetries < 0 {
		return bad("MaxRetries", "must not be negative, got %d", cfg.MaxRetries)
	}
	if cfg.QueueSize < 0 {
		return bad("QueueSize", "must not be negative, got %d", cfg.QueueSize)
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	return nil
}

// normalizeTarget accepts what may follow a channel prefix: a ticker in the
// one ticker form (NormalizeTicker), or the Wildcard.
func normalizeTarget(t string) (string, error) {
	if strings.TrimSpace(t) == Wildcard {
		return Wildcard, nil
	}
	return NormalizeTicker(t)
}

type nopObserver struct{}

func (nopObserver) StateChanged(StateChange) {}
func (nopObserver) Events(string, []Event)   {}

// Start launches the client; it returns at once. Calling it again, or after
// Close, does nothing.
func (c *Client) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.closed {
		return
	}
	c.started = true
	c.wg.Add(1)
	go c.run()
}

// Close sends a close frame, stops every goroutine and waits for them. It is
// idempotent and safe in any state, including a backoff wait. It returns once
// an observer call in progress has returned.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}

// Subscribe adds tickers (or the Wildcard) to the desired set; they are sent
// at once if the link is authenticated, and on every later (re)connect.
// Invalid tickers are ignored and logged.
func (c *Client) Subscribe(tickers ...string) { c.change(true, tickers) }

// Unsubscribe removes tickers from the desired set.
func (c *Client) Unsubscribe(tickers ...string) { c.change(false, tickers) }

func (c *Client) change(add bool, tickers []string) {
	c.mu.Lock()
	for _, t := range tickers {
		n, err := normalizeTarget(t)
		if err != nil {
			c.log.Warn().Str("symbol", t).Err(err).Msg("ignoring invalid ticker")
			continue
		}
		if add {
			c.desired[n] = struct{}{}
		} else {
			delete(c.desired, n)
		}
	}
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Desired returns the desired tickers, sorted.
func (c *Client) Desired() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return sortedKeys(c.desired)
}

// Acked returns the subscriptions the provider confirmed on the current
// link, sorted ("A.AAPL"). It is not part of Stats, which dashboards read
// every second: copying thousands of strings there would be waste.
func (c *Client) Acked() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return sortedKeys(c.acked)
}

// Reconnect drops the link and dials again at once, resetting the backoff.
// It also ends a terminal error (auth_failed, retries exhausted).
func (c *Client) Reconnect() {
	select {
	case c.reconnect <- struct{}{}:
	default:
	}
}

// Stats returns a snapshot.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	s := Stats{
		State:          c.state,
		Reason:         c.reason,
		StateSince:     c.stateSince,
		ConnectedSince: c.connectedSince,
		NextAttempt:    c.nextAttempt,
		LastError:      c.lastError,
		Desired:        len(c.desired),
	}
	c.mu.Unlock()
	s.Reconnects = c.reconnects.Load()
	s.Frames = c.frames.Load()
	s.Events = c.events.Load()
	s.Dropped = c.dropped.Load()
	s.Malformed = c.malformed.Load()
	s.Unknown = c.unknown.Load()
	s.Oversize = c.oversize.Load()
	s.Errors = c.errs.Load()
	return s
}

// ID returns the connection id from the config.
func (c *Client) ID() string { return c.cfg.ID }

// MaskedKey returns the API key with all but its last four characters hidden
// (all of it if the key is short).
func (c *Client) MaskedKey() string { return MaskKey(c.cfg.APIKey) }

// redact keeps the key out of anything a server (or an error) might echo.
func (c *Client) redact(s string) string {
	if c.cfg.APIKey == "" || !strings.Contains(s, c.cfg.APIKey) {
		return s
	}
	return strings.ReplaceAll(s, c.cfg.APIKey, MaskKey(c.cfg.APIKey))
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// setState records a transition and tells the observer, outside the lock.
// Only the run goroutine calls it, so transitions reach the observer in order.
func (c *Client) setState(s State, reason string) {
	reason = c.redact(reason)
	now := time.Now()
	c.mu.Lock()
	if c.state == s && c.reason == reason {
		c.mu.Unlock()
		return
	}
	ch := StateChange{ConnectionID: c.cfg.ID, State: s, Previous: c.state, Reason: reason, At: now}
	c.state, c.reason, c.stateSince = s, reason, now
	if s == StateConnected {
		c.connectedSince = now
	} else {
		c.connectedSince = time.Time{}
	}
	if s != StateConnected {
		clear(c.acked)
	}
	c.mu.Unlock()
	ev := c.log.Info()
	if s == StateError {
		ev = c.log.Warn()
	}
	ev.Str("state", s.String()).Str("previous", ch.Previous.String()).Str("reason", reason).Msg("link state")
	c.obs.StateChanged(ch)
}

func (c *Client) recordError(msg string) {
	msg = c.redact(msg)
	c.errs.Add(1)
	c.mu.Lock()
	c.lastError = msg
	c.mu.Unlock()
}

// endKind says what the run loop does after a link ends.
type endKind uint8

const (
	endRetry    endKind = iota // back off, then dial again
	endFatal                   // auth_failed: wait for an operator
	endMaxConns                // long backoff
	endOperator                // Reconnect(): dial again now
	endClosed                  // Close()
)

type linkEnd struct {
	kind   endKind
	reason string
	stable bool // the link stayed authenticated for StableAfter
}

func (c *Client) run() {
	defer c.wg.Done()
	failures := 0 // consecutive attempts that did not reach a stable link
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.reconnects.Add(1)
		}
		end := c.link()
		if end.stable {
			failures = 0
		}
		var delay time.Duration
		switch end.kind {
		case endClosed:
			c.setState(StateDisconnected, "closed")
			return
		case endOperator:
			c.setState(StateDisconnected, end.reason)
			failures = 0
			continue
		case endFatal:
			c.setState(StateError, end.reason)
			if !c.waitOperator() {
				c.setState(StateDisconnected, "closed")
				return
			}
			failures = 0
			continue
		case endMaxConns:
			c.setState(StateError, end.reason)
			// A little jitter so two instances on one key drift apart.
			base := c.cfg.MaxConnectionsBackoff
			delay = base + rand.N(base/10+1)
		default:
			c.setState(StateDisconnected, end.reason)
			delay = c.backoff(failures)
		}
		failures++
		if c.cfg.MaxRetries > 0 && failures > c.cfg.MaxRetries {
			c.setState(StateError, fmt.Sprintf("gave up after %d retries: %s", c.cfg.MaxRetries, end.reason))
			if !c.waitOperator() {
				c.setState(StateDisconnected, "closed")
				return
			}
			failures = 0
			continue
		}
		c.log.Info().Dur("delay", delay).Int("failures", failures).Msg("reconnecting after backoff")
		woke, ok := c.sleep(delay)
		if !ok {
			c.setState(StateDisconnected, "closed")
			return
		}
		if woke {
			failures = 0
		}
	}
}

// backoff is capped exponential backoff with full jitter: uniform in
// [0, min(cap, initial*2^failures)].
func (c *Client) backoff(failures int) time.Duration {
	d := c.cfg.ReconnectDelay
	for i := 0; i < failures && d < c.cfg.MaxReconnectDelay; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxReconnectDelay)
	return rand.N(d + 1)
}

// sleep waits d; woke reports an operator Reconnect, ok is false on Close.
func (c *Client) sleep(d time.Duration) (woke, ok bool) {
	c.mu.Lock()
	c.nextAttempt = time.Now().Add(d)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.nextAttempt = time.Time{}
		c.mu.Unlock()
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.ctx.Done():
		return false, false
	case <-c.reconnect:
		return true, true
	case <-t.C:
		return false, true
	}
}

func (c *Client) waitOperator() bool {
	select {
	case <-c.ctx.Done():
		return false
	case <-c.reconnect:
		return true
	}
}

// handshake phases of one link.
type phase uint8

const (
	phaseDialed   phase = iota // waiting for "connected"
	phaseAuthSent              // waiting for auth_success
	phaseAuthed                // authenticated
)

// link is one upstream connection's life, from dial to its end.
type link struct {
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
		c.log.Warn().Str("error", c.redact(reason)).Msg("dial failed")
		return linkEnd{kind: endRetry, reason: reason}
	}
	conn.SetReadLimit(MaxFrameSize)
	l := &link{
		conn:      conn,
		queue:     make(chan []byte, c.cfg.QueueSize),
		readErr:   make(chan error, 1),
		done:      make(chan struct{}),
		sent:      make(map[string]struct{}),
		handshake: time.NewTimer(c.cfg.HandshakeTimeout),
	}
	go c.read(l)
	end := c.serve(l)
	l.handshake.Stop()
	if end.kind == endClosed {
		// Best effort: tell the server we are leaving on purpose.
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	}
	_ = conn.Close()
	<-l.done
	for {
		select {
		case buf := <-l.queue:
			c.putBuf(buf)
			continue
		default:
		}
		break
	}
	if !l.authedAt.IsZero() && time.Since(l.authedAt) >= c.cfg.StableAfter {
		end.stable = true
	}
	if end.kind == endRetry || end.kind == endMaxConns || end.kind == endFatal {
		c.recordError(end.reason)
		c.log.Warn().Str("reason", c.redact(end.reason)).Msg("link lost")
	}
	return end
}

// serve runs a link until it ends: handshake, frames, pings, subscription
// changes.
func (c *Client) serve(l *link) linkEnd {
	ping := time.NewTicker(c.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return linkEnd{kind: endClosed}
		case <-c.reconnect:
			return linkEnd{kind: endOperator, reason: "reconnect requested"}
		case buf := <-l.queue:
			if end, done := c.frame(l, buf); done {
				return end
			}
		case err := <-l.readErr:
			// Frames read before the error explain it best (slow_consumer
			// and the like arrive just before the server closes).
			for {
				select {
				case buf := <-l.queue:
					if end, done := c.frame(l, buf); done {
						return end
					}
					continue
				default:
				}
				break
			}
			return linkEnd{kind: endRetry, reason: c.describeReadError(err)}
		case <-l.handshake.C:
			switch {
			case l.phase == phaseDialed:
				return linkEnd{reason: fmt.Sprintf("handshake timeout: no connected status within %s", c.cfg.HandshakeTimeout)}
			case l.phase == phaseAuthSent:
				return linkEnd{reason: fmt.Sprintf("handshake timeout: no auth reply within %s", c.cfg.HandshakeTimeout)}
			case l.awaitAck:
				return linkEnd{reason: fmt.Sprintf("handshake timeout: no subscription ack within %s", c.cfg.HandshakeTimeout)}
			}
		case <-ping.C:
			if err := l.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.HandshakeTimeout)); err != nil {
				return linkEnd{reason: "ping: " + err.Error()}
			}
		case <-c.kick:
			if l.phase == phaseAuthed {
				if err := c.reconcile(l); err != nil {
					return linkEnd{reason: err.Error()}
				}
			}
		}
	}
}

// frame decodes one frame, hands events to the observer and acts on statuses.
func (c *Client) frame(l *link, buf []byte) (linkEnd, bool) {
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
		if end, done := c.status(l, s); done {
			return end, true
		}
	}
	return linkEnd{}, false
}

func (c *Client) status(l *link, s StatusMessage) (linkEnd, bool) {
	msg := c.redact(s.Message)
	switch s.Status {
	case StatusConnected:
		if l.phase == phaseDialed {
			if err := c.send(l, ActionAuth, c.cfg.APIKey); err != nil {
				return linkEnd{reason: "auth: " + err.Error()}, true
			}
			l.phase = phaseAuthSent
		}
	case StatusAuthSuccess:
		return c.authenticated(l)
	case StatusSuccess:
		// Older servers acknowledged auth with "success"/"authenticated".
		if l.phase == phaseAuthSent && msg == MessageAuthenticated {
			return c.authenticated(l)
		}
		c.ack(l, msg)
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

func (c *Client) authenticated(l *link) (linkEnd, bool) {
	if l.phase == phaseAuthed {
		return linkEnd{}, false
	}
	l.phase = phaseAuthed
	l.authedAt = time.Now()
	l.handshake.Stop()
	c.setState(StateConnected, "authenticated")
	if err := c.reconcile(l); err != nil {
		return linkEnd{reason: err.Error()}, true
	}
	if len(l.sent) > 0 {
		// The handshake ends with the first ack of the replayed set.
		l.awaitAck = true
		l.handshake.Reset(c.cfg.HandshakeTimeout)
	}
	return linkEnd{}, false
}

// ack records "subscribed to: A.AAPL" and "unsubscribed to: A.AAPL" replies.
func (c *Client) ack(l *link, msg string) {
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
	if l.awaitAck {
		l.awaitAck = false
		l.handshake.Stop()
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
func (c *Client) reconcile(l *link) error {
	c.mu.Lock()
	want := make(map[string]struct{}, len(c.desired)*len(c.subs))
	for t := range c.desired {
		for _, ch := range c.subs {
			want[Subscription(ch, t)] = struct{}{}
		}
	}
	c.mu.Unlock()
	var add, remove []string
	for s := range want {
		if _, ok := l.sent[s]; !ok {
			add = append(add, s)
		}
	}
	for s := range l.sent {
		if _, ok := want[s]; !ok {
			remove = append(remove, s)
		}
	}
	sort.Strings(add)
	sort.Strings(remove)
	for _, chunk := range chunkParams(remove) {
		if err := c.send(l, ActionUnsubscribe, chunk); err != nil {
			return fmt.Errorf("unsubscribe: %w", err)
		}
	}
	for _, s := range remove {
		delete(l.sent, s)
	}
	for _, chunk := range chunkParams(add) {
		if err := c.send(l, ActionSubscribe, chunk); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
	}
	for _, s := range add {
		l.sent[s] = struct{}{}
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
func (c *Client) send(l *link, action, params string) error {
	msg, err := json.Marshal(controlMessage{Action: action, Params: params})
	if err != nil {
		return err
	}
	_ = l.conn.SetWriteDeadline(time.Now().Add(c.cfg.HandshakeTimeout))
	if err := l.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		// The error never carries the payload, but be safe about the key.
		return errors.New(c.redact(err.Error()))
	}
	return nil
}

// read is the link's reader: it only reads frames and queues them. A full
// queue drops the frame; the reader never waits on anyone.
func (c *Client) read(l *link) {
	defer close(l.done)
	conn := l.conn
	extend := func() { _ = conn.SetReadDeadline(time.Now().Add(c.cfg.ReadTimeout)) }
	conn.SetPongHandler(func(string) error { extend(); return nil })
	conn.SetPingHandler(func(data string) error {
		extend()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		if err == nil || errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	var lastWarn time.Time
	var droppedSinceWarn uint64
	for {
		extend()
		_, r, err := conn.NextReader()
		if err != nil {
			l.readErr <- err
			return
		}
		buf, err := readFrame(r, c.getBuf())
		if err != nil {
			c.putBuf(buf)
			l.readErr <- err
			return
		}
		c.frames.Add(1)
		select {
		case l.queue <- buf:
		default:
			c.putBuf(buf)
			c.dropped.Add(1)
			droppedSinceWarn++
			if now := time.Now(); now.Sub(lastWarn) >= time.Second {
				c.log.Warn().Uint64("dropped", droppedSinceWarn).Uint64("dropped_total", c.dropped.Load()).
					Msg("frame queue full: consumer too slow, dropping frames")
				lastWarn, droppedSinceWarn = now, 0
			}
		}
	}
}

func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func (c *Client) getBuf() []byte {
	select {
	case b := <-c.free:
		return b[:0]
	default:
		return make([]byte, 0, 4096)
	}
}

func (c *Client) putBuf(b []byte) {
	if cap(b) > maxPooledFrame {
		return
	}
	select {
	case c.free <- b:
	default:
	}
}

// describeReadError turns a reader error into a link-state reason.
func (c *Client) describeReadError(err error) string {
	if errors.Is(err, websocket.ErrReadLimit) {
		c.oversize.Add(1)
		return fmt.Sprintf("oversize frame: over the %d-byte read limit", MaxFrameSize)
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Code == websocket.CloseAbnormalClosure {
			return "connection lost (1006): " + ce.Text
		}
		if ce.Text == "" {
			return fmt.Sprintf("closed by server: %d", ce.Code)
		}
		return fmt.Sprintf("closed by server: %d %s", ce.Code, ce.Text)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("read timeout: no frame or pong for %s", c.cfg.ReadTimeout)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "connection lost: EOF"
	}
	return "read: " + err.Error()
}
