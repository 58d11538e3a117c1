package massive

import (
	"encoding/json"
	"errors"
	"strings"
)

// The server side of the protocol: how a server reads a client's messages
// and params and words its answers. The simulator and the relay both serve
// the protocol; this is the one copy of those rules.

// MaxEchoedText is how many bytes of client input a server quotes back in an
// error status: enough to recognise the mistake, not an echo chamber.
const MaxEchoedText = 100

// ClipEcho shortens client input quoted back in an error status.
func ClipEcho(s string) string {
	if len(s) > MaxEchoedText {
		return s[:MaxEchoedText] + "..."
	}
	return s
}

// ClosingStatusText returns the provider's message for a status after which
// it closes the connection (documented ones verbatim), and false for other
// statuses.
func ClosingStatusText(status string) (string, bool) {
	switch status {
	case StatusAuthFailed:
		return "authentication failed", true
	case StatusAuthTimeout:
		return "No authentication request received.", true
	case StatusMaxConnections:
		return "Maximum number of connections exceeded.", true
	case StatusSlowConsumer:
		return "Client is not consuming data fast enough.", true
	case StatusForceDisconnect:
		return "Forced disconnect.", true
	}
	return "", false
}

// ClientMessage is one {"action": ..., "params": ...} message from a client.
type ClientMessage struct {
	Action string
	Params string
}

// ParseClientMessage reads one client message. A null or missing params is
// "". The error's text is what a server answers in an "error" status (it
// quotes at most MaxEchoedText bytes of the input).
func ParseClientMessage(raw []byte) (ClientMessage, error) {
	var msg struct {
		Action string          `json:"action"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil {
		return ClientMessage{}, errors.New("invalid message: " + ClipEcho(string(raw)))
	}
	var params string
	if len(msg.Params) > 0 && string(msg.Params) != "null" {
		if err := json.Unmarshal(msg.Params, &params); err != nil {
			return ClientMessage{}, errors.New("params must be a string")
		}
	}
	return ClientMessage{Action: msg.Action, Params: params}, nil
}

// Sub is one parsed "<CHANNEL>.<TICKER>" params entry; Ticker is Wildcard
// for every ticker of the channel.
type Sub struct {
	Channel string
	Ticker  string
}

// String returns the params form, "T.AAPL".
func (s Sub) String() string { return Subscription(s.Channel, s.Ticker) }

// ParseParams splits a subscribe/unsubscribe params string the way the
// provider does: entries comma-separated, spaces trimmed, split at the FIRST
// dot (SplitSubscription). The channel must be a stocks channel
// (IsStocksChannel) and the ticker have the one ticker form (ValidTicker) or
// be the Wildcard. Bad entries come back separately (trimmed, as sent) so
// that the valid ones of the same message still take effect.
func ParseParams(params string) (subs []Sub, bad []string) {
	for _, part := range strings.Split(params, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ch, t, ok := SplitSubscription(part)
		if !ok || !IsStocksChannel(ch) || (t != Wildcard && !ValidTicker(t)) {
			bad = append(bad, part)
			continue
		}
		subs = append(subs, Sub{Channel: ch, Ticker: t})
	}
	return subs, bad
}
