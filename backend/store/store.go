package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/rs/zerolog"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FileName is the database file inside DATA_DIR.
const FileName = "tickwatch.db"

// lockName is the flock file inside DATA_DIR; it holds the owner's pid.
const lockName = "tickwatch.lock"

// Defaults for Options' zero values.
const (
	DefaultBusyTimeout        = 5 * time.Second
	DefaultReaders            = 4
	DefaultTokenTouchInterval = time.Minute
)

// Options tune a Store; the zero value is ready to use.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by ANOTHER
	// process (a backup, a sqlite3 shell) before failing with ErrBusy.
	// Writers inside this process never wait on SQLite's lock: they queue
	// for the single write connection instead.
	BusyTimeout time.Duration
	// Readers caps the read-only connection pool.
	Readers int
	// TokenTouchInterval: TouchToken and TouchConsumerKey write a last-used
	// time at most this often per credential, so a script calling the API in a loop does not turn every
	// request into a disk write.
	TokenTouchInterval time.Duration
	// Now is the clock for created/at stamps and pruning (tests pass a fake).
	Now func() time.Time
	// Log receives RunPruner's reports; the zero Logger discards them.
	Log zerolog.Logger
	// MaxPageCount, when > 0, caps the file at that many pages on the
	// writer connection: a write that needs one more fails as a full disk
	// would (ErrFull). Tests use it to give a whole server a full disk; the
	// product leaves it 0 (SQLite's own limit).
	MaxPageCount int
}

// Store is the open database. Create it with Open, release it with Close.
type Store struct {
	dir  string // absolute DATA_DIR
	path string // absolute path of tickwatch.db

	w *sql.DB // exactly one connection: the single writer
	r *sql.DB // query-only connections for reads

	lock *flock.Flock

	now        func() time.Time
	touchEvery time.Duration
	log        zerolog.Logger

	touchMu sync.Mutex
	touched map[touchKey]time.Time // last-used stamp last written (throttle)

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the store in dir: creates dir (0700), takes
// DATA_DIR's lock, opens tickwatch.db in WAL mode and runs pending schema
// migrations. Every failure names the path and what to do about it.
func Open(dir string, opts Options) (*Store, error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if opts.Readers < 1 {
		opts.Readers = DefaultReaders
	}
	if opts.TokenTouchInterval <= 0 {
		opts.TokenTouchInterval = DefaultTokenTouchInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if strings.TrimSpace(dir) == "" {
		return nil, failf(ErrDataDir, "DATA_DIR is empty; set it to a directory tickwatch may write")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, failf(ErrDataDir, "DATA_DIR %s: %v", dir, err)
	}
	if err := makeDataDir(abs); err != nil {
		return nil, err
	}
	lock, err := lockDataDir(abs)
	if err != nil {
		return nil, err
	}
	s := &Store{
		dir:        abs,
		path:       filepath.Join(abs, FileName),
		lock:       lock,
		now:        opts.Now,
		touchEvery: opts.TokenTouchInterval,
		log:        opts.Log,
		touched:    make(map[touchKey]time.Time),
	}
	if err := s.open(opts); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Dir is the absolute DATA_DIR.
func (s *Store) Dir() string { return s.dir }

// Path is the absolute path of tickwatch.db.
func (s *Store) Path() string { return s.path }

// DBPath is where the database lives in dataDir; the backup command uses it.
func DBPath(dataDir string) string { return filepath.Join(dataDir, FileName) }

// makeDataDir creates dir (0700: the file holds token hashes and the audit
// log) or says why it cannot.
func makeDataDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return failf(ErrDataDir, "DATA_DIR %s is a file, not a directory; set DATA_DIR to a directory", dir)
		}
		return nil
	}
	// Any other Stat failure (missing, a file in the path, no search
	// permission) is best explained by what MkdirAll says about it.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return failf(ErrDataDir, "DATA_DIR %s cannot be created (%v); create it writable for the tickwatch user or set DATA_DIR to a writable directory", dir, pathErrText(err))
	}
	return nil
}

// lockDataDir takes an exclusive flock on DATA_DIR/tickwatch.lock so that a
// second server on the same DATA_DIR fails at start instead of two processes
// each believing their in-memory view of the overrides. flock (not the
// database's own locks) because SQLite's locks are per transaction and a
// backup must still be able to read. The kernel drops the lock when the
// process dies, so a crash never leaves a stale lock behind.
func lockDataDir(dir string) (*flock.Flock, error) {
	path := filepath.Join(dir, lockName)
	lk := flock.New(path, flock.SetPermissions(0o600))
	ok, err := lk.TryLock()
	if err != nil {
		return nil, failf(ErrDataDir, "DATA_DIR %s is not writable (%s: %v); give the tickwatch user write access or set DATA_DIR to a writable directory", dir, lockName, pathErrText(err))
	}
	if !ok {
		pid := "unknown"
		if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			pid = strings.TrimSpace(string(b))
		}
		return nil, failf(ErrInUse, "DATA_DIR %s is in use by another tickwatch process (pid %s?); stop it or give this one its own DATA_DIR (a backup needs no lock: use `tickwatch backup`)", dir, pid)
	}
	// Best effort: the pid only makes the in-use message friendlier.
	_ = os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	return lk, nil
}

// pathErrText is the OS reason without the operation and path that our own
// message already states.
func pathErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// dsn builds a file: URI for path (escaped, so a DATA_DIR with '?', '#' or
// '%' still names the right file) with the given query.
func dsn(path string, q string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	return u.String() + "?" + q
}

func (s *Store) open(opts Options) error {
	busy := "_pragma=busy_timeout(" + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10) + ")"
	limit := ""
	if opts.MaxPageCount > 0 {
		limit = "&_pragma=max_page_count(" + strconv.Itoa(opts.MaxPageCount) + ")"
	}
	// synchronous=FULL: admin actions are rare and must survive a power cut
	// once the API answered; the fsync per commit costs nothing at this rate.
	w, err := sql.Open("sqlite", dsn(s.path, busy+
		"&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"+limit))
	if err != nil {
		return classify("open store", s.path, err)
	}
	// One connection: in-process writers queue in database/sql's pool, so
	// 50 concurrent admin actions never see SQLITE_BUSY.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	s.w = w
	ctx := context.Background()
	if err := w.PingContext(ctx); err != nil {
		return classify("open store", s.path, err)
	}
	if err := migrate(ctx, w, s.path, schemaSteps()); err != nil {
		return err
	}
	r, err := sql.Open("sqlite", dsn(s.path, busy+"&_pragma=foreign_keys(1)&_pragma=query_only(1)"))
	if err != nil {
		return classify("open store for reading", s.path, err)
	}
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	s.r = r
	if err := r.PingContext(ctx); err != nil {
		return classify("open store for reading", s.path, err)
	}
	return nil
}

// Close closes the database and releases DATA_DIR's lock. Safe to call twice.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		if s.w != nil {
			// Closing the last connection checkpoints the WAL into the file.
			errs = append(errs, s.w.Close())
		}
		if s.lock != nil {
			errs = append(errs, s.lock.Unlock())
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close store %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// write runs fn in one IMMEDIATE transaction on the single writer
// connection and commits; any error rolls back and is classified. op names
// the action for the message ("add tickers to connection_2").
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return classify(op, s.path, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		if errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%s: %w", op, err)
		}
		return classify(op, s.path, err)
	}
	if err := tx.Commit(); err != nil {
		_ = tx.Rollback()
		return classify(op, s.path, err)
	}
	return nil
}

// ms and fromMS store times as INTEGER Unix milliseconds: compact, indexable
// and ordered, and the precision the dashboard shows.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func toNullMS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(*t), Valid: true}
}
