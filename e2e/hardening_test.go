package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hooktray/hooktray/internal/testutil"
)

// The attacks and faults of the hardening review, reproduced against the real binary.

// api calls the running instance's admin API with its token.
func (s *server) call(method, path string, body any) (int, []byte) {
	s.t.Helper()
	token, err := os.ReadFile(filepath.Join(s.dataDir, "api-token"))
	if err != nil {
		s.t.Fatal(err)
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.api+path, rd)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// rss returns the server's resident memory and its peak, from /proc.
func (s *server) rss() (now, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		s.t.Skip("needs /proc to measure memory")
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			if f[0] == "VmRSS:" {
				now = kb << 10
			} else {
				peak = kb << 10
			}
		}
	}
	return now, peak
}

// openStalled opens n connections to url that send their headers and one byte of a body of
// announced bytes, then nothing; header is added to each request.
func openStalled(t *testing.T, url string, n int, announced int, header func(i int) string) []net.Conn {
	t.Helper()
	host := strings.TrimPrefix(url, "http://")
	host, path, _ := strings.Cut(host, "/")
	conns := make([]net.Conn, 0, n)
	for i := range n {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		fmt.Fprintf(c, "POST /%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n{", path, host, announced, header(i))
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}

// answers reads each connection's response status (0 when the connection ended without one).
func answers(conns []net.Conn) []int {
	out := make([]int, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(60 * time.Second)) // a guard only
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				out[i] = resp.StatusCode
			}
		}()
	}
	wg.Wait()
	return out
}

func TestAnnouncedBodiesCannotExhaustMemory(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)
	url := strings.TrimSpace(hooktray(t, dir, "endpoints", "add", "--name", "target").stdout)
	_, before := s.rss()

	conns := openStalled(t, url, 200, 10<<20, func(int) string { return "" })
	start := time.Now()
	code, err := s.post(url, `{"normal":"webhook"}`)
	took := time.Since(start)
	if err != nil || code != 200 {
		t.Fatalf("a normal webhook during the attack: %d %v", code, err)
	}
	// Every attacking request is cut off for sending too slowly: once all have their answer,
	// the peak RSS covers the whole attack.
	got := answers(conns)
	for i, c := range got {
		if c != http.StatusRequestTimeout && c != http.StatusServiceUnavailable {
			t.Fatalf("attacking connection %d answered %d, want 408 (too slow) or 503 (busy)", i, c)
		}
	}
	_, peak := s.rss()
	t.Logf("200 connections announcing 10 MiB: peak RSS %d MiB (%d MiB before); a normal webhook answered 200 in %s",
		peak>>20, before>>20, took.Round(time.Millisecond))
	if peak > 300<<20 {
		t.Errorf("peak RSS %d MiB under the attack, want < 300 MiB", peak>>20)
	}
}

func TestSlowFloodOnOneEndpointLeavesOthersAnswering(t *testing.T) {
	testutil.NeedFiles(t, 1030+100)
	dir := t.TempDir()
	s := startServe(t, dir)
	a := strings.TrimSpace(hooktray(t, dir, "endpoints", "add", "--name", "flooded").stdout)
	b := strings.TrimSpace(hooktray(t, dir, "endpoints", "add", "--name", "other").stdout)
	for _, tc := range []struct {
		name   string
		header func(i int) string
	}{
		{"from one address", func(int) string { return "" }},
		{"from many addresses through the tunnel", func(i int) string {
			return fmt.Sprintf("Cf-Connecting-Ip: 198.51.%d.%d\r\n", i/250, i%250)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns := openStalled(t, a, 1030, 1<<20, tc.header)
			start := time.Now()
			code, err := s.post(b, `{"still":"served"}`)
			took := time.Since(start)
			if err != nil || code != 200 {
				t.Fatalf("endpoint B during the slow flood on A: %d %v", code, err)
			}
			t.Logf("1,030 slow connections on A: B answered 200 in %s", took.Round(time.Millisecond))
			busy := 0
			for _, c := range answers(conns) {
				if c == http.StatusServiceUnavailable {
					busy++
				}
			}
			if busy == 0 {
				t.Error("the flood was not limited: no connection was answered 503")
			}
		})
	}
}

func TestSharedSecretIsNeverStoredOnAnyPath(t *testing.T) {
	const secret = "e2e-shared-secret-7f3a9c"
	dir := t.TempDir()
	s := startServe(t, dir)
	add := execCommand(binary, "--data-dir", dir, "endpoints", "add", "--name", "device", "--json",
		"--verify", "shared-secret", "--signature-header", "X-Device-Secret", "--mode", "annotate", "--body-limit", "64")
	add.Env = append(os.Environ(), "HOOKTRAY_SECRET="+secret)
	out, err := add.Output()
	if err != nil {
		t.Fatalf("endpoints add: %v", err)
	}
	var ep struct{ ID, URL string }
	json.Unmarshal(out, &ep)

	send := func(body string) {
		req, _ := http.NewRequest(http.MethodPost, ep.URL, strings.NewReader(body))
		req.Header.Set("X-Device-Secret", secret)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	send(`{"path":"accepted"}`)
	send(`{"path":"oversized","padding":"` + strings.Repeat("x", 100) + `"}`)
	// Unreadable: the client goes away in the middle of its body.
	host := strings.TrimPrefix(s.receiver, "http://")
	if c, err := net.Dial("tcp", host); err == nil {
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nX-Device-Secret: %s\r\nContent-Length: 50\r\n\r\n{\"cut", strings.TrimPrefix(ep.URL, s.receiver), host, secret)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
		c.Close()
	}
	if code, body := s.call(http.MethodPatch, "/api/v1/endpoints/"+ep.ID, map[string]any{"verify": map[string]string{"mode": "off"}}); code != 200 {
		t.Fatalf("turn verification off: %d %s", code, body)
	}
	send(`{"path":"verification off"}`)
	if r := hooktray(t, dir, "endpoints", "disable", ep.ID); r.code != 0 {
		t.Fatalf("disable: %+v", r)
	}
	send(`{"path":"paused"}`)

	var list struct{ Events []struct{ ID int64 } }
	_, raw := s.call(http.MethodGet, "/api/v1/events", nil)
	json.Unmarshal(raw, &list)
	if len(list.Events) != 5 {
		t.Fatalf("stored %d events, want 5: %s", len(list.Events), raw)
	}
	if bytes.Contains(raw, []byte(secret)) {
		t.Error("the event list carries the secret")
	}
	for _, ev := range list.Events {
		if _, one := s.call(http.MethodGet, fmt.Sprintf("/api/v1/events/%d", ev.ID), nil); bytes.Contains(one, []byte(secret)) {
			t.Errorf("event %d carries the secret: %s", ev.ID, one)
		}
	}
	if code, _ := s.stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret in clear", e.Name())
		}
	}
}

// alive reports whether pid runs (a zombie does not count).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return !(i > 0 && i+2 < len(b) && b[i+2] == 'Z')
}

func TestCloudflaredDiesWithHooktray(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir, "--tunnel", "quick", "--cloudflared", fakeCloudflared)
	testutil.Eventually(t, "the tunnel to come online", func() bool {
		var st struct{ Tunnel struct{ State string } }
		_, raw := s.call(http.MethodGet, "/api/v1/status", nil)
		return json.Unmarshal(raw, &st) == nil && st.Tunnel.State == "online"
	})
	b, err := os.ReadFile(filepath.Join(dir, "cloudflared.pid"))
	if err != nil {
		t.Fatalf("no cloudflared pid recorded: %v", err)
	}
	pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
	if !alive(pid) {
		t.Fatalf("cloudflared (pid %d) is not running", pid)
	}

	s.cmd.Process.Kill() // kill -9
	<-s.exited
	start := time.Now()
	testutil.Eventually(t, "cloudflared to be gone", func() bool { return !alive(pid) })
	took := time.Since(start)
	t.Logf("cloudflared gone %s after kill -9 of hooktray", took.Round(time.Millisecond))
}

func TestLeftoverCloudflaredIsStoppedAtStart(t *testing.T) {
	dir := t.TempDir()
	left := execCommand(fakeCloudflared, "tunnel", "--no-autoupdate", "--metrics", "127.0.0.1:0", "--url", "http://127.0.0.1:9")
	if err := left.Start(); err != nil {
		t.Fatal(err)
	}
	go left.Wait()
	defer left.Process.Kill()
	os.WriteFile(filepath.Join(dir, "cloudflared.pid"), []byte(fmt.Sprintf("%d\n%s\n", left.Process.Pid, fakeCloudflared)), 0o600)
	s := startServe(t, dir) // no tunnel at all this time
	testutil.Eventually(t, "the cloudflared left over from a crash to be stopped", func() bool { return !alive(left.Process.Pid) })
	if !strings.Contains(s.stderr.String(), "left running by an earlier run") {
		t.Errorf("the log does not say so: %s", s.stderr.String())
	}
}

func TestShutdownIsCleanWithStalledStreams(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)
	url := strings.TrimSpace(hooktray(t, dir, "endpoints", "add", "--name", "busy").stdout)
	token, _ := os.ReadFile(filepath.Join(dir, "api-token"))
	host := strings.TrimPrefix(s.api, "http://")
	openStream := func() (net.Conn, int) {
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}
		c, err := d.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /api/v1/events/stream HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", host, strings.TrimSpace(string(token)))
		br := bufio.NewReaderSize(c, 16)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c, resp.StatusCode // from here on nothing is read: a client that stalled
	}
	for i := range 64 {
		if _, code := openStream(); code != 200 {
			t.Fatalf("stream %d answered %d", i, code)
		}
	}
	if _, code := openStream(); code != http.StatusServiceUnavailable {
		t.Errorf("stream 65 answered %d, want 503", code)
	}
	// Enough events that the stalled streams' socket buffers fill and their writes block: the
	// stream carries each event's query, so 32 KiB queries fill a 4 MiB buffer in 128 events.
	pad := "?pad=" + strings.Repeat("p", 32<<10)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				s.post(url+pad, fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))
			}
		}()
	}
	wg.Wait()
	code, took := s.stop()
	t.Logf("SIGTERM with 64 stalled streams: exit %d after %s", code, took.Round(time.Millisecond))
	if code != 0 || took > 5*time.Second {
		t.Errorf("SIGTERM: exit %d after %s, want 0 within 5 s: %s", code, took, s.stderr.String())
	}
}

func TestTerminalIsNotControlledByWebhooks(t *testing.T) {
	script, err := lookPath("script")
	if err != nil {
		t.Skip("needs script(1) to give the CLI a terminal")
	}
	dir := t.TempDir()
	s := startServe(t, dir)
	url := strings.TrimSpace(hooktray(t, dir, "endpoints", "add", "--name", "term").stdout)
	evil := "\x1b]0;pwned\x07\x1b[2J\u009b31m"
	// The type arrives JSON-escaped and is stored decoded; the body carries the bytes raw.
	if code, err := s.post(url, `{"type":"\u001b]0;pwned\u0007"}`); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	if code, err := s.post(url, "line one\nline two\ttabbed "+evil); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	onTerminal := func(args ...string) string {
		cmdline := binary + " --data-dir " + dir + " " + strings.Join(args, " ")
		out, err := execCommand(script, "-qec", cmdline, "/dev/null").Output()
		if err != nil {
			t.Fatalf("%s: %v", cmdline, err)
		}
		return string(out)
	}
	for _, args := range [][]string{{"events", "show", "2"}, {"events", "show", "1"}, {"events", "list"}} {
		out := onTerminal(args...)
		if strings.ContainsAny(out, "\x1b\x07\u009b") {
			t.Errorf("%v wrote control characters to the terminal: %q", args, out)
		}
		if !strings.Contains(out, `\x1b]0;pwned\x07`) {
			t.Errorf("%v does not show the escaped sequence: %q", args, out)
		}
	}
	// Piped, the body stays exact; --json is exact everywhere.
	if r := hooktray(t, dir, "events", "show", "2"); !strings.Contains(r.stdout, evil) {
		t.Errorf("piped output was changed: %q", r.stdout)
	}
	if out := onTerminal("events", "show", "2", "--json"); !strings.Contains(out, `\u001b]0;pwned\u0007`) {
		t.Errorf("--json on a terminal is not the API's JSON: %q", out)
	}
}
