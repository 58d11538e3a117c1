package tickstore

// meter counts events in 1-second buckets kept in a ring. Each bucket
// remembers which second it holds, so buckets of seconds without events read
// as zero without anyone clearing them: the window rolls forward by itself
// when traffic stops.
type meter struct {
	window  int64 // seconds
	hist    int
	buckets []bucket
	first   int64 // unix ns of the first event
	started bool
}

type bucket struct {
	sec int64
	n   uint64
}

const nsPerSec = int64(1e9)

func newMeter(windowSec int64, history int) meter {
	// The current second plus whichever is longer of the window and history.
	return meter{
		window:  windowSec,
		hist:    history,
		buckets: make([]bucket, max(windowSec, int64(history))+1),
	}
}

func (m *meter) slot(sec int64) *bucket {
	n := int64(len(m.buckets))
	return &m.buckets[((sec%n)+n)%n]
}

// at is the count for second sec, zero if its bucket holds another second.
func (m *meter) at(sec int64) uint64 {
	if b := m.slot(sec); b.sec == sec {
		return b.n
	}
	return 0
}

func (m *meter) add(ns int64) {
	if !m.started {
		m.first, m.started = ns, true
	}
	sec := floorDiv(ns, nsPerSec)
	b := m.slot(sec)
	if b.sec != sec {
		b.sec, b.n = sec, 0
	}
	b.n++
}

// rate counts the events in (now-window, now] and divides by the window.
// The current second is partial and the oldest second straddles the window's
// start; the latter counts in proportion to its overlap (events are assumed
// spread evenly within a second). Before a full window has passed since the
// first event the divisor is the time since then, but at least one second, so
// a first burst does not read as a huge rate.
func (m *meter) rate(now int64) float64 {
	if !m.started {
		return 0
	}
	sec := floorDiv(now, nsPerSec)
	frac := float64(now-sec*nsPerSec) / float64(nsPerSec)
	sum := float64(m.at(sec))
	for k := int64(1); k < m.window; k++ {
		sum += float64(m.at(sec - k))
	}
	sum += (1 - frac) * float64(m.at(sec-m.window))
	span := min(float64(m.window), float64(now-m.first)/float64(nsPerSec))
	return sum / max(span, 1)
}

func (m *meter) history(now int64, dst []float64) []float64 {
	sec := floorDiv(now, nsPerSec)
	for k := int64(m.hist); k >= 1; k-- {
		dst = append(dst, float64(m.at(sec-k)))
	}
	return dst
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
