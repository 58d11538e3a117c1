package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// wantSchema is the schema (tables and named indexes) after each version.
var wantSchema = map[int][]string{
	0: {},
	1: {"audit", "audit_action", "audit_at", "audit_target", "audit_user", "conn_enabled", "conn_tickers"},
	2: {"api_tokens", "api_tokens_user", "audit", "audit_action", "audit_at", "audit_target", "audit_user", "conn_enabled", "conn_tickers"},
	3: {"api_tokens", "api_tokens_user", "audit", "audit_action", "audit_at", "audit_target", "audit_user", "conn_enabled", "conn_tickers", "consumer_keys"},
	4: {"alerts", "alerts_fired", "alerts_open", "api_tokens", "api_tokens_user", "audit", "audit_action", "audit_at", "audit_target", "audit_user", "conn_enabled", "conn_tickers", "consumer_keys"},
}

// seeds[v] writes rows that are valid at schema version v into the tables
// step v introduced; checks[v] verifies exactly those rows. Raw SQL on
// purpose: the seed must be what version v's code wrote, not what today's
// API writes.
var seeds = map[int][]string{
	1: {
		`INSERT INTO conn_enabled VALUES ('connection_2', 0, 'admin', 1796117400000)`,
		`INSERT INTO conn_tickers VALUES ('connection_1', 'NVDA', 'add', 'admin', 1796117400000)`,
		`INSERT INTO audit (at_ms, user, role, action, target, result, detail, client_ip) VALUES (1796117400000, 'admin', 'admin', 'disable', 'connection_2', 'ok', '', '10.0.0.1')`,
	},
	2: {`INSERT INTO api_tokens (user, role, name, prefix, hash, created_ms) VALUES ('ops', 'viewer', 'grafana', 'twt_abcdefgh', x'01', 1796117400000)`},
	3: {`INSERT INTO consumer_keys (name, prefix, hash, allow_list, max_conns, created_by, created_ms) VALUES ('recorder', 'twk_abcdefgh', x'02', '["AAPL"]', 2, 'admin', 1796117400000)`},
	4: {`INSERT INTO alerts (id, dedup_key, kind, conn_id, ticker, source, since_ms, fired_ms, value, threshold, unit, message, acked_by, acked_ms) VALUES (7, 'ticker_silent:connection_1:AAPL', 'ticker_silent', 'connection_1', 'AAPL', '', 1796117400000, 1796117520000, 120, 60, 'seconds', 'no event', 'admin', 1796117530000)`},
}

var checks = map[int]string{
	1: `SELECT (SELECT count(*) FROM conn_enabled WHERE conn_id = 'connection_2' AND enabled = 0)
	     + (SELECT count(*) FROM conn_tickers WHERE symbol = 'NVDA' AND op = 'add')
	     + (SELECT count(*) FROM audit WHERE action = 'disable' AND client_ip = '10.0.0.1')`,
	2: `SELECT count(*) * 3 FROM api_tokens WHERE name = 'grafana' AND hash = x'01' AND revoked_ms IS NULL`,
	3: `SELECT count(*) * 3 FROM consumer_keys WHERE name = 'recorder' AND max_conns = 2`,
	4: `SELECT count(*) * 3 FROM alerts WHERE id = 7 AND resolved_ms IS NULL AND acked_by = 'admin'`,
}

func TestSchemaStepsHaveSeedsAndChecks(t *testing.T) {
	// Adding a step without extending the tables below must fail here, so
	// no step goes untested from its previous version.
	for v := 1; v <= SchemaVersion(); v++ {
		if _, ok := wantSchema[v]; !ok {
			t.Errorf("wantSchema has no entry for version %d", v)
		}
		if len(seeds[v]) == 0 || checks[v] == "" {
			t.Errorf("no seed/check for version %d", v)
		}
	}
}

func TestMigrateEachStep(t *testing.T) {
	steps := schemaSteps()
	for n := 1; n <= len(steps); n++ {
		t.Run(steps[n-1].name+"/from empty", func(t *testing.T) {
			ctx := ctxT(t)
			db, path := rawDB(t)
			if err := migrate(ctx, db, path, steps[:n]); err != nil {
				t.Fatal(err)
			}
			checkSchema(t, db, n)
			seedAndCheck(t, db, n)
		})
		t.Run(steps[n-1].name+"/from previous", func(t *testing.T) {
			ctx := ctxT(t)
			db, path := rawDB(t)
			if err := migrate(ctx, db, path, steps[:n-1]); err != nil {
				t.Fatal(err)
			}
			checkSchema(t, db, n-1)
			for v := 1; v < n; v++ {
				seedAndCheck(t, db, v)
			}
			if err := migrate(ctx, db, path, steps[:n]); err != nil {
				t.Fatalf("step %d over seeded version %d: %v", n, n-1, err)
			}
			checkSchema(t, db, n)
			for v := 1; v < n; v++ {
				check(t, db, v) // the older data survived the step
			}
			seedAndCheck(t, db, n) // and the new schema takes data
			// Migrating again is a no-op.
			if err := migrate(ctx, db, path, steps[:n]); err != nil {
				t.Fatal(err)
			}
			checkSchema(t, db, n)
		})
	}
}

// TestMigrateFailedStepRollsBack: a step that fails halfway leaves the
// previous version intact, including the part of the step that had run.
func TestMigrateFailedStepRollsBack(t *testing.T) {
	ctx := ctxT(t)
	db, path := rawDB(t)
	steps := append(schemaSteps()[:2:2], step{name: "broken", apply: execSQL(`CREATE TABLE half (x); THIS IS NOT SQL`)})
	err := migrate(ctx, db, path, steps)
	if err == nil || !strings.Contains(err.Error(), "migrate to schema version 3 (broken)") || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want the failed step and the path named", err)
	}
	checkSchema(t, db, 2)
}

// TestOpenMigratesOldDatabase: a version-1 file (overrides and audit only)
// opened by today's Open comes up at the latest version with its data
// readable through the API.
func TestOpenMigratesOldDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mkdir(t, dir)
	ctx := ctxT(t)
	db := rawOpen(t, filepath.Join(dir, FileName))
	if err := migrate(ctx, db, filepath.Join(dir, FileName), schemaSteps()[:1]); err != nil {
		t.Fatal(err)
	}
	seedAndCheck(t, db, 1)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, _ := openT(t, dir)
	ov, err := s.Overrides(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ov) != 2 || ov[0].ConnectionID != "connection_1" || ov[0].Tickers[0].Symbol != "NVDA" ||
		ov[1].Enabled == nil || ov[1].Enabled.Enabled || !ov[1].Enabled.At.Equal(t0) {
		t.Errorf("overrides after migration = %+v", ov)
	}
	page, err := s.ListAudit(ctx, AuditFilter{})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].ClientIP != "10.0.0.1" {
		t.Errorf("audit after migration = %+v, %v", page, err)
	}
	if _, _, err := s.CreateConsumerKey(ctx, "k", nil, 0, "admin"); err != nil {
		t.Errorf("version-3 table unusable after migration: %v", err)
	}
}

func rawDB(t *testing.T) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	db := rawOpen(t, path)
	t.Cleanup(func() { _ = db.Close() })
	return db, path
}

func checkSchema(t *testing.T, db *sql.DB, version int) {
	t.Helper()
	ctx := context.Background()
	var got []string
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if err := closeRows(rows); err != nil {
		t.Fatal(err)
	}
	if want := wantSchema[version]; !slices.Equal(got, want) {
		t.Errorf("schema at version %d:\n got %v\nwant %v", version, got, want)
	}
	v, err := userVersion(ctx, db, "")
	if err != nil || v != version {
		t.Errorf("user_version = %d, %v; want %d", v, err, version)
	}
	var app int64
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		t.Fatal(err)
	}
	if version > 0 && app != applicationID {
		t.Errorf("application_id = %#x, want %#x", app, applicationID)
	}
}

func seedAndCheck(t *testing.T, db *sql.DB, v int) {
	t.Helper()
	for _, q := range seeds[v] {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("seed version %d: %s: %v", v, q, err)
		}
	}
	check(t, db, v)
}

func check(t *testing.T, db *sql.DB, v int) {
	t.Helper()
	var n int
	if err := db.QueryRow(checks[v]).Scan(&n); err != nil {
		t.Fatalf("check version %d: %v", v, err)
	}
	if n != 3 {
		t.Errorf("check version %d: %d of 3 seeded facts found", v, n)
	}
}
