package massive

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// The server side of the protocol (the simulator and the relay) encodes
// with these append helpers: an event costs a few strconv calls and no
// reflection, and frames are assembled by copying bytes.

// AppendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, so a frame is always valid JSON whatever a symbol contains.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// AppendNumber appends f in the shortest form that reads back as f, without
// an exponent: integral values come out as integers ("100", not "1e+02"),
// which is what upstream sends for sizes and volumes and what strict
// decoders with integer fields accept. JSON has no NaN or infinity; they
// are written as 0 (a decoded event never holds one).
func AppendNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// AppendStatus appends one {"ev":"status"} object.
func AppendStatus(b []byte, status, message string) []byte {
	b = append(b, `{"ev":"status","status":`...)
	b = AppendJSONString(b, status)
	b = append(b, `,"message":`...)
	b = AppendJSONString(b, message)
	return append(b, '}')
}

// StatusFrame encodes one or more (status, message) pairs as a single array
// frame, the way the provider batches statuses.
func StatusFrame(pairs ...[2]string) []byte {
	b := make([]byte, 0, 64*len(pairs))
	b = append(b, '[')
	for i, p := range pairs {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendStatus(b, p[0], p[1])
	}
	return append(b, ']')
}

// AppendEvent appends ev as the JSON object upstream sends for its kind,
// with upstream's field names and forms (integers for ids, sequence numbers
// and timestamps), so that Decoder reads back exactly ev. Only what Event
// keeps can be written; the fields the decoder drops are absent:
//   - T: "i" (trade id), "c" (conditions), "trfi", "trft", "ds";
//   - Q: "bx", "ax" (exchanges), "c" (condition), "i" (indicators);
//   - A/AM: "z" (average trade size), "otc".
//
// A field the decoder found missing is written as 0. An event of no known
// kind appends nothing.
func AppendEvent(b []byte, ev *Event) []byte {
	switch ev.Kind {
	case KindTrade:
		b = append(b, `{"ev":"T","sym":`...)
		b = AppendJSONString(b, ev.Symbol)
		b = append(b, `,"x":`...)
		b = strconv.AppendInt(b, int64(ev.Exchange), 10)
		b = append(b, `,"z":`...)
		b = strconv.AppendInt(b, int64(ev.Tape), 10)
		b = append(b, `,"p":`...)
		b = AppendNumber(b, ev.Price)
		b = append(b, `,"s":`...)
		b = AppendNumber(b, ev.Size)
		b = append(b, `,"t":`...)
		b = strconv.AppendInt(b, ev.Time, 10)
		b = append(b, `,"q":`...)
		b = strconv.AppendInt(b, ev.Seq, 10)
	case KindQuote:
		// Price and Size of a quote are derived (midpoint, bid size); the
		// decoder derives them again from these fields.
		b = append(b, `{"ev":"Q","sym":`...)
		b = AppendJSONString(b, ev.Symbol)
		b = append(b, `,"bp":`...)
		b = AppendNumber(b, ev.BidPrice)
		b = append(b, `,"bs":`...)
		b = AppendNumber(b, ev.BidSize)
		b = append(b, `,"ap":`...)
		b = AppendNumber(b, ev.AskPrice)
		b = append(b, `,"as":`...)
		b = AppendNumber(b, ev.AskSize)
		b = append(b, `,"t":`...)
		b = strconv.AppendInt(b, ev.Time, 10)
		b = append(b, `,"q":`...)
		b = strconv.AppendInt(b, ev.Seq, 10)
		b = append(b, `,"z":`...)
		b = strconv.AppendInt(b, int64(ev.Tape), 10)
	case KindSecondAgg, KindMinuteAgg:
		b = append(b, `{"ev":"`...)
		b = append(b, ev.Kind.Prefix()...)
		b = append(b, `","sym":`...)
		b = AppendJSONString(b, ev.Symbol)
		b = append(b, `,"v":`...)
		b = AppendNumber(b, ev.Size)
		b = append(b, `,"av":`...)
		b = AppendNumber(b, ev.DayVolume)
		b = append(b, `,"op":`...)
		b = AppendNumber(b, ev.DayOpen)
		b = append(b, `,"vw":`...)
		b = AppendNumber(b, ev.VWAP)
		b = append(b, `,"o":`...)
		b = AppendNumber(b, ev.Open)
		b = append(b, `,"c":`...)
		b = AppendNumber(b, ev.Price)
		b = append(b, `,"h":`...)
		b = AppendNumber(b, ev.High)
		b = append(b, `,"l":`...)
		b = AppendNumber(b, ev.Low)
		b = append(b, `,"a":`...)
		b = AppendNumber(b, ev.DayVWAP)
		b = append(b, `,"s":`...)
		b = strconv.AppendInt(b, ev.Start, 10)
		b = append(b, `,"e":`...)
		b = strconv.AppendInt(b, ev.Time, 10)
	default:
		return b
	}
	return append(b, '}')
}
