package live

import (
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"
)

// frame is an encoded server frame, possibly shared by many sessions.
type frame struct {
	pm   *websocket.PreparedMessage
	size int
}

// session is one browser. The reader goroutine (Serve's own) handles client
// frames and pongs; the writer goroutine does every write, including pings
// and the close frame, because a websocket.Conn allows one writer.
type session struct {
	h    *Hub
	conn *websocket.Conn
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
	closeCode   int       // set by stop; 0 means no close frame is owed
	closeText   string
	stopped     bool // stop was called: writes get closeGrace, not MaxBehind

	wake       chan struct{} // capacity 1: something was queued
	quit       chan struct{} // closed by stop
	quitOnce   sync.Once
	writerDone chan struct{}

	// deadlineMu orders the reader's deadline extensions against the
	// writer's final short deadline, so a late pong cannot undo it.
	deadlineMu sync.Mutex
	closing    bool

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
		h:          h,
		conn:       conn,
		peer:       p,
		log:        l.Logger(),
		resync:     true, // the first thing a browser gets is a snapshot
		wake:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
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
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(code, reason), time.Now().Add(s.h.closeGrace))
		_ = conn.Close()
		return
	}
	s.log.Info().Msg("live: session started")
	s.signal()
	go s.writeLoop()
	s.readLoop()
	s.stop(0, "") // the reader is done: nobody will answer a close frame
	<-s.writerDone
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
	case s.closeCode != 0 || s.resync:
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
	s.signal()
}

// replaceWith makes snapshot f the next thing to send after the status
// frames already in the urgent lane: it supersedes both the queued tick
// frames and a snapshot the writer has yet to build. It goes through the
// urgent lane so that snapshots and status events, both queued under the
// hub's orderMu, reach the browser in the order they were made.
func (s *session) replaceWith(f *frame) {
	s.mu.Lock()
	if s.closeCode == 0 {
		s.h.droppedFrames.Add(uint64(len(s.queue)))
		clear(s.queue)
		s.queue = s.queue[:0]
		s.urgent = append(s.urgent, f)
		s.resync = false
	}
	s.mu.Unlock()
	s.signal()
}

func (s *session) requestMetrics() {
	s.mu.Lock()
	s.wantMetrics = true
	s.mu.Unlock()
	s.signal()
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
	if s.closeCode == 0 && !s.resync {
		s.h.droppedFrames.Add(uint64(len(s.queue)))
		clear(s.queue)
		s.queue = s.queue[:0]
		s.resync = true
	}
	s.mu.Unlock()
	s.signal()
}

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
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
		s.stop(websocket.CloseTryAgainLater, "too slow")
	}
}

// stop ends the session. A non-zero code is sent as the close frame by the
// writer; the first code wins. It also caps the write in progress, so a
// writer stuck on a peer that stopped reading gives up within closeGrace.
func (s *session) stop(code int, text string) {
	s.mu.Lock()
	if s.closeCode == 0 && code != 0 {
		s.closeCode, s.closeText = code, text
	}
	if !s.stopped && s.conn != nil {
		// Cap the write in progress; armWrite caps the ones after it.
		_ = s.conn.NetConn().SetWriteDeadline(time.Now().Add(s.h.closeGrace))
	}
	s.stopped = true
	s.mu.Unlock()
	s.quitOnce.Do(func() {
		close(s.quit)
		// The websocket library re-arms the socket deadline for every chunk
		// of a large message, so a deadline alone cannot bound a write to a
		// peer that stopped reading; closing the socket can.
		if s.conn != nil {
			time.AfterFunc(2*s.h.closeGrace, func() {
				select {
				case <-s.writerDone:
				default:
					_ = s.conn.NetConn().Close()
				}
			})
		}
	})
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
		if s.stopping() {
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

func (s *session) stopping() bool {
	select {
	case <-s.quit:
		return true
	default:
		return false
	}
}

func (s *session) writeLoop() {
	defer close(s.writerDone)
	ping := time.NewTicker(s.h.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-s.quit:
			s.finish(true)
			return
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.h.closeGrace)); err != nil {
				s.writeFailed(err)
				return
			}
		case <-s.wake:
			if err := s.drain(); err != nil {
				s.writeFailed(err)
				return
			}
		}
	}
}

// drain writes one round of what is pending. It returns to writeLoop after
// each round so pings still go out while frames keep coming. Snapshots and
// request_metrics answers are built here, at the pace of this browser, not
// the hub's. Urgent frames go first, and again before every queued frame, so
// a status change waits for at most one frame in the write.
func (s *session) drain() error {
	defer s.settle()
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
		if s.stopping() {
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

// armWrite sets the deadline of the next write: MaxBehind normally, only
// closeGrace once the session is stopping, so a peer that stopped reading
// cannot hold up shutdown for MaxBehind.
func (s *session) armWrite() {
	s.mu.Lock()
	d := s.h.opts.MaxBehind
	if s.stopped {
		d = s.h.closeGrace
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(d))
	s.mu.Unlock()
}

func (s *session) writeFrame(f *frame) error {
	s.armWrite()
	if err := s.conn.WritePreparedMessage(f.pm); err != nil {
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
	s.armWrite()
	if err := s.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		return err
	}
	s.sent(len(b))
	return nil
}

func (s *session) sent(n int) {
	s.h.framesSent.Add(1)
	s.h.bytesSent.Add(uint64(n))
}

// writeFailed ends the session after a failed write. A write that timed
// out without stop having been called means the peer stopped reading for
// MaxBehind: that is a slow close too.
func (s *session) writeFailed(err error) {
	var ne interface{ Timeout() bool }
	if !s.stopping() && errors.As(err, &ne) && ne.Timeout() && s.slow.CompareAndSwap(false, true) {
		s.h.slowClosed.Add(1)
		s.log.Warn().Msg("live: closing session whose write timed out")
	} else if !s.stopping() {
		s.log.Debug().Err(err).Msg("live: write failed")
	}
	s.finish(false)
}

// finish sends the owed close frame (if the connection can still carry
// one) and gives the reader closeGrace to receive the peer's answer.
func (s *session) finish(canWrite bool) {
	s.mu.Lock()
	code, text := s.closeCode, s.closeText
	s.mu.Unlock()
	wait := time.Duration(0)
	if canWrite && code != 0 {
		err := s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(s.h.closeGrace))
		if err == nil {
			wait = s.h.closeGrace
		}
	}
	s.deadlineMu.Lock()
	s.closing = true
	_ = s.conn.NetConn().SetReadDeadline(time.Now().Add(wait))
	s.deadlineMu.Unlock()
}

// extendRead pushes the read deadline out after any sign of life.
func (s *session) extendRead() {
	s.deadlineMu.Lock()
	if !s.closing {
		_ = s.conn.NetConn().SetReadDeadline(time.Now().Add(2 * s.h.opts.PingInterval))
	}
	s.deadlineMu.Unlock()
}

// clientMessage is the only shape a browser sends.
type clientMessage struct {
	Event string `json:"event"`
	// IntervalMS is set_flush's tick interval in milliseconds (0: the default).
	IntervalMS int `json:"interval_ms"`
}

func (s *session) readLoop() {
	s.conn.SetReadLimit(readLimit) // the library answers bigger frames with 1009
	s.extendRead()
	s.conn.SetPongHandler(func(string) error {
		s.extendRead()
		return nil
	})
	for {
		_, msg, err := s.conn.ReadMessage()
		if err != nil {
			if !s.stopping() && websocket.IsUnexpectedCloseError(err, websocket.CloseGoingAway, websocket.CloseNormalClosure) {
				s.log.Debug().Err(err).Msg("live: read ended")
			}
			return
		}
		s.extendRead()
		var m clientMessage
		if json.Unmarshal(msg, &m) != nil {
			continue // anything else is ignored, as the contract says
		}
		switch m.Event {
		case "request_metrics":
			s.requestMetrics()
		case "set_flush":
			s.setPace(s.h.paceFor(m.IntervalMS))
		}
	}
}
