package storage

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/hooktray/hooktray/hook"
)

// EncodeHeader writes h as "Name: value\r\n" lines sorted by name, the order and form a person
// reads in a raw HTTP dump. Values never contain CR or LF (net/http refuses those).
func EncodeHeader(buf []byte, h http.Header) []byte {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			buf = append(buf, k...)
			buf = append(buf, ": "...)
			buf = append(buf, v...)
			buf = append(buf, "\r\n"...)
		}
	}
	return buf
}

// DecodeHeader is the inverse of EncodeHeader. Names keep the case they were stored with.
func DecodeHeader(b []byte) http.Header {
	h := http.Header{}
	for len(b) > 0 {
		line := b
		if i := bytes.Index(b, []byte("\r\n")); i >= 0 {
			line, b = b[:i], b[i+2:]
		} else {
			b = nil
		}
		name, value, ok := bytes.Cut(line, []byte(": "))
		if !ok {
			name, value, _ = bytes.Cut(line, []byte(":"))
		}
		k := string(name)
		h[k] = append(h[k], string(value))
	}
	return h
}

const insertEventSQL = `INSERT INTO events (endpoint_id, received_at, status, method, path, query,
	headers, body, size, remote_addr, client_ip, delivery_id, duplicate_of, reason, response_status,
	type, verify_scheme, verify_result, verify_reason, decrypted, body_parts, inbox_seq, answered_by)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`

const insertPartSQL = `INSERT INTO event_body_parts (event_id, part, data) VALUES (?,?,?)`

const insertDeliverySQL = `INSERT INTO deliveries (event_id, target_id, status, next_at, created_at, updated_at)
	VALUES (?,?,'pending',?,?,?)`

// InsertBatch commits evs in one durable transaction (synchronous=FULL), setting each ID. An
// accepted event whose delivery id was already accepted for the same endpoint (earlier, or earlier
// in this batch) is stored as Duplicate with DuplicateOf set. On error nothing was committed and
// the events are as they were given.
func (s *Store) InsertBatch(ctx context.Context, evs []*hook.Event) error {
	if len(evs) == 0 {
		return nil
	}
	if err := s.writeEvents(ctx, evs, false, 0); err != nil {
		return classify(fmt.Errorf("store events: %w", err))
	}
	return nil
}

// ImportBatch stores evs as InsertBatch does and records upTo as the last ingest journal sequence
// imported, in one transaction committed with synchronous=NORMAL: ingest's journal is the
// durable copy until SyncDurable, so the commit need not wait for the disk.
func (s *Store) ImportBatch(ctx context.Context, evs []*hook.Event, upTo uint64) error {
	if err := s.writeEvents(ctx, evs, true, upTo); err != nil {
		return classify(fmt.Errorf("import events: %w", err))
	}
	return nil
}

// JournalSeq is the last ingest journal sequence ImportBatch recorded (0 for none).
func (s *Store) JournalSeq(ctx context.Context) (uint64, error) {
	var v int64
	err := s.writer.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='journal_seq'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, classify(fmt.Errorf("read the journal sequence: %w", err))
	}
	return uint64(v), nil
}

// SyncDurable makes every transaction committed so far durable: a commit under synchronous=FULL
// syncs the WAL, and with it every frame written before.
func (s *Store) SyncDurable(ctx context.Context) error {
	_, err := s.writer.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('synced_at', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, time.Now().UnixNano())
	if err != nil {
		return classify(fmt.Errorf("make the history durable: %w", err))
	}
	return nil
}

// writeEvents inserts evs and their deliveries in one transaction on the writer's connection;
// relax commits it with synchronous=NORMAL and records upTo as the journal sequence. It works
// on the driver's connection directly: database/sql converts and checks every argument of every
// call, which was a fifth of the importer's cost per row. On error nothing was committed and evs
// are as they were.
func (s *Store) writeEvents(ctx context.Context, evs []*hook.Event, relax bool, upTo uint64) error {
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("get writer connection: %w", err)
	}
	defer conn.Close()
	committed := false
	write := func() error {
		return conn.Raw(func(dc any) (err error) {
			c := &rawConn{c: dc.(*sqlite3.SQLiteConn)}
			if err := c.exec(`BEGIN IMMEDIATE`); err != nil {
				return fmt.Errorf("begin: %w", err)
			}
			err = insertEvents(ctx, c, evs)
			if err == nil && relax {
				err = c.exec(`INSERT INTO meta (key, value) VALUES ('journal_seq', ?)
					ON CONFLICT (key) DO UPDATE SET value = excluded.value`, int64(upTo))
			}
			if err == nil {
				if err = c.exec(`COMMIT`); err != nil {
					err = fmt.Errorf("commit: %w", err)
				}
			}
			if err != nil {
				if !c.c.AutoCommit() {
					c.exec(`ROLLBACK`)
				}
				undoInsert(evs)
				return err
			}
			committed = true
			return nil
		})
	}
	if relax {
		err = relaxed(ctx, conn, write)
	} else {
		err = write()
	}
	if committed {
		// The events are stored: a failed restore of synchronous=FULL cost only the connection,
		// which database/sql replaces. Reporting it would have the batch stored twice.
		return nil
	}
	return err
}

// undoInsert puts back what a rolled-back insertEvents changed, so the same events can be tried
// again.
func undoInsert(evs []*hook.Event) {
	for _, ev := range evs {
		ev.ID, ev.Queued = 0, ev.Queued[:0]
		if ev.DuplicateOf != 0 {
			ev.Status, ev.DuplicateOf = hook.Accepted, 0
		}
	}
}

// insertEvents inserts evs and their deliveries in c's transaction, setting IDs and marking
// duplicates.
func insertEvents(ctx context.Context, c *rawConn, evs []*hook.Event) error {
	w, err := newEventWriter(c)
	if err != nil {
		return err
	}
	defer w.close()
	for _, ev := range evs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.markDuplicate(ev); err != nil {
			return err
		}
		if err := w.insert(ev); err != nil {
			return err
		}
		if ev.Status != hook.Accepted {
			continue
		}
		if err := w.queueDeliveries(ev); err != nil {
			return err
		}
		if ev.DeliveryID != "" {
			w.seen[[2]string{ev.EndpointID, ev.DeliveryID}] = ev.ID
		}
	}
	return nil
}

// eventWriter writes a batch of events on one connection, its statements prepared on first use
// and its buffers reused from event to event.
type eventWriter struct {
	c                      *rawConn
	insertStmt             driver.Stmt
	findFirst, queue, part driver.Stmt         // prepared on first use
	seen                   map[[2]string]int64 // delivery ids accepted earlier in this batch
	hbuf                   []byte              // the encoded headers
	args                   []driver.NamedValue // the insert's arguments
	partBuf                []byte              // one part of a spooled body
}

func newEventWriter(c *rawConn) (*eventWriter, error) {
	insert, err := c.prepare(insertEventSQL)
	if err != nil {
		return nil, fmt.Errorf("insert event: %w", err)
	}
	w := &eventWriter{c: c, insertStmt: insert, seen: map[[2]string]int64{},
		hbuf: make([]byte, 0, 1024), args: make([]driver.NamedValue, 23)}
	for i := range w.args {
		w.args[i].Ordinal = i + 1
	}
	return w, nil
}

func (w *eventWriter) close() {
	for _, st := range []driver.Stmt{w.insertStmt, w.findFirst, w.queue, w.part} {
		if st != nil {
			st.Close()
		}
	}
}

// markDuplicate marks an accepted event whose delivery id the endpoint has had already (earlier
// in the history, or in this batch) as a duplicate of the first.
func (w *eventWriter) markDuplicate(ev *hook.Event) error {
	if ev.DeliveryID == "" || ev.Status != hook.Accepted {
		return nil
	}
	first := w.seen[[2]string{ev.EndpointID, ev.DeliveryID}]
	if first == 0 {
		var err error
		if w.findFirst == nil {
			if w.findFirst, err = w.c.prepare(`SELECT id FROM events WHERE endpoint_id=? AND delivery_id=?
				AND status=0 AND delivery_id IS NOT NULL ORDER BY id LIMIT 1`); err != nil {
				return fmt.Errorf("look up delivery id: %w", err)
			}
		}
		if first, err = queryInt64(w.findFirst, ev.EndpointID, ev.DeliveryID); err != nil {
			return fmt.Errorf("look up delivery id: %w", err)
		}
	}
	if first != 0 {
		ev.Status, ev.DuplicateOf = hook.Duplicate, first
	}
	return nil
}

// insert writes the event's row, setting its ID, and a spooled body's further parts.
func (w *eventWriter) insert(ev *hook.Event) error {
	w.hbuf = EncodeHeader(w.hbuf[:0], ev.Header)
	body, sp := ev.Body, (*spooled)(nil)
	parts := 0
	if ev.BodyFile != "" {
		if w.partBuf == nil {
			w.partBuf = make([]byte, BodyPart)
		}
		var err error
		if sp, body, err = openSpooled(ev, w.partBuf); err != nil {
			return err
		}
		if sp != nil { // nil: the file is gone, and the event is stored without its body
			parts = sp.parts
		}
	}
	for i, v := range [...]any{ev.EndpointID, ev.ReceivedAt.UnixNano(), int64(ev.Status),
		ev.Method, ev.Path, ev.Query, w.hbuf, body, ev.Size, ev.RemoteAddr, ev.ClientIP,
		nullString(ev.DeliveryID), nullInt(ev.DuplicateOf), ev.Reason, int64(ev.ResponseStatus),
		nullString(ev.Type), string(ev.Verification.Scheme), string(ev.Verification.Result),
		ev.Verification.Reason, ev.Decrypted, int64(parts), nullInt(ev.InboxSeq), ev.AnsweredBy} {
		w.args[i].Value = v
	}
	res, err := w.insertStmt.(driver.StmtExecContext).ExecContext(context.Background(), w.args)
	if err == nil {
		ev.ID, err = res.LastInsertId()
	}
	if err != nil {
		if sp != nil {
			sp.f.Close()
		}
		return fmt.Errorf("insert event: %w", err)
	}
	if sp == nil {
		return nil
	}
	if w.part == nil {
		if w.part, err = w.c.prepare(insertPartSQL); err != nil {
			sp.f.Close()
			return fmt.Errorf("store a body part: %w", err)
		}
	}
	return sp.storeRest(w.part, ev.ID)
}

// queueDeliveries queues a delivery of the event for each target it is forwarded to, in the same
// transaction: an acknowledged webhook's deliveries are as durable as it is.
func (w *eventWriter) queueDeliveries(ev *hook.Event) error {
	ev.Queued = ev.Queued[:0]
	for _, target := range ev.Forward {
		if w.queue == nil {
			var err error
			if w.queue, err = w.c.prepare(insertDeliverySQL); err != nil {
				return fmt.Errorf("queue delivery: %w", err)
			}
		}
		at := ev.ReceivedAt.UnixNano()
		id, err := insertStmt(w.queue, ev.ID, target, at, at, at)
		if err != nil {
			return fmt.Errorf("queue delivery: %w", err)
		}
		ev.Queued = append(ev.Queued, id)
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// ListEvents returns events matching q, newest first.
func (s *Store) ListEvents(ctx context.Context, q hook.EventQuery) (_ hook.Page, err error) {
	defer func() { err = classify(err) }()
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, hook.MaxPage)
	query, args, ok := listQuery(q, limit)
	if !ok {
		return hook.Page{}, nil // a search for nothing that can match
	}
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return hook.Page{}, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var page hook.Page
	for rows.Next() {
		ev, err := scanEvent(rows, q.WithBody)
		if err != nil {
			return hook.Page{}, fmt.Errorf("list events: %w", err)
		}
		page.Events = append(page.Events, ev)
	}
	if err := rows.Err(); err != nil {
		return hook.Page{}, fmt.Errorf("list events: %w", err)
	}
	rows.Close()
	for i := range page.Events {
		if err := s.loadParts(ctx, &page.Events[i]); err != nil {
			return hook.Page{}, err
		}
	}
	if len(page.Events) > limit {
		page.Events = page.Events[:limit]
		page.Next = page.Events[limit-1].ID
	}
	return page, nil
}

// listQuery is the SQL of a page of events, newest first, one more than limit to tell whether
// there is a next page; ok is false when the search text leaves nothing to match.
func listQuery(q hook.EventQuery, limit int) (query string, args []any, ok bool) {
	cols := eventSummaryColumns
	if q.WithBody {
		cols = eventFullColumns
	}
	var where []string
	from, order := "events e", "e.id"
	if q.Text != "" {
		expr := SearchExpr(q.Text)
		if expr == "" {
			return "", nil, false
		}
		from = "events_fts f JOIN events e ON e.id = f.rowid"
		order = "f.rowid" // lets FTS5 walk its index backwards instead of sorting all matches
		where, args = append(where, "events_fts MATCH ?"), append(args, expr)
	}
	for _, c := range []struct {
		on   bool
		cond string
		arg  func() any
	}{
		{q.EndpointID != "", "e.endpoint_id = ?", func() any { return q.EndpointID }},
		{q.Before > 0, "e.id < ?", func() any { return q.Before }},
		{q.Status != nil, "e.status = ?", func() any { return int(*q.Status) }},
		{q.Method != "", "e.method = ?", func() any { return strings.ToUpper(q.Method) }},
		{q.Type != "", "e.type = ?", func() any { return q.Type }},
	} {
		if c.on {
			where, args = append(where, c.cond), append(args, c.arg())
		}
	}
	query = "SELECT " + cols + " FROM " + from
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	return query + " ORDER BY " + order + " DESC LIMIT ?", append(args, limit+1), true
}

// EventsByID returns the events with these ids (with headers and body) by id; ids without an
// event are left out.
func (s *Store) EventsByID(ctx context.Context, ids []int64) (_ map[int64]hook.Event, err error) {
	defer func() { err = classify(err) }()
	out := make(map[int64]hook.Event, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+eventFullColumns+` FROM events e WHERE e.id IN (?`+
		strings.Repeat(",?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		ev, err := scanEvent(rows, true)
		if err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		out[ev.ID] = ev
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	rows.Close()
	for id, ev := range out {
		if err := s.loadParts(ctx, &ev); err != nil {
			return nil, err
		}
		out[id] = ev
	}
	return out, nil
}

// Event returns one event with headers and body; ErrNotFound if there is none with that id.
func (s *Store) Event(ctx context.Context, id int64) (_ hook.Event, err error) {
	defer func() { err = classify(err) }()
	row := s.reader.QueryRowContext(ctx, `SELECT `+eventFullColumns+` FROM events e WHERE e.id=?`, id)
	ev, err := scanEvent(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return hook.Event{}, fmt.Errorf("event %d: %w", id, hook.ErrNotFound)
	}
	if err != nil {
		return hook.Event{}, fmt.Errorf("read event %d: %w", id, err)
	}
	return ev, s.loadParts(ctx, &ev)
}

const eventSummaryColumns = `e.id, e.endpoint_id, e.received_at, e.status, e.method, e.path, e.query,
	e.size, e.remote_addr, e.client_ip, e.delivery_id, e.duplicate_of, e.reason, e.response_status,
	e.type, e.verify_scheme, e.verify_result, e.verify_reason, substr(e.body, 1, 160), e.inbox_seq, e.answered_by`

const eventFullColumns = eventSummaryColumns + `, e.headers, e.body, e.decrypted`

func scanEvent(r scanner, full bool) (hook.Event, error) {
	var ev hook.Event
	var received int64
	var status int
	var delivery, typ sql.NullString
	var dupOf sql.NullInt64
	var headers, preview []byte
	var inboxSeq sql.NullInt64
	dest := []any{&ev.ID, &ev.EndpointID, &received, &status, &ev.Method, &ev.Path, &ev.Query,
		&ev.Size, &ev.RemoteAddr, &ev.ClientIP, &delivery, &dupOf, &ev.Reason, &ev.ResponseStatus,
		&typ, &ev.Verification.Scheme, &ev.Verification.Result, &ev.Verification.Reason, &preview, &inboxSeq, &ev.AnsweredBy}
	if full {
		dest = append(dest, &headers, &ev.Body, &ev.Decrypted)
	}
	if err := r.Scan(dest...); err != nil {
		return hook.Event{}, err
	}
	ev.ReceivedAt = time.Unix(0, received).UTC()
	ev.Status = hook.Status(status)
	ev.DeliveryID = delivery.String
	ev.DuplicateOf = dupOf.Int64
	ev.Type = typ.String
	ev.Preview = hook.PreviewOf(preview)
	ev.InboxSeq = inboxSeq.Int64
	if full {
		ev.Header = DecodeHeader(headers)
		if ev.Body == nil && ev.Status != hook.Rejected {
			ev.Body = []byte{} // an empty body that was kept, as opposed to none kept
		}
	}
	return ev, nil
}

// DeleteEvent removes one event with its index entry and deliveries; ErrNotFound if it does not
// exist.
func (s *Store) DeleteEvent(ctx context.Context, id int64) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete event %d: %w", id, err)
	}
	defer tx.Rollback()
	watermark, err := metaValue(ctx, tx, "index_watermark")
	if err != nil {
		return err
	}
	if id <= watermark {
		if _, err := tx.ExecContext(ctx, `DELETE FROM events_fts WHERE rowid=?`, id); err != nil {
			return fmt.Errorf("delete event %d from the index: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id=?)`, id); err != nil {
		return fmt.Errorf("delete deliveries of event %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE event_id=?`, id); err != nil {
		return fmt.Errorf("delete deliveries of event %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM event_body_parts WHERE event_id=?`, id); err != nil {
		return fmt.Errorf("delete the body of event %d: %w", id, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id=?`, id)
	if err != nil {
		return fmt.Errorf("delete event %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("event %d: %w", id, hook.ErrNotFound)
	}
	return tx.Commit()
}

// NewestEventID is the id of the newest event, 0 when there is none.
func (s *Store) NewestEventID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := s.reader.QueryRowContext(ctx, `SELECT max(id) FROM events`).Scan(&id); err != nil {
		return 0, fmt.Errorf("find newest event: %w", err)
	}
	return id.Int64, nil
}

// CountByEndpoint returns every endpoint's event count and newest event time, counting events up
// to id upTo, in one pass over the endpoint index.
func (s *Store) CountByEndpoint(ctx context.Context, upTo int64) (map[string]hook.EndpointStats, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT c.endpoint_id, c.n, e.received_at FROM
		(SELECT endpoint_id, count(*) AS n, max(id) AS newest FROM events WHERE id <= ? GROUP BY endpoint_id) c
		JOIN events e ON e.id = c.newest`, upTo)
	if err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	defer rows.Close()
	out := map[string]hook.EndpointStats{}
	for rows.Next() {
		var id string
		var st hook.EndpointStats
		var last int64
		if err := rows.Scan(&id, &st.Events, &last); err != nil {
			return nil, fmt.Errorf("count events: %w", err)
		}
		st.Last = time.Unix(0, last).UTC()
		out[id] = st
	}
	return out, rows.Err()
}

// ArrivalsSince counts the arrivals at or after t with ids up to upTo per endpoint and minute,
// oldest first. Ids grow with time, so it finds
// the first one by bisecting ids rather than scanning.
func (s *Store) ArrivalsSince(ctx context.Context, t time.Time, upTo int64) ([]hook.Arrival, error) {
	var lo, hi sql.NullInt64
	if err := s.reader.QueryRowContext(ctx, `SELECT min(id), max(id) FROM events`).Scan(&lo, &hi); err != nil {
		return nil, fmt.Errorf("find recent events: %w", err)
	}
	if !hi.Valid {
		return nil, nil
	}
	first, last := lo.Int64, hi.Int64+1
	cutoff := t.UnixNano()
	for first < last {
		mid := first + (last-first)/2
		var at int64
		err := s.reader.QueryRowContext(ctx, `SELECT received_at FROM events WHERE id >= ? ORDER BY id LIMIT 1`, mid).Scan(&at)
		if err != nil {
			return nil, fmt.Errorf("find recent events: %w", err)
		}
		if at < cutoff {
			first = mid + 1
		} else {
			last = mid
		}
	}
	// Counted per endpoint and minute in SQL: a busy hour is a million rows, and their count is
	// all the charts need.
	rows, err := s.reader.QueryContext(ctx, `SELECT endpoint_id, received_at / 60000000000 AS minute, count(*)
		FROM events WHERE id >= ? AND id <= ? AND received_at >= ? GROUP BY endpoint_id, minute ORDER BY minute`, first, upTo, cutoff)
	if err != nil {
		return nil, fmt.Errorf("read recent events: %w", err)
	}
	defer rows.Close()
	var out []hook.Arrival
	for rows.Next() {
		var a hook.Arrival
		var minute int64
		if err := rows.Scan(&a.EndpointID, &minute, &a.Count); err != nil {
			return nil, fmt.Errorf("read recent events: %w", err)
		}
		a.At = time.Unix(minute*60, 0).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// MaxInboxSeq is the highest always-on inbox sequence among the stored events (0 when none came
// through the inbox): what Hooktray holds of the inbox.
func (s *Store) MaxInboxSeq(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := s.reader.QueryRowContext(ctx, `SELECT max(inbox_seq) FROM events WHERE inbox_seq IS NOT NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("read the inbox's sequence: %w", classify(err))
	}
	return n.Int64, nil
}

// EventTypes are the distinct types among an endpoint's newest 10,000 events, at most limit
// (for a forwarding target that announces them, such as Home Assistant's MQTT discovery).
func (s *Store) EventTypes(ctx context.Context, endpointID string, limit int) (_ []string, err error) {
	defer func() { err = classify(err) }()
	rows, err := s.reader.QueryContext(ctx, `SELECT DISTINCT type FROM (SELECT type FROM events
		WHERE endpoint_id = ? ORDER BY id DESC LIMIT 10000) WHERE type IS NOT NULL AND type != '' LIMIT ?`, endpointID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
