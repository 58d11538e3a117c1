package auth

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
)

// DefaultAuditCapacity is used when NewAudit is given a capacity below 1.
const DefaultAuditCapacity = 256

// maxAuditField bounds each text field so a huge request (say, thousands of
// tickers in Detail) cannot make the ring large.
const maxAuditField = 1024

// AuditEntry is one admin action. On the wire (MarshalJSON) Time is Unix
// seconds with millisecond precision, like every other time the API sends.
type AuditEntry struct {
	Time   time.Time `json:"time"`
	User   string    `json:"user"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Result string    `json:"result"`
	Detail string    `json:"detail,omitempty"`
}

// MarshalJSON writes Time as Unix seconds (e.g. 1705853696.123).
func (e AuditEntry) MarshalJSON() ([]byte, error) {
	type fields AuditEntry // the same fields without this method
	return json.Marshal(struct {
		Time float64 `json:"time"` // hides fields.Time: the shallower field wins
		fields
	}{float64(e.Time.UnixMilli()) / 1000, fields(e)})
}

// Audit keeps the most recent admin actions in a fixed ring and writes each
// one to the log as it happens. Callers must not put secrets in entries.
// Safe for concurrent use.
type Audit struct {
	log zerolog.Logger

	mu    sync.Mutex
	ring  []AuditEntry
	next  int // slot the next entry goes to
	count int
}

// NewAudit keeps up to capacity entries (DefaultAuditCapacity if < 1).
func NewAudit(capacity int, log zerolog.Logger) *Audit {
	if capacity < 1 {
		capacity = DefaultAuditCapacity
	}
	return &Audit{log: log, ring: make([]AuditEntry, capacity)}
}

// Record stores e, stamping it with the current time if it has none.
func (a *Audit) Record(e AuditEntry) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.User, e.Action, e.Target = clip(e.User), clip(e.Action), clip(e.Target)
	e.Result, e.Detail = clip(e.Result), clip(e.Detail)

	a.mu.Lock()
	a.ring[a.next] = e
	a.next = (a.next + 1) % len(a.ring)
	a.count = min(a.count+1, len(a.ring))
	a.mu.Unlock()

	// Logged outside the lock: the writer may block.
	ev := a.log.Info()
	if e.Result != "ok" {
		ev = a.log.Warn()
	}
	ev = ev.Str("action", e.Action).Str("user", e.User).Str("target", e.Target).Str("result", e.Result)
	if e.Detail != "" {
		ev = ev.Str("detail", e.Detail)
	}
	ev.Msg("admin action")
}

// Recent returns up to limit entries, newest first; limit < 1 means all.
func (a *Audit) Recent(limit int) []AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.count
	if limit > 0 && limit < n {
		n = limit
	}
	out := make([]AuditEntry, n)
	for i := range n {
		out[i] = a.ring[(a.next-1-i+len(a.ring))%len(a.ring)]
	}
	return out
}

// clip truncates s to maxAuditField bytes without splitting a UTF-8 rune,
// saying how long it was.
func clip(s string) string { return logsafe.ClipTo(s, maxAuditField) }
