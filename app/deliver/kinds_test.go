package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hooktray/hooktray/app/deliver/hatest"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
)

// haTarget is a Home Assistant target of the rig for a registration of the stand-in.
func (r *rig) haTarget(ha *hatest.Server, reg hatest.Registration, cloud bool) hook.Target {
	target := hook.HomeAssistantTarget{WebhookID: reg.WebhookID, InstanceURL: ha.URL + "/", Encrypt: reg.SupportsEncryption}
	if cloud {
		target.CloudhookURL, target.RemoteUIURL = ha.CloudhookURL(reg.WebhookID), ha.RemoteUIURL()
	}
	return r.target(hook.TargetChange{Kind: ptr(hook.TargetHomeAssistant), TimeoutMS: ptr(int64(300)),
		HomeAssistant: &hook.HomeAssistantChange{HomeAssistantTarget: target}})
}

// receiveBodies stores one event per body for the targets, as the receiver does.
func (r *rig) receiveBodies(target string, bodies ...string) {
	r.t.Helper()
	var evs []*hook.Event
	for i, b := range bodies {
		evs = append(evs, &hook.Event{EndpointID: r.ep.ID, ReceivedAt: r.clock.Now(), Status: hook.Accepted, Method: "POST",
			Path: "/webhook/" + r.ep.ID, Query: fmt.Sprintf("n=%d", i), Header: http.Header{"Content-Type": {"application/json"}},
			Body: []byte(b), Forward: []string{target}, ResponseStatus: 200, Type: "t"})
	}
	if err := r.store.InsertBatch(context.Background(), evs); err != nil {
		r.t.Fatal(err)
	}
	r.engine.Kick(target)
}

// Forwarded to a registration that encrypts, through a cloudhook that hangs and a remote UI that
// answers 500: Home Assistant fires each webhook as an event (a mobile_app command goes as that
// command), once each, in order, through the instance URL; later events go straight there.
func TestHomeAssistantActsOnWhatIsForwardedAlongItsChain(t *testing.T) {
	ha := hatest.New(true)
	defer ha.Close()
	ha.Set(hatest.Hang, hatest.Fail, hatest.Serve)
	reg := ha.Register(true)
	r := newRig(t, map[string]string{SecretHomeAssistant: reg.Secret})
	tg := r.haTarget(ha, reg, true)
	r.receiveBodies(tg.ID,
		`{"type":"state.changed","data":{"accessory":"door","state":"open"}}`, // Homecast: not a command
		`{"type":"update_location","data":{"gps":[12.34,56.78],"gps_accuracy":10}}`,
		`{"id":"evt_1","type":"payment_intent.succeeded"}`, // Stripe
	)
	ds := r.waitStatus(tg.ID, "all three delivered", all(hook.DeliverySuccess))
	fired, commands := ha.Fired(), ha.Commands()
	if len(fired) != 2 || len(commands) != 1 {
		t.Fatalf("Home Assistant fired %+v and ran %+v; logged %q", fired, commands, ha.Logs())
	}
	first := fired[0].EventData
	if fired[0].EventType != hook.HomeAssistantEvent || first["endpoint"] != "alarm" || first["body"].(map[string]any)["type"] != "state.changed" || first["query"] != "n=0" {
		t.Errorf("first event fired: %+v", fired[0])
	}
	if fired[1].EventData["query"] != "n=2" || fired[0].Via != "instance" || fired[1].Via != "instance" {
		t.Errorf("fired out of order or through the wrong URL: %+v", fired)
	}
	if commands[0].Type != "update_location" || commands[0].Data.(map[string]any)["gps_accuracy"] != 10.0 {
		t.Errorf("command %+v", commands[0])
	}
	if n := ha.Requests("cloudhook") + ha.Requests("remote"); n != 2 {
		t.Errorf("the dead hops were tried %d times for three events, want once each", n)
	}
	if !strings.Contains(ds[0].Route, "cloudhook: no answer within the target's timeout") || !strings.Contains(ds[0].Route, "remote UI URL: answered 500") ||
		!strings.Contains(ds[0].Route, "answered by the instance URL") {
		t.Errorf("the first delivery's route: %q", ds[0].Route)
	}
	if !strings.Contains(ds[2].Route, "the cloudhook and the remote UI URL skipped") {
		t.Errorf("a later delivery's route: %q", ds[2].Route)
	}
	if ds[0].URL != ha.URL+"/api/webhook/"+reg.WebhookID {
		t.Errorf("answered by %s", ds[0].URL)
	}
}

// After PreferredRetry the preferred hop is tried again, and used from then on when it answers.
func TestHomeAssistantGoesBackToThePreferredURL(t *testing.T) {
	ha := hatest.New(true)
	defer ha.Close()
	ha.Set(hatest.Fail, hatest.Serve, hatest.Serve)
	reg := ha.Register(false)
	r := newRig(t, nil)
	tg := r.haTarget(ha, reg, true)
	r.receiveBodies(tg.ID, `{"a":1}`)
	r.waitStatus(tg.ID, "delivered", all(hook.DeliverySuccess))
	ha.Set(hatest.Serve, hatest.Serve, hatest.Serve) // the cloudhook is back
	r.receiveBodies(tg.ID, `{"a":2}`)
	r.waitStatus(tg.ID, "delivered", all(hook.DeliverySuccess))
	if got := ha.Fired(); got[1].Via != "remote" {
		t.Fatalf("within the cool-down the second went via %s", got[1].Via)
	}
	r.clock.Advance(PreferredRetry)
	r.receiveBodies(tg.ID, `{"a":3}`)
	r.waitStatus(tg.ID, "delivered", all(hook.DeliverySuccess))
	if got := ha.Fired(); len(got) != 3 || got[2].Via != "cloudhook" {
		t.Errorf("after the cool-down: %+v", got)
	}
}

// The stand-in drops what a real instance drops, with a 200: the envelope with "data": null that
// Hooktray once sent, an unknown command, a fire_event without event_type.
func TestTheStandInDropsWhatHomeAssistantDrops(t *testing.T) {
	ha := hatest.New(false)
	defer ha.Close()
	reg := ha.Register(true)
	sealed, _ := verify.Encrypt(reg.Secret, "fire_event", []byte(`{"event_type":"x"}`))
	var env map[string]any
	json.Unmarshal(sealed, &env)
	env["data"] = nil
	withData, _ := json.Marshal(env)
	unknown, _ := verify.Encrypt(reg.Secret, "encrypted", []byte(`{"type":"fire_event","data":{"event_type":"x"}}`))
	noType, _ := verify.Encrypt(reg.Secret, "fire_event", []byte(`{"event_data":{}}`))
	for _, body := range [][]byte{withData, unknown, noType} {
		resp, err := http.Post(ha.URL+"/api/webhook/"+reg.WebhookID, "application/json", bytes.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("answered %v %v, want the silent 200", resp, err)
		}
	}
	if len(ha.Fired()) != 0 || len(ha.Logs()) != 3 {
		t.Errorf("fired %+v; logged %q", ha.Fired(), ha.Logs())
	}
	if resp, _ := http.Post(ha.URL+"/api/webhook/"+reg.WebhookID, "application/json", strings.NewReader(`{"type":"fire_event","data":{}}`)); resp.StatusCode != 400 {
		t.Errorf("an unencrypted message to a registration that encrypts answered %d", resp.StatusCode)
	}
	ha.Delete(reg.WebhookID)
	if resp, _ := http.Post(ha.URL+"/api/webhook/"+reg.WebhookID, "application/json", bytes.NewReader(noType)); resp.StatusCode != 410 {
		t.Errorf("a deleted registration answered %d", resp.StatusCode)
	}
}

// A deleted registration answers 410: the target is disabled and the user told to register again.
func TestAGoneRegistrationDisablesTheTarget(t *testing.T) {
	ha := hatest.New(false)
	defer ha.Close()
	reg := ha.Register(false)
	r := newRig(t, nil)
	tg := r.haTarget(ha, reg, false)
	ha.Delete(reg.WebhookID)
	r.receiveBodies(tg.ID, `{"a":1}`)
	select {
	case gone := <-r.gone:
		if gone.ID != tg.ID || gone.State != hook.TargetDisabled {
			t.Errorf("gone %+v", gone)
		}
	case <-time.After(testutil.Patience):
		t.Fatal("the 410 was not reported")
	}
}

func TestHomeAssistantMessages(t *testing.T) {
	for _, tc := range []struct{ body, command, data string }{
		{`{"type":"update_location","data":{"gps":[1,2]}}`, "update_location", `{"gps":[1,2]}`},
		{`{"type":"get_config"}`, "get_config", `{}`},
		{`{"type":"update_sensor_states","data":[{"type":"sensor"}],"extra":1}`, "update_sensor_states", `[{"type":"sensor"}]`},
	} {
		cmd, data, err := homeAssistantMessage(hook.Event{Body: []byte(tc.body)}, "x")
		if err != nil || cmd != tc.command || string(data) != tc.data {
			t.Errorf("%s: %s %s %v", tc.body, cmd, data, err)
		}
	}
	for _, body := range []string{`{"type":"state.changed","data":{"a":1}}`, `{"type":"fire_event","data":"not an object"}`, "\xff\xfe"} {
		cmd, data, _ := homeAssistantMessage(hook.Event{Body: []byte(body)}, "x")
		if cmd != "fire_event" || !strings.Contains(string(data), `"event_type":"hooktray_webhook"`) {
			t.Errorf("%q became %s %s", body, cmd, data)
		}
	}
	_, data, _ := homeAssistantMessage(hook.Event{Body: []byte{0xff, 0xfe}}, "x")
	if !strings.Contains(string(data), `"body":{"base64":"//4="}`) {
		t.Errorf("binary body: %s", data)
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
