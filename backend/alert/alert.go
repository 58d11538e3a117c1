package alert

import (
	"fmt"
	"strings"
	"time"
)

// Kind names a detector.
type Kind string

// The detectors.
const (
	KindConnectionSilent  Kind = "connection_silent"
	KindTickerSilent      Kind = "ticker_silent"
	KindSubscriptionDrift Kind = "subscription_drift"
	KindReconnectStorm    Kind = "reconnect_storm"
	KindAuthFailed        Kind = "auth_failed"
	KindMaxConnections    Kind = "max_connections"
	KindDrops             Kind = "drops"
)

// Kinds lists every detector, for metrics that show zeros too.
func Kinds() []Kind {
	return []Kind{KindConnectionSilent, KindTickerSilent, KindSubscriptionDrift, KindReconnectStorm,
		KindAuthFailed, KindMaxConnections, KindDrops}
}

// State is an incident's state.
type State string

// Incident states: one incident is one firing and then one resolved.
const (
	Firing   State = "firing"
	Resolved State = "resolved"
)

// Alert is one incident. Its Key (kind, connection, ticker, source) is the
// dedup key: while an incident with that key is firing, the detector seeing
// the same condition again only updates Value.
type Alert struct {
	ID           int64      `json:"id"`
	Key          string     `json:"key"`
	Kind         Kind       `json:"kind"`
	ConnectionID string     `json:"connection,omitempty"`
	Ticker       string     `json:"ticker,omitempty"`
	Source       string     `json:"source,omitempty"` // drops: reader, browser, sink:redis, relay
	State        State      `json:"state"`
	Since        time.Time  `json:"since"` // when the condition began (e.g. the last message)
	FiredAt      time.Time  `json:"fired_at"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty"`
	Value        float64    `json:"value"`
	Threshold    float64    `json:"threshold"`
	Unit         string     `json:"unit"` // seconds, tickers, subscriptions, reconnects, events; drops: frames, ticks, overflows, disconnects
	Message      string     `json:"message"`
	AckedBy      string     `json:"acked_by,omitempty"`
	AckedAt      *time.Time `json:"acked_at,omitempty"`
}

// Text is the one-line summary webhooks put in "text" (Slack, Mattermost).
func (a Alert) Text() string {
	var b strings.Builder
	if a.State == Firing {
		b.WriteString("[FIRING] ")
	} else {
		b.WriteString("[RESOLVED] ")
	}
	b.WriteString(string(a.Kind))
	for _, part := range []string{a.ConnectionID, a.Ticker, a.Source} {
		if part != "" {
			b.WriteString(" " + part)
		}
	}
	b.WriteString(": " + a.Message)
	return b.String()
}

// Event is what listeners get: a transition (firing, resolved), an update
// of a firing incident that stands for many (a ticker_silent group whose
// count or members changed), or an acknowledgement.
type Event struct {
	Type  string // "firing", "updated", "resolved", "acknowledged"
	Alert Alert
}

// Event types. Only firing and resolved are transitions (webhooks); an
// update keeps the dashboard and the history current.
const (
	EventFiring       = "firing"
	EventUpdated      = "updated"
	EventResolved     = "resolved"
	EventAcknowledged = "acknowledged"
)

func key(k Kind, parts ...string) string {
	return string(k) + ":" + strings.Join(parts, ":")
}

func secs(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

func fmtDur(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
