package storage

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "hooktray.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newEndpoint(t *testing.T, s *Store, name string) hook.Endpoint {
	t.Helper()
	e := hook.NewEndpoint(name)
	if err := s.CreateEndpoint(context.Background(), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func event(endpoint string, body string, hdr ...string) *hook.Event {
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Add(hdr[i], hdr[i+1])
	}
	return &hook.Event{EndpointID: endpoint, ReceivedAt: time.Now().UTC(), Method: "POST",
		Path: "/webhook/" + endpoint, Header: h, Body: []byte(body), Size: int64(len(body)),
		RemoteAddr: "127.0.0.1:1234", ClientIP: "127.0.0.1", ResponseStatus: 200}
}

func insert(t *testing.T, s *Store, evs ...*hook.Event) {
	t.Helper()
	if err := s.InsertBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

func indexAll(t *testing.T, s *Store) {
	t.Helper()
	for {
		n, err := s.IndexPending(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func TestOpenCreatesSchemaAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hooktray.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	e := hook.NewEndpoint("demo")
	if err := s.CreateEndpoint(context.Background(), &e); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(context.Background(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.Endpoint(context.Background(), e.ID)
	if err != nil || got.Name != "demo" || !got.Enabled || got.BodyLimit != hook.DefaultBodyLimit {
		t.Fatalf("after reopen got %+v, %v", got, err)
	}
	var mode string
	s.reader.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	var syncMode int
	s.writer.QueryRow(`PRAGMA synchronous`).Scan(&syncMode)
	if syncMode != 2 {
		t.Errorf("writer synchronous = %d, want 2 (FULL)", syncMode)
	}
}

func TestOpenRefusesWhatIsNotOurs(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	content := []byte("this is a text file, not a database\n")
	os.WriteFile(garbage, content, 0o600)

	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite3", foreign)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(`CREATE TABLE songs (title TEXT)`)
	db.Close()
	foreignBefore, _ := os.ReadFile(foreign)

	// Another program's database whose user_version happens to be 1, as Hooktray's first was.
	lookalike := filepath.Join(dir, "lookalike.db")
	db, _ = sql.Open("sqlite3", lookalike)
	db.Exec(`CREATE TABLE events (id INTEGER PRIMARY KEY); PRAGMA user_version = 1`)
	db.Close()
	lookalikeBefore, _ := os.ReadFile(lookalike)

	otherApp := filepath.Join(dir, "other-app.db")
	db, _ = sql.Open("sqlite3", otherApp)
	db.Exec(`PRAGMA application_id = 1234; CREATE TABLE t (x)`)
	db.Close()
	otherAppBefore, _ := os.ReadFile(otherApp)

	corrupt := filepath.Join(dir, "corrupt.db")
	s, err := Open(context.Background(), corrupt)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.Remove(corrupt + "-wal")
	os.Remove(corrupt + "-shm")
	raw, _ := os.ReadFile(corrupt)
	for i := 100; i < len(raw); i++ {
		raw[i] = 0xA5
	}
	os.WriteFile(corrupt, raw, 0o600)

	for _, tc := range []struct {
		name, path string
		want       []byte
	}{
		{"a text file is refused", garbage, content},
		{"another program's database is refused", foreign, foreignBefore},
		{"another program's database at user_version 1 is refused", lookalike, lookalikeBefore},
		{"another program's application id is refused", otherApp, otherAppBefore},
		{"a database with garbage pages is refused", corrupt, raw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), tc.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, ErrNotDatabase) && !IsDamaged(err) {
				t.Errorf("err = %v, want ErrNotDatabase or damaged", err)
			}
			after, _ := os.ReadFile(tc.path)
			if !bytes.Equal(after, tc.want) {
				t.Error("the file was modified")
			}
			if _, err := os.Stat(tc.path + "-wal"); err == nil && strings.Contains(tc.name, "another program") {
				t.Error("a -wal file was created beside it: it was switched to WAL mode")
			}
		})
	}
}

func TestEndpointLifecycle(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	e := newEndpoint(t, s, "alarm")
	if len(e.ID) != 22 {
		t.Errorf("id %q is not 22 URL-safe characters (128 bits)", e.ID)
	}
	e.Name, e.Enabled, e.ResponseStatus, e.Notes = "alarm (house)", false, 202, "front door"
	if err := s.UpdateEndpoint(ctx, &e); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Endpoint(ctx, e.ID)
	if got.Name != "alarm (house)" || got.Enabled || got.ResponseStatus != 202 || got.Notes != "front door" {
		t.Errorf("after update: %+v", got)
	}
	if err := s.DeleteEndpoint(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEndpoint(ctx, e.ID); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("second delete: %v, want hook.ErrNotFound", err)
	}
	if err := s.UpdateEndpoint(ctx, &e); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("update of deleted: %v, want hook.ErrNotFound", err)
	}
	got, _ = s.Endpoint(ctx, e.ID)
	if !got.Deleted() {
		t.Error("deleted endpoint not marked deleted")
	}
	if _, err := s.Endpoint(ctx, "nope"); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("unknown endpoint: %v", err)
	}
}

func TestInsertBatchStoresExactBytesAndAssignsIDs(t *testing.T) {
	s := openTemp(t)
	ep := newEndpoint(t, s, "raw")
	binary := []byte{0, 0xff, 0xfe, '\n', 0x80}
	evs := []*hook.Event{event(ep.ID, string(binary), "Content-Type", "application/octet-stream"),
		event(ep.ID, ""), event(ep.ID, "caf\xe9 latin-1", "X-Multi", "a", "X-Multi", "b")}
	evs[0].Query = "a=1&b=%20"
	insert(t, s, evs...)
	for i, ev := range evs {
		if ev.ID == 0 {
			t.Fatalf("event %d got no id", i)
		}
		got, err := s.Event(context.Background(), ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Body, ev.Body) || got.Body == nil {
			t.Errorf("event %d body = %q, want %q", i, got.Body, ev.Body)
		}
		if fmt.Sprint(got.Header) != fmt.Sprint(ev.Header) {
			t.Errorf("event %d headers = %v, want %v", i, got.Header, ev.Header)
		}
		if got.Query != ev.Query || !got.ReceivedAt.Equal(ev.ReceivedAt) {
			t.Errorf("event %d = %+v", i, got)
		}
	}
}

func TestDuplicateDeliveryIDs(t *testing.T) {
	s := openTemp(t)
	a, b := newEndpoint(t, s, "a"), newEndpoint(t, s, "b")
	first := event(a.ID, "1", "X-GitHub-Delivery", "d1")
	first.DeliveryID = "d1"
	insert(t, s, first)

	again := event(a.ID, "1")
	again.DeliveryID = "d1"
	sameBatch1, sameBatch2 := event(a.ID, "2"), event(a.ID, "2")
	sameBatch1.DeliveryID, sameBatch2.DeliveryID = "d2", "d2"
	otherEndpoint := event(b.ID, "1")
	otherEndpoint.DeliveryID = "d1"
	insert(t, s, again, sameBatch1, sameBatch2, otherEndpoint)

	if again.Status != hook.Duplicate || again.DuplicateOf != first.ID {
		t.Errorf("repeat across batches: status %v of %d", again.Status, again.DuplicateOf)
	}
	if sameBatch1.Status != hook.Accepted || sameBatch2.Status != hook.Duplicate || sameBatch2.DuplicateOf != sameBatch1.ID {
		t.Errorf("repeat within a batch: %v, %v of %d", sameBatch1.Status, sameBatch2.Status, sameBatch2.DuplicateOf)
	}
	if otherEndpoint.Status != hook.Accepted {
		t.Error("the same delivery id on another endpoint is a duplicate")
	}

	// A delivery rejected (paused endpoint) and retried later is accepted, not a duplicate.
	rejected := event(a.ID, "")
	rejected.Status, rejected.DeliveryID, rejected.Body = hook.Rejected, "d3", nil
	insert(t, s, rejected)
	retry := event(a.ID, "3")
	retry.DeliveryID = "d3"
	insert(t, s, retry)
	if retry.Status != hook.Accepted {
		t.Errorf("retry after rejection: %v", retry.Status)
	}
}

func TestListPagesNewestFirst(t *testing.T) {
	s := openTemp(t)
	a, b := newEndpoint(t, s, "a"), newEndpoint(t, s, "b")
	var evs []*hook.Event
	for i := range 25 {
		ep := a.ID
		if i%5 == 0 {
			ep = b.ID
		}
		evs = append(evs, event(ep, fmt.Sprintf(`{"n":%d}`, i)))
	}
	insert(t, s, evs...)
	ctx := context.Background()

	var seen []int64
	q := hook.EventQuery{EndpointID: a.ID, Limit: 7}
	for {
		page, err := s.ListEvents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			if ev.EndpointID != a.ID {
				t.Fatalf("filter leaked %s", ev.EndpointID)
			}
			seen = append(seen, ev.ID)
		}
		if page.Next == 0 {
			break
		}
		q.Before = page.Next
	}
	if len(seen) != 20 {
		t.Fatalf("paged through %d events, want 20", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("not newest first: %v", seen)
		}
	}
	page, _ := s.ListEvents(ctx, hook.EventQuery{Limit: 5000})
	if len(page.Events) != 25 || page.Next != 0 {
		t.Errorf("clamped page: %d events, next %d", len(page.Events), page.Next)
	}
	rej := hook.Rejected
	page, _ = s.ListEvents(ctx, hook.EventQuery{Status: &rej})
	if len(page.Events) != 0 {
		t.Errorf("status filter: %d rejected events, want 0", len(page.Events))
	}
}

func TestSearch(t *testing.T) {
	s := openTemp(t)
	ep := newEndpoint(t, s, "search")
	insert(t, s,
		event(ep.ID, `{"event":"ALERT","zone":"garage"}`, "X-Device-Id", "kitchen-sensor"),
		event(ep.ID, `{"event":"STATUS","zone":"hall"}`),
		event(ep.ID, `he said "hello" AND left; DROP TABLE events; --`),
		event(ep.ID, string([]byte{0xff, 0x00, 'g', 'a', 'r', 'a', 'g', 'e'})),
	)
	ctx := context.Background()
	if page, _ := s.ListEvents(ctx, hook.EventQuery{Text: "garage"}); len(page.Events) != 0 {
		t.Fatal("unindexed events were found")
	}
	indexAll(t, s)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"garage", 1},
		{"GARAGE alert", 1},
		{"kitchen", 1},     // header value
		{"X-Device-Id", 1}, // header name
		{"gar*", 1},
		{"garage hall", 0},
		{"webhook", 4}, // path
		{`"hello"`, 1},
		{`hello AND`, 1},
		{`zone:garage`, 1},
		{`NEAR(alert garage)`, 0},
		{`"unbalanced`, 0},
		{`'; DROP TABLE events; --`, 1},
		{`)(*"`, 0},
		{`OR`, 0},
		{`-`, 0},
	} {
		t.Run(tc.query, func(t *testing.T) {
			page, err := s.ListEvents(ctx, hook.EventQuery{Text: tc.query})
			if err != nil {
				t.Fatalf("search error: %v", err)
			}
			if len(page.Events) != tc.want {
				t.Errorf("%d results, want %d", len(page.Events), tc.want)
			}
		})
	}
	if page, _ := s.ListEvents(ctx, hook.EventQuery{}); len(page.Events) != 4 {
		t.Error("a search dropped the events table")
	}
	backlog, err := s.IndexBacklog(ctx)
	if err != nil || backlog != 0 {
		t.Errorf("backlog %d, %v", backlog, err)
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	t.Run("by age keeps young events", func(t *testing.T) {
		s := openTemp(t)
		ep := newEndpoint(t, s, "age")
		now := time.Now().UTC()
		var evs []*hook.Event
		for i := range 1200 {
			ev := event(ep.ID, "x")
			ev.ReceivedAt = now.Add(-time.Duration(1200-i) * time.Hour)
			evs = append(evs, ev)
		}
		insert(t, s, evs...)
		indexAll(t, s)
		removed, err := s.Prune(ctx, hook.Retention{MaxAge: 100 * time.Hour}, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		if removed != 1100 {
			t.Errorf("removed %d, want 1100", removed)
		}
		page, _ := s.ListEvents(ctx, hook.EventQuery{Limit: 1000})
		if len(page.Events) != 100 || page.Events[99].ID != evs[1100].ID {
			t.Errorf("kept %d events", len(page.Events))
		}
		if page, _ := s.ListEvents(ctx, hook.EventQuery{Text: "webhook", Limit: 1000}); len(page.Events) != 100 {
			t.Errorf("search finds %d events after pruning, want 100", len(page.Events))
		}
	})
	t.Run("by count keeps the newest", func(t *testing.T) {
		s := openTemp(t)
		ep := newEndpoint(t, s, "count")
		var evs []*hook.Event
		for range 1234 {
			evs = append(evs, event(ep.ID, "x"))
		}
		insert(t, s, evs...)
		if _, err := s.Prune(ctx, hook.Retention{MaxEvents: 1000}, time.Now(), nil); err != nil {
			t.Fatal(err)
		}
		page, _ := s.ListEvents(ctx, hook.EventQuery{Limit: 1000})
		if len(page.Events) != 1000 || page.Next != 0 || page.Events[0].ID != evs[1233].ID {
			t.Errorf("kept %d events, next %d", len(page.Events), page.Next)
		}
	})
	t.Run("by size shrinks the file", func(t *testing.T) {
		s := openTemp(t)
		ep := newEndpoint(t, s, "size")
		big := strings.Repeat("y", 8<<10)
		for range 5 {
			var evs []*hook.Event
			for range 200 {
				evs = append(evs, event(ep.ID, big))
			}
			insert(t, s, evs...)
		}
		before, _ := s.UsedBytes(ctx)
		s.writer.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		st, _ := os.Stat(s.Path())
		if _, err := s.Prune(ctx, hook.Retention{MaxBytes: 2 << 20}, time.Now(), nil); err != nil {
			t.Fatal(err)
		}
		after, _ := s.UsedBytes(ctx)
		if after > 2<<20 || after >= before {
			t.Errorf("used bytes %d → %d, want ≤ %d", before, after, 2<<20)
		}
		s.writer.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		st2, _ := os.Stat(s.Path())
		if st2.Size() >= st.Size() {
			t.Errorf("file did not shrink: %d → %d", st.Size(), st2.Size())
		}
		page, _ := s.ListEvents(ctx, hook.EventQuery{Limit: 1000})
		if len(page.Events) == 0 {
			t.Error("everything was removed")
		}
	})
	t.Run("events that still owe a delivery are kept", func(t *testing.T) {
		s := openTemp(t)
		ep := newEndpoint(t, s, "owed")
		target := hook.NewTarget(ep.ID, hook.TargetHTTP)
		if err := s.CreateTarget(ctx, &target); err != nil {
			t.Fatal(err)
		}
		old := time.Now().UTC().Add(-1000 * time.Hour)
		var evs []*hook.Event
		for i := range 400 {
			ev := event(ep.ID, "x")
			ev.ReceivedAt = old.Add(time.Duration(i) * time.Second)
			ev.Forward = []string{target.ID} // the target is down: every delivery waits
			evs = append(evs, ev)
		}
		if err := s.ImportBatch(ctx, evs, 400); err != nil {
			t.Fatal(err)
		}
		// The oldest 160 were delivered; the other 240 are still owed.
		open, err := s.OpenDeliveries(ctx, target.ID, 160)
		if err != nil {
			t.Fatal(err)
		}
		for i := range open {
			open[i].Status, open[i].Attempt = hook.DeliverySuccess, 1
		}
		if err := s.RecordAttempts(ctx, open, target.ID, hook.TargetHealth{State: hook.TargetActive, Enabled: true}, time.Now()); err != nil {
			t.Fatal(err)
		}
		for _, r := range []hook.Retention{{MaxEvents: 100}, {MaxAge: time.Hour}, {MaxBytes: 1}} {
			if _, err := s.Prune(ctx, r, time.Now(), nil); err != nil {
				t.Fatal(err)
			}
		}
		page, _ := s.ListEvents(ctx, hook.EventQuery{Limit: 1000})
		if len(page.Events) != 240 || page.Events[239].ID != evs[160].ID {
			t.Errorf("kept %d events, want the 240 still owed", len(page.Events))
		}
		if owed, _ := s.OpenDeliveries(ctx, target.ID, 1000); len(owed) != 240 {
			t.Errorf("%d deliveries still queued, want 240", len(owed))
		}
	})
	t.Run("default keeps a fresh history", func(t *testing.T) {
		s := openTemp(t)
		ep := newEndpoint(t, s, "default")
		insert(t, s, event(ep.ID, "x"))
		if n, err := s.Prune(ctx, hook.DefaultRetention, time.Now(), nil); n != 0 || err != nil {
			t.Errorf("removed %d, %v", n, err)
		}
	})
}

func TestHeaderEncodingRoundTrips(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}, "X-A": {"1", "2"}, "X-Colon": {"a: b"}, "X-Empty": {""}}
	got := DecodeHeader(EncodeHeader(nil, h))
	if fmt.Sprint(got) != fmt.Sprint(h) {
		t.Errorf("round trip: %v, want %v", got, h)
	}
}

func TestIntegrityCheck(t *testing.T) {
	s := openTemp(t)
	got, err := s.IntegrityCheck(context.Background())
	if err != nil || got != "ok" {
		t.Errorf("integrity check = %q, %v", got, err)
	}
}

func TestFullDatabaseIsReportedAsFull(t *testing.T) {
	s := openTemp(t)
	ep := newEndpoint(t, s, "full")
	var pages int
	s.writer.QueryRow(`PRAGMA page_count`).Scan(&pages)
	if _, err := s.writer.Exec(fmt.Sprintf(`PRAGMA max_page_count=%d`, pages+1)); err != nil {
		t.Fatal(err)
	}
	var evs []*hook.Event
	for range 50 {
		evs = append(evs, event(ep.ID, strings.Repeat("z", 4096)))
	}
	err := s.InsertBatch(context.Background(), evs)
	if err == nil || !IsStorageFull(err) {
		t.Fatalf("InsertBatch on a full database: %v", err)
	}
	for _, ev := range evs {
		if ev.ID != 0 {
			t.Fatal("an event of a failed batch kept an id")
		}
	}
	if page, _ := s.ListEvents(context.Background(), hook.EventQuery{}); len(page.Events) != 0 {
		t.Errorf("%d events of a failed batch are visible", len(page.Events))
	}
}

func TestDeleteEventAndActivityQueries(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	a, b := newEndpoint(t, s, "a"), newEndpoint(t, s, "b")
	now := time.Now().UTC()
	var evs []*hook.Event
	for i := range 10 {
		ev := event(a.ID, "findme")
		if i%2 == 1 {
			ev = event(b.ID, "findme")
		}
		ev.ReceivedAt = now.Add(time.Duration(i-9) * 10 * time.Minute) // 90 min ago … now
		evs = append(evs, ev)
	}
	insert(t, s, evs...)
	indexAll(t, s)

	counts, err := s.CountByEndpoint(ctx, evs[9].ID)
	if err != nil || counts[a.ID].Events != 5 || counts[b.ID].Events != 5 || !counts[b.ID].Last.Equal(evs[9].ReceivedAt) {
		t.Errorf("counts %+v, %v", counts, err)
	}
	arrivals, err := s.ArrivalsSince(ctx, now.Add(-time.Hour), evs[9].ID)
	total := 0
	for _, ar := range arrivals {
		total += ar.Count
	}
	if err != nil || total != 7 || arrivals[0].At.Before(now.Add(-time.Hour).Truncate(time.Minute)) {
		t.Errorf("arrivals in the last hour: %d in %d minutes, %v", total, len(arrivals), err)
	}
	if err := s.DeleteEvent(ctx, evs[3].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Event(ctx, evs[3].ID); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("deleted event still readable: %v", err)
	}
	if page, _ := s.ListEvents(ctx, hook.EventQuery{Text: "findme"}); len(page.Events) != 9 {
		t.Errorf("search finds %d after delete, want 9", len(page.Events))
	}
	if err := s.DeleteEvent(ctx, evs[3].ID); !errors.Is(err, hook.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

func TestEndpointSettingsRoundTrip(t *testing.T) {
	s := openTemp(t)
	e := newEndpoint(t, s, "settings")
	if e.Settings.NotifyOn != hook.NotifyAlerts || !e.Settings.IsAlert("alert") || e.Settings.IsAlert("STATUS") {
		t.Errorf("defaults %+v", e.Settings)
	}
	every, types := hook.NotifyEvery, []string{" DOORBELL ", "", "motion"}
	if err := (hook.EndpointChange{NotifyOn: &every, AlertTypes: &types}).Apply(&e); err != nil {
		t.Fatal(err)
	}
	// A key a newer version wrote survives this version's update.
	if err := json.Unmarshal([]byte(`{"notify_on":"every","alert_types":["DOORBELL","motion"],"future":{"kept":true}}`), &e.Settings); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateEndpoint(context.Background(), &e); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Endpoint(context.Background(), e.ID)
	if got.Settings.NotifyOn != hook.NotifyEvery || fmt.Sprint(got.Settings.AlertTypes) != "[DOORBELL motion]" || !strings.Contains(mustJSON(t, got.Settings), `"future":{"kept":true}`) {
		t.Errorf("after round trip %+v", got.Settings)
	}
	bad := "sometimes"
	var fe *hook.FieldError
	if err := (hook.EndpointChange{NotifyOn: &bad}).Apply(&e); !errors.As(err, &fe) || fe.Field != "notify_on" {
		t.Errorf("bad notify_on: %v", err)
	}
}

func TestDatabaseFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows keeps a profile's files private by ACL")
	}
	s := openTemp(t)
	ep := newEndpoint(t, s, "a")
	if err := s.InsertBatch(context.Background(), []*hook.Event{event(ep.ID, `{"a":1}`)}); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		st, err := os.Stat(s.Path() + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(s.Path()+suffix), st.Mode().Perm())
		}
	}
}

// damage fills a few pages in the middle of a closed database with garbage, as a failing disk
// would, and returns the file's new contents.
func damage(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := PageSize
	pages := len(raw) / page
	if pages < 8 {
		t.Fatalf("the test database has only %d pages", pages)
	}
	for p := pages / 2; p < pages/2+2; p++ {
		for i := p * page; i < (p+1)*page; i++ {
			raw[i] = byte(i*7) ^ 0x5a
		}
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestDamagedDatabaseIsRefusedAndRecovered(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "hooktray.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ep := newEndpoint(t, s, "a")
	const total = 3000
	for range total / 100 {
		var batch []*hook.Event
		for range 100 {
			batch = append(batch, event(ep.ID, `{"payload":"`+strings.Repeat("x", 400)+`"}`))
		}
		if err := s.InsertBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	damaged := damage(t, path)

	_, err = Open(ctx, path)
	var de *DamagedError
	if !errors.As(err, &de) {
		t.Fatalf("Open of a damaged database: %v, want a DamagedError", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
		t.Error("Open modified the damaged file")
	}

	dest := filepath.Join(dir, "recovered.db")
	rep, err := Recover(ctx, path, dest)
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if rep.Copied["endpoints"] != 1 || rep.Copied["events"] == 0 || rep.Copied["events"] > total {
		t.Fatalf("recovered %v (skipped %v)", rep.Copied, rep.Skipped)
	}
	r, err := Open(ctx, dest)
	if err != nil {
		t.Fatalf("the recovered database does not open: %v", err)
	}
	defer r.Close()
	if res, err := r.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Errorf("recovered database integrity: %q %v", res, err)
	}
	page, err := r.ListEvents(ctx, hook.EventQuery{Limit: 1})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("recovered events cannot be listed: %v", err)
	}
	t.Logf("recovered %d of %d events (%d ids in damaged pages)", rep.Copied["events"], total, rep.Skipped["events"])
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A reader in the WAL keeps it from starting over: RestartWAL gives up within its wait, and
// writes go on. Once the reader is gone it succeeds, and the next write starts the WAL over.
func TestRestartWALStartsTheWALOverOnceReadersLeave(t *testing.T) {
	s := openTemp(t)
	ep := newEndpoint(t, s, "wal")
	ctx := context.Background()
	for range 20 {
		batch := make([]*hook.Event, 50)
		for i := range batch {
			batch[i] = event(ep.ID, strings.Repeat("x", 1000))
		}
		insert(t, s, batch...)
	}
	reader, err := s.reader.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil || n != 1000 {
		t.Fatalf("reader sees %d events (%v)", n, err)
	}
	if ok, err := s.RestartWAL(ctx, 50*time.Millisecond); err != nil || ok {
		t.Fatalf("RestartWAL with a reader in the WAL = %v, %v; want false, nil", ok, err)
	}
	insert(t, s, event(ep.ID, "written while the reader stays")) // writers were not left blocked
	tx.Rollback()
	reader.Close()

	// Nothing was checkpointed so far: the WAL holds every write above.
	if ok, err := s.RestartWAL(ctx, time.Second); err != nil || !ok {
		t.Fatalf("RestartWAL with no reader = %v, %v; want true", ok, err)
	}
	insert(t, s, event(ep.ID, "the first of a new WAL"))
	if frames, _, err := s.Checkpoint(ctx); err != nil || frames > 8 {
		t.Errorf("the WAL holds %d frames after the restart and one write (%v): it did not start over", frames, err)
	}
}
