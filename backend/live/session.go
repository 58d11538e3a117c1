package live

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/internal/wsconn"
)

// frame is an encoded server frame, possibly shared by many sessions.
type frame struct {
	pm   *websocket.PreparedMessage
	size int
}

// session is one browser. The reader goroutine (Serve's own) handles client
// frames; the writer goroutine does every write (see wsconn).
type session struct {
	h    *Hub
	ws   *wsconn.Conn
	peer Peer
	log  zerolog.Logger

	// pace is the session's tick interval asked for with set_flush (a
	// time.Duration; 0 = the hub's FlushInterval). Written by the reader,
	// read by Run.
	pace atomic.Int64

	mu          sync.Mutex
	urgent      []*frame  // status frames: written before anything in queue
	queue       []*frame  // waiting frames, never longer than QueueSize
	resync      bool      // queue was discarded (or session is new): send a snapshot next
	wantMetrics bool      // the browser sent request_metrics
	behindSince time.Time // first overflow not yet caught up; zero when healthy

	// Scratch owned by the writer goroutine. It grows with use: most
	// sessions never have more than a frame or two waiting.
	batch   []*frame
	urgents []*frame

	slow atomic.Bool // closed for staying behind (counted once)
}

func newSession(h *Hub, conn *websocket.Conn, p Peer) *session {
	l := h.log.With().Str("user", p.User)
	if conn != nil {
		l = l.Str("remote", conn.RemoteAddr().String())
	}
	return &session{
		h: h,
		ws: wsconn.New(conn, wsconn.Options{
			PingInterval:   h.opts.PingInterval,
			ControlTimeout: h.closeGrace,
			CloseGrace:     h.closeGrace,
			ReadLimit:      readLimit,
		}),
		peer:   p,
		log:    l.Logger(),
		resync: true, // the first thing a browser gets is a snapshot
	}
}

// Serve runs one admin session on an upgraded connection (authentication
// and the Origin check happen before the upgrade). It sends a snapshot,
// then the live stream, and blocks until the session ends; it closes conn
// and returns only after the session's writer goroutine has stopped, so the
// caller may reuse or release conn.
func (h *Hub) Serve(conn *websocket.Conn, p Peer) {
	s := newSession(h, conn, p)
	if code, reason := h.register(s); code != 0 {
		if code != websocket.CloseGoingAway {
			// Debug: a flood of refusals must not flood the log; /metrics counts them.
			s.log.Debug().Str("reason", reason).Msg("live: session refused")
		}
		wsconn.Refuse(conn, code, reason, s.h.closeGrace)
		return
	}
	s.log.Info().Msg("live: session started")
	s.ws.Signal()
	if err := s.ws.Serve(s, s.handle); err != nil {
		s.log.Debug().Err(err).Msg("live: read ended")
	}
	h.unregister(s)
	_ = conn.Close()
	s.log.Info().Msg("live: session ended")
}

// enqueue queues a tick or metrics frame without ever blocking.
func (s *session) enqueue(f *frame) { s.push(&s.queue, f) }

// enqueueUrgent queues a status frame in the urgent lane, which the writer
// empties before (and between) queued tick frames.
func (s *session) enqueueUrgent(f *frame) { s.push(&s.urgent, f) }

// push appends f to lane (queue or urgent) without ever blocking. A full
// lane discards both lanes: the browser will get a snapshot, which
// supersedes every tick and status it missed.
func (s *session) push(lane *[]*frame, f *frame) {
	s.mu.Lock()
	switch {
	case s.ws.Stopping() || s.resync:
		// Anything queued now is older than the snapshot still to come.
		s.h.droppedFrames.Add(1)
	case len(*lane) >= s.h.opts.QueueSize:
		s.h.droppedFrames.Add(uint64(len(s.queue)+len(s.urgent)) + 1)
		s.h.resyncs.Add(1)
		clear(s.queue)
		s.queue = s.queue[:0]
		clear(s.urgent)
		s.urgent = s.urgent[:0]
		s.resync = true
		if s.behindSince.IsZero() {
			s.behindSince = time.Now()
		}
	default:
		*lane = append(*lane, f)
	}
	s.mu.Unlock()
	s.ws.Signal()
}

// replaceWith makes snapshot f the next thing to send after the status
// frames already in the urgent lane: it supersedes both the queued tick
// frames and a snapshot the writer has yet to build. It goes through the
// urgent lane so that snapshots and status events, both queued under the
// hub's orderMu, reach the browser in the order they were made.
func (s *session) replaceWith(f *frame) {
	s.mu.Lock()
	if !s.ws.Stopping() {
		s.h.droppedFrames.Add(uint64(len(s.queue)))
		clear(s.queue)
		s.queue = s.queue[:0]
		s.urgent = append(s.urgent, f)
		s.resync = false
	}
	s.mu.Unlock()
	s.ws.Signal()
}

func (s *session) requestMetrics() {
	s.mu.Lock()
	s.wantMetrics = true
	s.mu.Unlock()
	s.ws.Signal()
}

// setPace moves the session to tick pace p (0: the hub's). Going slower
// misses nothing: the first frame on the new pace carries every change since
// that pace's previous frame, and what is queued at the old pace still goes
// out. Going faster would lose the changes the slower group held back, so
// the session gets a fresh snapshot instead of its queue (a page speeds up
// only once it has kept up for a while, so this is rare).
func (s *session) setPace(p time.Duration) {
	old := time.Duration(s.pace.Swap(int64(p)))
	if old == p {
		return
	}
	s.log.Debug().Dur("from", old).Dur("to", p).Msg("live: session tick pace changed")
	if old == 0 || (p != 0 && p > old) {
		return
	}
	s.mu.Lock()
	if !s.ws.Stopping() && !s.resync {
		s.h.droppedFrames.Add(uint64(len(s.queue)))
		clear(s.queue)
		s.queue = s.queue[:0]
		s.resync = true
	}
	s.mu.Unlock()
	s.ws.Signal()
}

// behindFor is how long the session has been behind (0 when it is not).
func (s *session) behindFor(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.behindSince.IsZero() {
		return 0
	}
	return now.Sub(s.behindSince)
}

// closeSlow closes the session with 1013 and counts it, once.
func (s *session) closeSlow(now time.Time) {
	if s.slow.CompareAndSwap(false, true) {
		s.h.slowClosed.Add(1)
		s.log.Warn().Dur("behind_ms", s.behindFor(now)).Msg("live: closing session that cannot keep up")
		s.ws.Stop(websocket.CloseTryAgainLater, "too slow")
	}
}

// take moves what is pending into the writer's batch.
func (s *session) take() (snapshot, metrics bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snapshot, metrics = s.resync, s.wantMetrics
	s.resync, s.wantMetrics = false, false
	s.batch = append(s.batch[:0], s.queue...)
	clear(s.queue)
	s.queue = s.queue[:0]
	return snapshot, metrics
}

// takeUrgent moves the urgent lane into the writer's urgents.
func (s *session) takeUrgent() []*frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.urgents = append(s.urgents[:0], s.urgent...)
	clear(s.urgent)
	s.urgent = s.urgent[:0]
	return s.urgents
}

// writeUrgent writes what is in the urgent lane now.
func (s *session) writeUrgent() error {
	fs := s.takeUrgent()
	defer clear(fs)
	for _, f := range fs {
		if s.ws.Stopping() {
			return nil
		}
		if err := s.writeFrame(f); err != nil {
			return err
		}
	}
	return nil
}

// settle marks the session caught up when nothing is pending after a write
// round; otherwise the wake signal left by enqueue brings the writer back.
func (s *session) settle() {
	s.mu.Lock()
	if len(s.queue) == 0 && len(s.urgent) == 0 && !s.resync && !s.wantMetrics {
		s.behindSince = time.Time{}
	}
	s.mu.Unlock()
}

// Drain is wsconn's: it writes one round of what is pending. It returns to
// the write loop after each round so pings still go out while frames keep coming. Snapshots and
// request_metrics answers are built here, at the pace of this browser, not
// the hub's. Urgent frames go first, and again before every queued frame, so
// a status change waits for at most one frame in the write.
func (s *session) Drain() (done bool, err error) {
	defer s.settle()
	return false, s.drainRound()
}

func (s *session) drainRound() error {
	if err := s.writeUrgent(); err != nil {
		return err
	}
	snapshot, metrics := s.take()
	defer clear(s.batch) // let frames go once every session has written them
	if snapshot {
		if err := s.writeBuilt(s.h.appendSnapshot); err != nil {
			return err
		}
	}
	if metrics {
		if err := s.writeBuilt(s.h.appendMetrics); err != nil {
			return err
		}
	}
	for _, f := range s.batch {
		if s.ws.Stopping() {
			return nil
		}
		if err := s.writeUrgent(); err != nil {
			return err
		}
		if err := s.writeFrame(f); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) writeFrame(f *frame) error {
	if err := s.ws.WritePrepared(f.pm, s.h.opts.MaxBehind); err != nil {
		return err
	}
	s.sent(f.size)
	return nil
}

// writeBuilt builds a frame with build into a buffer borrowed from the hub
// and writes it. The buffer goes back once written: a snapshot is tens of
// kilobytes (68 KB for the demo's 1,500 symbols), and kept by each session
// it was most of a session's memory, for a frame sent once or twice in the
// session's life. Nothing built is written when build appends nothing.
func (s *session) writeBuilt(build func([]byte) []byte) error {
	bp := s.h.scratch.Get().(*[]byte)
	defer s.h.scratch.Put(bp)
	*bp = build((*bp)[:0])
	if len(*bp) == 0 {
		return nil
	}
	return s.writeRaw(*bp)
}

func (s *session) writeRaw(b []byte) error {
	if err := s.ws.WriteMessage(b, s.h.opts.MaxBehind); err != nil {
		return err
	}
	s.sent(len(b))
	return nil
}

func (s *session) sent(n int) {
	s.h.framesSent.Add(1)
	s.h.bytesSent.Add(uint64(n))
}

// WriteFailed is wsconn's: a write that timed out without stop having been
// called means the peer stopped reading for MaxBehind: that is a slow close
// too.
func (s *session) WriteFailed(err error, timedOut bool) {
	if timedOut && s.slow.CompareAndSwap(false, true) {
		s.h.slowClosed.Add(1)
		s.log.Warn().Msg("live: closing session whose write timed out")
	} else if !timedOut {
		s.log.Debug().Err(err).Msg("live: write failed")
	}
}

// clientMessage is the only shape a browser sends.
type clientMessage struct {
	Event string `json:"event"`
	// IntervalMS is set_flush's tick interval in milliseconds (0: the default).
	IntervalMS int `json:"interval_ms"`
}

// handle applies one client message; anything but the known events is
// ignored, as the contract says.
func (s *session) handle(msg []byte) {
	var m clientMessage
	if json.Unmarshal(msg, &m) != nil {
		return
	}
	switch m.Event {
	case "request_metrics":
		s.requestMetrics()
	case "set_flush":
		s.setPace(s.h.paceFor(m.IntervalMS))
	}
}
