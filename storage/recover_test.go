package storage

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// fillEveryTable gives every table of the schema at least one row through the store's own calls,
// as a user's data dir has them: configuration (endpoints, secrets, targets, subscriptions,
// settings, the tunnel token), history (events with deliveries) and the journal's watermark.
func fillEveryTable(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	ep := newEndpoint(t, s, "alarm")
	if err := s.AddSecret(ctx, &hook.SealedSecret{EndpointID: ep.ID, Purpose: "signing", Nonce: []byte("n"), Ciphertext: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	target := hook.NewTarget(ep.ID, hook.TargetHTTP)
	target.URL = "http://127.0.0.1:9/hook"
	if err := s.CreateTarget(ctx, &target); err != nil {
		t.Fatal(err)
	}
	sub := hook.Subscription{ID: "sub1", EndpointID: ep.ID, Provider: "diagral", Enabled: true, Settings: map[string]any{"serial_id": "S1"}}
	if err := s.CreateSubscription(ctx, &sub); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(ctx, "tunnel", `{"mode":"token"}`); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAppSecret(ctx, "tunnel-token", []byte("n"), []byte("sealed token")); err != nil {
		t.Fatal(err)
	}
	ev := event(ep.ID, `{"alarm_code":"1130"}`)
	ev.Forward = []string{target.ID}
	large := spooledEvent(t, ep.ID, 2*BodyPart+10) // stored in parts
	if err := s.ImportBatch(ctx, []*hook.Event{ev, large}, 42); err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenDeliveries(ctx, target.ID, 1)
	if err != nil || len(open) != 1 {
		t.Fatalf("open deliveries: %v %v", open, err)
	}
	open[0].Status, open[0].Attempt, open[0].ResponseStatus = hook.DeliveryRetrying, 1, 503
	if err := s.RecordAttempts(ctx, open, target.ID, hook.TargetHealth{State: hook.TargetActive, Enabled: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
}

func count(t *testing.T, db *sql.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Recovery walks the schema: every table but the rebuilt search index is copied whole, so a table
// added by a later migration cannot be forgotten, and the journal's watermark comes along, so the
// frames a crash left are not imported a second time.
func TestRecoverCopiesEveryTableOfTheSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "hooktray.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	fillEveryTable(t, s)
	tables, err := schemaTablesOf(s.writer)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]int64{}
	for _, table := range tables {
		if before[table] = count(t, s.writer, table); before[table] == 0 {
			t.Errorf("table %s is empty in the test database: give it a row in fillEveryTable, so that its recovery is checked", table)
		}
	}
	s.Close()

	dest := filepath.Join(dir, "recovered.db")
	rep, err := Recover(ctx, path, dest)
	if err != nil {
		t.Fatal(err)
	}
	if rep.JournalSeqLost {
		t.Error("the journal's watermark was reported lost")
	}
	r, err := Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, table := range tables {
		want := before[table]
		if table == "meta" {
			want-- // the index's watermark starts over with the index
		}
		if got := count(t, r.writer, table); got != want {
			t.Errorf("table %s: %d rows recovered, want %d", table, got, want)
		}
	}
	if seq, err := r.JournalSeq(ctx); err != nil || seq != 42 {
		t.Errorf("journal sequence %d (%v) after recovery, want 42", seq, err)
	}
	if n, err := r.IndexBacklog(ctx); err != nil || n != 2 {
		t.Errorf("search backlog %d (%v): the index must be rebuilt from the first event", n, err)
	}
}

// schemaTablesOf lists every table of the schema but the full-text index's, named here one by one
// rather than by Recover's own rule.
func schemaTablesOf(db *sql.DB) ([]string, error) {
	index := map[string]bool{"events_fts": true, "events_fts_data": true, "events_fts_idx": true,
		"events_fts_docsize": true, "events_fts_config": true, "events_fts_content": true}
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if !index[name] {
			out = append(out, name)
		}
	}
	return out, rows.Err()
}

// spooledEvent is an event whose body of size bytes the receiver spooled to a file.
func spooledEvent(t *testing.T, endpoint string, size int) *hook.Event {
	t.Helper()
	path := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(path, spooledBody(size), 0o600); err != nil {
		t.Fatal(err)
	}
	ev := event(endpoint, "")
	ev.Body, ev.BodyFile, ev.Size = nil, path, int64(size)
	return ev
}

func spooledBody(size int) []byte {
	return bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
}

func TestASpooledBodyIsStoredInPartsAndReadWhole(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	ep := newEndpoint(t, s, "large")
	size := 3*BodyPart + 123
	ev := spooledEvent(t, ep.ID, size)
	small := event(ep.ID, "small")
	if err := s.ImportBatch(ctx, []*hook.Event{ev, small}, 1); err != nil {
		t.Fatal(err)
	}
	got, err := s.Event(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Body, spooledBody(size)) || got.Size != int64(size) {
		t.Fatalf("read back %d bytes of %d", len(got.Body), size)
	}
	byID, err := s.EventsByID(ctx, []int64{ev.ID, small.ID})
	if err != nil || len(byID[ev.ID].Body) != size || string(byID[small.ID].Body) != "small" {
		t.Fatalf("EventsByID: %d bytes, %q, %v", len(byID[ev.ID].Body), byID[small.ID].Body, err)
	}
	var parts int
	s.writer.QueryRow(`SELECT count(*) FROM event_body_parts WHERE event_id = ?`, ev.ID).Scan(&parts)
	if parts != 3 {
		t.Errorf("%d parts stored, want 3 after the first", parts)
	}
	if err := s.DeleteEvent(ctx, ev.ID); err != nil {
		t.Fatal(err)
	}
	s.writer.QueryRow(`SELECT count(*) FROM event_body_parts`).Scan(&parts)
	if parts != 0 {
		t.Errorf("%d parts left after the event was deleted", parts)
	}
}

func TestASpooledBodyWhoseFileIsGoneIsStoredWithoutItSayingSo(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	ep := newEndpoint(t, s, "lost")
	ev := spooledEvent(t, ep.ID, 5000)
	os.Remove(ev.BodyFile)
	if err := s.ImportBatch(ctx, []*hook.Event{ev}, 1); err != nil {
		t.Fatalf("a missing spool file stopped the import: %v", err)
	}
	got, err := s.Event(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Body) != 0 || got.Reason == "" {
		t.Errorf("body %d bytes, reason %q", len(got.Body), got.Reason)
	}
}
