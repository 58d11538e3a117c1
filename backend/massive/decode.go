package massive

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// ErrMalformedFrame is wrapped by Decode when a frame is not (structurally)
// JSON. Events decoded before the break are still returned.
var ErrMalformedFrame = errors.New("massive: malformed frame")

// DefaultInternLimit caps the number of distinct symbols a Decoder keeps.
// The whole US equity universe is about 12k tickers; past the cap symbols are
// still decoded, they just cost an allocation each.
const DefaultInternLimit = 1 << 16

// maxInternLen keeps garbage "symbols" from pinning memory in the table.
const maxInternLen = 32

// maxStatusIntern bounds the table of status names; the protocol has about ten.
const maxStatusIntern = 64

// DecodeStats counts what a Decoder threw away.
type DecodeStats struct {
	// Unknown counts events whose "ev" this package does not model
	// (LULD, NOI, FMV, ...). They are skipped, not errors.
	Unknown uint64
	// Malformed counts events dropped alone (missing or mistyped fields,
	// non-object array elements) and frames cut short by a syntax error.
	Malformed uint64
}

// Decoder turns server frames into Events and StatusMessages. It is lenient
// (unknown fields ignored, ints and floats both accepted, a bare object as good
// as an array) and does not allocate in steady state: symbols are interned and
// scratch buffers are reused. The zero value is ready to use. A Decoder is not
// safe for concurrent use.
type Decoder struct {
	// InternLimit caps the symbol table; 0 means DefaultInternLimit.
	InternLimit int

	stats    DecodeStats
	syms     map[string]string
	statuses map[string]string
	obj      rawObject
	// Scratch for strings that contain escapes, one per field so that views
	// into them stay valid until the object is emitted.
	keyBuf, evBuf, symBuf, statusBuf, msgBuf []byte
}

// NewDecoder returns a Decoder whose symbol table holds at most internLimit
// symbols (0 = DefaultInternLimit).
func NewDecoder(internLimit int) *Decoder {
	return &Decoder{InternLimit: internLimit}
}

// Stats returns the running counters.
func (d *Decoder) Stats() DecodeStats { return d.stats }

// Interned reports how many symbols the table holds.
func (d *Decoder) Interned() int { return len(d.syms) }

// Numeric fields of the stocks events. A key maps to one slot; what the slot
// means depends on "ev", which may come anywhere in the object, so values are
// collected first and interpreted in emit.
const (
	slotP  = iota // T price
	slotS         // T size, A/AM bar start
	slotT         // T/Q timestamp
	slotQ         // T/Q sequence
	slotX         // T exchange
	slotZ         // T/Q tape, A/AM average trade size
	slotBP        // Q bid price
	slotAP        // Q ask price
	slotBS        // Q bid size
	slotAS        // Q ask size
	slotBX        // Q bid exchange
	slotAX        // Q ask exchange
	slotV         // A/AM volume
	slotAV        // A/AM day volume
	slotOP        // A/AM day open
	slotVW        // A/AM vwap
	slotO         // A/AM open
	slotC         // A/AM close (T conditions array, Q condition int)
	slotH         // A/AM high
	slotL         // A/AM low
	slotA         // A/AM day vwap
	slotE         // A/AM bar end
	numSlots
)

// Slots each kind reads; a mistyped value in one of them makes the event
// malformed, a mistyped value elsewhere is ignored (e.g. "c" is an array on T).
const (
	maskTrade = 1<<slotP | 1<<slotS | 1<<slotT | 1<<slotQ | 1<<slotX | 1<<slotZ
	maskQuote = 1<<slotBP | 1<<slotAP | 1<<slotBS | 1<<slotAS | 1<<slotT | 1<<slotQ | 1<<slotZ
	maskAgg   = 1<<slotV | 1<<slotAV | 1<<slotOP | 1<<slotVW | 1<<slotO | 1<<slotC |
		1<<slotH | 1<<slotL | 1<<slotA | 1<<slotS | 1<<slotE
	// Slots that land in integer fields: a float there must fit an int64.
	maskIntTrade = 1<<slotT | 1<<slotQ | 1<<slotX | 1<<slotZ
	maskIntQuote = 1<<slotT | 1<<slotQ | 1<<slotZ
	maskIntAgg   = 1<<slotS | 1<<slotE
)

// field is one string-valued field of an object: present, mistyped, and a view
// of its (unescaped) bytes.
type field struct {
	val     []byte
	present bool
	bad     bool
}

type rawObject struct {
	set   uint32 // slot holds a number
	bad   uint32 // slot holds something that is not a number
	intOK uint32 // slot's number fits an int64
	f     [numSlots]float64
	n     [numSlots]int64

	ev, sym, status, msg field
}

func (o *rawObject) reset() {
	o.set, o.bad, o.intOK = 0, 0, 0
	o.f, o.n = [numSlots]float64{}, [numSlots]int64{}
	o.ev, o.sym, o.status, o.msg = field{}, field{}, field{}, field{}
}

// Decode parses one frame and appends what it finds to events and statuses.
// A malformed event is dropped and counted; a syntax error stops the frame
// (everything before it is kept) and is returned wrapping ErrMalformedFrame.
func (d *Decoder) Decode(frame []byte, events []Event, statuses []StatusMessage) ([]Event, []StatusMessage, error) {
	b := frame
	i := skipWS(b, 0)
	if i >= len(b) {
		d.stats.Malformed++
		return events, statuses, fmt.Errorf("%w: empty", ErrMalformedFrame)
	}
	var ok bool
	switch b[i] {
	case '{':
		i, events, statuses, ok = d.object(b, i, events, statuses)
		if !ok {
			return events, statuses, d.syntaxError(i)
		}
	case '[':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			i++
			break
		}
		for {
			if i >= len(b) {
				return events, statuses, d.syntaxError(i)
			}
			if b[i] == '{' {
				i, events, statuses, ok = d.object(b, i, events, statuses)
			} else {
				// Not an object: it cannot be an event, but the frame goes on.
				d.stats.Malformed++
				i, ok = skipValue(b, i)
			}
			if !ok {
				return events, statuses, d.syntaxError(i)
			}
			i = skipWS(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				i++
				break
			}
			return events, statuses, d.syntaxError(i)
		}
	default:
		d.stats.Malformed++
		return events, statuses, fmt.Errorf("%w: starts with %q, want an array or object", ErrMalformedFrame, b[i])
	}
	if i = skipWS(b, i); i < len(b) {
		d.stats.Malformed++
		return events, statuses, fmt.Errorf("%w: trailing data at byte %d", ErrMalformedFrame, i)
	}
	return events, statuses, nil
}

func (d *Decoder) syntaxError(at int) error {
	d.stats.Malformed++
	return fmt.Errorf("%w: syntax error at byte %d", ErrMalformedFrame, at)
}

// object parses the object starting at b[i] == '{' and emits it. ok is false on
// a syntax error, after which the rest of the frame cannot be trusted.
func (d *Decoder) object(b []byte, i int, events []Event, statuses []StatusMessage) (int, []Event, []StatusMessage, bool) {
	o := &d.obj
	o.reset()
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		d.stats.Malformed++ // no "ev"
		return i + 1, events, statuses, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, events, statuses, false
		}
		start, end, next, esc, ok := scanString(b, i)
		if !ok {
			return next, events, statuses, false
		}
		key := b[start:end]
		if esc {
			var good bool
			d.keyBuf, good = unescape(d.keyBuf[:0], key)
			key = d.keyBuf
			if !good {
				key = nil // matches no field; the value is skipped
			}
		}
		i = skipWS(b, next)
		if i >= len(b) || b[i] != ':' {
			return i, events, statuses, false
		}
		i = skipWS(b, i+1)
		if i >= len(b) {
			return i, events, statuses, false
		}
		i, ok = d.value(b, i, key)
		if !ok {
			return i, events, statuses, false
		}
		i = skipWS(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			events, statuses = d.emit(events, statuses)
			return i + 1, events, statuses, true
		}
		return i, events, statuses, false
	}
}

// value reads the value at b[i] into the slot or string field named by key.
func (d *Decoder) value(b []byte, i int, key []byte) (int, bool) {
	o := &d.obj
	slot := -1
	switch string(key) { // no allocation: the compiler compares in place
	case "ev":
		return d.stringField(b, i, &o.ev, &d.evBuf)
	case "sym":
		return d.stringField(b, i, &o.sym, &d.symBuf)
	case "status":
		return d.stringField(b, i, &o.status, &d.statusBuf)
	case "message":
		return d.stringField(b, i, &o.msg, &d.msgBuf)
	case "p":
		slot = slotP
	case "s":
		slot = slotS
	case "t":
		slot = slotT
	case "q":
		slot = slotQ
	case "x":
		slot = slotX
	case "z":
		slot = slotZ
	case "bp":
		slot = slotBP
	case "ap":
		slot = slotAP
	case "bs":
		slot = slotBS
	case "as":
		slot = slotAS
	case "bx":
		slot = slotBX
	case "ax":
		slot = slotAX
	case "v":
		slot = slotV
	case "av":
		slot = slotAV
	case "op":
		slot = slotOP
	case "vw":
		slot = slotVW
	case "o":
		slot = slotO
	case "c":
		slot = slotC
	case "h":
		slot = slotH
	case "l":
		slot = slotL
	case "a":
		slot = slotA
	case "e":
		slot = slotE
	default:
		return skipValue(b, i)
	}
	c := b[i]
	if c == '-' || (c >= '0' && c <= '9') {
		next, f, n, intOK, ok := scanNumber(b, i)
		if next == i {
			return i, false
		}
		bit := uint32(1) << slot
		if !ok {
			o.bad |= bit
			o.set &^= bit
			return next, true
		}
		o.set |= bit
		o.bad &^= bit
		o.f[slot], o.n[slot] = f, n
		if intOK {
			o.intOK |= bit
		} else {
			o.intOK &^= bit
		}
		return next, true
	}
	next, ok := skipValue(b, i)
	if ok && c != 'n' { // null is as good as absent
		o.bad |= 1 << slot
		o.set &^= 1 << slot
	}
	return next, ok
}

// stringField reads a string value; anything else marks the field bad.
func (d *Decoder) stringField(b []byte, i int, f *field, scratch *[]byte) (int, bool) {
	if b[i] != '"' {
		next, ok := skipValue(b, i)
		if b[i] != 'n' {
			*f = field{present: true, bad: true}
		}
		return next, ok
	}
	start, end, next, esc, ok := scanString(b, i)
	if !ok {
		return next, false
	}
	if !esc {
		*f = field{val: b[start:end], present: true}
		return next, true
	}
	var good bool
	*scratch, good = unescape((*scratch)[:0], b[start:end])
	*f = field{val: *scratch, present: true, bad: !good}
	return next, true
}

// emit turns the collected object into an Event, a StatusMessage or a count.
func (d *Decoder) emit(events []Event, statuses []StatusMessage) ([]Event, []StatusMessage) {
	o := &d.obj
	if !o.ev.present || o.ev.bad {
		d.stats.Malformed++
		return events, statuses
	}
	var kind Kind
	var mask, intMask uint32
	switch string(o.ev.val) {
	case "T":
		kind, mask, intMask = KindTrade, maskTrade, maskIntTrade
	case "Q":
		kind, mask, intMask = KindQuote, maskQuote, maskIntQuote
	case "A":
		kind, mask, intMask = KindSecondAgg, maskAgg, maskIntAgg
	case "AM":
		kind, mask, intMask = KindMinuteAgg, maskAgg, maskIntAgg
	case "status":
		if !o.status.present || o.status.bad || len(o.status.val) == 0 || o.msg.bad {
			d.stats.Malformed++
			return events, statuses
		}
		return events, append(statuses, StatusMessage{
			Status:  d.internStatus(o.status.val),
			Message: string(o.msg.val),
		})
	default:
		d.stats.Unknown++
		return events, statuses
	}
	if !o.sym.present || o.sym.bad || len(o.sym.val) == 0 ||
		o.bad&mask != 0 || o.set&intMask&^o.intOK != 0 {
		d.stats.Malformed++
		return events, statuses
	}
	ev := Event{Kind: kind}
	switch kind {
	case KindTrade:
		if o.set&(1<<slotP) == 0 || !fitsInt32(o, slotX) || !fitsInt32(o, slotZ) {
			d.stats.Malformed++
			return events, statuses
		}
		ev.Price = o.f[slotP]
		ev.Size = o.f[slotS]
		ev.Time = o.n[slotT]
		ev.Seq = o.n[slotQ]
		ev.Exchange = int32(o.n[slotX])
		ev.Tape = int32(o.n[slotZ])
	case KindQuote:
		if o.set&(1<<slotBP|1<<slotAP) == 0 || !fitsInt32(o, slotZ) {
			d.stats.Malformed++
			return events, statuses
		}
		ev.BidPrice, ev.AskPrice = o.f[slotBP], o.f[slotAP]
		ev.BidSize, ev.AskSize = o.f[slotBS], o.f[slotAS]
		switch {
		case ev.BidPrice > 0 && ev.AskPrice > 0:
			ev.Price = (ev.BidPrice + ev.AskPrice) / 2
		case ev.BidPrice > 0:
			ev.Price = ev.BidPrice
		default:
			ev.Price = ev.AskPrice
		}
		ev.Size = ev.BidSize
		ev.Time = o.n[slotT]
		ev.Seq = o.n[slotQ]
		ev.Tape = int32(o.n[slotZ])
	default: // aggregates
		if o.set&(1<<slotC) == 0 {
			d.stats.Malformed++
			return events, statuses
		}
		ev.Price = o.f[slotC]
		ev.Size = o.f[slotV]
		ev.Time = o.n[slotE]
		ev.Start = o.n[slotS]
		ev.Open, ev.High, ev.Low = o.f[slotO], o.f[slotH], o.f[slotL]
		ev.VWAP = o.f[slotVW]
		ev.DayOpen = o.f[slotOP]
		ev.DayVolume = o.f[slotAV]
		ev.DayVWAP = o.f[slotA]
	}
	ev.Symbol = d.intern(o.sym.val)
	return append(events, ev), statuses
}

func fitsInt32(o *rawObject, slot int) bool {
	if o.set&(1<<slot) == 0 {
		return true
	}
	n := o.n[slot]
	return n >= math.MinInt32 && n <= math.MaxInt32
}

func (d *Decoder) intern(b []byte) string {
	if s, ok := d.syms[string(b)]; ok {
		return s
	}
	s := string(b)
	limit := d.InternLimit
	if limit <= 0 {
		limit = DefaultInternLimit
	}
	if len(b) <= maxInternLen && len(d.syms) < limit {
		if d.syms == nil {
			d.syms = make(map[string]string, 256)
		}
		d.syms[s] = s
	}
	return s
}

func (d *Decoder) internStatus(b []byte) string {
	if s, ok := d.statuses[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= maxInternLen && len(d.statuses) < maxStatusIntern {
		if d.statuses == nil {
			d.statuses = make(map[string]string, 16)
		}
		d.statuses[s] = s
	}
	return s
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanString finds the string starting at b[i] == '"'. The content is
// b[start:end]; next is past the closing quote; esc says it holds escapes.
func scanString(b []byte, i int) (start, end, next int, esc, ok bool) {
	start = i + 1
	for j := start; j < len(b); j++ {
		switch b[j] {
		case '"':
			return start, j, j + 1, esc, true
		case '\\':
			esc = true
			j++ // whatever follows is escaped, including a quote
		}
	}
	return start, len(b), len(b), esc, false
}

// unescape appends the decoded content of a JSON string to dst. ok is false
// for an invalid escape (the output is still usable, with U+FFFD for it).
func unescape(dst, s []byte) ([]byte, bool) {
	ok := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(s) {
			return utf8.AppendRune(dst, utf8.RuneError), false
		}
		switch s[i] {
		case '"', '\\', '/':
			dst = append(dst, s[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n := hex4(s[i+1:])
			if n < 0 {
				dst, ok = utf8.AppendRune(dst, utf8.RuneError), false
				continue
			}
			i += 4
			if r >= 0xD800 && r < 0xDC00 {
				// High surrogate: combine with a following \uDC00-\uDFFF.
				if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if r2, n2 := hex4(s[i+3:]); n2 >= 0 && r2 >= 0xDC00 && r2 < 0xE000 {
						r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
						i += 6
					}
				}
			}
			dst = utf8.AppendRune(dst, r) // lone surrogates become U+FFFD
		default:
			dst, ok = utf8.AppendRune(dst, utf8.RuneError), false
		}
	}
	return dst, ok
}

func hex4(s []byte) (rune, int) {
	if len(s) < 4 {
		return 0, -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, -1
		}
		r = r<<4 | rune(c)
	}
	return r, 4
}

// skipValue steps over any JSON value at b[i]. Nesting is tracked by depth
// alone: it is lenient about mismatched brackets, which only matters for
// fields nobody reads.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		_, _, next, _, ok := scanString(b, i)
		return next, ok
	case c == '{' || c == '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				_, _, next, _, ok := scanString(b, i)
				if !ok {
					return next, false
				}
				i = next
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	case c >= 'a' && c <= 'z': // true, false, null
		j := i
		for j < len(b) && b[j] >= 'a' && b[j] <= 'z' {
			j++
		}
		switch string(b[i:j]) {
		case "true", "false", "null":
			return j, true
		}
		return j, false
	case c == '-' || (c >= '0' && c <= '9'):
		j := i + 1
		for j < len(b) && isNumberByte(b[j]) {
			j++
		}
		return j, true
	}
	return i, false
}

func isNumberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// Exact powers of ten: a mantissa below 2^53 times or divided by one of these
// is correctly rounded (Clinger's fast path), which covers every price the
// feed sends without calling strconv.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// scanNumber parses the number at b[i]. next is past every number-like byte
// (so a bad number is skipped whole); ok is false if it is not a valid finite
// number; intOK says n holds its exact (or truncated, in-range) integer value.
func scanNumber(b []byte, i int) (next int, f float64, n int64, intOK, ok bool) {
	start := i
	end := i + 1
	for end < len(b) && isNumberByte(b[end]) {
		end++
	}
	next = end
	neg := false
	if b[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	digits, frac := 0, 0
	exact := true // every significant digit fits in mant
	intStart := i
	for i < end && b[i] >= '0' && b[i] <= '9' {
		if digits < 19 {
			mant = mant*10 + uint64(b[i]-'0')
			digits++
		} else {
			exact = false
		}
		i++
	}
	if i == intStart {
		return next, 0, 0, false, false
	}
	isInt := true
	if i < end && b[i] == '.' {
		isInt = false
		i++
		fracStart := i
		for i < end && b[i] >= '0' && b[i] <= '9' {
			if digits < 19 {
				mant = mant*10 + uint64(b[i]-'0')
				digits++
				frac++
			} else {
				exact = false
			}
			i++
		}
		if i == fracStart {
			return next, 0, 0, false, false
		}
	}
	exp := 0
	if i < end && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		expNeg := false
		if i < end && (b[i] == '+' || b[i] == '-') {
			expNeg = b[i] == '-'
			i++
		}
		expStart := i
		for i < end && b[i] >= '0' && b[i] <= '9' {
			if exp < 100000 {
				exp = exp*10 + int(b[i]-'0')
			}
			i++
		}
		if i == expStart {
			return next, 0, 0, false, false
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != end {
		return next, 0, 0, false, false
	}
	if isInt && exact && mant <= math.MaxInt64 {
		n = int64(mant)
		if neg {
			n = -n
		}
		return next, float64(n), n, true, true
	}
	e10 := exp - frac
	if exact && mant < 1<<53 && e10 >= -22 && e10 <= 22 {
		f = float64(mant)
		if e10 < 0 {
			f /= pow10[-e10]
		} else {
			f *= pow10[e10]
		}
		if neg {
			f = -f
		}
	} else {
		// strconv copies the string into any error it returns, so viewing the
		// frame without a copy is safe.
		var err error
		f, err = strconv.ParseFloat(unsafe.String(&b[start], end-start), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return next, 0, 0, false, false
		}
	}
	if f >= -9.2e18 && f <= 9.2e18 {
		return next, f, int64(f), true, true
	}
	return next, f, 0, false, true
}
