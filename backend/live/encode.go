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
	sinkEventPrefix    = `{"event":"sink_update","data":`
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
	// The tick store never yields a non-finite change (no base price reads
	// as 0); null guards the wire against a future source that does. Four
	// decimals of a percent is more than any screen shows, and keeps the
	// number on appendNumber's fast path.
	if finite(l.ChangePct) {
		b = appendNumber(b, math.Round(l.ChangePct*1e4)/1e4)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"count":`...)
	b = strconv.AppendUint(b, l.Count, 10)
	return append(b, '}')
}

// appendMetricsFrame appends one frame with a metrics_update per connection.
// Each carries server_time (now, when the frame is built): a browser measures
// its clock offset from it, once a second, without waiting for a snapshot.
func appendMetricsFrame(b []byte, ms []MetricsEvent, now time.Time) []byte {
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
		b = append(b, `],"server_time":`...)
		b = appendTime(b, now)
		b = append(b, "}}"...)
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

// AppendStatusFrame appends the /admin-ws frame of one status change, for
// other consumers of the same events (the Redis status channel), so that
// they get the browsers' shape byte for byte.
func AppendStatusFrame(b []byte, e StatusEvent) []byte {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	return appendStatusFrame(b, &e)
}

// AppendEventFrame appends a frame holding one event whose data is already
// JSON (the health_update the Redis status channel carries).
func AppendEventFrame(b []byte, event string, data []byte) []byte {
	b = append(b, `[{"event":`...)
	b = appendString(b, event)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	return append(b, "}]"...)
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
	// Prices and sizes nearly always have at most four decimals. When the
	// four-decimal rounding parses back to exactly v, it is also the
	// shortest representation (below 1e11 two such decimals are further
	// apart than one ulp), so integer formatting gives encoding/json's
	// digits at a fraction of the cost of the general algorithm.
	if abs < 1e11 {
		if r := math.Round(v * 1e4); r/1e4 == v {
			return appendScaled(b, int64(r), 4)
		}
	}
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' { // as encoding/json: 1e-07 -> 1e-7
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendUnixMilli writes a millisecond timestamp as float seconds, the
// contract's unit for every time on the wire.
func appendUnixMilli(b []byte, ms int64) []byte {
	return appendScaled(b, ms, 3)
}

var pow10 = [...]int64{1, 10, 100, 1000, 10000}

// appendScaled writes n / 10^dec as a decimal without trailing zeros.
func appendScaled(b []byte, n int64, dec int) []byte {
	u := uint64(n)
	if n < 0 {
		b = append(b, '-')
		u = -u // two's complement: right even for math.MinInt64
	}
	p := uint64(pow10[dec])
	b = strconv.AppendUint(b, u/p, 10)
	frac := u % p
	if frac == 0 {
		return b
	}
	for frac%10 == 0 {
		frac /= 10
		dec--
	}
	b = append(b, '.')
	for i := dec - 1; i >= 0; i-- {
		b = append(b, byte('0'+frac/uint64(pow10[i])%10))
	}
	return b
}

// UnixSeconds is the wire form of a time outside this package's encoders
// (the REST documents): float seconds with the same millisecond precision
// as appendTime, so a status event and the status document agree on the
// instant of one transition. The zero time is 0 ("never").
func UnixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
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
