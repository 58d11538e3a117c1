// Package live fans the ingest out to admin browsers over /admin-ws.
//
// One Hub serves every session. Run turns the tick store's dirty set into one
// tick_update frame per flush interval, encoded once and shared by every
// session; status changes and metrics go out the same way. Each session has a
// bounded queue and a single writer goroutine, so a slow browser only ever
// loses its own queue (and gets a fresh snapshot instead) and never slows the
// hub, the ingest or the other browsers.
//
// Two things keep a busy page honest rather than silently late. A page that
// cannot keep up asks for a slower pace ({"event":"set_flush"}): sessions on
// the same slower pace share one coalesced frame (latest tick per symbol
// since their previous frame), still encoded once. And status changes (and
// later alerts) go into a session's urgent lane, which its writer empties
// before, and between, queued tick frames.
package live

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// StatusEvent is a connection state change, pushed as connection_status_update.
type StatusEvent struct {
	ConnectionID, Status, Previous, Reason string
	At                                     time.Time
}

// MetricsEvent is one connection's counters, pushed as metrics_update.
type MetricsEvent struct {
	ConnectionID                                  string
	MsgsPerSec, Uptime                            float64
	MessageCount, ErrorCount, Dropped, Reconnects uint64
	LastUpdate                                    time.Time
	RateHistory                                   []float64
}

// Options configure a Hub. Zero values take the documented defaults.
type Options struct {
	// Store supplies the dirty set for each flush and the latest ticks for
	// snapshots. Nil means no ticks are ever pushed.
	Store *tickstore.Store
	// Status returns the websocket-status document (marshalled with
	// encoding/json) for snapshots. It is called from session writer
	// goroutines and from Run, so it must be safe for concurrent use.
	Status func() any
	// Metrics returns every connection's metrics. Called once per second by
	// Run and by a session's writer when its browser sends request_metrics.
	Metrics func() []MetricsEvent
	// Sinks returns one document per tick sink (the Redis publisher), each
	// pushed as a sink_update event in the same per-second frame as the
	// metrics, marshalled with encoding/json (a handful, once a second).
	// Nil, or an empty result, means no sink_update events.
	Sinks func() []any
	// FlushInterval is how often dirty ticks are coalesced into a frame (100ms).
	FlushInterval time.Duration
	// QueueSize is the number of frames a session may have waiting (64).
	QueueSize int
	// MaxBehind is how long a session may stay behind before it is closed
	// with 1013 (10s). It also bounds a single write.
	MaxBehind time.Duration
	// PingInterval is the ping period (30s); a peer silent for twice that is reaped.
	PingInterval time.Duration
	// MaxSessions caps the sessions served at once, MaxPerUser those of one
	// user; 0 means no cap. A session beyond a cap is closed at once with
	// 1013 (try again later) and a reason naming the cap (CapNames).
	MaxSessions, MaxPerUser int
	// CapNames are how the reasons name the two caps, e.g. the
	// configuration variables that set them ("ADMIN_WS_MAX_SESSIONS").
	CapNames [2]string
	Logger   zerolog.Logger // carries the caller's fields (app adds component=live); the hub adds none of its own
}

// Peer is who a session serves: the user, and the login session (the
// auth registry's id) it belongs to, so that ending a login can close its
// sockets (EndAuthSession).
type Peer struct {
	User        string
	AuthSession string
	// Admin: the user's role may administer, so the session also gets the
	// events only admins may see (AdminEvent).
	Admin bool
}

// CloseSessionEnded is the close code of a socket whose login session
// ended (logout, revocation, a change to its user): the browser must log in
// again, reconnecting would not help.
const CloseSessionEnded = 4001

// Stats are the hub's counters since New.
type Stats struct {
	Sessions       int    // sessions being served now
	Refused        uint64 // sessions refused by MaxSessions or MaxPerUser
	SessionsTotal  uint64 // sessions ever served
	Resyncs        uint64 // times a session's queue was discarded for a later snapshot
	SlowClosed     uint64 // sessions closed with 1013 for staying behind
	FramesSent     uint64 // frames written to browsers (one per session per frame)
	BytesSent      uint64 // payload bytes of those frames
	LastFrameBytes uint64 // size of the most recent tick_update frame
	DroppedFrames  uint64 // frames discarded by backpressure
}

const (
	defaultFlushInterval = 100 * time.Millisecond
	defaultQueueSize     = 64
	defaultMaxBehind     = 10 * time.Second
	defaultPingInterval  = 30 * time.Second

	// readLimit is the largest client frame; bigger ones close with 1009.
	readLimit = 4096
	// defaultCloseGrace bounds the close handshake: how long a close frame may take
	// to write and how long the peer has to answer it.
	defaultCloseGrace = time.Second
)

// Hub owns every admin WebSocket session.
type Hub struct {
	opts Options
	log  zerolog.Logger
	// closeGrace bounds the close handshake (a const in production; tests
	// shorten it).
	closeGrace time.Duration

	mu       sync.Mutex
	sessions map[*session]struct{}
	perUser  map[string]int // sessions per Peer.User, for MaxPerUser
	closed   bool
	serving  sync.WaitGroup // one per Serve call past registration

	resyncReq chan struct{} // Resync -> Run, capacity 1 so requests coalesce

	// orderMu orders status events against broadcast snapshots: a snapshot
	// is built and swapped into the queues under it, so no status event can
	// slip in between and be discarded, or be overtaken by an older snapshot.
	// The price: a status change that coincides with a resync (a config
	// change, rare) waits one snapshot build (about a millisecond for 3,000
	// tickers) on the client's processing goroutine; its socket reader keeps
	// reading. Status must therefore never call back into StatusChanged.
	orderMu sync.Mutex

	// scratch lends session writers a buffer to build a snapshot or a
	// metrics answer in (*[]byte).
	scratch sync.Pool

	// Owned by Run's goroutine.
	dirty    []tickstore.Latest
	buf      []byte
	laggards []*session
	paced    map[time.Duration]*paceGroup // slower paces some session asked for
	inUse    map[time.Duration]bool       // scratch: the paces sessions are on now

	// now is the clock of server_time in metrics frames (tests pin it).
	now func() time.Time

	sessionsTotal  atomic.Uint64
	refused        atomic.Uint64
	resyncs        atomic.Uint64
	slowClosed     atomic.Uint64
	framesSent     atomic.Uint64
	bytesSent      atomic.Uint64
	lastFrameBytes atomic.Uint64
	droppedFrames  atomic.Uint64
}

// New returns a Hub; call Run to start pushing and Shutdown to end sessions.
func New(opts Options) *Hub {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = defaultFlushInterval
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = defaultQueueSize
	}
	if opts.MaxBehind <= 0 {
		opts.MaxBehind = defaultMaxBehind
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = defaultPingInterval
	}
	return &Hub{
		opts:       opts,
		closeGrace: defaultCloseGrace,
		log:        opts.Logger, // named by the caller (app: component=live); naming it here too duplicated the key
		sessions:   make(map[*session]struct{}),
		perUser:    make(map[string]int),
		resyncReq:  make(chan struct{}, 1),
		scratch:    sync.Pool{New: func() any { return new([]byte) }},
		paced:      make(map[time.Duration]*paceGroup),
		inUse:      make(map[time.Duration]bool),
		now:        time.Now,
	}
}

// Paces a browser may ask for with set_flush, besides the hub's own
// FlushInterval. A short fixed list: every session on one pace shares one
// frame, so a handful of groups at most are ever encoded.
var allowedPaces = [...]time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}

// paceFor maps a requested interval to the pace a session gets: the hub's
// own interval for 0 or anything not slower than it, otherwise the smallest
// allowed pace at least as slow as asked (so a page never gets more than it
// can take), capped at the slowest.
func (h *Hub) paceFor(ms int) time.Duration {
	want := time.Duration(ms) * time.Millisecond
	if want <= h.opts.FlushInterval {
		return 0
	}
	for _, p := range allowedPaces {
		if p >= want && p > h.opts.FlushInterval {
			return p
		}
	}
	return allowedPaces[len(allowedPaces)-1]
}

// paceGroup coalesces the ticks for the sessions on one slower pace: the
// latest tick per symbol since the group's previous frame.
type paceGroup struct {
	pending map[tickKey]tickstore.Latest
	next    time.Time
	scratch []tickstore.Latest
}

type tickKey struct{ conn, symbol string }

// Run flushes dirty ticks every FlushInterval, pushes metrics every second
// and serves Resync requests. It returns when ctx is done.
func (h *Hub) Run(ctx context.Context) {
	flush := time.NewTicker(h.opts.FlushInterval)
	defer flush.Stop()
	metrics := time.NewTicker(time.Second)
	defer metrics.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			h.flush()
		case <-metrics.C:
			h.pushMetrics()
		case <-h.resyncReq:
			h.resyncAll()
		}
	}
}

// flush sends everything that changed since the previous flush as one
// frame and closes sessions that have been behind for too long.
func (h *Hub) flush() {
	h.closeLaggards(time.Now())
	if h.opts.Store == nil {
		return
	}
	// Take the dirty set even with nobody watching, so a browser that
	// connects later gets a snapshot and then only fresh changes.
	h.dirty = h.opts.Store.TakeDirty(h.dirty[:0])
	if h.sessionCount() == 0 {
		clear(h.paced)
		return
	}
	h.flushPaced(h.now())
	if len(h.dirty) == 0 {
		return
	}
	h.buf = appendTickFrame(h.buf[:0], h.dirty)
	h.lastFrameBytes.Store(uint64(len(h.buf)))
	h.broadcastTicks(h.buf, 0)
}

// flushPaced folds this flush's dirty ticks into every slower pace that a
// session is on, and sends each group whose time has come its frame. A group
// made now starts empty: its sessions had every earlier change at the
// hub's pace.
func (h *Hub) flushPaced(now time.Time) {
	clear(h.inUse)
	h.forEach(func(s *session) {
		if p := time.Duration(s.pace.Load()); p > 0 {
			h.inUse[p] = true
		}
	})
	for p := range h.paced {
		if !h.inUse[p] {
			delete(h.paced, p)
		}
	}
	for p := range h.inUse {
		g := h.paced[p]
		if g == nil {
			g = &paceGroup{pending: make(map[tickKey]tickstore.Latest), next: now.Add(p)}
			h.paced[p] = g
		}
		for _, l := range h.dirty {
			g.pending[tickKey{l.ConnectionID, l.Symbol}] = l
		}
		if now.Before(g.next) {
			continue
		}
		g.next = now.Add(p)
		if len(g.pending) == 0 {
			continue
		}
		g.scratch = g.scratch[:0]
		for _, l := range g.pending {
			g.scratch = append(g.scratch, l)
		}
		clear(g.pending)
		h.buf = appendTickFrame(h.buf[:0], g.scratch)
		clear(g.scratch) // drop the strings until next time
		h.broadcastTicks(h.buf, p)
	}
}

// closeLaggards closes, with 1013, every session that has not caught up
// within MaxBehind of its first overflow. The closing (and its log line)
// happens outside the hub lock.
func (h *Hub) closeLaggards(now time.Time) {
	h.laggards = h.laggards[:0]
	h.forEach(func(s *session) {
		if s.behindFor(now) >= h.opts.MaxBehind {
			h.laggards = append(h.laggards, s)
		}
	})
	for i, s := range h.laggards {
		s.closeSlow(now)
		h.laggards[i] = nil
	}
}

func (h *Hub) pushMetrics() {
	if h.sessionCount() == 0 {
		return
	}
	if h.buf = h.appendMetrics(h.buf[:0]); len(h.buf) > 0 {
		h.broadcast(h.buf)
	}
}

// broadcastTicks queues a tick frame on the sessions on pace p (0: the hub's).
func (h *Hub) broadcastTicks(data []byte, p time.Duration) {
	f := h.newFrame(data)
	if f == nil {
		return
	}
	h.forEach(func(s *session) {
		if time.Duration(s.pace.Load()) == p {
			s.enqueue(f)
		}
	})
}

// StatusChanged pushes e to every session at once, in each session's urgent
// lane: it overtakes tick frames still queued for a slow browser. It never
// blocks on a browser, so the manager may call it from its state machine.
func (h *Hub) StatusChanged(e StatusEvent) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if h.sessionCount() == 0 {
		return
	}
	var scratch [256]byte
	frame := appendStatusFrame(scratch[:0], &e)
	h.orderMu.Lock()
	defer h.orderMu.Unlock()
	f := h.newFrame(frame)
	if f == nil {
		return
	}
	h.forEach(func(s *session) { s.enqueueUrgent(f) })
}

// Resync asks Run to send every session a fresh snapshot (the configuration
// changed). It returns at once; the snapshot is built on Run's goroutine so
// callers may hold their own locks (Status may need them).
func (h *Hub) Resync() {
	select {
	case h.resyncReq <- struct{}{}:
	default: // one is already pending and will see this change too
	}
}

func (h *Hub) resyncAll() {
	if h.sessionCount() == 0 {
		return
	}
	h.orderMu.Lock()
	defer h.orderMu.Unlock()
	f := h.newFrame(h.appendSnapshot(nil))
	if f == nil {
		return
	}
	h.forEach(func(s *session) { s.replaceWith(f) })
}

// broadcast prepares data once and queues it on every session.
func (h *Hub) broadcast(data []byte) {
	f := h.newFrame(data)
	if f == nil {
		return
	}
	h.forEach(func(s *session) { s.enqueueUrgent(f) })
}

// newFrame copies data into a websocket.PreparedMessage, so the wire bytes
// (header included) are built once however many sessions write them.
func (h *Hub) newFrame(data []byte) *frame {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		h.log.Error().Err(err).Int("bytes", len(data)).Msg("live: prepare frame")
		return nil
	}
	return &frame{pm: pm, size: len(data)}
}

// appendSnapshot appends a snapshot frame: the status document and the
// latest tick of every symbol. The document goes through encoding/json
// because its shape belongs to the web package and snapshots are rare.
func (h *Hub) appendSnapshot(b []byte) []byte {
	status := []byte("null")
	if h.opts.Status != nil {
		doc, err := json.Marshal(h.opts.Status())
		if err != nil {
			h.log.Error().Err(err).Msg("live: encode status document for snapshot")
		} else {
			status = doc
		}
	}
	b = append(b, `[{"event":"snapshot","data":{"status":`...)
	b = append(b, status...)
	b = append(b, `,"ticks":[`...)
	if h.opts.Store != nil {
		ticks := h.opts.Store.AllLatest(nil)
		for i := range ticks {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTick(b, &ticks[i])
		}
	}
	return append(b, "]}}]"...)
}

// appendMetrics appends the per-second frame: a metrics_update for every
// connection and a sink_update for every sink, or returns b unchanged when
// there is nothing to report.
func (h *Hub) appendMetrics(b []byte) []byte {
	var ms []MetricsEvent
	if h.opts.Metrics != nil {
		ms = h.opts.Metrics()
	}
	var sinks []any
	if h.opts.Sinks != nil {
		sinks = h.opts.Sinks()
	}
	if len(ms) == 0 && len(sinks) == 0 {
		return b
	}
	start := len(b)
	b = appendMetricsFrame(b, ms, h.now())
	if len(sinks) == 0 {
		return b
	}
	b = b[:len(b)-1] // reopen the array
	for _, sk := range sinks {
		data, err := json.Marshal(sk)
		if err != nil {
			h.log.Error().Err(err).Msg("live: encode sink_update")
			continue
		}
		if len(b) > start+1 {
			b = append(b, ',')
		}
		b = append(b, sinkEventPrefix...)
		b = append(b, data...)
		b = append(b, '}')
	}
	return append(b, ']')
}

func (h *Hub) forEach(fn func(*session)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.sessions {
		fn(s)
	}
}

func (h *Hub) sessionCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

// register adds s unless the hub is shutting down or a cap is reached;
// then it returns the close code and reason to refuse s with.
func (h *Hub) register(s *session) (code int, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return websocket.CloseGoingAway, "server shutting down"
	case h.opts.MaxSessions > 0 && len(h.sessions) >= h.opts.MaxSessions:
		h.refused.Add(1)
		return websocket.CloseTryAgainLater, capReason(h.opts.MaxSessions, "in total", h.opts.CapNames[0])
	case h.opts.MaxPerUser > 0 && h.perUser[s.peer.User] >= h.opts.MaxPerUser:
		h.refused.Add(1)
		return websocket.CloseTryAgainLater, capReason(h.opts.MaxPerUser, "per user", h.opts.CapNames[1])
	}
	h.sessions[s] = struct{}{}
	h.perUser[s.peer.User]++
	h.serving.Add(1)
	h.sessionsTotal.Add(1)
	return 0, ""
}

// capReason is the close reason of a refusal: which cap, and what sets it
// (a close reason has room for 123 bytes).
func capReason(n int, scope, name string) string {
	r := "too many dashboard sessions: " + strconv.Itoa(n) + " " + scope
	if name != "" {
		r += " (" + name + ")"
	}
	return r
}

func (h *Hub) unregister(s *session) {
	h.mu.Lock()
	delete(h.sessions, s)
	if h.perUser[s.peer.User]--; h.perUser[s.peer.User] <= 0 {
		delete(h.perUser, s.peer.User)
	}
	h.mu.Unlock()
	h.serving.Done()
}

// EndAuthSession closes every socket of the login session id with
// CloseSessionEnded and reason "session ended", and returns how many. The
// close frames go out within the close grace (1 s); it does not wait for
// them.
func (h *Hub) EndAuthSession(id string) int {
	if id == "" {
		return 0
	}
	var match []*session
	h.forEach(func(s *session) {
		if s.peer.AuthSession == id {
			match = append(match, s)
		}
	})
	for _, s := range match {
		s.ws.Stop(CloseSessionEnded, "session ended")
	}
	return len(match)
}

// SocketsByAuthSession counts the open sockets of each login session.
func (h *Hub) SocketsByAuthSession() map[string]int {
	out := map[string]int{}
	h.forEach(func(s *session) {
		if s.peer.AuthSession != "" {
			out[s.peer.AuthSession]++
		}
	})
	return out
}

// Shutdown closes every session with 1001 and waits until every Serve call
// has returned. Later Serve calls close their connection at once.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	h.closed = true
	all := make([]*session, 0, len(h.sessions))
	for s := range h.sessions {
		all = append(all, s)
	}
	h.mu.Unlock()
	for _, s := range all {
		s.ws.Stop(websocket.CloseGoingAway, "server shutting down")
	}
	h.serving.Wait()
}

// Stats returns a copy of the counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Sessions:       h.sessionCount(),
		Refused:        h.refused.Load(),
		SessionsTotal:  h.sessionsTotal.Load(),
		Resyncs:        h.resyncs.Load(),
		SlowClosed:     h.slowClosed.Load(),
		FramesSent:     h.framesSent.Load(),
		BytesSent:      h.bytesSent.Load(),
		LastFrameBytes: h.lastFrameBytes.Load(),
		DroppedFrames:  h.droppedFrames.Load(),
	}
}
