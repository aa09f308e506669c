package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hooktray/hooktray/hook"
)

// BodyPart is the size of the parts a spooled body is stored in: the first goes in events.body,
// the rest in event_body_parts. Importing a body of any size then holds one part in memory.
const BodyPart = 1 << 20

// spooled is a spooled body being stored: its file, read one part at a time.
type spooled struct {
	f     *os.File
	parts int // parts after the first
	buf   []byte
}

// openSpooled opens ev's spool file and reads its first part. A missing file (removed by hand, or
// lost with a damaged disk) is not an error that should stop every later import: the event is
// stored without its body, saying so.
func openSpooled(ev *hook.Event, buf []byte) (*spooled, []byte, error) {
	f, err := os.Open(ev.BodyFile)
	if errors.Is(err, os.ErrNotExist) {
		ev.Reason = fmt.Sprintf("the body (%d bytes) was lost before it was stored: its spool file %s is missing", ev.Size, ev.BodyFile)
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read a spooled body: %w", err)
	}
	sp := &spooled{f: f, buf: buf[:cap(buf)]}
	first, err := sp.next()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if rest := ev.Size - int64(len(first)); rest > 0 {
		sp.parts = int((rest + BodyPart - 1) / BodyPart)
	}
	return sp, first, nil
}

// next reads the next part (at most BodyPart bytes; fewer only at the end).
func (sp *spooled) next() ([]byte, error) {
	n, err := io.ReadFull(sp.f, sp.buf[:BodyPart])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read a spooled body: %w", err)
	}
	return sp.buf[:n], nil
}

// storeRest inserts the parts after the first as rows of event id, with the prepared insert.
func (sp *spooled) storeRest(insert driver.Stmt, id int64) error {
	defer sp.f.Close()
	for part := 1; part <= sp.parts; part++ {
		data, err := sp.next()
		if err != nil {
			return err
		}
		if err := execStmt(insert, id, int64(part), data); err != nil {
			return fmt.Errorf("store a body part: %w", err)
		}
	}
	return nil
}

// loadParts appends the parts of a body stored in parts (one longer than its first part) to
// ev.Body.
func (s *Store) loadParts(ctx context.Context, ev *hook.Event) error {
	if ev.Body == nil || int64(len(ev.Body)) >= ev.Size {
		return nil
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT data FROM event_body_parts WHERE event_id = ? ORDER BY part`, ev.ID)
	if err != nil {
		return fmt.Errorf("read the body of event %d: %w", ev.ID, err)
	}
	defer rows.Close()
	body := make([]byte, len(ev.Body), ev.Size)
	copy(body, ev.Body)
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return fmt.Errorf("read the body of event %d: %w", ev.ID, err)
		}
		body = append(body, data...)
	}
	ev.Body = body
	return rows.Err()
}
