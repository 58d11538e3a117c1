// Package store keeps the state an admin creates, so that it survives a
// restart, in one embedded SQLite file: DATA_DIR/tickwatch.db (modernc.org/sqlite,
// pure Go, so the binary stays static and the image distroless).
//
// What is stored:
//   - connection overrides on top of the environment's configuration: a
//     connection enabled or disabled at runtime, and tickers added to or
//     removed from a connection at runtime, each with who and when;
//   - the audit log of admin actions, paged and filtered, pruned after a
//     retention period (DefaultAuditRetention);
//   - the alert history: every incident with its resolution and
//     acknowledgement; resolved ones are pruned after a retention period
//     (DefaultAlertRetention), firing ones never (RunPruner prunes both);
//   - API tokens (issue 10) and relay consumer keys (issue 13), as SHA-256
//     hashes plus a short display prefix: the plaintext is returned once, at
//     creation, and never stored.
//
// A schema change is a new migration: append a step to schemaSteps in
// migrate.go (never edit a released step) and extend wantSchema, seeds and
// checks in migrate_test.go, which then tests the new step from an empty
// file and from the previous version with data in it
// (TestSchemaStepsHaveSeedsAndChecks fails until they are extended).
//
// What is NOT stored: anything per tick. The store is only for admin actions
// and credentials; nothing on the ingest path may call it. Admin actions
// commit (fsync, synchronous=FULL) before they return, so a handler that got
// nil may tell the admin the change is saved.
//
// Files in DATA_DIR (created 0700 if missing): tickwatch.db and SQLite's
// tickwatch.db-wal / tickwatch.db-shm beside it, and tickwatch.lock, an flock
// held for the Store's lifetime so that two Tickwatch servers never share a
// DATA_DIR. A backup (BackupFile, VACUUM INTO) does not take that lock, so
// `tickwatch backup PATH` works from another process while the server runs.
//
// Concurrency model: the database is in WAL mode. All writes go through one
// connection (a *sql.DB limited to one open connection, transactions begun
// IMMEDIATE), so writers in this process queue in Go instead of racing for
// SQLite's lock, and SQLITE_BUSY can only come from another process (then the
// busy timeout applies). Reads use a separate pool of query-only connections;
// under WAL they see the last committed state and never wait for the writer.
// A Store is safe for concurrent use.
//
// Errors: bad states come back as errors that name the file or directory and
// say what to do, matchable with errors.Is against ErrDataDir, ErrInUse,
// ErrCorrupt, ErrNewerSchema, ErrBusy, ErrReadOnly, ErrFull, ErrNotFound,
// ErrExpired, ErrRevoked, ErrInvalid and ErrBackupExists. Driver error chains
// are not passed through for these; only unexpected errors keep the driver's
// text.
package store
