package simulator

import (
	"strconv"
	"unicode/utf8"
)

// The feed's hot path encodes with append helpers: one event costs a few
// strconv calls and no reflection, and frames are assembled by copying bytes.

func appendJSONString(b []byte, s string) []byte {
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

func appendFloat(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func appendStatus(b []byte, status, message string) []byte {
	b = append(b, `{"ev":"status","status":`...)
	b = appendJSONString(b, status)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, message)
	return append(b, '}')
}

// statusFrame encodes one or more statuses as a single array frame.
func statusFrame(pairs ...[2]string) []byte {
	b := make([]byte, 0, 64*len(pairs))
	b = append(b, '[')
	for i, p := range pairs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStatus(b, p[0], p[1])
	}
	return append(b, ']')
}

type trade struct {
	sym        string
	exchange   int32
	id         int64
	tape       int32
	price      float64
	size       int64
	cond       int32 // 0 = none
	timeMs     int64
	seq        int64
	quoteBid   float64
	quoteAsk   float64
	bidSize    int64
	askSize    int64
	bidExch    int32
	askExch    int32
	quoteSeq   int64
	quoteTimeM int64
}

func appendTrade(b []byte, t *trade) []byte {
	b = append(b, `{"ev":"T","sym":`...)
	b = appendJSONString(b, t.sym)
	b = append(b, `,"x":`...)
	b = strconv.AppendInt(b, int64(t.exchange), 10)
	b = append(b, `,"i":"`...)
	b = strconv.AppendInt(b, t.id, 10)
	b = append(b, `","z":`...)
	b = strconv.AppendInt(b, int64(t.tape), 10)
	b = append(b, `,"p":`...)
	b = appendFloat(b, t.price)
	b = append(b, `,"s":`...)
	b = strconv.AppendInt(b, t.size, 10)
	if t.cond != 0 {
		b = append(b, `,"c":[`...)
		b = strconv.AppendInt(b, int64(t.cond), 10)
		b = append(b, ']')
	}
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, t.timeMs, 10)
	b = append(b, `,"q":`...)
	b = strconv.AppendInt(b, t.seq, 10)
	return append(b, '}')
}

func appendQuote(b []byte, t *trade) []byte {
	b = append(b, `{"ev":"Q","sym":`...)
	b = appendJSONString(b, t.sym)
	b = append(b, `,"bx":`...)
	b = strconv.AppendInt(b, int64(t.bidExch), 10)
	b = append(b, `,"bp":`...)
	b = appendFloat(b, t.quoteBid)
	b = append(b, `,"bs":`...)
	b = strconv.AppendInt(b, t.bidSize, 10)
	b = append(b, `,"ax":`...)
	b = strconv.AppendInt(b, int64(t.askExch), 10)
	b = append(b, `,"ap":`...)
	b = appendFloat(b, t.quoteAsk)
	b = append(b, `,"as":`...)
	b = strconv.AppendInt(b, t.askSize, 10)
	b = append(b, `,"c":0,"t":`...)
	b = strconv.AppendInt(b, t.quoteTimeM, 10)
	b = append(b, `,"q":`...)
	b = strconv.AppendInt(b, t.quoteSeq, 10)
	b = append(b, `,"z":`...)
	b = strconv.AppendInt(b, int64(t.tape), 10)
	return append(b, '}')
}

// aggregate is one finished A or AM bar plus the day's running figures.
type aggregate struct {
	ev                string // "A" or "AM"
	sym               string
	volume, dayVolume int64
	dayOpen, vwap     float64
	open, close       float64
	high, low         float64
	dayVWAP           float64
	avgSize           int64
	startMs, endMs    int64
}

func appendAggregate(b []byte, a *aggregate) []byte {
	b = append(b, `{"ev":"`...)
	b = append(b, a.ev...)
	b = append(b, `","sym":`...)
	b = appendJSONString(b, a.sym)
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, a.volume, 10)
	b = append(b, `,"av":`...)
	b = strconv.AppendInt(b, a.dayVolume, 10)
	b = append(b, `,"op":`...)
	b = appendFloat(b, a.dayOpen)
	b = append(b, `,"vw":`...)
	b = appendFloat(b, a.vwap)
	b = append(b, `,"o":`...)
	b = appendFloat(b, a.open)
	b = append(b, `,"c":`...)
	b = appendFloat(b, a.close)
	b = append(b, `,"h":`...)
	b = appendFloat(b, a.high)
	b = append(b, `,"l":`...)
	b = appendFloat(b, a.low)
	b = append(b, `,"a":`...)
	b = appendFloat(b, a.dayVWAP)
	b = append(b, `,"z":`...)
	b = strconv.AppendInt(b, a.avgSize, 10)
	b = append(b, `,"s":`...)
	b = strconv.AppendInt(b, a.startMs, 10)
	b = append(b, `,"e":`...)
	b = strconv.AppendInt(b, a.endMs, 10)
	return append(b, '}')
}
