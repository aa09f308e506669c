package e2e

import (
	le "encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hooktray/hooktray/internal/testutil"
)

// ackWhileLocked posts n bodies of about size bytes while the database is locked, so that every
// acknowledged one is only in the journal, then kills serve: what the journal holds is all there is.
func ackWhileLocked(t *testing.T, s *server, url string, n, size int) map[string]bool {
	t.Helper()
	release := lockDatabase(t, s.dataDir)
	pad := strings.Repeat("p", size)
	var mu sync.Mutex
	acked := map[string]bool{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				body := fmt.Sprintf(`{"seq":%05d,"pad":%q}`, i, pad)
				if code, err := postJSON(url, body); err == nil && code == 200 {
					mu.Lock()
					acked[body] = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	s.kill()
	release()
	if len(acked) < n*9/10 {
		t.Fatalf("only %d of %d acknowledged while the database was locked", len(acked), n)
	}
	return acked
}

// segmentFiles lists the journal's segments, oldest first.
func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "journal", "*.journal"))
	slices.Sort(m)
	return m
}

// frameAt is the offset of the n-th frame of a segment (frames are a 4-byte length, a 4-byte
// checksum and the payload).
func frameAt(b []byte, n int) int {
	off := 0
	for range n {
		off += 8 + int(le.LittleEndian.Uint32(b[off:]))
	}
	return off
}

type journalDamage struct {
	Unreadable int    `json:"unreadable"`
	Folder     string `json:"folder"`
	Message    string `json:"message"`
}

// Every kind of damage to the journal a crash left costs only the damaged frames: every intact
// acknowledged webhook is stored, the lost ones are counted in status, and the damaged segment is
// kept with a note.
func TestJournalDamageIsReportedAndCostsOnlyTheDamagedFrames(t *testing.T) {
	if testing.Short() {
		t.Skip("writes several journal segments per case")
	}
	edit := func(t *testing.T, path string, f func(b []byte) []byte) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, f(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, segments []string)
	}{
		{"a flipped bit in the middle of a segment", func(t *testing.T, s []string) {
			edit(t, s[1], func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b })
		}},
		{"a bad length field", func(t *testing.T, s []string) {
			edit(t, s[0], func(b []byte) []byte { le.LittleEndian.PutUint32(b[frameAt(b, 5):], 0x00ffffff); return b })
		}},
		{"a zero-filled segment", func(t *testing.T, s []string) {
			edit(t, s[1], func(b []byte) []byte { clear(b); return b })
		}},
		{"a deleted segment", func(t *testing.T, s []string) { os.Remove(s[1]) }},
		{"a frame that passes its checksum but does not decode (a newer version's)", func(t *testing.T, s []string) {
			edit(t, s[2], func(b []byte) []byte {
				at, end := frameAt(b, 3), frameAt(b, 4)
				payload := append(append([]byte{}, b[at+8:end]...), 0xff, 0xff)
				frame := le.LittleEndian.AppendUint32(nil, uint32(len(payload)))
				frame = le.LittleEndian.AppendUint32(frame, crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
				return slices.Concat(b[:at], frame, payload, b[end:])
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startServe(t, dir)
			_, url := s.addEndpoint(map[string]any{"name": "journal"})
			acked := ackWhileLocked(t, s, url, 900, 60<<10) // about 54 MiB: four segments
			segments := segmentFiles(t, dir)
			if len(segments) < 3 {
				t.Fatalf("%d journal segments, want several", len(segments))
			}
			tc.damage(t, segments)

			s = startServe(t, dir)
			code, body := s.call(http.MethodGet, "/api/v1/status", nil)
			var st struct {
				JournalDamage *journalDamage `json:"journal_damage"`
			}
			json.Unmarshal(body, &st)
			status := hooktray(t, dir, "status")
			s.stop()
			stored := storedBodies(t, dir)
			lost := 0
			for b := range acked {
				if !stored[b] {
					lost++
				}
			}
			t.Logf("%d acknowledged, %d lost; status: %s", len(acked), lost, body)
			if code != 200 || st.JournalDamage == nil || st.JournalDamage.Unreadable != lost || lost == 0 {
				t.Fatalf("status reports %+v, but %d acknowledged webhooks were lost", st.JournalDamage, lost)
			}
			if !strings.Contains(status.stdout, "JOURNAL") || !strings.Contains(status.stdout, strconv.Itoa(lost)+" acknowledged webhook") {
				t.Errorf("hooktray status does not say it: %s", status.stdout)
			}
			if notes, _ := filepath.Glob(filepath.Join(st.JournalDamage.Folder, "*.note.json")); len(notes) == 0 {
				t.Errorf("no note in %s", st.JournalDamage.Folder)
			}
			if tc.name != "a deleted segment" {
				if kept, _ := filepath.Glob(filepath.Join(st.JournalDamage.Folder, "*.journal")); len(kept) != 1 {
					t.Errorf("%d damaged segments kept, want 1", len(kept))
				}
			}
			if left := segmentFiles(t, dir); len(left) != 0 {
				t.Errorf("segments left in the journal: %v", left)
			}
		})
	}
}

// db recover after a crash keeps the configuration (targets, tunnel settings and token) and
// imports nothing twice from the journal the crash left.
func TestDBRecoverAfterACrashKeepsEverythingAndDuplicatesNothing(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)
	id, url := s.addEndpoint(map[string]any{"name": "alarm"})
	if code, body := s.call(http.MethodPost, "/api/v1/endpoints/"+id+"/targets", map[string]any{"url": "http://127.0.0.1:9/down"}); code != 201 {
		t.Fatalf("add target: %d %s", code, body)
	}
	if code, body := s.call(http.MethodPatch, "/api/v1/tunnel", map[string]any{"mode": "off", "token": "eyJhIjoiYiJ9.tunnel-token"}); code != 200 {
		t.Fatalf("tunnel settings: %d %s", code, body)
	}
	for i := range 300 {
		if code, err := postJSON(url, fmt.Sprintf(`{"n":%d}`, i)); err != nil || code != 200 {
			t.Fatalf("post %d: %d %v", i, code, err)
		}
	}
	testutil.Eventually(t, "the 300 to be in the history", func() bool {
		_, body := s.call(http.MethodGet, "/api/v1/events?limit=1000", nil)
		return strings.Count(string(body), `"method":"POST"`) == 300
	})
	s.kill() // the open journal segment stays, with frames already imported
	if len(segmentFiles(t, dir)) == 0 {
		t.Fatal("the crash left no journal: nothing to test")
	}
	if r := hooktray(t, dir, "db", "recover"); r.code != 0 {
		t.Fatalf("db recover: %d %s %s", r.code, r.stdout, r.stderr)
	}
	s = startServe(t, dir)
	_, events := s.call(http.MethodGet, "/api/v1/events?limit=1000", nil)
	_, targets := s.call(http.MethodGet, "/api/v1/endpoints/"+id+"/targets", nil)
	_, tunnel := s.call(http.MethodGet, "/api/v1/tunnel", nil)
	_, deliveries := s.call(http.MethodGet, "/api/v1/deliveries?limit=1000", nil)
	if n := strings.Count(string(events), `"method":"POST"`); n != 300 {
		t.Errorf("%d events after recovery, want 300 (none imported twice)", n)
	}
	if !strings.Contains(string(targets), "127.0.0.1:9/down") {
		t.Errorf("the target was lost: %s", targets)
	}
	if !strings.Contains(string(tunnel), `"has_token":true`) {
		t.Errorf("the tunnel token was lost: %s", tunnel)
	}
	if n := strings.Count(string(deliveries), `"target_id"`); n != 300 {
		t.Errorf("%d deliveries after recovery, want 300", n)
	}
}

// Retention never removes an event that still owes a delivery to a target that is down.
func TestRetentionKeepsWhatIsStillToBeForwarded(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir, "--keep-events", "100")
	id, url := s.addEndpoint(map[string]any{"name": "alarm"})
	if code, body := s.call(http.MethodPost, "/api/v1/endpoints/"+id+"/targets",
		map[string]any{"url": "http://127.0.0.1:9/down", "event_types": []string{"ALERT"}, "max_retries": 20}); code != 201 {
		t.Fatalf("add target: %d %s", code, body)
	}
	for i := range 400 {
		typ := "STATUS"
		if i%2 == 0 {
			typ = "ALERT"
		}
		if code, err := postJSON(url, fmt.Sprintf(`{"type":%q,"n":%d}`, typ, i)); err != nil || code != 200 {
			t.Fatalf("post %d: %d %v", i, code, err)
		}
	}
	s.stop()
	s = startServe(t, dir, "--keep-events", "100") // retention runs soon after start
	testutil.Eventually(t, "retention to run", func() bool { return strings.Contains(s.stderr.String(), "retention removed old events") })
	_, body := s.call(http.MethodGet, "/api/v1/events?limit=1000", nil)
	alerts, others := strings.Count(string(body), `"type":"ALERT"`), strings.Count(string(body), `"type":"STATUS"`)
	t.Logf("after retention to 100: %d alerts still owed to the dead target, %d others", alerts, others)
	if alerts != 200 {
		t.Errorf("%d of the 200 alerts owed to the dead target are left: retention deleted what was still to be forwarded", alerts)
	}
	if others >= 200 {
		t.Errorf("retention removed nothing it could: %d others", others)
	}
}

// A program target whose program hangs and left a setsid child behind does not keep SIGTERM from
// stopping serve within 5 s, and the child goes with it.
func TestSIGTERMStopsWithinFiveSecondsWhileAProgramHangs(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("needs setsid(1)")
	}
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	script := filepath.Join(dir, "hang.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nsetsid sleep 300 &\necho $! > "+pids+"\nsleep 300\n"), 0o755)
	s := startServe(t, dir)
	id, url := s.addEndpoint(map[string]any{"name": "lamp"})
	if code, body := s.call(http.MethodPost, "/api/v1/endpoints/"+id+"/targets",
		map[string]any{"kind": "command", "command": map[string]any{"argv": []string{script}}, "timeout_ms": 600000}); code != 201 {
		t.Fatalf("add target: %d %s", code, body)
	}
	if code, err := postJSON(url, `{"on":true}`); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	var child int
	testutil.Eventually(t, "the program to start its child", func() bool {
		b, _ := os.ReadFile(pids)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return child > 0
	})
	code, took := s.stop()
	t.Logf("SIGTERM with a program running: exit %d after %s", code, took.Round(time.Millisecond))
	if code != 0 { // stop gives up after 10 s: serve waited for the program
		t.Errorf("SIGTERM: exit %d after %s, want 0", code, took)
	}
	if running(child) {
		t.Errorf("the program's setsid child %d still runs after serve stopped", child)
	}
	syscall.Kill(child, syscall.SIGKILL)
}

// running reports whether pid is a live process (not a zombie).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+1:])
	return len(f) > 0 && f[0] != "Z"
}

// A 20 KB body nested 9,999 deep would indent to 191 MB; events show prints it as sent.
// (How long it takes is bench's business: make bench.)
func TestADeeplyNestedBodyIsShownAtOnce(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)
	_, url := s.addEndpoint(map[string]any{"name": "deep"})
	deep := strings.Repeat("[", 9999) + strings.Repeat("]", 9999)
	if code, err := postJSON(url, deep); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	out, took, maxrss := measured(t, binary, "--data-dir", dir, "events", "show", "1")
	t.Logf("events show of a body nested 9,999 deep: %s, %d MiB, %d bytes printed", took.Round(time.Millisecond), maxrss>>20, len(out))
	// Laid out, it would print 191 MB; printed as sent, it is the body and a note.
	if maxrss > 100<<20 || len(out) > 2*len(deep) {
		t.Errorf("%d MiB and %d bytes printed, want within 100 MiB and about the body's %d bytes", maxrss>>20, len(out), len(deep))
	}
	if !strings.Contains(string(out), "not laid out") || !strings.Contains(string(out), deep) {
		t.Errorf("the body is not shown as sent with a note: %.300s", out)
	}
}

// The API refuses endpoint names that could rewrite a terminal.
func TestEndpointNamesWithControlCharactersAreRefused(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)
	code, body := s.call(http.MethodPost, "/api/v1/endpoints", map[string]any{"name": "alarm\x1b]0;pwned\x07"})
	if code != http.StatusBadRequest || !strings.Contains(string(body), "control characters") {
		t.Errorf("a name with escapes answered %d %s, want 400 saying why", code, body)
	}
}
