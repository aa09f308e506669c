package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// rawConn is the writer's driver connection, for the few hot statements that database/sql's
// per-call overhead would dominate. Its calls pass a context without Done: the driver would
// otherwise start a goroutine per statement to watch it.
type rawConn struct{ c *sqlite3.SQLiteConn }

func (r *rawConn) exec(query string, args ...any) error {
	_, err := r.c.ExecContext(context.Background(), query, named(args))
	return err
}

func (r *rawConn) prepare(query string) (driver.Stmt, error) {
	return r.c.PrepareContext(context.Background(), query)
}

// execStmt runs a prepared statement that returns no rows.
func execStmt(st driver.Stmt, args ...any) error {
	_, err := st.(driver.StmtExecContext).ExecContext(context.Background(), named(args))
	return err
}

// insertStmt runs a prepared INSERT and returns the new row's id.
func insertStmt(st driver.Stmt, args ...any) (int64, error) {
	res, err := st.(driver.StmtExecContext).ExecContext(context.Background(), named(args))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// queryInt64 runs a prepared statement for one integer; 0 when it returns no row.
func queryInt64(st driver.Stmt, args ...any) (int64, error) {
	rows, err := st.(driver.StmtQueryContext).QueryContext(context.Background(), named(args))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		return 0, err
	}
	n, _ := dest[0].(int64)
	return n, nil
}

func named(args []any) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}
