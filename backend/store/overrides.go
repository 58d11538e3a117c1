package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"
)

// TickerOp says what a runtime ticker override does to the configured list.
type TickerOp string

const (
	TickerAdded   TickerOp = "add"    // subscribed at runtime, not (necessarily) configured
	TickerRemoved TickerOp = "remove" // configured, but removed at runtime
)

// EnabledOverride is a connection enabled or disabled at runtime.
type EnabledOverride struct {
	Enabled bool      `json:"enabled"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// TickerOverride is one ticker added to or removed from a connection at runtime.
type TickerOverride struct {
	Symbol string    `json:"symbol"`
	Op     TickerOp  `json:"op"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// ConnOverride is everything changed at runtime on one connection, applied
// at start-up on top of the environment's configuration.
type ConnOverride struct {
	ConnectionID string           `json:"connection_id"`
	Enabled      *EnabledOverride `json:"enabled,omitempty"` // nil: as configured
	Tickers      []TickerOverride `json:"tickers,omitempty"` // sorted by symbol
}

// maxIDLen bounds connection ids and symbols: both are short by nature, and
// a bound keeps a bad request from storing megabytes.
const maxIDLen = 64

func checkID(what, v string) error {
	if v == "" || len(v) > maxIDLen || strings.TrimSpace(v) != v {
		return fmt.Errorf("%w: %s %q must be 1-%d characters without surrounding spaces", ErrInvalid, what, v, maxIDLen)
	}
	return nil
}

// checkSymbols refuses an empty list or a bad symbol. Symbols are stored as
// given: normalising them (case, duplicates) is the caller's job, so the
// store holds exactly what the manager applied.
func checkSymbols(connID string, symbols []string) error {
	if err := checkID("connection id", connID); err != nil {
		return err
	}
	if len(symbols) == 0 {
		return fmt.Errorf("%w: no symbols given", ErrInvalid)
	}
	for _, sym := range symbols {
		if err := checkID("symbol", sym); err != nil {
			return err
		}
	}
	return nil
}

// SetEnabled records that by enabled or disabled connID at runtime.
func (s *Store) SetEnabled(ctx context.Context, connID string, enabled bool, by string) error {
	op := fmt.Sprintf("save %s enabled=%t", connID, enabled)
	if err := checkID("connection id", connID); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	at := ms(s.now())
	return s.write(ctx, op, func(tx *sql.Tx) error { return setEnabledTx(ctx, tx, connID, enabled, by, at) })
}

func setEnabledTx(ctx context.Context, tx *sql.Tx, connID string, enabled bool, by string, at int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO conn_enabled (conn_id, enabled, by_user, at_ms) VALUES (?, ?, ?, ?)
ON CONFLICT (conn_id) DO UPDATE SET enabled = excluded.enabled, by_user = excluded.by_user, at_ms = excluded.at_ms`,
		connID, enabled, by, at)
	return err
}

// AddTickers records symbols added to connID at runtime. Adding a symbol
// whose removal was recorded cancels that removal (the connection is back to
// its configured list for it); adding one already added changes nothing.
func (s *Store) AddTickers(ctx context.Context, connID string, symbols []string, by string) error {
	return s.changeTickers(ctx, connID, symbols, by, TickerAdded)
}

// RemoveTickers records symbols removed from connID at runtime. Removing a
// symbol that was added at runtime cancels the addition; removing one
// already removed changes nothing.
func (s *Store) RemoveTickers(ctx context.Context, connID string, symbols []string, by string) error {
	return s.changeTickers(ctx, connID, symbols, by, TickerRemoved)
}

func (s *Store) changeTickers(ctx context.Context, connID string, symbols []string, by string, want TickerOp) error {
	op := fmt.Sprintf("save %s %s", tickerVerb(want), connID)
	if err := checkSymbols(connID, symbols); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	at := ms(s.now())
	return s.write(ctx, op, func(tx *sql.Tx) error { return changeTickersTx(ctx, tx, connID, symbols, by, want, at) })
}

func tickerVerb(want TickerOp) string {
	if want == TickerAdded {
		return "add tickers to"
	}
	return "remove tickers from"
}

func changeTickersTx(ctx context.Context, tx *sql.Tx, connID string, symbols []string, by string, want TickerOp, at int64) error {
	// An opposite override cancels out: delete it. Otherwise insert
	// ours, keeping the first by/at if the same override exists.
	del, err := tx.PrepareContext(ctx, `DELETE FROM conn_tickers WHERE conn_id = ? AND symbol = ? AND op <> ?`)
	if err != nil {
		return err
	}
	defer del.Close()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO conn_tickers (conn_id, symbol, op, by_user, at_ms) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (conn_id, symbol) DO NOTHING`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, sym := range symbols {
		res, err := del.ExecContext(ctx, connID, sym, string(want))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			continue
		}
		if _, err := ins.ExecContext(ctx, connID, sym, string(want), by, at); err != nil {
			return err
		}
	}
	return nil
}

// ResetConnection removes every override of connID, returning it to its
// configured state. It reports whether there was anything to remove.
func (s *Store) ResetConnection(ctx context.Context, connID string) (bool, error) {
	op := "reset " + connID
	if err := checkID("connection id", connID); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	var n int64
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		var err error
		n, err = resetTx(ctx, tx, connID)
		return err
	})
	return n > 0, err
}

// resetTx deletes connID's overrides and says how many rows went.
func resetTx(ctx context.Context, tx *sql.Tx, connID string) (int64, error) {
	var n int64
	for _, q := range []string{`DELETE FROM conn_enabled WHERE conn_id = ?`, `DELETE FROM conn_tickers WHERE conn_id = ?`} {
		res, err := tx.ExecContext(ctx, q, connID)
		if err != nil {
			return n, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}

// Overrides returns every connection's overrides, sorted by connection id,
// for applying at start-up and for the dashboard's "changed at runtime" marks.
func (s *Store) Overrides(ctx context.Context) ([]ConnOverride, error) {
	const op = "read connection overrides"
	type enabledRow struct {
		conn string
		EnabledOverride
	}
	type tickerRow struct {
		conn string
		TickerOverride
	}
	enabled, err := queryAll(ctx, s, op, `SELECT conn_id, enabled, by_user, at_ms FROM conn_enabled`,
		func(sc rowScanner) (r enabledRow, err error) {
			var at int64
			err = sc.Scan(&r.conn, &r.Enabled, &r.By, &at)
			r.At = fromMS(at)
			return r, err
		})
	if err != nil {
		return nil, err
	}
	tickers, err := queryAll(ctx, s, op, `SELECT conn_id, symbol, op, by_user, at_ms FROM conn_tickers ORDER BY conn_id, symbol`,
		func(sc rowScanner) (r tickerRow, err error) {
			var at int64
			err = sc.Scan(&r.conn, &r.Symbol, &r.Op, &r.By, &at)
			r.At = fromMS(at)
			return r, err
		})
	if err != nil {
		return nil, err
	}
	byConn := map[string]*ConnOverride{}
	get := func(id string) *ConnOverride {
		if o, ok := byConn[id]; ok {
			return o
		}
		o := &ConnOverride{ConnectionID: id}
		byConn[id] = o
		return o
	}
	for _, r := range enabled {
		get(r.conn).Enabled = &r.EnabledOverride
	}
	for _, r := range tickers {
		o := get(r.conn)
		o.Tickers = append(o.Tickers, r.TickerOverride)
	}
	out := make([]ConnOverride, 0, len(byConn))
	for _, o := range byConn {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ConnectionID < out[j].ConnectionID })
	return out, nil
}

// closeRows reports an iteration error, then closes.
func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}
