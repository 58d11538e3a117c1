package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// Change is what one admin action does to the overrides. Commit applies it
// in this order: Reset, Remove, Add, Enabled.
type Change struct {
	// Reset drops every override of these connections first.
	Reset []string
	// Remove and Add map a connection id to symbols removed from / added to
	// it at runtime (same cancelling rules as RemoveTickers / AddTickers).
	Remove map[string][]string
	Add    map[string][]string
	// Enabled records connections enabled (true) or disabled at runtime.
	Enabled map[string]bool
}

// Commit saves an admin action in ONE transaction: its override changes
// (made by e.User) and its audit entry, so an action is either saved with
// its audit line or not at all. It returns the audit entry's ID. A zero
// Change only appends the entry. more are further entries of the same
// action (one per connection it touched), saved in the same transaction
// with e's time when theirs is zero; the ID returned is e's.
func (s *Store) Commit(ctx context.Context, c Change, e AuditEntry, more ...AuditEntry) (int64, error) {
	op := fmt.Sprintf("save %q", clipField(e.Action))
	if e.Action != "" && e.Target != "" {
		op = fmt.Sprintf("save %q on %s", clipField(e.Action), clipField(e.Target))
	}
	if err := c.check(); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	at := ms(e.Time)
	var id int64
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		for _, conn := range c.Reset {
			if _, err := resetTx(ctx, tx, conn); err != nil {
				return err
			}
		}
		for _, conn := range sortedConns(c.Remove) {
			if err := changeTickersTx(ctx, tx, conn, c.Remove[conn], e.User, TickerRemoved, at); err != nil {
				return err
			}
		}
		for _, conn := range sortedConns(c.Add) {
			if err := changeTickersTx(ctx, tx, conn, c.Add[conn], e.User, TickerAdded, at); err != nil {
				return err
			}
		}
		for _, conn := range sortedConns(c.Enabled) {
			if err := setEnabledTx(ctx, tx, conn, c.Enabled[conn], e.User, at); err != nil {
				return err
			}
		}
		var err error
		if id, err = appendAuditTx(ctx, tx, e); err != nil {
			return err
		}
		for _, m := range more {
			if m.Time.IsZero() {
				m.Time = e.Time
			}
			if _, err := appendAuditTx(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	return id, err
}

// check validates every id and symbol before the transaction starts. Empty
// symbol lists are allowed (and skipped): an action that moved nothing on a
// connection still commits its audit entry.
func (c Change) check() error {
	for _, conn := range c.Reset {
		if err := checkID("connection id", conn); err != nil {
			return err
		}
	}
	for _, m := range []map[string][]string{c.Remove, c.Add} {
		for conn, syms := range m {
			if err := checkID("connection id", conn); err != nil {
				return err
			}
			for _, sym := range syms {
				if err := checkID("symbol", sym); err != nil {
					return err
				}
			}
		}
	}
	for conn := range c.Enabled {
		if err := checkID("connection id", conn); err != nil {
			return err
		}
	}
	return nil
}

// sortedConns gives a fixed order, so two runs of the same Change write the
// same rows in the same order.
func sortedConns[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
