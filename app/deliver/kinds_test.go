package deliver

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

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
