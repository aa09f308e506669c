package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooktray/hooktray/internal/testutil"
)

// The always-on inbox, as a user runs it: the real Worker (edge/inbox.js) under workerd, the
// runtime of Cloudflare Workers, started by scripts/edge-local.sh on a state dir of its own, and
// the real binary connecting to it with `hooktray inbox use`.

// edgeInbox is a running local inbox.
type edgeInbox struct {
	t      *testing.T
	state  string
	secret string
	port   int
	cmd    *exec.Cmd
	done   chan struct{}
}

func freeTCPPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startInbox starts the Worker under workerd on a fresh port and state dir.
func startInbox(t *testing.T, secret string) *edgeInbox {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("the inbox's tests run the Worker under workerd, installed with npm: install Node's npm (scripts/setup-debian.sh does)")
	}
	in := &edgeInbox{t: t, state: t.TempDir(), secret: secret, port: freeTCPPort(t)}
	in.start()
	t.Cleanup(in.kill)
	return in
}

func (in *edgeInbox) start() {
	in.t.Helper()
	root, _ := filepath.Abs("..")
	in.cmd = exec.Command(filepath.Join(root, "scripts", "edge-local.sh"), strconv.Itoa(in.port), in.state)
	in.cmd.Env = append(os.Environ(), "HOOKTRAY_INBOX_SECRET="+in.secret)
	var out syncBuffer
	in.cmd.Stdout, in.cmd.Stderr = &out, &out
	if err := in.cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	in.done = make(chan struct{})
	go func() { in.cmd.Wait(); close(in.done) }()
	testutil.Eventually(in.t, "workerd to answer", func() bool {
		select {
		case <-in.done:
			in.t.Fatalf("workerd exited: %s", out.String())
		default:
		}
		resp, err := http.Get(in.url() + "/webhook/none")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
}

// kill ends workerd as a crash would.
func (in *edgeInbox) kill() {
	if in.cmd != nil && in.cmd.Process != nil {
		in.cmd.Process.Kill()
		<-in.done
	}
}

func (in *edgeInbox) url() string { return "http://127.0.0.1:" + strconv.Itoa(in.port) }

// held is how many requests the inbox holds, as its status says.
func (in *edgeInbox) held() int { return in.status().Requests }

// heldBytes is how many body bytes it holds.
func (in *edgeInbox) heldBytes() int64 { return in.status().Bytes }

type edgeStatus struct {
	Requests int
	Bytes    int64
}

func (in *edgeInbox) status() edgeStatus {
	in.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, in.url()+"/hooktray/status", nil)
	req.Header.Set("Authorization", "Bearer "+in.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st edgeStatus
	json.NewDecoder(resp.Body).Decode(&st)
	return st
}

// useInbox points the running Hooktray at the inbox, the secret on standard input.
func useInbox(t *testing.T, s *server, in *edgeInbox, extra ...string) result {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"--data-dir", s.dataDir, "inbox", "use", in.url()}, extra...)...)
	cmd.Stdin = strings.NewReader(in.secret + "\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return result{code, out.String(), errb.String()}
}

type inboxEvent struct {
	ID         int64  `json:"id"`
	ReceivedAt string `json:"received_at"`
	InboxSeq   *int64 `json:"inbox_seq"`
	Body       string `json:"body"`
}

// eventsOf lists every event of the history, oldest first.
func eventsOf(t *testing.T, s *server) []inboxEvent {
	t.Helper()
	var all []inboxEvent
	before := ""
	for {
		code, b := s.call("GET", "/api/v1/events?limit=1000"+before, nil)
		if code != 200 {
			t.Fatalf("events: %d %s", code, b)
		}
		var page struct {
			Events []inboxEvent    `json:"events"`
			Next   json.RawMessage `json:"next"`
		}
		json.Unmarshal(b, &page)
		all = append(all, page.Events...)
		next := strings.Trim(string(page.Next), `"`)
		if next == "" || next == "null" {
			break
		}
		before = "&before=" + next
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all
}

// sendMany sends n webhooks numbered from first, a few at a time, and returns how many were
// answered 2xx.
func sendMany(t *testing.T, url string, first, n int) int {
	var ok sync.WaitGroup
	var mu sync.Mutex
	good := 0
	sem := make(chan struct{}, 8)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	for i := first; i < first+n; i++ {
		sem <- struct{}{}
		ok.Add(1)
		go func() {
			defer func() { <-sem; ok.Done() }()
			resp, err := client.Post(url, "application/json", strings.NewReader(fmt.Sprintf(`{"n":%d,"pad":%q}`, i, strings.Repeat("x", 200))))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					mu.Lock()
					good++
					mu.Unlock()
				}
			}
		}()
	}
	ok.Wait()
	return good
}

// checkDrained checks that the history holds want webhooks from the inbox, each once, in the
// inbox's order, their times those of their arrival there.
func checkDrained(t *testing.T, s *server, want int, notAfter time.Time) {
	t.Helper()
	var evs []inboxEvent
	testutil.Eventually(t, fmt.Sprintf("%d events drained", want), func() bool {
		evs = eventsOf(t, s)
		return len(evs) >= want
	})
	if len(evs) != want {
		t.Fatalf("%d events, want %d", len(evs), want)
	}
	seen := map[int64]bool{}
	var lastSeq int64
	var lastAt time.Time
	for _, ev := range evs {
		if ev.InboxSeq == nil {
			t.Fatalf("event %d did not come through the inbox", ev.ID)
		}
		if seen[*ev.InboxSeq] {
			t.Fatalf("inbox sequence %d stored twice", *ev.InboxSeq)
		}
		seen[*ev.InboxSeq] = true
		at, _ := time.Parse(time.RFC3339Nano, ev.ReceivedAt)
		if *ev.InboxSeq < lastSeq || at.Before(lastAt) {
			t.Fatalf("event %d (seq %d, %s) out of order after seq %d (%s)", ev.ID, *ev.InboxSeq, at, lastSeq, lastAt)
		}
		if at.After(notAfter) {
			t.Fatalf("event %d has the drain's time %s, not its arrival (before %s)", ev.ID, at, notAfter)
		}
		lastSeq, lastAt = *ev.InboxSeq, at
	}
}

func newEndpointID(t *testing.T, s *server, name string) string {
	t.Helper()
	code, b := s.call("POST", "/api/v1/endpoints", map[string]any{"name": name})
	if code != 201 {
		t.Fatalf("create endpoint: %d %s", code, b)
	}
	var ep struct{ ID string }
	json.Unmarshal(b, &ep)
	return ep.ID
}

func waitConnected(t *testing.T, s *server) {
	t.Helper()
	testutil.Eventually(t, "Hooktray connected to the inbox", func() bool {
		_, b := s.call("GET", "/api/v1/inbox", nil)
		var st struct{ Inbox *struct{ Connected bool } }
		json.Unmarshal(b, &st)
		return st.Inbox != nil && st.Inbox.Connected
	})
}

// Hooktray is away while 1,000 webhooks arrive: the inbox answers each 2xx and keeps it; Hooktray
// started again takes them all, once each, in order, at their arrival times. Then the contract:
// a paused endpoint 503 with Retry-After, a deleted one 410, once Hooktray pushed the change.
func TestInboxKeepsWhatArrivesWhileHooktrayIsAway(t *testing.T) {
	in := startInbox(t, "e2e-secret-"+strconv.Itoa(os.Getpid()))
	dir := t.TempDir()
	s := startServe(t, dir)
	id := newEndpointID(t, s, "alarm")
	if r := useInbox(t, s, in); r.code != 0 {
		t.Fatalf("inbox use: %d %s %s", r.code, r.stdout, r.stderr)
	}
	waitConnected(t, s)
	code, b := s.call("GET", "/api/v1/endpoints/"+id, nil)
	if code != 200 || !strings.Contains(string(b), `"public_url":"`+in.url()+`/webhook/`+id+`"`) {
		t.Fatalf("the endpoint's public URL is not the inbox's: %s", b)
	}
	s.stop()
	hook := in.url() + "/webhook/" + id
	if n := sendMany(t, hook, 0, 1000); n != 1000 {
		t.Fatalf("%d of 1000 answered 2xx while Hooktray was away", n)
	}
	if n := in.held(); n != 1000 {
		t.Fatalf("the inbox holds %d", n)
	}
	restarted := time.Now()
	s = startServe(t, dir)
	checkDrained(t, s, 1000, restarted)
	testutil.Eventually(t, "the inbox emptied", func() bool { return in.held() == 0 })

	s.call("PATCH", "/api/v1/endpoints/"+id, map[string]any{"enabled": false})
	testutil.Eventually(t, "the inbox answering 503 for the paused endpoint", func() bool {
		resp, err := http.Post(hook, "application/json", strings.NewReader("{}"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 503 && resp.Header.Get("Retry-After") != ""
	})
	s.call("DELETE", "/api/v1/endpoints/"+id, nil)
	testutil.Eventually(t, "the inbox answering 410 for the deleted endpoint", func() bool {
		code, _ := postJSON(hook, "{}")
		return code == 410
	})
	if code, _ := postJSON(in.url()+"/webhook/neverthere", "{}"); code != 404 {
		t.Errorf("an unknown endpoint answered %d", code)
	}
}

// A crash of Hooktray during the drain, and one of workerd (restarted on its state dir), lose
// nothing and repeat nothing.
func TestInboxDrainSurvivesKills(t *testing.T) {
	in := startInbox(t, "kill-secret")
	dir := t.TempDir()
	s := startServe(t, dir)
	id := newEndpointID(t, s, "sensors")
	if r := useInbox(t, s, in); r.code != 0 {
		t.Fatalf("inbox use: %s %s", r.stdout, r.stderr)
	}
	waitConnected(t, s)
	s.stop()
	hook := in.url() + "/webhook/" + id
	if n := sendMany(t, hook, 0, 3000); n != 3000 {
		t.Fatalf("%d of 3000 answered 2xx", n)
	}
	// Hooktray killed as soon as it has taken some.
	s = startServe(t, dir)
	testutil.Eventually(t, "the drain under way", func() bool { return in.held() < 3000 })
	s.kill()
	left := in.held()
	// workerd killed while Hooktray takes the rest, and started again on the same state.
	s = startServe(t, dir)
	testutil.Eventually(t, "the drain under way again", func() bool { return in.held() < left })
	in.kill()
	t.Logf("Hooktray killed with %d of 3000 left in the inbox; workerd killed with fewer, during the drain", left)
	in.start()
	restarted := time.Now()
	checkDrained(t, s, 3000, restarted)
	if n := in.held(); n != 0 {
		testutil.Eventually(t, "the inbox emptied", func() bool { return in.held() == 0 })
	}
}

// A wrong secret is refused and nothing is taken; past its cap the inbox answers 507 and keeps
// nothing more.
func TestInboxRefusesAWrongSecretAndKeepsToItsCap(t *testing.T) {
	in := startInbox(t, "the-right-secret")
	dir := t.TempDir()
	s := startServe(t, dir)
	id := newEndpointID(t, s, "door")
	wrong := &edgeInbox{t: t, port: in.port, secret: "a-wrong-secret"}
	if r := useInbox(t, s, wrong); r.code == 0 || !strings.Contains(r.stderr, "refused this secret") {
		t.Fatalf("a wrong secret was taken: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := useInbox(t, s, in, "--max-requests", "5"); r.code != 0 {
		t.Fatalf("inbox use: %s %s", r.stdout, r.stderr)
	}
	waitConnected(t, s)
	s.stop()
	hook := in.url() + "/webhook/" + id
	var codes []int
	for i := range 7 {
		code, err := postJSON(hook, fmt.Sprintf(`{"n":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[200 200 200 200 200 507 507]" {
		t.Errorf("answers past a cap of 5: %v", codes)
	}
	s = startServe(t, dir)
	checkDrained(t, s, 5, time.Now())
}

// A body larger than a storage row (the inbox splits it in chunks) comes through whole, beside
// small ones, in order; one over the endpoint's limit is refused 413 and kept nowhere; once all
// are taken the inbox counts nothing held.
func TestInboxKeepsLargeBodiesWhole(t *testing.T) {
	in := startInbox(t, "large-secret")
	dir := t.TempDir()
	s := startServe(t, dir)
	code, b := s.call("POST", "/api/v1/endpoints", map[string]any{"name": "camera", "body_limit": 4 << 20})
	if code != 201 {
		t.Fatalf("create endpoint: %d %s", code, b)
	}
	var ep struct{ ID string }
	json.Unmarshal(b, &ep)
	if r := useInbox(t, s, in); r.code != 0 {
		t.Fatalf("inbox use: %s %s", r.stdout, r.stderr)
	}
	waitConnected(t, s)
	s.stop()
	hook := in.url() + "/webhook/" + ep.ID
	var large strings.Builder
	large.WriteString(`{"frames":"`)
	for i := 0; large.Len() < 2_700_000; i++ {
		fmt.Fprintf(&large, "%07d,", i) // every chunk's place shows: a misordered one changes the body
	}
	large.WriteString(`"}`)
	sent := []string{`{"before":1}`, large.String(), `{"after":2}`}
	for _, body := range sent {
		if code, err := postJSON(hook, body); err != nil || code != 200 {
			t.Fatalf("a %d-byte body: %d %v", len(body), code, err)
		}
	}
	// The inbox refuses as soon as it reads the announced length, and may close before a client
	// has written the rest: ask with the head alone, as a provider's request begins.
	if code := announce(t, hook, 5<<20); code != 413 {
		t.Errorf("a body of 5 MiB announced to an endpoint with a 4 MiB limit: %d, want 413", code)
	}
	if n := in.held(); n != 3 {
		t.Fatalf("the inbox holds %d, want 3", n)
	}
	s = startServe(t, dir)
	checkDrained(t, s, 3, time.Now())
	for i, ev := range eventsOf(t, s) {
		code, b := s.call("GET", fmt.Sprintf("/api/v1/events/%d", ev.ID), nil)
		var full inboxEvent
		if code != 200 || json.Unmarshal(b, &full) != nil {
			t.Fatalf("event %d: %d", ev.ID, code)
		}
		if full.Body != sent[i] {
			t.Errorf("event %d: %d bytes, want the %d sent, as sent", i, len(full.Body), len(sent[i]))
		}
	}
	testutil.Eventually(t, "the inbox to count nothing held", func() bool { return in.held() == 0 && in.heldBytes() == 0 })
}

// announce sends a POST's head announcing a body of size bytes, none of it, and returns the status
// the server answers.
func announce(t *testing.T, rawURL string, size int) int {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", u.RequestURI(), u.Host, size)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a head announcing %d bytes: %v", size, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
