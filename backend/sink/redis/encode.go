package redissink

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// The tick channel carries every upstream event, so its encoder sits on the
// busiest path of the sink: one element per event, hundreds of thousands a
// second at full load. It appends to a caller-owned buffer (the writer reuses
// one arena per pipeline) and never reflects; BenchmarkEncode keeps it at
// zero allocations.
//
// Element schema (docs/redis.md is the consumer-facing copy):
//
//	every kind: connection_id, ev ("T","Q","A","AM"), symbol, timestamp (Unix ms)
//	T:      price, size, seq, exchange, tape
//	Q:      bid_price, ask_price, bid_size, ask_size, price (midpoint), seq, tape
//	A, AM:  price (= close), volume, open, high, low, close, vwap,
//	        start, end (bar bounds, Unix ms; timestamp = end),
//	        day_open, day_volume, day_vwap

// appendElemPrefix writes the part every element of one batch shares,
// `{"connection_id":"...","ev":"`, so the connection id is escaped once per
// batch rather than once per event.
func appendElemPrefix(b []byte, connID string) []byte {
	b = append(b, `{"connection_id":`...)
	b = appendString(b, connID)
	return append(b, `,"ev":"`...)
}

// appendEvent writes one element. prefix comes from appendElemPrefix. ok is
// false (and b unchanged) for an event of no known kind: the decoder never
// yields one, and an element without "ev" would break the schema.
func appendEvent(b, prefix []byte, e *massive.Event) ([]byte, bool) {
	ev := e.Kind.Prefix()
	if ev == "" {
		return b, false
	}
	b = append(b, prefix...)
	b = append(b, ev...)
	b = append(b, `","symbol":`...)
	b = appendString(b, e.Symbol)
	switch e.Kind {
	case massive.KindTrade:
		b = appendNum(b, `,"price":`, e.Price)
		b = appendNum(b, `,"size":`, e.Size)
		b = appendInt(b, `,"timestamp":`, e.Time)
		b = appendInt(b, `,"seq":`, e.Seq)
		b = appendInt(b, `,"exchange":`, int64(e.Exchange))
		b = appendInt(b, `,"tape":`, int64(e.Tape))
	case massive.KindQuote:
		b = appendNum(b, `,"bid_price":`, e.BidPrice)
		b = appendNum(b, `,"ask_price":`, e.AskPrice)
		b = appendNum(b, `,"bid_size":`, e.BidSize)
		b = appendNum(b, `,"ask_size":`, e.AskSize)
		// The decoder's midpoint (or the one side present), the same
		// "price" the dashboard shows for a quote.
		b = appendNum(b, `,"price":`, e.Price)
		b = appendInt(b, `,"timestamp":`, e.Time)
		b = appendInt(b, `,"seq":`, e.Seq)
		b = appendInt(b, `,"tape":`, int64(e.Tape))
	default: // A, AM: Prefix already rejected anything else
		b = appendBar(b, e)
	}
	return append(b, '}'), true
}

// appendBar writes the aggregate fields. "price" repeats the close so that a
// consumer reading only price works for every kind; "close" is there for one
// that reads OHLC.
func appendBar(b []byte, e *massive.Event) []byte {
	b = appendNum(b, `,"price":`, e.Price)
	b = appendNum(b, `,"volume":`, e.Size)
	b = appendInt(b, `,"timestamp":`, e.Time)
	b = appendNum(b, `,"open":`, e.Open)
	b = appendNum(b, `,"high":`, e.High)
	b = appendNum(b, `,"low":`, e.Low)
	b = appendNum(b, `,"close":`, e.Price)
	b = appendNum(b, `,"vwap":`, e.VWAP)
	b = appendInt(b, `,"start":`, e.Start)
	b = appendInt(b, `,"end":`, e.Time)
	b = appendNum(b, `,"day_open":`, e.DayOpen)
	b = appendNum(b, `,"day_volume":`, e.DayVolume)
	return appendNum(b, `,"day_vwap":`, e.DayVWAP)
}

// appendNum and appendInt write `,"key":value`; key carries the punctuation.
func appendNum(b []byte, key string, v float64) []byte {
	b = append(b, key...)
	return appendFloat(b, v)
}

func appendInt(b []byte, key string, v int64) []byte {
	b = append(b, key...)
	return strconv.AppendInt(b, v, 10)
}

// appendFloat writes v as the shortest decimal that reads back as v, which
// is what encoding/json writes. Non-finite values cannot come from the
// decoder (it rejects them); null keeps the message valid JSON should a
// future source produce one.
func appendFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	// Prices and sizes have at most four decimals. If v is exactly the
	// double nearest m/10^4, the decimal m/10^4 (trailing zeros dropped)
	// reads back as v; below 1e11 two such decimals are more than an ulp
	// apart, so no shorter string does, and integer formatting is several
	// times cheaper than strconv's shortest-float search.
	if v > -1e11 && v < 1e11 {
		if m := math.Round(v * 1e4); m/1e4 == v {
			return appendTenThousandths(b, int64(m))
		}
	}
	// encoding/json's choice of notation, so large and tiny values stay short.
	if a := math.Abs(v); a < 1e-6 || a >= 1e21 {
		return strconv.AppendFloat(b, v, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendTenThousandths writes m/10^4 with the fraction's trailing zeros (and
// a fraction of zero) left out. |m| < 1e15, so negating cannot overflow.
// The digits are written right to left into a stack buffer in one pass
// (fraction, point, integer part) rather than through strconv and a second
// loop: two of these per tick make them the encoder's largest single cost.
func appendTenThousandths(b []byte, m int64) []byte {
	if m < 0 {
		b = append(b, '-')
		m = -m
	}
	u := uint64(m)
	var d [20]byte // 15 digits and the point at most
	i := len(d)
	if frac := u % 10000; frac != 0 {
		n := 4
		for frac%10 == 0 {
			frac /= 10
			n--
		}
		for ; n > 0; n-- {
			i--
			d[i] = byte('0' + frac%10)
			frac /= 10
		}
		i--
		d[i] = '.'
	}
	u /= 10000
	for u >= 10 {
		i--
		d[i] = byte('0' + u%10)
		u /= 10
	}
	i--
	d[i] = byte('0' + u)
	return append(b, d[i:]...)
}

// appendString writes s as a JSON string. Tickers and connection ids are
// plain ASCII, so they are copied as they are; anything else (a control
// byte, a quote, non-ASCII, invalid UTF-8) takes encoding/json's escaper,
// which allocates but is never on the steady path.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			q, err := json.Marshal(s)
			if err != nil { // cannot happen for a string; keep the JSON valid anyway
				return append(b, `""`...)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
