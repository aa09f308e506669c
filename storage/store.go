// Package storage is Hooktray's SQLite database: endpoints, the event history with its full-text
// index, and the schema migrations that later features extend.
//
// Writes go through one connection (SQLite allows one writer at a time, and queuing them in Go is
// cheaper than SQLite's busy-wait); reads use a separate pool so the GUI and the admin API never
// wait behind ingest.
package storage

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/hooktray/hooktray/hook"
)

// ErrNotDatabase means the file at the database path is not a Hooktray database. Open never
// modifies such a file.
var ErrNotDatabase = errors.New("not a Hooktray database")

// ErrNoFTS5 means the binary was built without SQLite's FTS5 module (build tag sqlite_fts5).
var ErrNoFTS5 = errors.New("this build of Hooktray lacks SQLite's full-text search (FTS5)")

// Store is an open Hooktray database. It is safe for concurrent use.
type Store struct {
	path   string
	writer *sql.DB // exactly one connection: every write is serialised here
	reader *sql.DB // read-only pool
	// checkpointer copies the WAL into the database beside the writer, never blocking it.
	checkpointer *sql.DB
	unchecked    bool // the quick check at open did not finish: CheckIntegrity should
}

// NeedsCheck reports whether the quick check at open ran out of time, so that CheckIntegrity
// should complete it.
func (s *Store) NeedsCheck() bool { return s.unchecked }

// CheckIntegrity runs SQLite's quick_check to the end on the read pool (never blocking writes)
// and returns a DamagedError if it finds damage.
func (s *Store) CheckIntegrity(ctx context.Context) error {
	return quickCheck(ctx, s.reader, s.path, 0)
}

// readers is the size of the read pool.
const readers = 4

// PageSize is the page size of new databases.
const PageSize = 16384

// sqliteMagic is the first 16 bytes of every SQLite 3 database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Open opens (creating if needed) the database at path and migrates its schema. A file that is not
// a SQLite database, or a SQLite database that is not Hooktray's, is refused with ErrNotDatabase
// and left untouched.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := func(params string) string {
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + params
	}
	unchecked := false
	if err := inspect(ctx, path, dsn("mode=ro")); errors.Is(err, errUnchecked) {
		unchecked = true // a large history: CheckIntegrity finishes the check in the background
	} else if err != nil {
		return nil, err
	}
	// SQLite gives the -wal and -shm files the database file's mode, so creating it private
	// keeps the whole history private.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	// _txlock=immediate: a write transaction takes the write lock at BEGIN, so it can never fail
	// half-way with SQLITE_BUSY when upgrading from a read lock.
	writer := sql.OpenDB(connector{
		dsn: dsn("_synchronous=FULL&_busy_timeout=10000&_txlock=immediate&_foreign_keys=1"),
		// auto_vacuum and page_size only take on a new database, before WAL mode is set.
		// INCREMENTAL lets retention hand freed pages back in small steps. Big pages mean fewer
		// WAL frames, so fewer system calls per commit. Checkpoints run in the background
		// (Checkpoint), not inside an ingest commit. journal_size_limit trims the WAL file after
		// a checkpoint resets it.
		init: fmt.Sprintf(`PRAGMA auto_vacuum=INCREMENTAL; PRAGMA page_size=%d; PRAGMA journal_mode=WAL;
			PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864`, PageSize),
	})
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	s := &Store{path: path, writer: writer, unchecked: unchecked}
	if err := s.prepareSchema(ctx); err != nil {
		writer.Close()
		return nil, err
	}
	reader, err := sql.Open("sqlite3", dsn("mode=ro&_busy_timeout=10000&_query_only=1"))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open database %s for reading: %w", path, err)
	}
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	s.reader = reader
	// synchronous=NORMAL (not OFF): Checkpoint's durability depends on its syncs.
	s.checkpointer = sql.OpenDB(connector{dsn: dsn("_busy_timeout=10000&_synchronous=NORMAL")})
	s.checkpointer.SetMaxOpenConns(1)
	return s, nil
}

// ApplicationID marks a SQLite file as Hooktray's history (PRAGMA application_id, "HkTy").
const ApplicationID = 0x486b5479

// expectedTables are the tables every Hooktray schema has; a database from before the
// application id was set is recognised by them.
var expectedTables = []string{"meta", "endpoints", "events", "events_fts", "secrets"}

// QuickCheckTime bounds the damage check at open, so a large history still starts at once; a check
// that did not finish in time is completed in the background (CheckIntegrity), and SQLite also
// reports damage as it reads.
const QuickCheckTime = 100 * time.Millisecond

// DamagedError means SQLite found the database damaged. Hooktray refuses to write to it, so
// nothing more is lost; the user moves it aside or recovers what can be read.
type DamagedError struct {
	Path     string
	Findings string // SQLite's own words, first lines
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("the history %s is damaged (%s)", e.Path, e.Findings)
}

// Unwrap makes errors.Is(err, hook.ErrDamaged) true.
func (e *DamagedError) Unwrap() error { return hook.ErrDamaged }

// IsDamaged reports whether err says the database file is damaged, at open or later.
func IsDamaged(err error) bool {
	if errors.Is(err, hook.ErrDamaged) {
		return true
	}
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB)
}

// inspect refuses an existing file that is not a Hooktray database, or one that is damaged,
// reading it only: opening the writer would already switch it to WAL mode.
func inspect(ctx context.Context, path, readOnlyDSN string) error {
	exists, err := checkHeader(path)
	if err != nil || !exists {
		return err
	}
	db, err := sql.Open("sqlite3", readOnlyDSN)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	defer db.Close()
	var appID, version int
	if err := db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
		return describeOpenError(path, err)
	}
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return describeOpenError(path, err)
	}
	tables := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table'`)
	if err != nil {
		return describeOpenError(path, err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return describeOpenError(path, err)
		}
		tables[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return describeOpenError(path, err)
	}
	switch {
	case appID == ApplicationID:
	case appID != 0:
		return fmt.Errorf("%s: %w (it belongs to another program, application id %#x)", path, ErrNotDatabase, appID)
	case version == 0 && len(tables) == 0:
		// A new, empty database.
	case version == 0:
		return fmt.Errorf("%s: %w (it is a SQLite database of another program)", path, ErrNotDatabase)
	default:
		// Written before the application id was set: Hooktray's only if its tables are there.
		for _, t := range expectedTables {
			if !tables[t] {
				return fmt.Errorf("%s: %w (it is a SQLite database of another program: it has no %s table)", path, ErrNotDatabase, t)
			}
		}
	}
	if version > len(migrations) {
		return fmt.Errorf("%s: schema version %d was written by a newer Hooktray (this one knows %d); upgrade Hooktray", path, version, len(migrations))
	}
	return quickCheck(ctx, db, path, QuickCheckTime)
}

// errUnchecked means the quick check at open ran out of time.
var errUnchecked = errors.New("not checked in time")

// quickCheck runs SQLite's quick_check, for at most limit when limit > 0, and refuses a damaged
// file.
func quickCheck(ctx context.Context, db *sql.DB, path string, limit time.Duration) error {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	findings, err := checkLines(ctx, db, `PRAGMA quick_check(20)`)
	switch {
	case ctx.Err() != nil:
		return errUnchecked
	case err != nil && IsDamaged(err):
		return &DamagedError{Path: path, Findings: err.Error()}
	case err != nil:
		return describeOpenError(path, err)
	case findings != "ok":
		return &DamagedError{Path: path, Findings: findings}
	}
	return nil
}

// checkLines runs an integrity pragma and joins what it reports (the first few lines).
func checkLines(ctx context.Context, db *sql.DB, pragma string) (string, error) {
	rows, err := db.QueryContext(ctx, pragma)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		if len(lines) < 3 {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "; "), rows.Err()
}

// checkHeader refuses a non-empty file that does not start with SQLite's magic bytes, before
// SQLite gets a chance to treat it as anything. It reports whether a non-empty file exists.
func checkHeader(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open database %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	if n == 0 && (err == io.EOF || err == nil) {
		return false, nil // an empty file is a database SQLite has not written to yet
	}
	if err != nil && err != io.ErrUnexpectedEOF {
		return false, fmt.Errorf("read database %s: %w", path, err)
	}
	if !bytes.Equal(head[:n], sqliteMagic) || n < len(sqliteMagic) {
		return false, fmt.Errorf("%s: %w (it is not a SQLite file; move it away to start a new history)", path, ErrNotDatabase)
	}
	return true, nil
}

// prepareSchema sets the writer connection up and applies pending migrations.
func (s *Store) prepareSchema(ctx context.Context) error {
	var mode string
	if err := s.writer.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return describeOpenError(s.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open database %s: journal mode is %q, want WAL", s.path, mode)
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	return nil
}

// describeOpenError turns SQLite's terse codes into sentences a user can act on.
func describeOpenError(path string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrNotADB:
			return fmt.Errorf("%s: %w (%v); move it away to start a new history", path, ErrNotDatabase, err)
		case sqlite3.ErrCorrupt:
			return &DamagedError{Path: path, Findings: err.Error()}
		case sqlite3.ErrCantOpen, sqlite3.ErrPerm, sqlite3.ErrReadonly:
			return fmt.Errorf("open database %s: cannot open or write it (%v); check the data dir's permissions", path, err)
		}
	}
	return fmt.Errorf("open database %s: %w", path, err)
}

// connector opens SQLite connections for sql.OpenDB and runs init on each new one.
type connector struct {
	dsn  string
	init string
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Driver().Open(c.dsn)
	if err != nil {
		return nil, err
	}
	if c.init != "" {
		if _, err := conn.(*sqlite3.SQLiteConn).Exec(c.init, nil); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return conn, nil
}

func (c connector) Driver() driver.Driver { return &sqlite3.SQLiteDriver{} }

// Checkpoint copies committed WAL frames into the database file without waiting for (or
// blocking) the writer or readers, and returns how many frames the WAL holds. Call it
// periodically: the writer never checkpoints by itself. complete says every transaction committed
// before the call is now in the database file, durably: the checkpointer's connection runs with
// synchronous=NORMAL, under which SQLite syncs the WAL before a checkpoint and the database file
// after it. A reader still on an older snapshot can keep a checkpoint from completing.
func (s *Store) Checkpoint(ctx context.Context) (frames int, complete bool, err error) {
	var busy, done int
	err = s.checkpointer.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done)
	if err != nil {
		return 0, false, fmt.Errorf("checkpoint: %w", err)
	}
	return frames, busy == 0 && done == frames, nil
}

// RestartWAL checkpoints the whole WAL and waits, at most wait, for readers to leave it, so that
// the next write starts the WAL over from its beginning (and trims the file to
// journal_size_limit). Under continuous writes Checkpoint alone never lets the WAL start over:
// some transaction always commits while it copies, so the WAL is never wholly copied when the
// next one begins, and the file grows for as long as the writes go on. Writers wait while it
// runs. It reports whether the WAL was wholly copied with no reader left in it.
func (s *Store) RestartWAL(ctx context.Context, wait time.Duration) (bool, error) {
	conn, err := s.checkpointer.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("restart the WAL: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout=%d`, wait.Milliseconds())); err != nil {
		return false, fmt.Errorf("restart the WAL: %w", err)
	}
	defer conn.ExecContext(context.Background(), `PRAGMA busy_timeout=10000`)
	var busy, frames, done int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &done); err != nil {
		return false, fmt.Errorf("restart the WAL: %w", err)
	}
	return busy == 0, nil
}

// ReleaseMemory hands back what SQLite caches: the read pool's idle connections are closed (new
// ones open when needed) and the writer shrinks its page cache. For when the app goes quiet, such
// as its window closing.
func (s *Store) ReleaseMemory(ctx context.Context) {
	s.reader.SetMaxIdleConns(0)
	s.reader.SetMaxIdleConns(readers)
	s.checkpointer.SetMaxIdleConns(0)
	s.checkpointer.SetMaxIdleConns(1)
	_, _ = s.writer.ExecContext(ctx, `PRAGMA shrink_memory`)
}

// Path is the database file's location.
func (s *Store) Path() string { return s.path }

// Close closes both connection pools. Pending writes have completed when it returns.
func (s *Store) Close() error {
	var errs []error
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.checkpointer != nil {
		errs = append(errs, s.checkpointer.Close())
	}
	if s.writer != nil {
		// A final checkpoint keeps the -wal file small between runs; failure is harmless.
		_, _ = s.writer.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		errs = append(errs, s.writer.Close())
	}
	return errors.Join(errs...)
}

// IntegrityCheck runs SQLite's full integrity check and returns its findings ("ok" when sound).
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	rows, err := s.reader.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return "", fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", fmt.Errorf("integrity check: %w", err)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// IsStorageFull reports whether err comes from a full disk or a database at its size limit, so
// callers can tell the user what to do about it.
func IsStorageFull(err error) bool {
	var se sqlite3.Error
	return errors.Is(err, hook.ErrStorageFull) || errors.As(err, &se) && se.Code == sqlite3.ErrFull
}

// classify marks SQLite's errors that the layers above act on with hook's sentinels, so that
// they can tell a full disk and a damaged file apart without knowing SQLite.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case IsStorageFull(err) && !errors.Is(err, hook.ErrStorageFull):
		return fmt.Errorf("%w: %w", hook.ErrStorageFull, err)
	case IsDamaged(err) && !errors.Is(err, hook.ErrDamaged):
		return fmt.Errorf("%w: %w", hook.ErrDamaged, err)
	}
	return err
}
