package redissink

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"
)

// span is one tick message inside the writer's arena.
type span struct {
	start, end int
	events     int
}

// writer turns what is queued into one pipeline per flush. It belongs to
// Run's goroutine; nothing in it is shared.
type writer struct {
	p      *Publisher
	client *redis.Client
	pipe   redis.Pipeliner

	// arena holds every tick message of one flush back to back. go-redis
	// keeps the arguments until Exec writes them, so the messages are
	// sliced out of it only after the last one is appended, and it is
	// reused only after Exec returns.
	arena    []byte
	prefix   []byte // appendElemPrefix of the batch being encoded
	msgs     []span
	open     int // elements in the message being built; 0 = none open
	batches  int // batches taken into this flush
	statuses [][]byte
	health   []byte
	hasHlth  bool

	trim streamTrim

	wrote   bool // a flush succeeded since the last ticker tick
	rateAt  time.Time
	ratePub uint64
}

func newWriter(p *Publisher, client *redis.Client) *writer {
	return &writer{p: p, client: client, pipe: client.Pipeline()}
}

// addBatch encodes b into the arena and gives it back to the pool. Each
// message is a JSON array of at most MaxMessageEvents elements; batches are
// packed into messages in queue order, so a subscriber sees every
// connection's events in the order they arrived.
func (w *writer) addBatch(b *batch) {
	w.p.take(b)
	w.batches++
	w.prefix = appendElemPrefix(w.prefix[:0], b.connID)
	limit := w.p.opts.MaxMessageEvents
	for i := range b.events {
		if w.open == limit {
			w.closeMsg()
		}
		mark := len(w.arena)
		if w.open == 0 {
			w.arena = append(w.arena, '[')
		} else {
			w.arena = append(w.arena, ',')
		}
		var ok bool
		if w.arena, ok = appendEvent(w.arena, w.prefix, &b.events[i]); !ok {
			w.arena = w.arena[:mark]
			continue
		}
		w.open++
	}
	w.p.recycle(b)
}

func (w *writer) closeMsg() {
	if w.open == 0 {
		return
	}
	start := 0
	if n := len(w.msgs); n > 0 {
		start = w.msgs[n-1].end
	}
	w.arena = append(w.arena, ']')
	w.msgs = append(w.msgs, span{start: start, end: len(w.arena), events: w.open})
	w.open = 0
}

// gather takes whatever else is waiting, without blocking, up to the
// limits of one flush.
func (w *writer) gather() {
	p := w.p
	for w.batches < flushMaxBatches && len(w.arena) < flushMaxBytes {
		select {
		case b := <-p.queue:
			w.addBatch(b)
			continue
		default:
		}
		break
	}
	w.closeMsg()
	for len(w.statuses) < cap(p.status) {
		select {
		case s := <-p.status:
			w.statuses = append(w.statuses, s)
			continue
		default:
		}
		break
	}
	w.health, w.hasHlth = p.takeHealth(w.health)
}

// flush writes everything gathered in one pipeline. An error means the
// connection failed (what was in the pipeline is counted as dropped); an
// error reply to some commands is counted and does not stop the sink.
func (w *writer) flush(ctx context.Context) error {
	w.gather()
	p := w.p
	defer w.reset()
	for _, m := range w.msgs {
		msg := w.arena[m.start:m.end]
		w.pipe.Publish(ctx, p.opts.TickChannel, msg)
		if p.opts.Stream != "" {
			w.pipe.XAdd(ctx, &redis.XAddArgs{
				Stream: p.opts.Stream,
				MinID:  w.trim.minID(),
				Approx: true, // "~": Redis trims whole nodes only, far cheaper than exact
				ID:     "*",
				Values: []any{"ticks", msg},
			})
		}
	}
	for _, s := range w.statuses {
		w.pipe.Publish(ctx, p.opts.StatusChannel, s)
	}
	if w.hasHlth {
		w.pipe.Publish(ctx, p.opts.StatusChannel, w.health)
	}
	if w.pipe.Len() == 0 {
		return nil
	}
	cmds, err := w.pipe.Exec(ctx)
	if err != nil && w.lostConnection(cmds, err) {
		// Whatever part of the pipeline Redis did apply is unknowable
		// from here; count it all as lost rather than guess.
		for _, m := range w.msgs {
			p.dropped.Add(uint64(m.events))
		}
		n := len(w.statuses)
		if w.hasHlth {
			n++
		}
		p.statusDropped.Add(uint64(n))
		return err
	}
	w.account(cmds)
	w.wrote = true
	return nil
}

// lostConnection tells a failed link (network error, timeout, or every
// command refused, as after a failed AUTH) from error replies to single
// commands on a working link.
func (w *writer) lostConnection(cmds []redis.Cmder, err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return true
	}
	for _, c := range cmds {
		if c.Err() == nil {
			return false
		}
	}
	return true
}

// account counts what each command of a flush achieved. The commands are
// in the order flush queued them.
func (w *writer) account(cmds []redis.Cmder) {
	p := w.p
	i := 0
	next := func() (redis.Cmder, error) {
		c := cmds[i]
		i++
		err := c.Err()
		if err != nil {
			p.serverError(err, 1)
		}
		return c, err
	}
	for _, m := range w.msgs {
		if _, err := next(); err == nil {
			p.published.Add(uint64(m.events))
			p.messages.Add(1)
		} else {
			p.dropped.Add(uint64(m.events))
		}
		if p.opts.Stream == "" {
			continue
		}
		// A failed XADD is counted in WriteErrors; the channel got the ticks.
		if c, err := next(); err == nil {
			if sc, ok := c.(*redis.StringCmd); ok {
				w.trim.added(sc.Val(), m.events, p.opts.StreamMaxLen)
			}
		}
	}
	for i < len(cmds) {
		if _, err := next(); err == nil {
			p.statusPublished.Add(1)
		} else {
			p.statusDropped.Add(1)
		}
	}
}

func (w *writer) reset() {
	w.arena = w.arena[:0]
	w.msgs = w.msgs[:0]
	w.open, w.batches = 0, 0
	clear(w.statuses) // let the GC have the payloads
	w.statuses = w.statuses[:0]
	w.hasHlth = false
	w.pipe.Discard()
}

// ping probes Redis through the pipeline pool, the same connections the
// writes use, so a probe that passes means the next write has a live link.
func (w *writer) ping(ctx context.Context) error {
	w.pipe.Ping(ctx)
	_, err := w.pipe.Exec(ctx)
	return err
}

// backoff is the wait before reconnect attempt n+1: doubling from
// minBackoff, capped at maxBackoff, the upper half of it random.
func backoff(n int) time.Duration {
	d := maxBackoff
	if n < 16 {
		d = min(minBackoff<<n, maxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// streamTrim keeps the stream at about StreamMaxLen ticks. One entry holds
// one message, anywhere from one tick to MaxMessageEvents, so MAXLEN (which
// counts entries) would keep a few hundred ticks in a quiet market and, at
// full load, a hundred thousand entries of 170 KB each. Instead the writer
// remembers the id and size of each entry it added and trims with
// MINID ~ <oldest entry still needed>, which bounds the stream by ticks
// whatever the rate. Until it has seen StreamMaxLen ticks it does not trim,
// so entries from before a restart are kept until new ones replace them.
type streamTrim struct {
	ids      []string
	ticks    []int
	head     int // ids[head] is the oldest entry kept
	total    int // ticks in ids[head:]
	trimming bool
}

// added records an entry and drops from the front every entry that the
// newer ones no longer need to reach max ticks.
func (s *streamTrim) added(id string, n int, max int64) {
	s.ids = append(s.ids, id)
	s.ticks = append(s.ticks, n)
	s.total += n
	for s.head < len(s.ids)-1 && int64(s.total-s.ticks[s.head]) >= max {
		s.total -= s.ticks[s.head]
		s.head++
		s.trimming = true
	}
	if s.head > len(s.ids)/2 && s.head > 1024 { // compact now and then, not on every add
		s.ids = append(s.ids[:0], s.ids[s.head:]...)
		s.ticks = append(s.ticks[:0], s.ticks[s.head:]...)
		s.head = 0
	}
}

// minID is the MINID for the next XADD, or "" (no trimming) while the
// stream holds fewer ticks than the limit.
func (s *streamTrim) minID() string {
	if !s.trimming {
		return ""
	}
	return s.ids[s.head]
}
