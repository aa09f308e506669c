package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxIndexedBody is how much of a text body goes into the full-text index. Larger bodies are
// searchable by their first part only; this keeps the index and indexing time bounded.
const maxIndexedBody = 256 << 10

// SearchExpr turns what a person typed into an FTS5 query that matches events containing every
// word. Each word becomes a quoted phrase, so FTS5 operators (AND, OR, NEAR, column filters,
// parentheses) and SQL in the input are only ever searched for as text. A trailing '*' on a word
// keeps its meaning of "prefix". It returns "" when the input has nothing searchable.
func SearchExpr(input string) string {
	var terms []string
	for _, word := range strings.Fields(input) {
		prefix := strings.HasSuffix(word, "*")
		word = strings.TrimRight(word, "*")
		if !strings.ContainsFunc(word, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue // nothing the tokenizer would keep
		}
		term := `"` + strings.ReplaceAll(word, `"`, `""`) + `"`
		if prefix {
			term += "*"
		}
		terms = append(terms, term)
	}
	return strings.Join(terms, " ")
}

// IndexPending adds up to max not-yet-indexed events to the full-text index and returns how many
// it indexed. It runs in its own short transaction so ingest waits at most one chunk; the index
// can be rebuilt from the events, so it commits without an fsync of its own (the next durable
// ingest commit flushes it).
func (s *Store) IndexPending(ctx context.Context, max int) (_ int, err error) {
	defer func() { err = classify(err) }()
	n := 0
	err = s.relaxedWrite(ctx, func(tx *sql.Tx) error {
		watermark, err := metaValue(ctx, tx, "index_watermark")
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, method, path, query, headers, body FROM events
			WHERE id > ? ORDER BY id LIMIT ?`, watermark, max)
		if err != nil {
			return fmt.Errorf("read events to index: %w", err)
		}
		type doc struct {
			id                  int64
			method, path, query string
			headers             []byte
			body                []byte
		}
		var docs []doc
		for rows.Next() {
			var d doc
			if err := rows.Scan(&d.id, &d.method, &d.path, &d.query, &d.headers, &d.body); err != nil {
				rows.Close()
				return fmt.Errorf("read events to index: %w", err)
			}
			docs = append(docs, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read events to index: %w", err)
		}
		if len(docs) == 0 {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO events_fts (rowid, method, path, query, headers, body) VALUES (?,?,?,?,?,?)`)
		if err != nil {
			return fmt.Errorf("index events: %w", err)
		}
		defer stmt.Close()
		for _, d := range docs {
			if _, err := stmt.ExecContext(ctx, d.id, d.method, d.path, d.query, d.headers, indexableText(d.body)); err != nil {
				return fmt.Errorf("index event %d: %w", d.id, err)
			}
		}
		n = len(docs)
		return setMeta(ctx, tx, "index_watermark", docs[len(docs)-1].id)
	})
	return n, err
}

// IndexBacklog is how many events wait for the full-text index.
func (s *Store) IndexBacklog(ctx context.Context) (int64, error) {
	var n int64
	err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM events
		WHERE id > coalesce((SELECT value FROM meta WHERE key='index_watermark'), 0)`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count index backlog: %w", err)
	}
	return n, nil
}

// indexableText returns the part of a body that goes into the index: text only, cut at a rune
// boundary. Binary bodies are not indexed.
func indexableText(body []byte) string {
	if len(body) > maxIndexedBody {
		body = body[:maxIndexedBody]
		for len(body) > 0 && !utf8.Valid(body[len(body)-min(len(body), utf8.UTFMax):]) {
			body = body[:len(body)-1]
		}
	}
	if !utf8.Valid(body) {
		return ""
	}
	return string(body)
}

// relaxedWrite runs fn in a write transaction committed with synchronous=NORMAL: for derived data
// that a crash may lose without harm.
func (s *Store) relaxedWrite(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("get writer connection: %w", err)
	}
	defer conn.Close()
	return relaxed(ctx, conn, func() error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
}

// relaxed runs fn with the writer's connection conn at synchronous=NORMAL, held throughout so no
// other write runs under the relaxed setting, and puts FULL back after it. If that fails, the
// connection is discarded (database/sql opens a new one with the DSN's FULL setting) and the
// error joins fn's.
func relaxed(ctx context.Context, conn *sql.Conn, fn func() error) (err error) {
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous=NORMAL`); err != nil {
		return fmt.Errorf("relax synchronous: %w", err)
	}
	defer func() {
		// Restore with a fresh context: a cancelled ctx must not leave the connection relaxed.
		if _, rerr := conn.ExecContext(context.Background(), `PRAGMA synchronous=FULL`); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("restore synchronous=FULL: %w", rerr))
		}
	}()
	return fn()
}

func metaValue(ctx context.Context, tx *sql.Tx, key string) (int64, error) {
	var v int64
	err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key=?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	return v, nil
}

func setMeta(ctx context.Context, tx *sql.Tx, key string, v int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v)
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}
