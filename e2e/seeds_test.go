package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/app/deliver/hatest"
	"github.com/hooktray/hooktray/app/subscribe/subscribetest"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
)

// hooktrayWith runs the CLI with extra environment variables (secrets are never flags).
func hooktrayWith(t *testing.T, dataDir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--data-dir", dataDir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// Homecast-signed events forwarded to a Home Assistant target that Hooktray registered through
// the instance's /api/mobile_app/registrations, with encryption, where the cloudhook hangs and the
// remote UI answers 500: Home Assistant fires each as an event, once, in order, through the
// instance URL, and the later ones go straight there.
func TestHomecastEventsReachHomeAssistantAsANewUserWould(t *testing.T) {
	ha := hatest.New(true)
	defer ha.Close()
	ha.Set(hatest.Hang, hatest.Fail, hatest.Serve)
	dir := t.TempDir()
	startServe(t, dir)
	secret := verify.NewSecret(hook.SchemeHomecast)
	if r := hooktrayWith(t, dir, []string{"HOOKTRAY_SECRET=" + secret}, "endpoints", "add", "--name", "homecast", "--verify", "homecast"); r.code != 0 {
		t.Fatalf("endpoint: %s", r.stderr)
	}
	url := strings.TrimSpace(hooktray(t, dir, "endpoints", "show", "homecast", "--json").stdout)
	var ep struct{ URL string }
	json.Unmarshal([]byte(url), &ep)
	r := hooktrayWith(t, dir, []string{"HOOKTRAY_TARGET_SECRET=" + hatest.Token},
		"targets", "add", "--endpoint", "homecast", "--ha-register", ha.URL, "--timeout", "1s", "--json")
	if r.code != 0 {
		t.Fatalf("register with Home Assistant: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	var target struct {
		ID            string
		HomeAssistant struct {
			WebhookID  string `json:"webhook_id"`
			Encrypt    bool
			Registered bool
		} `json:"home_assistant"`
	}
	json.Unmarshal([]byte(r.stdout), &target)
	if reg, ok := ha.Registrations()[target.HomeAssistant.WebhookID]; !ok || !reg.SupportsEncryption || !target.HomeAssistant.Encrypt {
		t.Fatalf("the registration %+v, the target %s", ha.Registrations(), r.stdout)
	}
	for i, state := range []string{"open", "closed", "open"} {
		body := fmt.Sprintf(`{"id":"evt_%d","type":"state.changed","data":{"accessory":"front door","state":%q}}`, i, state)
		sig, err := verify.Sign(hook.SchemeHomecast, secret, []byte(body), fmt.Sprintf("dlv_%d", i), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, ep.URL, strings.NewReader(body))
		for k, v := range sig {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("event %d: %v %v", i, resp, err)
		}
		resp.Body.Close()
	}
	testutil.Eventually(t, "Home Assistant to fire the three events", func() bool { return len(ha.Fired()) >= 3 })
	fired := ha.Fired()
	if len(fired) != 3 {
		t.Fatalf("fired %d events, want 3 (once each): %+v", len(fired), fired)
	}
	for i, want := range []string{"open", "closed", "open"} {
		f := fired[i]
		body, _ := f.EventData["body"].(map[string]any)
		data, _ := body["data"].(map[string]any)
		if f.EventType != "hooktray_webhook" || f.Via != "instance" || data["state"] != want || f.EventData["endpoint"] != "homecast" {
			t.Errorf("event %d fired as %+v", i, f)
		}
	}
	if c, rem := ha.Requests("cloudhook"), ha.Requests("remote"); c != 1 || rem != 1 {
		t.Errorf("the cloudhook was tried %d times and the remote UI %d for three events: the later ones must go straight to the instance", c, rem)
	}
	if logs := ha.Logs(); len(logs) != 0 {
		t.Errorf("Home Assistant logged %q: something was dropped", logs)
	}
	list := hooktray(t, dir, "deliveries", "list", "--target", target.ID, "--json").stdout
	if !strings.Contains(list, "answered by the instance URL") || !strings.Contains(list, "skipped") {
		t.Errorf("the deliveries do not say which URL answered and why the others were skipped: %s", list)
	}
}

// A Diagral system whose read lags (it says there is no subscription, then that one exists) ends
// registered at Hooktray's URL, and the forced update is shown.
func TestDiagralWhoseReadLagsEndsRegistered(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	st.Set(func(s *subscribetest.Server) {
		s.DiagralURL = "https://other-client.example/hook"
		s.DiagralStaleReads = 100
	})
	dir := t.TempDir()
	startServe(t, dir, "--public-url", "https://hooks.example.net")
	hooktray(t, dir, "endpoints", "add", "--name", "alarm")
	settings := filepath.Join(t.TempDir(), "diagral.json")
	os.WriteFile(settings, []byte(fmt.Sprintf(`{"base_url":%q,"serial_id":%q,"api_key":%q,"secret_key":%q}`,
		st.DiagralURLBase(), subscribetest.DiagralSerial, subscribetest.DiagralKey, subscribetest.DiagralSecret)), 0o600)
	r := hooktray(t, dir, "subscriptions", "add", "--endpoint", "alarm", "--provider", "diagral", "--settings-file", settings)
	if r.code != 0 || !strings.Contains(r.stdout, "registered") {
		t.Fatalf("diagral: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var ep struct{ ID string }
	json.Unmarshal([]byte(hooktray(t, dir, "endpoints", "show", "alarm", "--json").stdout), &ep)
	if st.State().DiagralURL != "https://hooks.example.net/webhook/"+ep.ID {
		t.Errorf("Diagral holds %q", st.State().DiagralURL)
	}
	if !strings.Contains(r.stdout, "Forced") || !strings.Contains(r.stdout, "https://hooks.example.net/webhook/"+ep.ID) {
		t.Errorf("the forced update is not shown:\n%s", r.stdout)
	}
	if n := st.Count("POST /diagral"); n != 1 {
		t.Errorf("%d POSTs: the 409 was retried instead of updated", n)
	}
}

// Routing settings are set, read back and changed from the command line, and route.
func TestRoutingSettingsRoundTripThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)
	if r := hooktray(t, dir, "endpoints", "add", "--name", "homey", "--route-query-param", "homey", "--route-key-path", "body.device_id"); r.code != 0 {
		t.Fatalf("router: %s", r.stderr)
	}
	if r := hooktray(t, dir, "endpoints", "add", "--name", "lamp", "--keys", "lamp1,lamp2", "--type-path", "body.event"); r.code != 0 {
		t.Fatalf("lamp: %s", r.stderr)
	}
	var router, lamp struct {
		URL   string
		Route *struct {
			KeyPath    string `json:"key_path"`
			QueryParam string `json:"query_param"`
		}
		Keys     []string
		TypePath string `json:"type_path"`
	}
	json.Unmarshal([]byte(hooktray(t, dir, "endpoints", "show", "homey", "--json").stdout), &router)
	json.Unmarshal([]byte(hooktray(t, dir, "endpoints", "show", "lamp", "--json").stdout), &lamp)
	if router.Route == nil || router.Route.QueryParam != "homey" || router.Route.KeyPath != "body.device_id" {
		t.Errorf("the router's route: %+v", router.Route)
	}
	if strings.Join(lamp.Keys, ",") != "lamp1,lamp2" || lamp.TypePath != "body.event" {
		t.Errorf("the lamp's keys %v, type path %q", lamp.Keys, lamp.TypePath)
	}
	if show := hooktray(t, dir, "endpoints", "show", "homey").stdout; !strings.Contains(show, "Routes by") || !strings.Contains(show, "homey") {
		t.Errorf("endpoints show does not say how it routes:\n%s", show)
	}
	if r := hooktray(t, dir, "endpoints", "set", "lamp", "--keys", "kitchen"); r.code != 0 || !strings.Contains(r.stdout, "kitchen") {
		t.Fatalf("set: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if code, err := s.post(router.URL+"?homey=kitchen", `{"event":"on"}`); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	events := hooktray(t, dir, "events", "list", "--endpoint", "lamp", "--json").stdout
	if !strings.Contains(events, `"type":"on"`) {
		t.Errorf("the routed request did not reach the lamp with its type: %s", events)
	}
}
