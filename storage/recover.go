package storage

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Recovered counts what Recover copied and what it could not read, per table.
type Recovered struct {
	Tables  []string // every table copied, in the order of the schema
	Copied  map[string]int64
	Skipped map[string]int64 // row ids in unreadable parts of the file (not all held a row)
	// JournalSeqLost is true when the damaged file's record of the ingest journal's last imported
	// sequence could not be read: frames a crash left in the journal may then be imported again.
	JournalSeqLost bool
}

// notRecovered are the schema's tables Recover does not copy: the full-text index (a virtual table
// and the tables behind it), which the new file's indexer rebuilds.
func notRecovered(table string) bool { return strings.HasPrefix(table, "events_fts") }

// recoverFilter leaves rows out of a copy: the index's watermark, since the index starts empty.
var recoverFilter = map[string]string{"meta": "key <> 'index_watermark'"}

// recoverChunk is how many rows are copied at a time; a chunk that cannot be read is retried row
// by row, so damage costs only the rows on the damaged pages.
const recoverChunk = 256

// Recover copies every row that can still be read from the damaged database at damaged into a new
// database at dest (which must not exist), and reports what it copied and skipped. damaged is
// only read.
func Recover(ctx context.Context, damaged, dest string) (Recovered, error) {
	if _, err := os.Stat(dest); err == nil {
		return Recovered{}, fmt.Errorf("recover into %s: the file already exists", dest)
	}
	out, err := Open(ctx, dest)
	if err != nil {
		return Recovered{}, fmt.Errorf("recover: create %s: %w", dest, err)
	}
	defer out.Close()
	conn, err := out.writer.Conn(ctx)
	if err != nil {
		return Recovered{}, fmt.Errorf("recover: %w", err)
	}
	defer conn.Close()
	src := "file:" + (&url.URL{Path: damaged}).EscapedPath() + "?mode=ro"
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS old`, src); err != nil {
		return Recovered{}, fmt.Errorf("recover: read %s: %w", damaged, err)
	}
	defer conn.ExecContext(context.Background(), `DETACH DATABASE old`)

	rep := Recovered{Copied: map[string]int64{}, Skipped: map[string]int64{}}
	tables, err := schemaTables(ctx, conn)
	if err != nil {
		return rep, err
	}
	for _, table := range tables {
		cols, err := commonColumns(ctx, conn, table)
		if err != nil {
			return rep, err
		}
		rep.Tables = append(rep.Tables, table)
		if len(cols) == 0 {
			continue // the damaged file has no such table (or its schema is unreadable)
		}
		copied, skipped, err := copyTable(ctx, conn, table, cols, recoverFilter[table])
		rep.Copied[table], rep.Skipped[table] = copied, skipped
		if err != nil {
			return rep, err
		}
	}
	var seq int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM main.meta WHERE key = 'journal_seq'`).Scan(&seq); err != nil {
		return rep, fmt.Errorf("recover: %w", err)
	}
	var events sql.NullInt64
	_ = conn.QueryRowContext(ctx, `SELECT max(id) FROM main.events`).Scan(&events)
	rep.JournalSeqLost = seq == 0 && events.Valid
	return rep, nil
}

// schemaTables lists the tables this version's schema has, in the order they were created (so a
// table comes after those it refers to), leaving out what is rebuilt rather than copied. Walking
// the schema means a table added later is recovered without anyone remembering to list it.
func schemaTables(ctx context.Context, conn *sql.Conn) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT name FROM main.sqlite_schema WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("recover: read the schema: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("recover: read the schema: %w", err)
		}
		if !notRecovered(name) {
			out = append(out, name)
		}
	}
	return out, rows.Err()
}

// commonColumns lists the columns table has in both databases.
func commonColumns(ctx context.Context, conn *sql.Conn, table string) ([]string, error) {
	columns := func(schema string) (map[string]bool, []string, error) {
		rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT name FROM %s.pragma_table_info(?)`, schema), table)
		if err != nil {
			return nil, nil, err
		}
		defer rows.Close()
		set, order := map[string]bool{}, []string(nil)
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				return nil, nil, err
			}
			set[name] = true
			order = append(order, name)
		}
		return set, order, rows.Err()
	}
	have, _, err := columns("old")
	if err != nil {
		return nil, nil // an unreadable schema entry: nothing of that table can be read
	}
	_, want, err := columns("main")
	if err != nil {
		return nil, fmt.Errorf("recover: read the new schema: %w", err)
	}
	var out []string
	for _, c := range want {
		if have[c] {
			out = append(out, `"`+c+`"`)
		}
	}
	return out, nil
}

// copyTable copies table's readable rows (those filter keeps, when it is not "") in rowid chunks.
func copyTable(ctx context.Context, conn *sql.Conn, table string, cols []string, filter string) (copied, skipped int64, err error) {
	list := strings.Join(cols, ", ")
	insert := fmt.Sprintf(`INSERT OR IGNORE INTO main.%s (%s) SELECT %s FROM old.%s WHERE rowid BETWEEN ? AND ?`, table, list, list, table)
	if filter != "" {
		insert += " AND " + filter
	}
	var last sql.NullInt64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT max(rowid) FROM old.%s`, table)).Scan(&last); err != nil {
		// The right edge of the table is damaged: look for rows as far as ids plausibly go.
		last = sql.NullInt64{Int64: 1 << 40, Valid: true}
	}
	if !last.Valid {
		return 0, 0, nil
	}
	empty := 0
	for from := int64(1); from <= last.Int64; from += recoverChunk {
		if err := ctx.Err(); err != nil {
			return copied, skipped, err
		}
		to := from + recoverChunk - 1
		res, err := conn.ExecContext(ctx, insert, from, to)
		if err == nil {
			n, _ := res.RowsAffected()
			copied += n
			if n == 0 {
				empty++
			} else {
				empty = 0
			}
			if last.Int64 == 1<<40 && empty > 1000 {
				break // far past the last readable row
			}
			continue
		}
		if !IsDamaged(err) {
			return copied, skipped, fmt.Errorf("recover %s: %w", table, err)
		}
		for id := from; id <= to; id++ {
			res, err := conn.ExecContext(ctx, insert, id, id)
			switch {
			case err == nil:
				n, _ := res.RowsAffected()
				copied += n
			case IsDamaged(err):
				skipped++
			default:
				return copied, skipped, fmt.Errorf("recover %s: %w", table, err)
			}
		}
	}
	return copied, skipped, nil
}
