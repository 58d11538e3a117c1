package simulator

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// OversizeBytes is the size of the frame SendOversize writes: just over the
// 1,000,000-byte read limit of the official clients.
const OversizeBytes = 1_000_100

// Drop cuts connection id's TCP socket without a close frame; the client
// sees EOF / 1006.
func (s *Server) Drop(id int64) error {
	c, err := s.conn(id)
	if err != nil {
		return fmt.Errorf("drop: %w", err)
	}
	c.closing.Store(true)
	s.subsChanged()
	c.log.Info().Msg("fault: drop")
	c.closeNet()
	return nil
}

// CloseWith sends a close frame with code and text, then closes.
func (s *Server) CloseWith(id int64, code int, text string) error {
	if !validCloseCode(code) {
		return fmt.Errorf("close: invalid close code %d", code)
	}
	if len(text) > 123 || !utf8.ValidString(text) {
		return errors.New("close: text must be valid UTF-8 of at most 123 bytes")
	}
	c, err := s.conn(id)
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	c.log.Info().Int("code", code).Msg("fault: close")
	c.closeGracefully(code, text)
	return nil
}

// validCloseCode accepts the codes an endpoint may put in a close frame.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// SendStatus sends a status message (auth_failed, slow_consumer,
// force_disconnect, ...), optionally closing the connection after it.
func (s *Server) SendStatus(id int64, status, message string, closeAfter bool) error {
	if status == "" {
		return errors.New("status: empty status")
	}
	c, err := s.conn(id)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	c.log.Info().Str("status", status).Bool("close", closeAfter).Msg("fault: status")
	if !c.sendStatus(status, message, closeAfter) {
		return fmt.Errorf("status: connection %d: %w", id, ErrUnknownConn)
	}
	return nil
}

// Stall makes connection id go silent for d: no data, no statuses, no pongs.
// Market data produced meanwhile is not sent; statuses wait until the end.
func (s *Server) Stall(id int64, d time.Duration) error {
	if d <= 0 {
		return errors.New("stall: duration must be positive")
	}
	c, err := s.conn(id)
	if err != nil {
		return fmt.Errorf("stall: %w", err)
	}
	c.log.Info().Dur("duration_ms", d).Msg("fault: stall")
	c.stalledUntil.Store(time.Now().Add(d).UnixNano())
	return nil
}

// SendMalformed sends one frame holding a genuine trade (counted in Sent, with
// the symbol's next sequence number) among malformed events: wrong types,
// missing fields, non-objects. The frame itself stays syntactically valid
// JSON so a lenient decoder can keep the good event.
func (s *Server) SendMalformed(id int64) error {
	c, err := s.conn(id)
	if err != nil {
		return fmt.Errorf("malformed: %w", err)
	}
	sym := c.firstSymbol()
	c.log.Info().Str("symbol", sym).Msg("fault: malformed frame")
	return s.onMarket(func(m *market) {
		t := m.trade(m.state(sym), m.lastMs, false)
		b := make([]byte, 0, 512)
		b = append(b, `[{"ev":"T","sym":42,"p":"abc","s":100,"t":1,"q":1},`...)
		b = appendTrade(b, t)
		b = append(b, `,{"ev":"Q","bp":"x"},"garbage",null,17,{"ev":"A","sym":"AAPL","o":[1,2],"v":{}},{"ev":"T"}]`...)
		c.enqueueRaw(b, []string{sym})
	})
}

// firstSymbol is the symbol SendMalformed's genuine trade is for: the first
// explicitly subscribed one, else AAPL.
func (c *conn) firstSymbol() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range []int{chT, chQ, chA, chAM} {
		best := ""
		for sym := range c.subs.ch[ch].syms {
			if best == "" || sym < best {
				best = sym
			}
		}
		if best != "" {
			return best
		}
	}
	return "AAPL"
}

// SendOversize sends one syntactically valid frame of OversizeBytes bytes (a
// single event of an unknown type padded out), beyond the clients' read limit.
func (s *Server) SendOversize(id int64) error {
	c, err := s.conn(id)
	if err != nil {
		return fmt.Errorf("oversize: %w", err)
	}
	c.log.Info().Msg("fault: oversize frame")
	const head, tail = `[{"ev":"PAD","pad":"`, `"}]`
	b := make([]byte, 0, OversizeBytes)
	b = append(b, head...)
	for len(b) < OversizeBytes-len(tail) {
		b = append(b, 'x')
	}
	b = append(b, tail...)
	if !c.enqueueRaw(b, nil) {
		return fmt.Errorf("oversize: connection %d: %w", id, ErrUnknownConn)
	}
	return nil
}

// RefuseNew answers every new WebSocket upgrade with HTTP 503 for d.
func (s *Server) RefuseNew(d time.Duration) {
	s.log.Info().Dur("duration_ms", d).Msg("fault: refusing new connections")
	s.refuseUntil.Store(time.Now().Add(d).UnixNano())
}

// Symbol faults: the feed keeps going, one symbol misbehaves. They live on
// the market goroutine (which owns the market), apply to every connection,
// and last until cleared.

// symFault is what is wrong with one symbol's data.
type symFault struct {
	mute  bool          // acknowledged, never delivered
	every time.Duration // slowed: at most one event per channel per every
	next  [numChannels]int64
}

// Mute makes sym's events vanish: subscriptions to it are still
// acknowledged, its data is never sent (a feed that lost the symbol
// without saying so). on=false ends the fault.
func (s *Server) Mute(sym string, on bool) error {
	if !massive.ValidTicker(sym) {
		return fmt.Errorf("mute: invalid symbol %q", sym)
	}
	s.log.Info().Str("symbol", sym).Bool("on", on).Msg("fault: mute")
	return s.onMarket(func(m *market) { m.setFault(sym, func(f *symFault) { f.mute = on }) })
}

// Slow delivers at most one event per channel of sym every d; d=0 ends the
// fault.
func (s *Server) Slow(sym string, d time.Duration) error {
	if !massive.ValidTicker(sym) {
		return fmt.Errorf("slow: invalid symbol %q", sym)
	}
	if d < 0 {
		return errors.New("slow: interval must not be negative")
	}
	s.log.Info().Str("symbol", sym).Dur("every", d).Msg("fault: slow")
	return s.onMarket(func(m *market) { m.setFault(sym, func(f *symFault) { f.every = d }) })
}

// Forget removes sym from connection id's subscription table on every
// channel. Quietly (tell=false) the client still believes it is subscribed;
// with tell it gets "unsubscribed to" acknowledgements it never asked for.
// Either way only a new subscribe (a reconnect) brings the symbol back.
func (s *Server) Forget(id int64, sym string, tell bool) error {
	c, err := s.conn(id)
	if err != nil {
		return fmt.Errorf("forget: %w", err)
	}
	c.log.Info().Str("symbol", sym).Bool("tell", tell).Msg("fault: forget subscription")
	c.mu.Lock()
	var statuses [][2]string
	for k := range c.subs.keys {
		prefix, ks, ok := massive.SplitSubscription(k)
		if !ok || ks != sym {
			continue
		}
		c.subs.remove(channelRef{raw: k, prefix: prefix, symbol: ks})
		statuses = append(statuses, [2]string{massive.StatusSuccess, massive.AckUnsubscribed + k})
	}
	if tell && len(statuses) > 0 {
		c.enqueueLocked(outItem{data: massive.StatusFrame(statuses...)})
	}
	c.mu.Unlock()
	if len(statuses) == 0 {
		return fmt.Errorf("forget: connection %d is not subscribed to %s", id, sym)
	}
	s.subsChanged()
	return nil
}

func (m *market) setFault(sym string, fn func(*symFault)) {
	if m.faults == nil {
		m.faults = map[string]*symFault{}
	}
	f := m.faults[sym]
	if f == nil {
		f = &symFault{}
	}
	fn(f)
	if !f.mute && f.every == 0 {
		delete(m.faults, sym)
		return
	}
	m.faults[sym] = f
}

// applyFaults removes the events the symbol faults withhold from this
// tick's batch, before any connection sees it.
func (m *market) applyFaults(nowMs int64) {
	if len(m.faults) == 0 {
		return
	}
	kept := m.evs[:0]
	for _, ev := range m.evs {
		f := m.faults[ev.sym]
		switch {
		case f == nil:
		case f.mute:
			continue
		case f.every > 0:
			if nowMs < f.next[ev.ch] {
				continue
			}
			f.next[ev.ch] = nowMs + f.every.Milliseconds()
		}
		kept = append(kept, ev)
	}
	m.evs = kept
}
