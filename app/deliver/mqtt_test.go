package deliver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/mosquitto"
	"github.com/hooktray/hooktray/internal/testutil"
)

// subscriber collects what a broker delivers on a topic filter, as mosquitto_sub would.
type subscriber struct {
	mu   sync.Mutex
	msgs []mqtt.Message
}

func subscribe(t *testing.T, b *mosquitto.Broker, filter, user, password string) *subscriber {
	t.Helper()
	s := &subscriber{}
	opts := mqtt.NewClientOptions().AddBroker(b.URL).SetClientID(fmt.Sprintf("sub-%d", time.Now().UnixNano())).
		SetUsername(user).SetPassword(password).SetAutoReconnect(true).SetCleanSession(true).
		SetOnConnectHandler(func(c mqtt.Client) {
			c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
				s.mu.Lock()
				s.msgs = append(s.msgs, m)
				s.mu.Unlock()
			}).Wait()
		})
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return s
}

func (s *subscriber) got() []mqtt.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mqtt.Message(nil), s.msgs...)
}

func mqttChange(b *mosquitto.Broker, user string, qos int) hook.TargetChange {
	kind := hook.TargetMQTT
	return hook.TargetChange{Kind: &kind, MQTT: &hook.MQTTChange{MQTTTarget: hook.MQTTTarget{Broker: b.URL, Username: user,
		Topic: "hooktray/{endpoint}/{type}", QoS: qos}}}
}

// Events are published in order with QoS 1, each delivered once the broker acknowledged it, to
// the topic the template names.
func TestAnMQTTTargetPublishesEachEventToItsTopic(t *testing.T) {
	b := mosquitto.Start(t, "", "")
	sub := subscribe(t, b, "hooktray/#", "", "")
	r := newRig(t, nil)
	tg := r.target(mqttChange(b, "", 1))
	r.receive(3, tg.ID)
	r.waitStatus(tg.ID, "all delivered", all(hook.DeliverySuccess))
	testutil.Eventually(t, "three messages at the subscriber", func() bool { return len(sub.got()) == 3 })
	for i, m := range sub.got() {
		if m.Topic() != "hooktray/alarm/event" || string(m.Payload()) != fmt.Sprintf(`{"n":%d}`, i) {
			t.Errorf("message %d: %s %s", i, m.Topic(), m.Payload())
		}
	}
}

// A broker that is down: the deliveries retry with the engine's backoff, and go once it is back;
// a broker restarted mid-stream loses nothing acknowledged.
func TestAnMQTTTargetWaitsForItsBrokerAndLosesNothing(t *testing.T) {
	b := mosquitto.Start(t, "", "")
	r := newRig(t, nil)
	tg := r.target(mqttChange(b, "", 1))
	b.Stop()
	r.receive(2, tg.ID)
	r.waitStatus(tg.ID, "the head retrying", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliveryRetrying })
	if d := r.deliveries(tg.ID)[0]; !strings.Contains(d.Error, "127.0.0.1") {
		t.Errorf("the retry's reason: %q", d.Error)
	}
	b.Start()
	sub := subscribe(t, b, "hooktray/#", "", "")
	r.clock.Advance(r.nextWait())
	r.waitStatus(tg.ID, "both delivered once the broker is back", all(hook.DeliverySuccess))
	// Restarted mid-stream: what was delivered stays delivered, the rest goes after.
	b.Stop()
	b.Start()
	sub = subscribe(t, b, "hooktray/#", "", "")
	r.receive(3, tg.ID)
	testutil.Eventually(t, "all five delivered, retries made due as they are scheduled", func() bool {
		if ds := r.deliveries(tg.ID); len(ds) == 5 && all(hook.DeliverySuccess)(ds) {
			return true
		}
		if p := r.clock.Pending(); len(p) > 0 {
			r.clock.Advance(p[0])
		}
		return false
	})
	testutil.Eventually(t, "the three after the restart at the subscriber", func() bool { return len(sub.got()) >= 3 })
}

// A refused login says so and is not retried.
func TestAnMQTTTargetWithAWrongPasswordFailsAtOnce(t *testing.T) {
	b := mosquitto.Start(t, "hooktray", "right")
	r := newRig(t, map[string]string{SecretMQTT: "wrong"})
	tg := r.target(mqttChange(b, "hooktray", 1))
	r.receive(1, tg.ID)
	ds := r.waitStatus(tg.ID, "failed", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliveryFailed })
	if !strings.Contains(ds[0].Error, "refused the login") || ds[0].Attempt != 1 {
		t.Errorf("delivery %+v", ds[0])
	}
}

// With discovery on, the endpoint appears to Home Assistant as an event entity: a retained
// config on the discovery topic listing the types seen (published again when one is new), each
// event announced on its state topic with its event_type; removing the target removes it.
func TestAnMQTTTargetAnnouncesItsEndpointToHomeAssistant(t *testing.T) {
	b := mosquitto.Start(t, "", "")
	r := newRig(t, nil)
	c := mqttChange(b, "", 1)
	c.MQTT.Discovery = true
	tg := r.target(c)
	sub := subscribe(t, b, "hooktray/"+r.ep.ID+"/event", "", "")
	r.receive(2, tg.ID)
	r.waitStatus(tg.ID, "delivered", all(hook.DeliverySuccess))
	configTopic := "homeassistant/event/hooktray/" + r.ep.ID + "/config"
	// What a client subscribing now gets on the config topic: a retained message comes before a
	// marker published after the subscription, on the same subscription, so no wait is guessed.
	retained := func() (string, bool) {
		dir := strings.TrimSuffix(configTopic, "/config")
		cfg := subscribe(t, b, dir+"/#", "", "")
		pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL).SetClientID(fmt.Sprintf("marker-%d", time.Now().UnixNano())))
		if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		defer pub.Disconnect(0)
		pub.Publish(dir+"/marker", 1, false, "m").Wait()
		var msgs []mqtt.Message
		testutil.Eventually(t, "the marker", func() bool {
			msgs = cfg.got()
			return len(msgs) > 0 && msgs[len(msgs)-1].Topic() == dir+"/marker"
		})
		for _, m := range msgs {
			if m.Topic() == configTopic {
				return string(m.Payload()), true
			}
		}
		return "", false
	}
	msg, ok := retained()
	var config struct {
		StateTopic string   `json:"state_topic"`
		EventTypes []string `json:"event_types"`
		UniqueID   string   `json:"unique_id"`
		Device     struct{ Name string }
	}
	if !ok || json.Unmarshal([]byte(msg), &config) != nil || config.StateTopic != "hooktray/"+r.ep.ID+"/event" ||
		fmt.Sprint(config.EventTypes) != "[webhook]" || config.Device.Name != "Hooktray" || config.UniqueID == "" {
		t.Fatalf("the retained config: %v %s", ok, msg)
	}
	testutil.Eventually(t, "two events announced", func() bool { return len(sub.got()) == 2 })
	if m := sub.got()[0]; m.Retained() || !strings.Contains(string(m.Payload()), `"event_type":"webhook"`) {
		t.Errorf("the announcement: %s (retained %v)", m.Payload(), m.Retained())
	}
	if err := r.engine.Unannounce(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	if msg, ok := retained(); ok && msg != "" {
		t.Errorf("the config is still retained after the target was removed: %s", msg)
	}
}
