// Package massive speaks the Massive (formerly Polygon.io) real-time WebSocket
// protocol: message types, a lenient allocation-free decoder, and Client, which
// owns one upstream connection.
//
// Files: protocol.go is the vocabulary the simulator and config share
// (channels, statuses, ticker form, key mask, connection ids); types.go the
// message types; decode.go the decoder. Client is spread by concern:
// config.go (Config and its validation), client.go (the public API and
// state), run.go (the run loop and backoff), session.go (one link: dial,
// handshake, subscriptions, writes) and reader.go (the socket reader).
package massive

import "time"

// State is the link state of one upstream connection. These are the original
// application's four states; informational status messages from the provider
// (e.g. "success") are deliberately kept apart from them.
type State uint8

const (
	StateDisconnected State = iota
	StateConnecting
	StateConnected
	StateError
)

func (s State) String() string {
	switch s {
	case StateDisconnected:
		return "disconnected"
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateError:
		return "error"
	}
	return "unknown"
}

// Kind is the event type carried in the "ev" field, and the channel that
// carries it. The kinds are numbered 1..KindMinuteAgg without gaps
// (ChannelKind and the simulator's channel table rely on it).
type Kind uint8

const (
	KindTrade     Kind = iota + 1 // "T"
	KindQuote                     // "Q"
	KindSecondAgg                 // "A"
	KindMinuteAgg                 // "AM"
)

// Prefix returns the protocol prefix for the kind ("T", "Q", "A", "AM").
func (k Kind) Prefix() string {
	switch k {
	case KindTrade:
		return "T"
	case KindQuote:
		return "Q"
	case KindSecondAgg:
		return "A"
	case KindMinuteAgg:
		return "AM"
	}
	return ""
}

// Event is one decoded market event, flattened so the hot path copies a value
// and never allocates. Fields that do not apply to a kind are zero.
// Symbol is interned by the decoder: the same string is reused for a symbol,
// so steady-state decoding does not allocate.
type Event struct {
	Kind   Kind
	Symbol string // "sym"
	// Price is the trade price (T "p"), the quote midpoint (Q), or the bar
	// close (A/AM "c").
	Price float64
	// Size is the trade size (T "s"), bid size (Q "bs"), or bar volume (A/AM "v").
	Size float64
	// Time is Unix milliseconds: T/Q "t", A/AM bar end "e".
	Time int64
	// Seq is the per-symbol sequence number "q" (T and Q).
	Seq int64
	// Exchange "x" (T) and Tape "z" (T/Q).
	Exchange int32
	Tape     int32

	// Quote fields.
	BidPrice, AskPrice float64 // "bp", "ap"
	BidSize, AskSize   float64 // "bs", "as"

	// Aggregate fields.
	Open, High, Low float64 // "o", "h", "l"
	VWAP            float64 // "vw"
	DayOpen         float64 // "op" (day's official open)
	DayVolume       float64 // "av" (day's accumulated volume)
	DayVWAP         float64 // "a"
	Start           int64   // "s" bar start ms
}

// StatusMessage is a {"ev":"status"} message from the provider.
type StatusMessage struct {
	Status  string // connected, auth_success, auth_failed, success, max_connections, ...
	Message string
}

// StateChange reports a link state transition of one Client.
type StateChange struct {
	ConnectionID string
	State        State
	Previous     State
	Reason       string // human-readable, e.g. "auth_failed: authentication failed"
	At           time.Time
}

// Observer receives everything a Client learns. Methods are called from the
// client's own processing goroutine (never from the socket reader) and must
// return quickly; the batch slice is reused after Events returns.
type Observer interface {
	StateChanged(StateChange)
	Events(connectionID string, batch []Event)
}
