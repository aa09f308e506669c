package deliver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/hooktray/hooktray/app/netmsg"
	"github.com/hooktray/hooktray/hook"
)

// SecretMQTT is the purpose of an MQTT target's sealed password.
const SecretMQTT = "mqtt-password"

// mqttClients keeps one broker connection per MQTT target, made when first needed and made
// again when the target's settings change; a dropped one reconnects at the next attempt, the
// engine's retries being the backoff.
type mqttClients struct {
	mu sync.Mutex
	m  map[string]*mqttClient
}

type mqttClient struct {
	key    string // the settings it was made with
	client mqtt.Client
}

// close ends the target's connection, if any.
func (c *mqttClients) close(targetID string) {
	c.mu.Lock()
	cl := c.m[targetID]
	delete(c.m, targetID)
	c.mu.Unlock()
	if cl != nil {
		cl.client.Disconnect(250)
	}
}

// errLoginRefused is a broker that refused the username or password: retrying cannot help.
var errLoginRefused = errors.New("the broker refused the login")

// get is the target's connection, connected, made within ctx.
func (c *mqttClients) get(ctx context.Context, t hook.Target, password string) (mqtt.Client, error) {
	m := t.MQTT
	key := strings.Join([]string{m.Broker, m.ClientID, m.Username, password}, "\x00")
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*mqttClient{}
	}
	cl := c.m[t.ID]
	if cl != nil && cl.key != key {
		cl.client.Disconnect(0)
		cl = nil
	}
	if cl == nil {
		id := m.ClientID
		if id == "" {
			id = "hooktray-" + t.ID
		}
		opts := mqtt.NewClientOptions().AddBroker(m.Broker).SetClientID(id).SetUsername(m.Username).SetPassword(password).
			SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).SetOrderMatters(true).
			SetConnectTimeout(t.Timeout).SetWriteTimeout(t.Timeout).SetKeepAlive(30 * time.Second)
		cl = &mqttClient{key: key, client: mqtt.NewClient(opts)}
		c.m[t.ID] = cl
	}
	c.mu.Unlock()
	if cl.client.IsConnectionOpen() {
		return cl.client, nil
	}
	tok := cl.client.Connect()
	if !waitToken(ctx, tok) {
		return nil, fmt.Errorf("the broker %s did not accept a connection within %s", m.Broker, t.Timeout)
	}
	if err := tok.Error(); err != nil {
		if errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) || errors.Is(err, packets.ErrorRefusedNotAuthorised) {
			return nil, fmt.Errorf("%w (%v): check the target's username and password", errLoginRefused, err)
		}
		return nil, netmsg.Wrap(brokerHost(m.Broker), fmt.Errorf("connect to the broker %s: %w", m.Broker, err))
	}
	return cl.client, nil
}

// waitToken waits for a paho token until ctx ends; false when it did not complete.
func waitToken(ctx context.Context, tok mqtt.Token) bool {
	select {
	case <-tok.Done():
		return true
	case <-ctx.Done():
		return false
	}
}

func brokerHost(broker string) string {
	_, rest, _ := strings.Cut(broker, "://")
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// sendMQTT publishes the event's body (or what the target's transform made) to the target's
// topic. With QoS 1 and 2 it is delivered once the broker acknowledged it; with QoS 0, once
// written.
func (e *Engine) sendMQTT(ctx context.Context, r Request) Outcome {
	t, ev := r.Target, r.Event
	if ev.Status == hook.Rejected {
		return Outcome{Err: errors.New("the event was rejected, so there is nothing to forward"), Final: true}
	}
	password, err := e.secret(ctx, r, SecretMQTT)
	if err != nil {
		return Outcome{Err: fmt.Errorf("the target's password cannot be read: %w", err), Final: true}
	}
	start := e.clock.Now()
	client, err := e.mqtt.get(ctx, t, password)
	if err != nil {
		return Outcome{Err: err, Final: errors.Is(err, errLoginRefused), URL: t.MQTT.Broker}
	}
	topic := t.MQTT.TopicFor(e.opts.EndpointName(ev.EndpointID), ev.EndpointID, ev.Type)
	tok := client.Publish(topic, byte(t.MQTT.QoS), t.MQTT.Retain, ev.Body)
	o := Outcome{URL: t.MQTT.Broker + "/" + topic, Latency: e.clock.Now().Sub(start)}
	if !waitToken(ctx, tok) {
		o.Err = fmt.Errorf("the broker did not acknowledge the message within %s", t.Timeout)
		e.mqtt.close(t.ID) // a connection that swallows messages is made again
		return o
	}
	if err := tok.Error(); err != nil {
		o.Err = netmsg.Wrap(brokerHost(t.MQTT.Broker), fmt.Errorf("publish to %s: %w", topic, err))
		e.mqtt.close(t.ID)
		return o
	}
	if t.MQTT.Discovery {
		if err := e.announce(ctx, client, t, ev); err != nil {
			o.Err = err
			e.mqtt.close(t.ID)
			return o
		}
	}
	o.Success, o.Latency = true, e.clock.Now().Sub(start)
	return o
}
