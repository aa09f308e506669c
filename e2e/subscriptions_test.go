package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hooktray/hooktray/app/subscribe/subscribetest"
	"github.com/hooktray/hooktray/internal/testutil"
)

// TestSubscriptionsAsANewUserWould: with an external HTTPS URL, a diagral subscription registers,
// an intrusion arrives typed ALERT; a device-platform subscription stores the HMAC secret and the
// next signed webhook verifies; a new public URL re-registers both, with seed 000's log line.
func TestSubscriptionsAsANewUserWould(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	dir := t.TempDir()
	s := startServe(t, dir, "--public-url", "https://hooks.example.net")
	r := hooktray(t, dir, "endpoints", "add", "--name", "alarm")
	if r.code != 0 {
		t.Fatalf("add: %s", r.stderr)
	}
	settings := filepath.Join(t.TempDir(), "diagral.json")
	os.WriteFile(settings, []byte(fmt.Sprintf(`{"base_url":%q,"serial_id":%q,"api_key":%q,"secret_key":%q}`,
		st.DiagralURLBase(), subscribetest.DiagralSerial, subscribetest.DiagralKey, subscribetest.DiagralSecret)), 0o600)
	r = hooktray(t, dir, "subscriptions", "add", "--endpoint", "alarm", "--provider", "diagral", "--settings-file", settings)
	if r.code != 0 || !strings.Contains(r.stdout, "Status        registered") {
		t.Fatalf("diagral: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var ep struct{ ID, URL string }
	r = hooktray(t, dir, "endpoints", "show", "alarm", "--json")
	json.Unmarshal([]byte(r.stdout), &ep)
	if st.State().DiagralURL != "https://hooks.example.net/webhook/"+ep.ID {
		t.Errorf("Diagral holds %q", st.State().DiagralURL)
	}
	if code, err := s.post(ep.URL, `{"transmitter_id":"T1","alarm_code":"1130","alarm_description":"Intrusion","group_index":"01"}`); err != nil || code != 200 {
		t.Fatalf("alarm: %d %v", code, err)
	}
	r = hooktray(t, dir, "events", "list", "--json", "--limit", "1")
	if !strings.Contains(r.stdout, `"type":"ALERT"`) {
		t.Errorf("the intrusion is not typed ALERT: %s", r.stdout)
	}

	devSettings := filepath.Join(t.TempDir(), "devices.json")
	os.WriteFile(devSettings, []byte(fmt.Sprintf(`{"base_url":%q,"api_token":%q,"organization_id":6}`, st.DevicesURLBase(), subscribetest.Token)), 0o600)
	r = hooktray(t, dir, "subscriptions", "add", "--endpoint", "alarm", "--provider", "device-platform-v2", "--settings-file", devSettings, "--set", "device_ids=85,86")
	if r.code != 0 || !strings.Contains(r.stdout, "registered") {
		t.Fatalf("device platform: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	body := `{"topic":"DeviceStatusEvents","deviceId":85}`
	m := hmac.New(sha256.New, []byte(subscribetest.SecretHmac))
	m.Write([]byte(body))
	req, _ := http.NewRequest("POST", ep.URL, strings.NewReader(body))
	req.Header.Set("X-Signature", hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r = hooktray(t, dir, "events", "list", "--json", "--limit", "1")
	if !strings.Contains(r.stdout, `"result":"ok"`) {
		t.Errorf("the signed webhook does not verify: %s", r.stdout)
	}
	if r := hooktray(t, dir, "subscriptions", "add", "--endpoint", "alarm", "--provider", "github", "--set", "token=abc"); r.code != 2 ||
		!strings.Contains(r.stderr, "never on the command line") {
		t.Errorf("a secret on the command line: exit %d %s", r.code, r.stderr)
	}

	// The public URL changes (a restart with another one): every subscription follows.
	if code, _ := s.stop(); code != 0 {
		t.Fatalf("stop: %d", code)
	}
	s = startServe(t, dir, "--public-url", "https://moved.example.net")
	moved := "https://moved.example.net/webhook/" + ep.ID
	testutil.Eventually(t, "both re-registered at the new URL", func() bool {
		return st.State().DiagralURL == moved && strings.Count(s.stderr.String(), "Webhook successfully registered for alarm") == 2
	})
	if !strings.Contains(s.stderr.String(), "the provider held another URL for alarm; forcing it to this one") {
		t.Errorf("no warning about the forced update:\n%s", s.stderr.String())
	}
	for _, secret := range []string{subscribetest.DiagralKey, subscribetest.DiagralSecret, subscribetest.Token, subscribetest.SecretHmac} {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(p); strings.Contains(string(b), secret) {
					t.Errorf("%s holds a secret in clear", p)
				}
			}
			return nil
		})
	}
}
