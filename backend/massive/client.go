package massive

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"
)

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
	Extras         int // desired single subscriptions (AddExtra)
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
	extras         map[string]struct{} // "T.XYZ": one channel of one ticker, beyond desired x subs
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
		extras:     make(map[string]struct{}, len(cfg.Extras)),
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
	for _, e := range cfg.Extras {
		if e, err := normalizeExtra(e); err == nil {
			c.extras[e] = struct{}{}
		}
	}
	return c, nil
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
// an observer call in progress has returned. There is nothing to report: the
// close frame is best effort and the socket is closed either way.
func (c *Client) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// Subscribe adds tickers (or the Wildcard) to the desired set; they are sent
// at once if the link is authenticated, and on every later (re)connect.
// Invalid tickers are ignored and logged.
func (c *Client) Subscribe(tickers ...string) { c.change(true, tickers) }

// Unsubscribe removes tickers from the desired set.
func (c *Client) Unsubscribe(tickers ...string) { c.change(false, tickers) }

func (c *Client) change(add bool, tickers []string) {
	c.edit(c.desired, add, tickers, normalizeTarget, "symbol", "ignoring invalid ticker")
}

// edit adds or removes items (normalized by norm) in set, one of the
// desired sets, and wakes the run loop to send the difference.
func (c *Client) edit(set map[string]struct{}, add bool, items []string, norm func(string) (string, error), field, invalid string) {
	c.mu.Lock()
	for _, it := range items {
		n, err := norm(it)
		if err != nil {
			c.log.Warn().Str(field, it).Err(err).Msg(invalid)
			continue
		}
		if add {
			set[n] = struct{}{}
		} else {
			delete(set, n)
		}
	}
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// AddExtra adds single subscriptions ("T.XYZ": one channel of one ticker,
// or a channel's wildcard "T.*") to the desired set, beyond the desired
// tickers on every configured channel. The relay needs them: a consumer
// asking for trades of a ticker must not make the connection subscribe
// every channel of it. Like Subscribe, they are sent at once when the link
// is authenticated and replayed on every reconnect; one that a desired
// ticker already implies costs nothing upstream, and it stays wanted if
// that ticker is unsubscribed later. Invalid entries are ignored and logged.
func (c *Client) AddExtra(subs ...string) { c.changeExtras(true, subs) }

// RemoveExtra removes single subscriptions added with AddExtra. A
// subscription a desired ticker implies stays subscribed upstream.
func (c *Client) RemoveExtra(subs ...string) { c.changeExtras(false, subs) }

func (c *Client) changeExtras(add bool, subs []string) {
	c.edit(c.extras, add, subs, normalizeExtra, "subscription", "ignoring invalid subscription")
}

// Extras returns the single subscriptions added with AddExtra, sorted.
func (c *Client) Extras() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return sortedKeys(c.extras)
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
		Extras:         len(c.extras),
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
func (c *Client) redact(s string) string { return RedactKey(s, c.cfg.APIKey) }

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// setState records a transition, logs it and tells the observer, outside the
// lock. Only the run goroutine calls it, so transitions reach the observer in
// order. "connecting" is logged at debug: every attempt ends in a line of its
// own (connected, closed, or the failure with its retry), so an operator
// reading at info sees one line per attempt.
func (c *Client) setState(s State, reason string) {
	level := zerolog.InfoLevel
	switch s {
	case StateConnecting:
		level = zerolog.DebugLevel
	case StateError:
		level = zerolog.WarnLevel
	}
	c.changeState(s, reason, level)
}

// changeState is setState with the log level chosen by the caller: the run
// loop logs a failure together with its retry in one line of its own, so it
// records the transition itself at debug.
func (c *Client) changeState(s State, reason string, level zerolog.Level) {
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
	c.log.WithLevel(level).Str("state", s.String()).Str("previous", ch.Previous.String()).Str("reason", reason).Msg("link state")
	c.obs.StateChanged(ch)
}

func (c *Client) recordError(msg string) {
	msg = c.redact(msg)
	c.errs.Add(1)
	c.mu.Lock()
	c.lastError = msg
	c.mu.Unlock()
}
