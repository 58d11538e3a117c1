// Package redissink delivers Tickwatch's ticks and status to Redis, so that
// the systems behind Tickwatch can read the account's market data without
// holding Massive connections of their own (issue 12).
//
// A Publisher publishes every upstream event to a pub/sub channel as JSON
// arrays, optionally appends the same arrays to a capped stream, and
// publishes status updates and a health snapshot to a second channel. It is
// never in the way of ingest: Ticks copies the batch onto a bounded queue
// and returns, dropping (and counting) what does not fit; one goroutine,
// owned by Run, drains the queue into pipelined writes. While Redis is
// unreachable that goroutine discards what is queued (counted as dropped)
// and reconnects with exponential backoff and jitter, capped at maxBackoff;
// publishing resumes by itself when Redis is back.
//
// The link state (State) means, for the dashboard, websocket-status and
// /metrics:
//
//   - connecting: since Run started no attempt has finished yet (the first
//     dial, AUTH and PING are in flight). Only ever seen at start-up.
//   - connected: the latest write or probe succeeded.
//   - down: the latest write or probe failed, LastError says why, and the
//     sink waits out a backoff before the next attempt. It is entered on the
//     first failure, with no grace period: ticks are being dropped from that
//     moment, and the dashboard should say so.
//   - reconnecting: Redis was down and an attempt to reach it again is in
//     flight. Against a refused port that lasts microseconds; against a host
//     that does not answer, up to the dial timeout. A failed attempt goes
//     back to down, a successful one to connected.
//
// down and reconnecting alternate within one outage; Since is when the
// outage began, not when the latest attempt did, and only entering the
// outage (and leaving it) is logged above debug level.
//
// The directory is sink/redis; the package is redissink so that it does not
// shadow go-redis, which every file here imports as redis.
package redissink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// Defaults for the zero fields of Options.
const (
	DefaultTickChannel      = "tickwatch:ticks"
	DefaultStatusChannel    = "tickwatch:status"
	DefaultStreamMaxLen     = 100_000
	DefaultQueueSize        = 1024
	DefaultQueueEvents      = 1 << 17
	DefaultStatusQueueSize  = 256
	DefaultMaxMessageEvents = 1000
	DefaultDrainTimeout     = time.Second
)

// Timeouts applied when the URL does not set them (dial_timeout,
// read_timeout, write_timeout). go-redis waits 5 s by default; a sink that
// waits that long per attempt notices an outage late and recovers late.
const (
	defaultDialTimeout = 2 * time.Second
	defaultIOTimeout   = 2 * time.Second
)

// Reconnect backoff: doubling from minBackoff up to maxBackoff, with equal
// jitter so that several instances restarted together do not reconnect in
// step. Issue 12 wants publishing to resume within resumeWithin of Redis
// coming back: attempts are at most maxBackoff apart, and an attempt that
// began just before the restart ends within a dial timeout, so
// maxBackoff + defaultDialTimeout must not exceed it (TestBackoffSchedule
// checks).
const (
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 2 * time.Second
	resumeWithin = 5 * time.Second
)

// probeInterval is how long the writer may go without a successful write
// before it probes with a PING, so that a Redis lost in a quiet market shows
// as down within about twice this, well inside the second issue 12 allows.
// (Under load every flush is a write and an outage shows at the next one.)
const probeInterval = 250 * time.Millisecond

// Limits of one flush (one pipeline): enough to amortise the round trip at
// full load, small enough that one flush does not hold megabytes or delay
// the first tick of the next one for long.
const (
	flushMaxBatches = 256
	flushMaxBytes   = 1 << 20
)

// Options configure a Publisher. Only URL is required.
type Options struct {
	// URL is redis://[user:password@]host[:port][/db] or rediss:// for TLS,
	// with go-redis's query options (dial_timeout=, read_timeout=, ...).
	URL string
	// TickChannel receives one JSON array of ticks per message.
	TickChannel string
	// StatusChannel receives status updates and health snapshots.
	StatusChannel string
	// Stream, if set, also receives every tick message as a stream entry
	// (field "ticks"). It is trimmed to about StreamMaxLen ticks (not
	// entries: see streamTrim), roughly 170 bytes of Redis memory each.
	Stream       string
	StreamMaxLen int64
	// QueueSize is how many upstream batches may wait for Redis;
	// QueueEvents caps the events in them, since one batch may hold one
	// event or thousands. A batch that does not fit is dropped and counted.
	QueueSize   int
	QueueEvents int
	// StatusQueueSize is how many status updates may wait for Redis.
	StatusQueueSize int
	// MaxMessageEvents caps the ticks in one published message; the queue
	// is drained into as few messages as this allows.
	MaxMessageEvents int
	// Now is the clock for Since and the publish rate; nil means
	// time.Now. Tests inject a manual one (testkit.Clock) to show that a
	// state change comes from an event, not from time passing.
	Now func() time.Time
	// DrainTimeout bounds the last flush when Run is stopped: what is still
	// queued then is published if Redis takes it within this time. Zero
	// means DefaultDrainTimeout.
	DrainTimeout time.Duration
	Logger       zerolog.Logger
}

func (o *Options) applyDefaults() error {
	if o.TickChannel == "" {
		o.TickChannel = DefaultTickChannel
	}
	if o.StatusChannel == "" {
		o.StatusChannel = DefaultStatusChannel
	}
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set(&o.QueueSize, DefaultQueueSize)
	set(&o.QueueEvents, DefaultQueueEvents)
	set(&o.StatusQueueSize, DefaultStatusQueueSize)
	set(&o.MaxMessageEvents, DefaultMaxMessageEvents)
	if o.StreamMaxLen == 0 {
		o.StreamMaxLen = DefaultStreamMaxLen
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	switch {
	case o.QueueSize < 0, o.QueueEvents < 0, o.StatusQueueSize < 0, o.MaxMessageEvents < 0:
		return errors.New("redis sink: queue sizes and MaxMessageEvents must be positive")
	case o.StreamMaxLen < 0:
		return fmt.Errorf("redis sink: stream max length %d: must be positive", o.StreamMaxLen)
	case o.DrainTimeout < 0:
		return fmt.Errorf("redis sink: DrainTimeout %s: must be positive", o.DrainTimeout)
	}
	return nil
}

// State is the sink's link to Redis.
type State string

// The states; the package comment says what each means.
const (
	// StateConnecting: start-up, the first attempt is in flight.
	StateConnecting State = "connecting"
	// StateConnected: the latest write or probe succeeded.
	StateConnected State = "connected"
	// StateReconnecting: after down, an attempt to reach Redis is in flight.
	StateReconnecting State = "reconnecting"
	// StateDown: the latest write or probe failed; waiting to retry.
	StateDown State = "down"
)

// Stats is a snapshot of the sink for the dashboard, websocket-status and
// /metrics. Counters are totals since New.
type Stats struct {
	State     State
	Since     time.Time // when State was entered; for down and reconnecting, when the outage began
	LastError string    // the latest failure, password removed; "" if none yet
	Target    string    // the URL with the password removed

	Published   uint64  // ticks published to the tick channel
	Messages    uint64  // tick channel messages (JSON arrays)
	Dropped     uint64  // ticks that never reached Redis, for any reason
	QueueFull   uint64  // of Dropped: refused by Ticks because the queue was full
	PublishRate float64 // ticks per second published over the last full second

	QueueDepth   int // batches waiting
	QueueCap     int
	QueuedEvents int // ticks in those batches
	QueueEvents  int // cap on QueuedEvents

	StatusPublished uint64 // status updates and health snapshots published
	StatusDropped   uint64
	WriteErrors     uint64 // commands Redis answered with an error (e.g. WRONGTYPE on the stream)
}

// batch is one upstream batch copied off the caller's reused slice.
type batch struct {
	connID string
	events []massive.Event
}

// Recycled batch buffers: a free list rather than a sync.Pool, which the
// GC empties every cycle, so that ingest copies into warm buffers instead
// of allocating (and zeroing, and faulting in) one per batch. The list
// holds buffers for up to QueueEvents ticks, the most the queue itself can
// hold, so a backlog that fills the queue and drains again costs no new
// allocations the next time: with a list of a fixed few buffers, every
// batch of a backlog beyond them was a fresh allocation of a hundred KB or
// more, on the ingest goroutine, just when the sink was already behind
// (10 % of the server's CPU at 250k ticks/s in the load run). A buffer
// larger than maxPooledEvents goes to the GC.
const maxPooledEvents = 4096

// Publisher publishes to Redis. Construct it with New, start Run, and feed
// it with Ticks, StatusEvent and Health from any goroutine.
type Publisher struct {
	opts   Options
	ropts  *redis.Options
	red    redactor
	target string
	log    zerolog.Logger

	queue        chan *batch
	free         chan *batch
	pooledEvents atomic.Int64 // capacity, in events, of the buffers in free
	queuedEvents atomic.Int64
	status       chan []byte
	healthSig    chan struct{}
	healthMu     sync.Mutex
	health       []byte
	healthNew    bool

	running atomic.Bool

	published, messages, dropped, queueFull atomic.Uint64
	statusPublished, statusDropped          atomic.Uint64
	writeErrors                             atomic.Uint64
	rateBits                                atomic.Uint64 // float64 bits

	mu        sync.Mutex // guards the fields below
	state     State
	since     time.Time
	lastErr   string
	downErr   string // the error last logged for this outage, to log a new one once
	loggedErr string // last server error logged, to log each distinct one once
}

// New checks opts and returns a Publisher that has not connected yet. An
// error names what is wrong with the URL but never contains its password.
func New(opts Options) (*Publisher, error) {
	if err := opts.applyDefaults(); err != nil {
		return nil, err
	}
	ropts, red, target, err := parseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	// One goroutine writes, so one connection in each pool is all it uses;
	// a second covers a connection being replaced.
	ropts.PoolSize = 2
	ropts.PipelinePoolSize = 2
	// A retried pipeline could publish its messages twice; a failed write
	// is counted and the sink's own reconnect loop takes over instead. This
	// overrides a max_retries in the URL on purpose.
	ropts.MaxRetries = -1
	// go-redis redials 5 times per command by default; the reconnect loop
	// already retries, with backoff, and wants to see each failure.
	ropts.DialerRetries = 1
	if ropts.DialTimeout == 0 {
		ropts.DialTimeout = defaultDialTimeout
	}
	if ropts.ReadTimeout == 0 {
		ropts.ReadTimeout = defaultIOTimeout
	}
	if ropts.WriteTimeout == 0 {
		ropts.WriteTimeout = defaultIOTimeout
	}
	// A context deadline (the drain's at shutdown) then bounds a write too.
	ropts.ContextTimeoutEnabled = true
	p := &Publisher{
		opts:      opts,
		ropts:     ropts,
		red:       red,
		target:    target,
		log:       opts.Logger.With().Str("component", "redis_sink").Str("redis", target).Logger(),
		queue:     make(chan *batch, opts.QueueSize),
		free:      make(chan *batch, opts.QueueSize),
		status:    make(chan []byte, opts.StatusQueueSize),
		healthSig: make(chan struct{}, 1),
		state:     StateConnecting,
		since:     opts.Now(),
	}
	return p, nil
}

// Target is the Redis URL with any password replaced, for start-up logs.
func (p *Publisher) Target() string { return p.target }

// Ticks queues a copy of batch for publishing and returns at once; it never
// blocks. When the queue is full the batch is dropped and counted. It is
// safe to call from several goroutines (one per upstream connection) and
// before Run starts; batch is not retained.
//
// The copy is needed because the massive.Client reuses the batch slice
// after its observer returns. The Symbol strings inside need no copy: the
// decoder makes each one with string(b) (interned or not), so none of them
// aliases the frame buffer the client reuses.
func (p *Publisher) Ticks(connID string, events []massive.Event) {
	n := len(events)
	if n == 0 {
		return
	}
	// Refuse before copying, so that a full queue costs next to nothing.
	if len(p.queue) == cap(p.queue) {
		p.refuse(n)
		return
	}
	if p.queuedEvents.Add(int64(n)) > int64(p.opts.QueueEvents) {
		p.queuedEvents.Add(-int64(n))
		p.refuse(n)
		return
	}
	var b *batch
	select {
	case b = <-p.free:
		p.pooledEvents.Add(-int64(cap(b.events)))
	default:
		b = new(batch)
	}
	b.connID = connID
	b.events = append(b.events[:0], events...)
	select {
	case p.queue <- b:
	default:
		p.queuedEvents.Add(-int64(n))
		p.recycle(b)
		p.refuse(n)
	}
}

func (p *Publisher) refuse(n int) {
	p.dropped.Add(uint64(n))
	p.queueFull.Add(uint64(n))
}

// take accounts for a batch leaving the queue.
func (p *Publisher) take(b *batch) { p.queuedEvents.Add(-int64(len(b.events))) }

func (p *Publisher) recycle(b *batch) {
	c := int64(cap(b.events))
	if c > maxPooledEvents {
		return
	}
	if p.pooledEvents.Add(c) > int64(p.opts.QueueEvents) {
		p.pooledEvents.Add(-c)
		return
	}
	b.events = b.events[:0]
	select {
	case p.free <- b:
	default:
		p.pooledEvents.Add(-c)
	}
}

// StatusEvent queues an encoded connection_status_update (the /admin-ws
// frame) for the status channel. It never blocks; when the small queue is
// full the update is dropped and counted. payload is copied.
func (p *Publisher) StatusEvent(payload []byte) {
	select {
	case p.status <- bytes.Clone(payload):
	default:
		p.statusDropped.Add(1)
	}
}

// Health sets the health snapshot to publish on the status channel. Only
// the latest one waiting is published: an older snapshot is stale the
// moment a newer one exists. It never blocks; payload is copied.
func (p *Publisher) Health(payload []byte) {
	p.healthMu.Lock()
	p.health = append(p.health[:0], payload...)
	p.healthNew = true
	p.healthMu.Unlock()
	select {
	case p.healthSig <- struct{}{}:
	default:
	}
}

// takeHealth copies the pending snapshot into dst if there is one.
func (p *Publisher) takeHealth(dst []byte) ([]byte, bool) {
	p.healthMu.Lock()
	defer p.healthMu.Unlock()
	if !p.healthNew {
		return dst, false
	}
	p.healthNew = false
	return append(dst[:0], p.health...), true
}

// Stats returns a snapshot of the counters and the link state.
func (p *Publisher) Stats() Stats {
	p.mu.Lock()
	state, since, lastErr := p.state, p.since, p.lastErr
	p.mu.Unlock()
	return Stats{
		State: state, Since: since, LastError: lastErr, Target: p.target,

		Published:   p.published.Load(),
		Messages:    p.messages.Load(),
		Dropped:     p.dropped.Load(),
		QueueFull:   p.queueFull.Load(),
		PublishRate: math.Float64frombits(p.rateBits.Load()),

		QueueDepth:   len(p.queue),
		QueueCap:     cap(p.queue),
		QueuedEvents: int(max(p.queuedEvents.Load(), 0)),
		QueueEvents:  p.opts.QueueEvents,

		StatusPublished: p.statusPublished.Load(),
		StatusDropped:   p.statusDropped.Load(),
		WriteErrors:     p.writeErrors.Load(),
	}
}

// State is Stats().State without the rest.
func (p *Publisher) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Run connects and publishes until ctx is done, then closes the client and
// returns nil. Every goroutine the sink starts is owned by Run and gone
// when it returns. Run may be called once.
func (p *Publisher) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("redis sink: Run called twice")
	}
	client := redis.NewClient(p.ropts)
	defer func() {
		if err := client.Close(); err != nil {
			p.log.Debug().Str("error", p.red.String(err.Error())).Msg("redis sink: close")
		}
	}()
	w := newWriter(p, client)
	// One ticker serves both loops: the idle probe that notices a lost
	// Redis when no ticks flow, and the publish rate.
	ticker := time.NewTicker(probeInterval)
	defer ticker.Stop()
	for p.reconnect(ctx, w, ticker) {
		err := p.serve(ctx, w, ticker)
		if err == nil { // ctx done
			break
		}
		p.failed(err)
	}
	return nil
}

// serve publishes while Redis answers. It returns the failure that ended
// it, or nil when ctx is done.
func (p *Publisher) serve(ctx context.Context, w *writer, ticker *time.Ticker) error {
	// Writes do not end with ctx: a batch taken off the queue is written
	// whole (bounded by the I/O timeouts), and what is still queued when
	// ctx ends goes out in drain. Writing with ctx would turn every batch
	// that races the stop into a dropped one.
	wctx := context.WithoutCancel(ctx)
	for {
		var err error
		select {
		case <-ctx.Done():
			p.drain(ctx, w)
			return nil
		case b := <-p.queue:
			w.addBatch(b)
			err = w.flush(wctx)
		case s := <-p.status:
			w.statuses = append(w.statuses, s)
			err = w.flush(wctx)
		case <-p.healthSig:
			err = w.flush(wctx)
		case <-ticker.C:
			p.sampleRate(w)
			// Nothing was written for a probe interval: probe, so that a
			// lost Redis shows on the dashboard even when no ticks flow.
			if !w.wrote {
				err = w.ping(ctx)
			}
			w.wrote = false
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// drain publishes what is still queued when Run is stopped while Redis
// answers. The app stops the manager before the sink, so nothing new
// arrives and a clean shutdown loses no tick Redis could still take; a
// Redis too slow to take it within DrainTimeout loses the rest, as Run's
// caller cannot wait for ever. (While reconnecting nothing is drained:
// those ticks would be discarded anyway.)
func (p *Publisher) drain(ctx context.Context, w *writer) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.DrainTimeout)
	defer cancel()
	for len(p.queue) > 0 || len(p.status) > 0 {
		if err := w.flush(dctx); err != nil {
			p.log.Warn().Str("error", p.red.String(err.Error())).Int("batches_left", len(p.queue)).
				Msg("redis sink: could not publish everything queued before stopping")
			return
		}
	}
}

// reconnect probes Redis with backoff until it answers (true) or ctx is
// done (false). The first attempt goes out at once: a write that failed
// because one connection broke is often followed by a dial that works.
// Meanwhile what arrives is discarded and counted: by the time Redis is
// back those ticks would be stale, and holding them would only delay the
// fresh ones behind them.
func (p *Publisher) reconnect(ctx context.Context, w *writer, ticker *time.Ticker) bool {
	for attempt := 0; ; attempt++ {
		p.attempting()
		err := w.ping(ctx)
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			p.connected()
			// A health snapshot kept through the outage goes out now, not
			// with the next one.
			select {
			case p.healthSig <- struct{}{}:
			default:
			}
			return true
		}
		p.failed(err)
		timer := time.NewTimer(backoff(attempt))
	wait:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return false
			case <-timer.C:
				break wait
			case b := <-p.queue:
				p.take(b)
				p.dropped.Add(uint64(len(b.events)))
				p.recycle(b)
			case <-p.status:
				p.statusDropped.Add(1)
			case <-p.healthSig:
				// Kept: the latest snapshot goes out once Redis is back.
			case <-ticker.C:
				p.sampleRate(w)
			}
		}
	}
}

// sampleRate publishes the tick rate for Stats, over about a second: the
// ticker fires every probeInterval, the rate moves once a second.
func (p *Publisher) sampleRate(w *writer) {
	now := p.opts.Now()
	pub := p.published.Load()
	if !w.rateAt.IsZero() {
		secs := now.Sub(w.rateAt).Seconds()
		if secs < 1 {
			return
		}
		p.rateBits.Store(math.Float64bits(float64(pub-w.ratePub) / secs))
	}
	w.rateAt, w.ratePub = now, pub
}

// attempting marks a reconnect attempt in flight: down becomes
// reconnecting (at start-up the state stays connecting). Since stays: the
// outage goes on. Logged at debug level only, as an outage makes one
// attempt every couple of seconds.
func (p *Publisher) attempting() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == StateDown {
		p.state = StateReconnecting
		p.log.Debug().Str("state", string(StateReconnecting)).Msg("redis sink: trying to reach Redis again")
	}
}

// connected records a successful probe and logs the end of the outage.
func (p *Publisher) connected() {
	now := p.opts.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == StateConnected {
		return
	}
	prev, since := p.state, p.since
	p.state, p.since, p.downErr = StateConnected, now, ""
	ev := p.log.Info().Str("state", string(StateConnected)).Str("previous", string(prev))
	if prev != StateConnecting {
		ev = ev.Dur("down_for_ms", now.Sub(since))
	}
	ev.Msg("redis sink connected")
}

// failed records a failed write or probe: the state is down from this
// moment, with the error. The start of an outage is logged once, and again
// only if the reason changes (a killed Redis first shows as a reset
// connection, then as a refused dial), not at every failed attempt.
func (p *Publisher) failed(err error) {
	now := p.opts.Now()
	msg := p.red.String(err.Error())
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.state
	p.lastErr = msg
	p.state = StateDown
	switch {
	case prev == StateConnected || prev == StateConnecting:
		p.since, p.downErr = now, msg
		text := "redis sink down"
		if prev == StateConnecting {
			// At start-up (a wrong password, a Redis not started yet) the
			// line says the sink keeps trying rather than giving up.
			text = "redis sink: cannot reach Redis, retrying"
		}
		p.log.Error().Str("error", msg).Str("state", string(StateDown)).Str("previous", string(prev)).Msg(text)
	case msg != p.downErr:
		p.downErr = msg
		p.log.Warn().Str("error", msg).Dur("down_for_ms", now.Sub(p.since)).Msg("redis sink still down")
	}
}

// serverError records an error reply that did not cost the connection (the
// stream key holding another type, say): counted, shown in LastError and
// logged once per distinct message.
func (p *Publisher) serverError(err error, n int) {
	p.writeErrors.Add(uint64(n))
	msg := p.red.String(err.Error())
	p.mu.Lock()
	p.lastErr = msg
	first := p.loggedErr != msg
	p.loggedErr = msg
	p.mu.Unlock()
	if first {
		p.log.Error().Str("error", msg).Msg("redis sink: Redis refused a write")
	}
}

// ClientLog adapts go-redis's own log lines to the sink's logger. go-redis
// logs through a process-wide logger (to stderr by default), one line per
// failed dial: during an outage that is a line per reconnect attempt, next
// to the sink's one line per state change. The app, which owns
// process-wide settings, installs it once:
//
//	redis.SetLogger(p.ClientLog())
//
// The lines go out at debug level, with the password removed.
func (p *Publisher) ClientLog() ClientLog { return ClientLog{log: p.log, red: p.red} }

// ClientLog implements go-redis's Logging interface; see Publisher.ClientLog.
type ClientLog struct {
	log zerolog.Logger
	red redactor
}

// Printf logs one go-redis line at debug level.
func (l ClientLog) Printf(_ context.Context, format string, v ...any) {
	if e := l.log.Debug(); e.Enabled() {
		e.Str("source", "go-redis").Msg(l.red.String(fmt.Sprintf(format, v...)))
	}
}
