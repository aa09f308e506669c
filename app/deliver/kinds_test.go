package deliver

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
)

// TestHomeAssistantFallsBackAlongItsURLs: the cloudhook is down, the remote UI answers 500, the
// instance URL takes it; the payload is encrypted with the registration secret and opens with
// the decryption code, and a plain webhook becomes a fire_event.
func TestHomeAssistantFallsBackAlongItsURLs(t *testing.T) {
	secret := verify.NewSecret(hook.SchemeMobileApp)
	r := newRig(t, map[string]string{SecretHomeAssistant: secret})
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	cloudhook := "http://" + dead.Addr().String() + "/cloudhook"
	dead.Close() // nothing listens there any more
	remote := newRecorder(t, 500)
	instance := newRecorder(t)
	tg := r.target(hook.TargetChange{Kind: ptr(hook.TargetHomeAssistant), HomeAssistant: &hook.HomeAssistantChange{
		HomeAssistantTarget: hook.HomeAssistantTarget{WebhookID: "abc123", CloudhookURL: cloudhook, RemoteUIURL: remote.URL, InstanceURL: instance.URL + "/", Encrypt: true}}})
	r.receive(1, tg.ID)
	ds := r.waitStatus(tg.ID, "delivered", all(hook.DeliverySuccess))
	if ds[0].URL != instance.URL+"/api/webhook/abc123" {
		t.Errorf("answered by %s", ds[0].URL)
	}
	if remote.count() != 1 {
		t.Errorf("the remote UI URL was tried %d times", remote.count())
	}
	req, body := instance.request(0)
	if req.URL.Path != "/api/webhook/abc123" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %v", req.URL, req.Header)
	}
	typ, plain, err := verify.Decrypt(secret, []byte(body))
	if err != nil || typ != "encrypted" {
		t.Fatalf("decrypt: %q %v (%s)", typ, err, body)
	}
	var msg struct {
		Type string
		Data struct {
			EventType string `json:"event_type"`
			EventData struct {
				Endpoint string
				Method   string
				Body     map[string]int
			} `json:"event_data"`
		}
	}
	if err := json.Unmarshal(plain, &msg); err != nil || msg.Type != "fire_event" || msg.Data.EventType != "hooktray_webhook" ||
		msg.Data.EventData.Method != "POST" || msg.Data.EventData.Body["n"] != 0 || msg.Data.EventData.Endpoint == "" {
		t.Errorf("message %s: %v", plain, err)
	}
}

func TestHomeAssistantShapedBodiesPassAsTheyAre(t *testing.T) {
	body := []byte(`{"type":"update_location","data":{"gps":[1,2]}}`)
	got, err := homeAssistantPayload(hook.Event{Body: body}, "x")
	if err != nil || string(got) != string(body) {
		t.Errorf("%s %v", got, err)
	}
	got, _ = homeAssistantPayload(hook.Event{Body: []byte{0xff, 0xfe}}, "x")
	if !strings.Contains(string(got), `"body":{"base64":"//4="}`) {
		t.Errorf("binary body: %s", got)
	}
}

func TestCommandTarget(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the test programs are shell scripts")
	}
	r := newRig(t, nil)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	script := filepath.Join(dir, "handle.sh")
	os.WriteFile(script, []byte(`#!/bin/sh
cat > "$1"
env | grep '^HOOKTRAY_' | sort >> "$1"
echo "cannot reach the lamp" >&2
exit "$2"
`), 0o755)
	tg := r.target(hook.TargetChange{Kind: ptr(hook.TargetCommand), MaxRetries: ptr(0), Command: &hook.CommandTarget{Argv: []string{script, out, "3"}, Dir: dir}})
	evs := r.receive(1, tg.ID)
	ds := r.waitStatus(tg.ID, "the dead letter", all(hook.DeliveryDeadLetter))
	if ds[0].Error != "exited with 3: cannot reach the lamp" || ds[0].ResponseStatus != 3 {
		t.Errorf("delivery %+v", ds[0])
	}
	got, _ := os.ReadFile(out)
	for _, want := range []string{`{"n":0}`, "HOOKTRAY_EVENT_ID=" + strconv.FormatInt(evs[0].ID, 10), "HOOKTRAY_ENDPOINT=" + r.ep.ID,
		"HOOKTRAY_METHOD=POST", "HOOKTRAY_QUERY=n=0", "HOOKTRAY_HEADER_CONTENT_TYPE=application/json", "HOOKTRAY_ATTEMPT=1"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("the program did not get %q:\n%s", want, got)
		}
	}
	ok := r.target(hook.TargetChange{Kind: ptr(hook.TargetCommand), Command: &hook.CommandTarget{Argv: []string{script, out, "0"}}})
	r.receive(1, ok.ID)
	r.waitStatus(ok.ID, "success", all(hook.DeliverySuccess))
}

func TestACommandPastItsTimeoutIsKilledWithItsChildren(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("process groups are a Unix feature")
	}
	r := newRig(t, nil)
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	script := filepath.Join(t.TempDir(), "slow.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nsleep 300 &\necho $! > "+pidFile+"\nwait\n"), 0o755)
	tg := r.target(hook.TargetChange{Kind: ptr(hook.TargetCommand), TimeoutMS: ptr(int64(300)), Command: &hook.CommandTarget{Argv: []string{script}}})
	r.receive(1, tg.ID)
	ds := r.waitStatus(tg.ID, "a retry after the timeout", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliveryRetrying })
	if !strings.Contains(ds[0].Error, "did not finish within the target's timeout") {
		t.Errorf("error %q", ds[0].Error)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	testutil.Eventually(t, fmt.Sprintf("the child %d to be gone", pid), func() bool {
		return syscall.Kill(pid, 0) != nil
	})
}

// pidsIn reads the pids a test program wrote, one a line, once it has written want of them.
func pidsIn(t *testing.T, path string, want int) []int {
	t.Helper()
	var pids []int
	testutil.Eventually(t, fmt.Sprintf("%d pids in %s", want, path), func() bool {
		b, _ := os.ReadFile(path)
		pids = pids[:0]
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return len(pids) >= want
	})
	return pids
}

// A program that exits 0 succeeds at once, whatever it leaves running: a child in its group that
// holds its output open, or one that left the group with setsid. Both are ended with it.
func TestAProgramsExitDecidesAndItsLeftoversAreEnded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("setsid children are ended by the Linux supervisor")
	}
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("needs setsid(1)")
	}
	r := newRig(t, nil)
	pidFile := filepath.Join(t.TempDir(), "pids")
	script := filepath.Join(t.TempDir(), "leaves.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nsleep 300 &\necho $! >> "+pidFile+"\nsetsid sleep 300 &\necho $! >> "+pidFile+"\necho done\nexit 0\n"), 0o755)
	tg := r.target(hook.TargetChange{Kind: ptr(hook.TargetCommand), TimeoutMS: ptr(int64(20000)), MaxRetries: ptr(0),
		Command: &hook.CommandTarget{Argv: []string{script}}})
	started := time.Now()
	r.receive(1, tg.ID)
	ds := r.waitStatus(tg.ID, "the delivery to succeed", func(ds []hook.Delivery) bool { return ds[0].Status != hook.DeliveryPending })
	if took := time.Since(started); ds[0].Status != hook.DeliverySuccess || took > 10*time.Second {
		t.Fatalf("delivery %s after %s (%q), want success at once", ds[0].Status, took, ds[0].Error)
	}
	// Checked at once: the supervisor ends them before it exits, so before the success is
	// recorded (an init that reaps orphans by itself would hide a later check).
	for _, pid := range pidsIn(t, pidFile, 2) {
		if running(pid) {
			t.Errorf("leftover %d still runs after the delivery succeeded", pid)
		}
	}
}

// running reports whether pid is a live process (a zombie waiting to be reaped is not).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	rest := string(b)[strings.LastIndexByte(string(b), ')')+1:]
	f := strings.Fields(rest)
	return len(f) > 0 && f[0] != "Z"
}

// Stop keeps its deadline while a program runs: the program is asked to end, and everything it
// started goes with it.
func TestStopEndsARunningProgramWithinItsDeadline(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the test programs are shell scripts")
	}
	r := newRig(t, nil)
	pidFile := filepath.Join(t.TempDir(), "pids")
	script := filepath.Join(t.TempDir(), "hangs.sh")
	os.WriteFile(script, []byte("#!/bin/sh\ntrap '' TERM\nsleep 300 &\necho $! >> "+pidFile+"\nwait\n"), 0o755)
	tg := r.target(hook.TargetChange{Kind: ptr(hook.TargetCommand), TimeoutMS: ptr(int64(600000)),
		Command: &hook.CommandTarget{Argv: []string{script}}})
	r.receive(1, tg.ID)
	pids := pidsIn(t, pidFile, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if !r.engine.Stop(ctx) {
		t.Fatalf("Stop did not end its workers within 5 s")
	}
	t.Logf("stopped in %s", time.Since(start).Round(time.Millisecond))
	if running(pids[0]) {
		t.Error("the program's child still runs after Stop")
	}
	if ds := r.deliveries(tg.ID); ds[0].Status != hook.DeliveryPending {
		t.Errorf("the cut-off attempt was recorded as %s: it must be made again at the next start", ds[0].Status)
	}
}
