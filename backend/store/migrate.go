package store

import (
	"context"
	"database/sql"
	"fmt"
)

// applicationID marks the file as tickwatch's ("TWCH"), so a SQLite file of
// some other program put in DATA_DIR is refused instead of migrated.
const applicationID = 0x54574348

// step is one schema migration: it moves the schema from version i to i+1
// (i = its index in schemaSteps) inside one transaction, together with
// PRAGMA user_version, so a crash mid-step leaves the previous version.
type step struct {
	name  string
	apply func(ctx context.Context, tx *sql.Tx) error
}

// execSQL is a step that runs fixed DDL.
func execSQL(ddl string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, ddl)
		return err
	}
}

// schemaSteps is the migration list. Released steps are never edited, only
// appended to: a database at version N has run exactly steps[:N]. To add one
// (alert history, say): append a step, then add a case to migrate_test.go
// that seeds data at the previous version and checks it after the step.
func schemaSteps() []step {
	return []step{
		{name: "connection overrides and audit log", apply: execSQL(`
CREATE TABLE conn_enabled (
	conn_id TEXT PRIMARY KEY,
	enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
	by_user TEXT NOT NULL,
	at_ms   INTEGER NOT NULL
) STRICT;
CREATE TABLE conn_tickers (
	conn_id TEXT NOT NULL,
	symbol  TEXT NOT NULL,
	op      TEXT NOT NULL CHECK (op IN ('add', 'remove')),
	by_user TEXT NOT NULL,
	at_ms   INTEGER NOT NULL,
	PRIMARY KEY (conn_id, symbol)
) STRICT;
CREATE TABLE audit (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	at_ms     INTEGER NOT NULL,
	user      TEXT NOT NULL,
	role      TEXT NOT NULL,
	action    TEXT NOT NULL,
	target    TEXT NOT NULL,
	result    TEXT NOT NULL,
	detail    TEXT NOT NULL,
	client_ip TEXT NOT NULL
) STRICT;
CREATE INDEX audit_at ON audit (at_ms);
CREATE INDEX audit_user ON audit (user, id);
CREATE INDEX audit_action ON audit (action, id);
CREATE INDEX audit_target ON audit (target, id);
`)},
		{name: "API tokens", apply: execSQL(`
CREATE TABLE api_tokens (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user       TEXT NOT NULL,
	role       TEXT NOT NULL,
	name       TEXT NOT NULL,
	prefix     TEXT NOT NULL,
	hash       BLOB NOT NULL UNIQUE,
	created_ms INTEGER NOT NULL,
	expires_ms INTEGER,
	last_used_ms INTEGER,
	revoked_ms INTEGER
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens (user);
`)},
		{name: "relay consumer keys", apply: execSQL(`
CREATE TABLE consumer_keys (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT NOT NULL,
	prefix     TEXT NOT NULL,
	hash       BLOB NOT NULL UNIQUE,
	allow_list TEXT NOT NULL,
	max_conns  INTEGER NOT NULL CHECK (max_conns >= 0),
	created_by TEXT NOT NULL,
	created_ms INTEGER NOT NULL,
	last_used_ms INTEGER,
	revoked_ms INTEGER
) STRICT;
`)},
		{name: "alert history and acknowledgements", apply: execSQL(`
CREATE TABLE alerts (
	id          INTEGER PRIMARY KEY,
	dedup_key   TEXT NOT NULL,
	kind        TEXT NOT NULL,
	conn_id     TEXT NOT NULL,
	ticker      TEXT NOT NULL,
	source      TEXT NOT NULL,
	since_ms    INTEGER NOT NULL,
	fired_ms    INTEGER NOT NULL,
	resolved_ms INTEGER,
	value       REAL NOT NULL,
	threshold   REAL NOT NULL,
	unit        TEXT NOT NULL,
	message     TEXT NOT NULL,
	acked_by    TEXT,
	acked_ms    INTEGER
) STRICT;
CREATE INDEX alerts_fired ON alerts (fired_ms);
CREATE INDEX alerts_open ON alerts (resolved_ms) WHERE resolved_ms IS NULL;
`)},
	}
}

// SchemaVersion is the schema version this build writes and understands.
func SchemaVersion() int { return len(schemaSteps()) }

// migrate brings the database on db (the single writer) to len(steps),
// one transaction per step. path is only for messages.
func migrate(ctx context.Context, db *sql.DB, path string, steps []step) error {
	var appID int64
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return classify("read schema", path, err)
	}
	if appID != 0 && appID != applicationID {
		return failf(ErrCorrupt, "%s is a SQLite database of another program (application_id %#x); move it away or point DATA_DIR elsewhere", path, appID)
	}
	version, err := userVersion(ctx, db, path)
	if err != nil {
		return err
	}
	if version > len(steps) {
		return newerSchema(path, version, len(steps))
	}
	for i := version; i < len(steps); i++ {
		if err := applyStep(ctx, db, path, i, steps[i]); err != nil {
			return err
		}
	}
	return nil
}

func userVersion(ctx context.Context, db *sql.DB, path string) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, classify("read schema version", path, err)
	}
	return v, nil
}

func newerSchema(path string, have, know int) error {
	return failf(ErrNewerSchema, "database %s has schema version %d; this tickwatch understands up to %d: upgrade tickwatch or restore a backup", path, have, know)
}

// applyStep runs steps[i] (version i -> i+1) in one IMMEDIATE transaction.
// The version is re-read inside the transaction: the DATA_DIR lock keeps
// other servers out, but this keeps the step honest even so.
func applyStep(ctx context.Context, db *sql.DB, path string, i int, st step) error {
	op := fmt.Sprintf("migrate to schema version %d (%s)", i+1, st.name)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return classify(op, path, err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return classify(op, path, err)
	}
	if v != i {
		return fmt.Errorf("%s: schema version changed to %d under us; is another process writing %s?", op, v, path)
	}
	if err := st.apply(ctx, tx); err != nil {
		return classify(op, path, err)
	}
	// PRAGMAs take no bound parameters; both values are ints we control.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
		return classify(op, path, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return classify(op, path, err)
	}
	if err := tx.Commit(); err != nil {
		return classify(op, path, err)
	}
	return nil
}
