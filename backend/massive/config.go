package massive

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Defaults for zero Config fields.
const (
	DefaultReconnectDelay        = time.Second
	DefaultMaxReconnectDelay     = 60 * time.Second
	DefaultMaxConnectionsBackoff = 5 * time.Minute
	DefaultStableAfter           = 60 * time.Second
	DefaultPingInterval          = 25 * time.Second
	DefaultReadTimeout           = 30 * time.Second
	DefaultHandshakeTimeout      = 10 * time.Second
	DefaultQueueSize             = 256
)

// Config configures one Client. Zero durations and sizes get the defaults.
type Config struct {
	ID                    string   // "connection_1"; names the connection in logs and events
	URL                   string   // ws(s)://host/stocks
	APIKey                string   // never logged or returned; see Client.MaskedKey
	Channels              []string // any of T, Q, A, AM (NormalizeChannels); default ["A"]
	Tickers               []string // initial desired set
	Extras                []string // initial single subscriptions ("T.XYZ"), see Client.AddExtra
	ReconnectDelay        time.Duration
	MaxReconnectDelay     time.Duration
	MaxRetries            int // consecutive failed attempts before giving up; 0 = forever
	MaxConnectionsBackoff time.Duration
	StableAfter           time.Duration // connected this long resets the backoff
	PingInterval          time.Duration
	ReadTimeout           time.Duration // no frame or pong for this long = dead link
	HandshakeTimeout      time.Duration // dial+auth, and again for the first subscription ack
	QueueSize             int           // frames buffered between reader and decoder
	Logger                zerolog.Logger
}

func (cfg *Config) validate() error {
	if cfg.ID == "" {
		return errors.New("massive: config: ID is empty")
	}
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("massive: %s: config %s: %s", cfg.ID, field, fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return bad("URL", "%q is not a ws:// or wss:// URL with a host", cfg.URL)
	}
	if cfg.APIKey == "" {
		return bad("APIKey", "is empty")
	}
	if len(cfg.Channels) == 0 {
		cfg.Channels = []string{KindSecondAgg.Prefix()}
	}
	channels, err := NormalizeChannels(cfg.Channels)
	if err != nil {
		return bad("Channels", "%v (want %s)", err, ChannelForm)
	}
	cfg.Channels = channels
	for _, t := range cfg.Tickers {
		if _, err := normalizeTarget(t); err != nil {
			return bad("Tickers", "%v", err)
		}
	}
	for _, e := range cfg.Extras {
		if _, err := normalizeExtra(e); err != nil {
			return bad("Extras", "%v", err)
		}
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"ReconnectDelay", &cfg.ReconnectDelay, DefaultReconnectDelay},
		{"MaxReconnectDelay", &cfg.MaxReconnectDelay, DefaultMaxReconnectDelay},
		{"MaxConnectionsBackoff", &cfg.MaxConnectionsBackoff, DefaultMaxConnectionsBackoff},
		{"StableAfter", &cfg.StableAfter, DefaultStableAfter},
		{"PingInterval", &cfg.PingInterval, DefaultPingInterval},
		{"ReadTimeout", &cfg.ReadTimeout, DefaultReadTimeout},
		{"HandshakeTimeout", &cfg.HandshakeTimeout, DefaultHandshakeTimeout},
	}
	for _, d := range durations {
		if *d.v < 0 {
			return bad(d.name, "must not be negative, got %s", *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if cfg.MaxReconnectDelay < cfg.ReconnectDelay {
		return bad("MaxReconnectDelay", "%s is below ReconnectDelay %s", cfg.MaxReconnectDelay, cfg.ReconnectDelay)
	}
	if cfg.MaxRetries < 0 {
		return bad("MaxRetries", "must not be negative, got %d", cfg.MaxRetries)
	}
	if cfg.QueueSize < 0 {
		return bad("QueueSize", "must not be negative, got %d", cfg.QueueSize)
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	return nil
}

// normalizeTarget accepts what may follow a channel prefix: a ticker in the
// one ticker form (NormalizeTicker), or the Wildcard.
func normalizeTarget(t string) (string, error) {
	if strings.TrimSpace(t) == Wildcard {
		return Wildcard, nil
	}
	return NormalizeTicker(t)
}

// normalizeExtra accepts one subscription "CH.TICKER" (or "CH.*") on a
// stocks channel this package decodes, in its canonical form.
func normalizeExtra(e string) (string, error) {
	ch, t, ok := SplitSubscription(strings.TrimSpace(e))
	if !ok {
		return "", fmt.Errorf("subscription %q: want CHANNEL.TICKER", e)
	}
	if _, ok := ChannelKind(ch); !ok {
		return "", fmt.Errorf("subscription %q: channel %q is not one of %s", e, ch, ChannelForm)
	}
	n, err := normalizeTarget(t)
	if err != nil {
		return "", fmt.Errorf("subscription %q: %w", e, err)
	}
	return Subscription(ch, n), nil
}
