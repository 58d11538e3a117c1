package store

import (
	"context"
	"database/sql"
	"time"
)

// DefaultAlertRetention is how long resolved alert incidents are kept unless
// configured.
const DefaultAlertRetention = 90 * 24 * time.Hour

// AlertRecord is one alert incident as the history keeps it (the alert
// package's Alert, without the store importing it).
type AlertRecord struct {
	ID                        int64
	Key, Kind                 string
	ConnectionID, Ticker, Src string
	Since, FiredAt            time.Time
	ResolvedAt                *time.Time
	Value, Threshold          float64
	Unit, Message             string
	AckedBy                   string
	AckedAt                   *time.Time
}

// LastAlertID is the highest incident id ever saved (0 for none), so a
// restarted server continues the sequence and an id names one incident.
// The alert engine assigns ids, not SQLite (no AUTOINCREMENT), so max(id)
// is the only record of the sequence: PruneAlerts never deletes that row.
func (s *Store) LastAlertID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT max(id) FROM alerts`).Scan(&id); err != nil {
		return 0, classify("read alert history", s.path, err)
	}
	return id.Int64, nil
}

// SaveAlert inserts the incident or updates it (value, resolution,
// acknowledgement) by id.
func (s *Store) SaveAlert(ctx context.Context, a AlertRecord) error {
	var acked sql.NullString
	if a.AckedBy != "" {
		acked = sql.NullString{String: clipField(a.AckedBy), Valid: true}
	}
	return s.write(ctx, "save alert", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
INSERT INTO alerts (id, dedup_key, kind, conn_id, ticker, source, since_ms, fired_ms, resolved_ms, value, threshold, unit, message, acked_by, acked_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET resolved_ms = excluded.resolved_ms, value = excluded.value,
	threshold = excluded.threshold, message = excluded.message, acked_by = excluded.acked_by, acked_ms = excluded.acked_ms`,
			a.ID, a.Key, a.Kind, a.ConnectionID, a.Ticker, a.Src, ms(a.Since), ms(a.FiredAt), toNullMS(a.ResolvedAt),
			a.Value, a.Threshold, a.Unit, clipField(a.Message), acked, toNullMS(a.AckedAt))
		return err
	})
}

// RecentAlerts returns the incidents a restarted engine must know, oldest
// id first: those still firing (the previous run ended while they were;
// the engine resolves them and says so to its listeners) and those
// resolved at or after resolvedSince (still listed for ALERT_KEEP_RESOLVED
// across the restart). Bounded by what the retention keeps; it runs once,
// at start-up.
func (s *Store) RecentAlerts(ctx context.Context, resolvedSince time.Time) ([]AlertRecord, error) {
	return queryAll(ctx, s, "read recent alerts", `
SELECT id, dedup_key, kind, conn_id, ticker, source, since_ms, fired_ms, resolved_ms, value, threshold, unit, message, acked_by, acked_ms
FROM alerts WHERE resolved_ms IS NULL OR resolved_ms >= ? ORDER BY id`, scanAlert, ms(resolvedSince))
}

// PruneAlerts deletes incidents resolved before olderThan, in batches, and
// returns how many it deleted. An incident still firing stays however old it
// is. So does the incident with the highest id, whatever its age: it carries
// LastAlertID across restarts (without it, a server whose incidents were all
// resolved long ago would hand out their ids again). That keeps at most one
// row past the retention, until a newer incident fires.
func (s *Store) PruneAlerts(ctx context.Context, olderThan time.Time) (int64, error) {
	// resolved_ms has no index (only the partial one on firing rows): the
	// scan runs once an hour over a table the retention keeps bounded.
	return s.deleteInBatches(ctx, "prune alerts resolved before "+olderThan.UTC().Format(time.RFC3339), `
DELETE FROM alerts WHERE id IN (SELECT id FROM alerts
	WHERE resolved_ms IS NOT NULL AND resolved_ms < ? AND id < (SELECT max(id) FROM alerts) LIMIT ?)`, ms(olderThan))
}

// ListAlerts returns the incidents fired at or after since, newest first,
// at most limit (1..1000).
func (s *Store) ListAlerts(ctx context.Context, since time.Time, limit int) ([]AlertRecord, error) {
	limit = min(max(limit, 1), MaxAuditPage)
	return queryAll(ctx, s, "list alerts", `
SELECT id, dedup_key, kind, conn_id, ticker, source, since_ms, fired_ms, resolved_ms, value, threshold, unit, message, acked_by, acked_ms
FROM alerts WHERE fired_ms >= ? ORDER BY id DESC LIMIT ?`, scanAlert, ms(since), limit)
}

func scanAlert(sc rowScanner) (AlertRecord, error) {
	var a AlertRecord
	var since, fired int64
	var resolved, ackedAt sql.NullInt64
	var ackedBy sql.NullString
	err := sc.Scan(&a.ID, &a.Key, &a.Kind, &a.ConnectionID, &a.Ticker, &a.Src, &since, &fired, &resolved,
		&a.Value, &a.Threshold, &a.Unit, &a.Message, &ackedBy, &ackedAt)
	a.Since, a.FiredAt, a.ResolvedAt = fromMS(since), fromMS(fired), fromNullMS(resolved)
	a.AckedBy, a.AckedAt = ackedBy.String, fromNullMS(ackedAt)
	return a, err
}
