package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hooktray/hooktray/internal/mosquitto"
	"github.com/hooktray/hooktray/internal/testutil"
)

// As a user would: an endpoint forwarding to a local mosquitto, with a password, from the command
// line; a client subscribed as mosquitto_sub would gets every webhook, on its endpoint's topic.
func TestAnEndpointForwardsToMQTT(t *testing.T) {
	b := mosquitto.Start(t, "hooktray", "s3cret")
	var mu sync.Mutex
	var got []string
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID("e2e-sub").SetUsername("hooktray").SetPassword("s3cret"))
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: %v", tok.Error())
	}
	defer sub.Disconnect(0)
	sub.Subscribe("home/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		mu.Lock()
		got = append(got, m.Topic()+" "+string(m.Payload()))
		mu.Unlock()
	}).Wait()

	dir := t.TempDir()
	startServe(t, dir)
	if r := hooktray(t, dir, "endpoints", "add", "--name", "Front door"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := hooktrayWith(t, dir, []string{"HOOKTRAY_TARGET_SECRET=s3cret"}, "targets", "add", "--endpoint", "Front door",
		"--mqtt-url", b.URL, "--topic", "home/{endpoint}/{type}", "--qos", "1", "--mqtt-user", "hooktray", "--json")
	if r.code != 0 || strings.Contains(r.stdout, "s3cret") {
		t.Fatalf("targets add: %d %s %s", r.code, r.stdout, r.stderr)
	}
	url := strings.TrimSpace(hooktray(t, dir, "endpoints", "show", "Front door", "--json").stdout)
	var ep struct{ URL string }
	if err := json.Unmarshal([]byte(url), &ep); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if code, err := postJSON(ep.URL, fmt.Sprintf(`{"type":"door.%d","open":true}`, i)); err != nil || code != 200 {
			t.Fatalf("post: %d %v", code, err)
		}
	}
	testutil.Eventually(t, "three messages at the subscriber", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(got[0], "home/Front door/") || !strings.HasSuffix(got[2], `{"type":"door.2","open":true}`) {
		t.Errorf("received %q", got)
	}
}
