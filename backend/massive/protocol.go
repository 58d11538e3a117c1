package massive

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The protocol vocabulary lives here, once: the client, the simulator (and
// later a relay) speak the same protocol, and config validates the same
// channel names, so a rule changed here changes for all of them.

// Client actions ({"action": ..., "params": ...}).
const (
	ActionAuth        = "auth"
	ActionSubscribe   = "subscribe"
	ActionUnsubscribe = "unsubscribe"
)

// Status names of {"ev":"status"} messages.
const (
	StatusConnected       = "connected"        // unprompted, right after the upgrade
	StatusAuthSuccess     = "auth_success"     // the key was accepted
	StatusAuthFailed      = "auth_failed"      // the key was refused; the server closes
	StatusAuthRequired    = "auth_required"    // subscribe before auth
	StatusAuthTimeout     = "auth_timeout"     // no auth in time; the server closes
	StatusSuccess         = "success"          // subscription acks (and old servers' auth reply)
	StatusError           = "error"            // a bad client message; the link stays
	StatusMaxConnections  = "max_connections"  // over the key's connection limit; the server closes
	StatusSlowConsumer    = "slow_consumer"    // the client read too slowly; the server closes
	StatusForceDisconnect = "force_disconnect" // the provider ends the session
)

// MessageAuthenticated is the message of auth_success, and of the "success"
// status older servers sent instead of auth_success.
const MessageAuthenticated = "authenticated"

// Ack prefixes of "success" statuses, followed by the subscriptions
// ("subscribed to: T.AAPL"). "unsubscribed to" is the provider's wording.
const (
	AckSubscribed   = "subscribed to: "
	AckUnsubscribed = "unsubscribed to: "
)

// Wildcard in place of a ticker subscribes a channel to every ticker ("T.*").
const Wildcard = "*"

// ChannelForm is quoted in channel errors.
const ChannelForm = "T, Q, A or AM"

// ChannelKind maps an exact subscription prefix ("T", "AM") to the kind of
// event it carries. Prefixes of channels this package does not decode (LULD,
// NOI, FMV) are not kinds; see IsStocksChannel.
func ChannelKind(prefix string) (Kind, bool) {
	for k := KindTrade; k <= KindMinuteAgg; k++ {
		if k.Prefix() == prefix {
			return k, true
		}
	}
	return 0, false
}

// IsStocksChannel reports whether prefix is a channel of the stocks cluster:
// one this package decodes, or LULD, NOI or FMV, whose events the decoder
// skips as Unknown. A server accepts subscriptions to any of them.
func IsStocksChannel(prefix string) bool {
	if _, ok := ChannelKind(prefix); ok {
		return true
	}
	switch prefix {
	case "LULD", "NOI", "FMV":
		return true
	}
	return false
}

// NormalizeChannels upper-cases and trims each channel, checks it is one of
// T, Q, A and AM (the ones Client decodes), and drops repeats keeping order.
// An empty list is an error: a subscription needs a channel. The error names
// the bad entry only; callers add the accepted form (ChannelForm) in their
// own words.
func NormalizeChannels(list []string) ([]string, error) {
	if len(list) == 0 {
		return nil, errors.New("no channel")
	}
	out := make([]string, 0, len(list))
	for _, raw := range list {
		ch := strings.ToUpper(strings.TrimSpace(raw))
		if _, ok := ChannelKind(ch); !ok {
			return nil, fmt.Errorf("unknown channel %q", raw)
		}
		if !slices.Contains(out, ch) {
			out = append(out, ch)
		}
	}
	return out, nil
}

// Subscription is the params entry for a channel and a ticker: "T.AAPL".
func Subscription(channel, ticker string) string { return channel + "." + ticker }

// SplitSubscription splits a params entry at its FIRST dot, because tickers
// such as BRK.A contain dots: "T.BRK.A" is channel "T", ticker "BRK.A".
// Spaces around either part are trimmed; ok is false when either is empty.
func SplitSubscription(entry string) (channel, ticker string, ok bool) {
	channel, ticker, found := strings.Cut(entry, ".")
	channel, ticker = strings.TrimSpace(channel), strings.TrimSpace(ticker)
	return channel, ticker, found && channel != "" && ticker != ""
}

// MaxTickerLen is the longest ticker accepted anywhere (configuration,
// universes, the API, the client and the simulator).
const MaxTickerLen = 10

// TickerForm is quoted in every ticker error so an operator knows what to type.
const TickerForm = "1-10 characters of A-Z, 0-9, '.' or '-' (e.g. AAPL, BRK.B)"

// NormalizeTicker trims and upper-cases s and checks it has the ticker form:
// 1-10 characters of A-Z, 0-9, '.' and '-'. Share classes use a dot (BRK.B)
// as the feed does. The form also guarantees a ticker cannot break a
// comma-separated params string or the JSON around it.
func NormalizeTicker(s string) (string, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if !ValidTicker(t) {
		return "", fmt.Errorf("invalid symbol %q: want %s", s, TickerForm)
	}
	return t, nil
}

// ValidTicker reports whether t already has the ticker form (upper case,
// trimmed); NormalizeTicker is the forgiving variant for human input.
func ValidTicker(t string) bool {
	if t == "" || len(t) > MaxTickerLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// MaskKey hides all but the last four characters of an API key ("****abcd"),
// and all of a key shorter than eight, so logs, errors and status pages can
// tell keys apart without revealing one.
func MaskKey(k string) string {
	if len(k) < 8 {
		return "****"
	}
	return "****" + k[len(k)-4:]
}

// RedactKey replaces key with MaskKey(key) wherever it stands in s as a
// token of its own: not preceded or followed by a letter, digit, '_' or
// '-'. Replacing every substring would let a short key mangle the words
// that contain it and give itself away by the holes ("ma****_connections"
// for the key "x"); a key is never glued to such characters when a server
// echoes it (it sits between quotes, spaces, '=' or '&').
func RedactKey(s, key string) string {
	if key == "" || !strings.Contains(s, key) {
		return s
	}
	var b strings.Builder
	done := 0 // s[:done] is written
	for from := 0; ; {
		i := strings.Index(s[from:], key)
		if i < 0 {
			break
		}
		start, end := from+i, from+i+len(key)
		if (start == 0 || !isKeyChar(s[start-1])) && (end == len(s) || !isKeyChar(s[end])) {
			b.WriteString(s[done:start])
			b.WriteString(MaskKey(key))
			done = end
		}
		from = end
	}
	b.WriteString(s[done:])
	return b.String()
}

// isKeyChar reports whether c can be part of one token with an API key.
func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// ConnID numbers one upstream connection slot; its String form,
// "connection_2", is what logs, the API and the tick store use.
type ConnID int

const connIDPrefix = "connection_"

// ErrBadConnID is wrapped by ParseConnID.
var ErrBadConnID = errors.New("not a connection id")

// String returns "connection_N".
func (id ConnID) String() string { return connIDPrefix + strconv.Itoa(int(id)) }

// ParseConnID accepts "connection_2" or "2" (surrounding spaces ignored) for
// any slot number from 1 up, without sign or leading zeros, so every id has
// exactly one spelling of its number. Whether the slot exists is the
// caller's question.
func ParseConnID(s string) (ConnID, error) {
	num := strings.TrimPrefix(strings.TrimSpace(s), connIDPrefix)
	if num == "" || len(num) > 9 || num[0] == '0' {
		return 0, fmt.Errorf("%q: %w (want connection_N or N, N >= 1)", s, ErrBadConnID)
	}
	n := 0
	for i := 0; i < len(num); i++ {
		c := num[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q: %w (want connection_N or N, N >= 1)", s, ErrBadConnID)
		}
		n = n*10 + int(c-'0')
	}
	return ConnID(n), nil
}
