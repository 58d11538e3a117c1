package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// pruneBatch is how many rows one prune transaction deletes: small batches
// keep the single writer free for admin actions between them.
const pruneBatch = 1000

// Retention says how long each pruned history is kept. Both must be positive:
// keeping one forever is not a supported setting (config refuses it).
type Retention struct {
	Audit  time.Duration // audit entries, by the time of the action
	Alerts time.Duration // resolved alert incidents, by their resolution time
}

// deleteInBatches runs del, a DELETE whose last parameter is the batch size
// (args come before it), until a batch deletes fewer than pruneBatch rows,
// one transaction per batch, and returns how many rows went in all.
func (s *Store) deleteInBatches(ctx context.Context, op, del string, args ...any) (int64, error) {
	args = append(args, pruneBatch)
	var total int64
	for {
		var n int64
		err := s.write(ctx, op, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, del, args...)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}

// RunPruner deletes what is past its retention (audit entries, resolved
// alert incidents) now and then every `every`, until ctx ends (then it
// returns nil). Run it in a goroutine the app owns. A failed prune is logged
// and retried at the next tick: a full disk must not stop the server, and
// one history failing does not keep the other from being pruned.
func (s *Store) RunPruner(ctx context.Context, r Retention, every time.Duration) error {
	if r.Audit <= 0 || r.Alerts <= 0 || every <= 0 {
		return fmt.Errorf("%w: pruner needs positive retentions and interval (got audit %s, alerts %s, every %s)",
			ErrInvalid, r.Audit, r.Alerts, every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		now := s.now()
		audit, auditErr := s.PruneAudit(ctx, now.Add(-r.Audit))
		alerts, alertsErr := s.PruneAlerts(ctx, now.Add(-r.Alerts))
		if ctx.Err() != nil {
			return nil
		}
		if err := errors.Join(auditErr, alertsErr); err != nil {
			s.log.Warn().Err(err).Msg("prune failed; retrying at the next interval")
		}
		// One line per run that deleted something, with both counts, so
		// the log says what a run did without a line per history.
		if audit > 0 || alerts > 0 {
			s.log.Info().Int64("audit_deleted", audit).Int64("alerts_deleted", alerts).
				Dur("audit_retention_ms", r.Audit).Dur("alert_retention_ms", r.Alerts).Msg("history pruned")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
