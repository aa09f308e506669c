package storage

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/hooktray/hooktray/hook"
)

// fillEveryTable gives every table of the schema at least one row through the store's own calls,
// as a user's data dir has them: configuration (endpoints, secrets, targets, subscriptions,
// settings, the tunnel token), history (events with deliveries) and the journal's watermark.
func fillEveryTable(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	ep := newEndpoint(t, s, "alarm")
	if err := s.AddSecret(ctx, &SealedSecret{EndpointID: ep.ID, Purpose: "signing", Nonce: []byte("n"), Ciphertext: []byte("c")}); err != nil {
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
	if err := s.ImportBatch(ctx, []*hook.Event{ev}, 42); err != nil {
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
	if n, err := r.IndexBacklog(ctx); err != nil || n != 1 {
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
