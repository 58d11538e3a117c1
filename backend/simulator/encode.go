package simulator

import (
	"strconv"

	"github.com/tickwatch/tickwatch/backend/massive"
)

// The feed's hot path encodes with append helpers (massive's, shared with
// the relay): one event costs a few strconv calls and no reflection, and
// frames are assembled by copying bytes. The simulator encodes its own
// market state rather than massive.Event because it sends fields the
// decoder drops (trade ids, conditions, exchanges of quotes).

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
	b = massive.AppendJSONString(b, t.sym)
	b = append(b, `,"x":`...)
	b = strconv.AppendInt(b, int64(t.exchange), 10)
	b = append(b, `,"i":"`...)
	b = strconv.AppendInt(b, t.id, 10)
	b = append(b, `","z":`...)
	b = strconv.AppendInt(b, int64(t.tape), 10)
	b = append(b, `,"p":`...)
	b = massive.AppendNumber(b, t.price)
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
	b = massive.AppendJSONString(b, t.sym)
	b = append(b, `,"bx":`...)
	b = strconv.AppendInt(b, int64(t.bidExch), 10)
	b = append(b, `,"bp":`...)
	b = massive.AppendNumber(b, t.quoteBid)
	b = append(b, `,"bs":`...)
	b = strconv.AppendInt(b, t.bidSize, 10)
	b = append(b, `,"ax":`...)
	b = strconv.AppendInt(b, int64(t.askExch), 10)
	b = append(b, `,"ap":`...)
	b = massive.AppendNumber(b, t.quoteAsk)
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
	b = massive.AppendJSONString(b, a.sym)
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, a.volume, 10)
	b = append(b, `,"av":`...)
	b = strconv.AppendInt(b, a.dayVolume, 10)
	b = append(b, `,"op":`...)
	b = massive.AppendNumber(b, a.dayOpen)
	b = append(b, `,"vw":`...)
	b = massive.AppendNumber(b, a.vwap)
	b = append(b, `,"o":`...)
	b = massive.AppendNumber(b, a.open)
	b = append(b, `,"c":`...)
	b = massive.AppendNumber(b, a.close)
	b = append(b, `,"h":`...)
	b = massive.AppendNumber(b, a.high)
	b = append(b, `,"l":`...)
	b = massive.AppendNumber(b, a.low)
	b = append(b, `,"a":`...)
	b = massive.AppendNumber(b, a.dayVWAP)
	b = append(b, `,"z":`...)
	b = strconv.AppendInt(b, a.avgSize, 10)
	b = append(b, `,"s":`...)
	b = strconv.AppendInt(b, a.startMs, 10)
	b = append(b, `,"e":`...)
	b = strconv.AppendInt(b, a.endMs, 10)
	return append(b, '}')
}
