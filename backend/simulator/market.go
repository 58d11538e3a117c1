package simulator

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// maxFrameBytes keeps every market frame well under the 1,000,000-byte read
// limit of the official clients; bigger batches are split.
const maxFrameBytes = 512 << 10

var exchanges = [...]int32{1, 2, 3, 4, 4, 4, 7, 8, 10, 11, 12, 12, 15, 17, 19, 21}

type bar struct {
	start      int64
	o, h, l, c float64
	v          int64
	pv         float64
	n          int64
}

func (b *bar) add(start int64, p float64, s int64) (opened bool) {
	if b.n == 0 {
		*b = bar{start: start, o: p, h: p, l: p}
		opened = true
	}
	b.h = math.Max(b.h, p)
	b.l = math.Min(b.l, p)
	b.c = p
	b.v += s
	b.pv += p * float64(s)
	b.n++
	return opened
}

type symState struct {
	sym      string
	base     float64
	price    float64
	tape     int32
	seq      int64
	dayOpen  float64
	dayVol   int64
	dayPV    float64
	sec, min bar
}

// evRef locates one encoded event inside market.buf.
type evRef struct {
	ch       int
	sym      string
	off, end int
}

// market is the synthetic tape. It is owned by the server's market goroutine
// and never touched from anywhere else, so it needs no locking.
type market struct {
	seed          int64
	rng           *rand.Rand
	tps           int
	syms          map[string]*symState
	active        []*symState
	activeVersion uint64
	need          [numChannels]bool
	rr            int
	carry         float64
	lastMs        int64
	tradeID       int64
	lastTradeSec  int64
	openSec       []*symState
	openMin       []*symState
	buf           []byte
	evs           []evRef
	scratch       trade
	faults        map[string]*symFault // Mute, Slow
}

func newMarket(seed int64, tps int, now time.Time) *market {
	return &market{
		seed:          seed,
		rng:           rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)),
		tps:           tps,
		syms:          make(map[string]*symState),
		activeVersion: math.MaxUint64,
		lastMs:        now.UnixMilli(),
	}
}

func (m *market) state(sym string) *symState {
	st, ok := m.syms[sym]
	if !ok {
		p := startPrice(sym, m.seed)
		st = &symState{sym: sym, base: p, price: p, tape: int32(symHash(sym, 0)%3) + 1}
		m.syms[sym] = st
	}
	return st
}

// setActive replaces the set of symbols that trade. The order is sorted so a
// seed reproduces the same tape for the same subscriptions.
func (m *market) setActive(syms map[string]struct{}, need [numChannels]bool) {
	list := make([]string, 0, len(syms))
	for s := range syms {
		list = append(list, s)
	}
	sort.Strings(list)
	m.active = m.active[:0]
	for _, s := range list {
		m.active = append(m.active, m.state(s))
	}
	m.need = need
	if m.rr >= len(m.active) {
		m.rr = 0
	}
}

// pick chooses the next symbol to trade. Two trades in three walk the active
// list round-robin, so with 500 symbols at 600/s each one prints about every
// 1.25 s and nearly every symbol gets a per-second bar at least every 2 s;
// the rest are uniform random so the tape does not look mechanical.
func (m *market) pick(i int) *symState {
	if i%3 == 2 {
		return m.active[m.rng.IntN(len(m.active))]
	}
	st := m.active[m.rr]
	m.rr = (m.rr + 1) % len(m.active)
	return st
}

// generate produces the trades (and quotes) due since the last call and the
// bars that closed by now, appending them to m.buf / m.evs. The caller
// distributes them and then calls reset.
func (m *market) generate(now time.Time) {
	nowMs := now.UnixMilli()
	elapsed := float64(nowMs-m.lastMs) / 1000
	// A paused process must not dump minutes of backlog in one frame.
	elapsed = math.Min(math.Max(elapsed, 0), 1)
	if len(m.active) == 0 {
		m.carry = 0
	} else {
		n := m.carry + float64(m.tps)*elapsed
		k := int(n)
		m.carry = n - float64(k)
		span := nowMs - m.lastMs
		for i := 0; i < k; i++ {
			t := m.lastMs + int64(i+1)*span/int64(k)
			m.trade(m.pick(i), t, true)
		}
	}
	if nowMs > m.lastMs {
		m.lastMs = nowMs
	}
	m.closeBars(nowMs)
}

// trade prints one trade for st at tMs (never earlier than the previous
// trade), updates its bars and, when encode is set, encodes the trade and its
// quote for the channels anyone listens to. The returned trade is scratch
// space valid until the next call.
func (m *market) trade(st *symState, tMs int64, encode bool) *trade {
	r := m.rng
	// Close bars at each second boundary so one batch spanning two seconds
	// never folds trades of the later second into the earlier bar.
	if sec := tMs / 1000; sec != m.lastTradeSec {
		m.closeBars(sec * 1000)
		m.lastTradeSec = sec
	}
	ret := r.NormFloat64()*0.0004 + 0.002*(st.base-st.price)/st.base
	st.price = math.Max(roundPrice(st.price*(1+ret)), 0.0001)
	var size int64
	var cond int32
	switch u := r.Float64(); {
	case st.price > 10000:
		size = 1 + r.Int64N(3)
	case u < 0.35:
		size, cond = 1+r.Int64N(99), 37 // odd lot
	case u < 0.85:
		size = 100 * (1 + r.Int64N(5))
	case u < 0.97:
		size = 100 * (5 + r.Int64N(20))
	default:
		size = 100 * (25 + r.Int64N(100))
	}
	if cond == 0 && r.IntN(12) == 0 {
		cond = 14 // intermarket sweep
	}
	st.seq += 1 + r.Int64N(3)
	m.tradeID++
	if st.dayOpen == 0 {
		st.dayOpen = st.price
	}
	st.dayVol += size
	st.dayPV += st.price * float64(size)
	if st.sec.add(tMs/1000*1000, st.price, size) {
		m.openSec = append(m.openSec, st)
	}
	if st.min.add(tMs/60000*60000, st.price, size) {
		m.openMin = append(m.openMin, st)
	}

	t := &m.scratch
	*t = trade{
		sym: st.sym, exchange: exchanges[r.IntN(len(exchanges))], id: m.tradeID, tape: st.tape,
		price: st.price, size: size, cond: cond, timeMs: tMs, seq: st.seq,
	}
	spread := math.Max(0.01, roundPrice(st.price*0.0003))
	t.quoteBid = roundPrice(st.price - spread/2)
	t.quoteAsk = roundPrice(t.quoteBid + spread)
	t.bidSize = 100 * (1 + r.Int64N(10))
	t.askSize = 100 * (1 + r.Int64N(10))
	t.bidExch = exchanges[r.IntN(len(exchanges))]
	t.askExch = exchanges[r.IntN(len(exchanges))]
	st.seq += 1 + r.Int64N(3)
	t.quoteSeq = st.seq
	t.quoteTimeM = tMs
	if encode {
		if m.need[chT] {
			off := len(m.buf)
			m.buf = appendTrade(m.buf, t)
			m.evs = append(m.evs, evRef{ch: chT, sym: st.sym, off: off, end: len(m.buf)})
		}
		if m.need[chQ] {
			off := len(m.buf)
			m.buf = appendQuote(m.buf, t)
			m.evs = append(m.evs, evRef{ch: chQ, sym: st.sym, off: off, end: len(m.buf)})
		}
	}
	return t
}

func (m *market) reset() {
	m.buf = m.buf[:0]
	m.evs = m.evs[:0]
}

func (m *market) closeBars(nowMs int64) {
	m.openSec = m.closeBarSet(m.openSec, nowMs, 1000, chA)
	m.openMin = m.closeBarSet(m.openMin, nowMs, 60000, chAM)
}

// closeBarSet emits every bar of the set whose window ended by nowMs and
// returns the still-open remainder (reusing the slice).
func (m *market) closeBarSet(open []*symState, nowMs, width int64, ch int) []*symState {
	keep := open[:0]
	for _, st := range open {
		b := &st.sec
		ev := massive.KindSecondAgg.Prefix()
		if ch == chAM {
			b, ev = &st.min, massive.KindMinuteAgg.Prefix()
		}
		if b.start+width > nowMs {
			keep = append(keep, st)
			continue
		}
		if m.need[ch] {
			a := aggregate{
				ev: ev, sym: st.sym, volume: b.v, dayVolume: st.dayVol, dayOpen: st.dayOpen,
				vwap: math.Round(b.pv/float64(b.v)*10000) / 10000, open: b.o, close: b.c,
				high: b.h, low: b.l,
				dayVWAP: math.Round(st.dayPV/float64(st.dayVol)*10000) / 10000,
				avgSize: b.v / b.n, startMs: b.start, endMs: b.start + width,
			}
			off := len(m.buf)
			m.buf = appendAggregate(m.buf, &a)
			m.evs = append(m.evs, evRef{ch: ch, sym: st.sym, off: off, end: len(m.buf)})
		}
		b.n = 0
	}
	for i := len(keep); i < len(open); i++ {
		open[i] = nil
	}
	return keep
}
