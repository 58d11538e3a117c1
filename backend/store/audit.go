package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// DefaultAuditRetention is how long audit entries are kept unless configured.
const DefaultAuditRetention = 90 * 24 * time.Hour

// Audit paging bounds: a page defaults to 100 entries and never exceeds
// 1000, so one request cannot read the whole log into memory.
const (
	DefaultAuditPage = 100
	MaxAuditPage     = 1000
)

// maxAuditField bounds each short text field of an entry (user, action,
// target, result, client address): none of them is a list, so 1 KiB only
// stops a pathological value.
const maxAuditField = 1024

// MaxAuditDetail bounds an entry's Detail. It holds lists (the tickers an
// action moved), so it is large enough for any one request (500 tickers at
// most) and any connection's reset, yet keeps one row from becoming
// megabytes. Callers that may exceed it split their list over several
// entries (admin does); a detail that still exceeds it is cut with a
// marker saying how much was not stored, never silently.
const MaxAuditDetail = 64 << 10

// AuditEntry is one admin action. The fields are auth.AuditEntry's plus ID,
// Role and ClientIP. Callers must not put secrets in entries.
type AuditEntry struct {
	ID       int64     `json:"id"`
	Time     time.Time `json:"time"`
	User     string    `json:"user"`
	Role     string    `json:"role,omitempty"`
	Action   string    `json:"action"`
	Target   string    `json:"target"`
	Result   string    `json:"result"` // "ok", or what went wrong
	Detail   string    `json:"detail,omitempty"`
	ClientIP string    `json:"client_ip,omitempty"`
}

// AuditFilter selects entries for ListAudit. Empty fields match everything.
type AuditFilter struct {
	User   string
	Action string
	Target string // the target exactly
	// Connection ("connection_2") matches entries whose target is that
	// connection or a comma-separated list naming it (entries written
	// before actions were recorded one entry per connection).
	Connection string
	Since      time.Time // inclusive; zero: no lower bound
	Until      time.Time // exclusive; zero: no upper bound
	// BeforeID is the paging cursor: only entries with a smaller ID (older
	// in insertion order). Zero starts at the newest entry.
	BeforeID int64
	// Limit is the page size: < 1 means DefaultAuditPage, capped at MaxAuditPage.
	Limit int
}

// AuditPage is one page of entries, newest first. NextBeforeID is the
// cursor for the next (older) page, or 0 when there is none.
type AuditPage struct {
	Entries      []AuditEntry `json:"entries"`
	NextBeforeID int64        `json:"next_before_id,omitempty"`
}

// clipField truncates v to maxAuditField bytes, dropping a rune split by the
// cut rather than storing invalid UTF-8.
func clipField(v string) string {
	if len(v) <= maxAuditField {
		return v
	}
	return strings.ToValidUTF8(v[:maxAuditField], "") + "…"
}

// clipDetail bounds a detail to MaxAuditDetail bytes, marker included; the
// marker says how many bytes were not stored, so a reader knows the list
// is incomplete.
func clipDetail(v string) string {
	if len(v) <= MaxAuditDetail {
		return v
	}
	// The marker is at most 60 bytes; cut room for it first.
	cut := MaxAuditDetail - 64
	return strings.ToValidUTF8(v[:cut], "") + fmt.Sprintf("… (truncated: %d more bytes not stored)", len(v)-cut)
}

// AppendAudit stores e (stamped with the store's clock if e.Time is zero) and
// returns its ID. Short fields longer than 1 KiB and a Detail longer than
// MaxAuditDetail are truncated.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (int64, error) {
	op := fmt.Sprintf("save audit entry %q", clipField(e.Action))
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	var id int64
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		var err error
		id, err = appendAuditTx(ctx, tx, e)
		return err
	})
	return id, err
}

func appendAuditTx(ctx context.Context, tx *sql.Tx, e AuditEntry) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO audit (at_ms, user, role, action, target, result, detail, client_ip)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ms(e.Time), clipField(e.User), clipField(e.Role), clipField(e.Action),
		clipField(e.Target), clipField(e.Result), clipDetail(e.Detail), clipField(e.ClientIP))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// ListAudit returns one page of entries matching f, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	const op = "read audit log"
	limit := f.Limit
	if limit < 1 {
		limit = DefaultAuditPage
	}
	limit = min(limit, MaxAuditPage)
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.User != "" {
		add("user = ?", f.User)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if f.Connection != "" {
		// instr over ",target," finds the id as a whole list member:
		// connection_1 must not match connection_12.
		add("(target = ? OR instr(',' || target || ',', ?) > 0)", f.Connection)
		args = append(args, ","+f.Connection+",")
	}
	if !f.Since.IsZero() {
		add("at_ms >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		add("at_ms < ?", ms(f.Until))
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	q := `SELECT id, at_ms, user, role, action, target, result, detail, client_ip FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	// One row more than the page tells whether an older page exists.
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return AuditPage{}, classify(op, s.path, err)
	}
	page := AuditPage{Entries: make([]AuditEntry, 0, min(limit, 64))}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.User, &e.Role, &e.Action, &e.Target, &e.Result, &e.Detail, &e.ClientIP); err != nil {
			rows.Close()
			return AuditPage{}, classify(op, s.path, err)
		}
		e.Time = fromMS(at)
		page.Entries = append(page.Entries, e)
	}
	if err := closeRows(rows); err != nil {
		return AuditPage{}, classify(op, s.path, err)
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		page.NextBeforeID = page.Entries[limit-1].ID
	}
	return page, nil
}

// PruneAudit deletes entries older than olderThan, in batches, and returns how
// many it deleted.
func (s *Store) PruneAudit(ctx context.Context, olderThan time.Time) (int64, error) {
	return s.deleteInBatches(ctx, "prune audit entries before "+olderThan.UTC().Format(time.RFC3339),
		`DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at_ms < ? LIMIT ?)`, ms(olderThan))
}
