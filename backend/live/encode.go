package live

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// The hot frames (tick_update, metrics_update, connection_status_update) are
// written with append-style encoders: a flush of 1,000 symbols happens ten
// times a second, and encoding/json's reflection would dominate the cost.
// Every encoder appends to a caller-owned buffer so Run can reuse one.

const (
	tickEventPrefix    = `{"event":"tick_update","data":`
	metricsEventPrefix = `{"event":"metrics_update","data":`
	statusEventPrefix  = `{"event":"connection_status_update","data":`
)

// appendTickFrame appends one frame holding a tick_update event per entry.
func appendTickFrame(b []byte, ticks []tickstore.Latest) []byte {
	b = append(b, '[')
	for i := range ticks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, tickEventPrefix...)
		b = appendTick(b, &ticks[i])
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendTick appends the tick object shared by tick_update and snapshot.ticks.
func appendTick(b []byte, l *tickstore.Latest) []byte {
	b = append(b, `{"connection_id":`...)
	b = appendString(b, l.ConnectionID)
	b = append(b, `,"symbol":`...)
	b = appendString(b, l.Symbol)
	b = append(b, `,"price":`...)
	b = appendNumber(b, l.Price)
	b = append(b, `,"timestamp":`...)
	b = appendUnixMilli(b, l.Time)
	b = append(b, `,"size":`...)
	b = appendNumber(b, l.Size)
	b = append(b, `,"change_pct":`...)
	// The store reports an unknown day open as a non-finite change; the
	// contract spells that null so the page can show "n/a" instead of 0%.
	if finite(l.ChangePct) {
		b = appendNumber(b, l.ChangePct)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"count":`...)
	b = strconv.AppendUint(b, l.Count, 10)
	return append(b, '}')
}

// appendMetricsFrame appends one frame with a metrics_update per connection.
func appendMetricsFrame(b []byte, ms []MetricsEvent) []byte {
	b = append(b, '[')
	for i := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		m := &ms[i]
		b = append(b, metricsEventPrefix...)
		b = append(b, `{"connection_id":`...)
		b = appendString(b, m.ConnectionID)
		b = append(b, `,"msgs_per_sec":`...)
		b = appendNumber(b, m.MsgsPerSec)
		b = append(b, `,"uptime":`...)
		b = appendNumber(b, m.Uptime)
		b = append(b, `,"message_count":`...)
		b = strconv.AppendUint(b, m.MessageCount, 10)
		b = append(b, `,"error_count":`...)
		b = strconv.AppendUint(b, m.ErrorCount, 10)
		b = append(b, `,"last_update":`...)
		b = appendTime(b, m.LastUpdate)
		b = append(b, `,"dropped":`...)
		b = strconv.AppendUint(b, m.Dropped, 10)
		b = append(b, `,"reconnects":`...)
		b = strconv.AppendUint(b, m.Reconnects, 10)
		b = append(b, `,"rate_history":[`...)
		for j, v := range m.RateHistory {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendNumber(b, v)
		}
		b = append(b, "]}}"...)
	}
	return append(b, ']')
}

// appendStatusFrame appends a frame with one connection_status_update.
func appendStatusFrame(b []byte, e *StatusEvent) []byte {
	b = append(b, '[')
	b = append(b, statusEventPrefix...)
	b = append(b, `{"connection_id":`...)
	b = appendString(b, e.ConnectionID)
	b = append(b, `,"status":`...)
	b = appendString(b, e.Status)
	b = append(b, `,"previous":`...)
	b = appendString(b, e.Previous)
	b = append(b, `,"reason":`...)
	b = appendString(b, e.Reason)
	b = append(b, `,"timestamp":`...)
	b = appendTime(b, e.At)
	return append(b, "}}]"...)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// appendNumber writes v the way encoding/json would, except that NaN and
// infinities (which JSON cannot carry) become 0 rather than an error that
// would lose the whole frame.
func appendNumber(b []byte, v float64) []byte {
	if !finite(v) {
		return append(b, '0')
	}
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, v, format, -1, 64)
}

// appendUnixMilli writes a millisecond timestamp as float seconds, the
// contract's unit for every time on the wire.
func appendUnixMilli(b []byte, ms int64) []byte {
	return appendNumber(b, float64(ms)/1000)
}

// appendTime writes t as float unix seconds with millisecond precision; the
// zero time is 0 ("never"), as the contract says for last_update.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, '0')
	}
	return appendUnixMilli(b, t.UnixMilli())
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD:
// browsers fail the whole WebSocket on a text frame that is not UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
