// Command mqtt measures forwarding to MQTT: how many webhooks a second Hooktray publishes in
// order at QoS 1 to a local mosquitto, beside a Go client publishing the same messages at QoS 1
// one after another (what mosquitto_pub does), in the same run. It prints figures and the ratio;
// it asserts nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hooktray/hooktray/bench/load"
	"github.com/hooktray/hooktray/bench/serve"
)

func main() {
	hooktray := flag.String("hooktray", "bin/hooktray", "hooktray binary")
	n := flag.Int("n", 5000, "messages per run")
	flag.Parse()
	if err := run(context.Background(), *hooktray, *n); err != nil {
		fmt.Fprintln(os.Stderr, "mqtt:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin string, n int) error {
	b, err := startBroker()
	if err != nil {
		return err
	}
	defer b.close()
	body := load.JSONBody(1024)
	// Both sides are timed where the messages arrive: at a subscriber on the same broker, from
	// the first message to the last.
	sub, err := subscribe(b.url)
	if err != nil {
		return err
	}
	if err := publishDirectly(b.url, body, n); err != nil {
		return err
	}
	direct := sub.wait(n, "bench/direct")
	sub.close()

	// Through Hooktray, alone: the queue built while the broker was away and the index caught
	// up, then timed once the broker is back.
	in, err := serve.Start(ctx, bin, "")
	if err != nil {
		return err
	}
	defer in.Stop()
	var ep struct{ ID, URL string }
	if err := in.Call("POST", "/api/v1/endpoints", map[string]string{"name": "bench"}, &ep); err != nil {
		return err
	}
	if err := in.Call("POST", "/api/v1/endpoints/"+ep.ID+"/targets", map[string]any{"kind": "mqtt",
		"mqtt": map[string]any{"broker": b.url, "topic": "bench/{endpoint}", "qos": 1}, "max_retries": 50}, nil); err != nil {
		return err
	}
	b.stop()
	sent := 0
	for sent < n {
		sent += load.Run(ctx, ep.URL, body, 16, 100*time.Millisecond).Requests
	}
	waitIdle(in)
	if err := b.start(); err != nil {
		return err
	}
	if sub, err = subscribe(b.url); err != nil {
		return err
	}
	defer sub.close()
	through := sub.wait(sent, "bench/bench")
	fmt.Printf("mqtt: QoS 1, in order, %d-byte bodies, a local mosquitto, timed at a subscriber\n", len(body))
	fmt.Printf("  a Go client publishing directly, each acknowledged before the next: %.0f messages/s\n", direct)
	fmt.Printf("  a queue of %d forwarded by Hooktray once the broker is back: %.0f/s: %.2f of direct (target ≥ 0.50)\n", sent, through, through/direct)
	return nil
}

// publishDirectly publishes n messages at QoS 1 from one client, each acknowledged before the
// next (what mosquitto_pub does).
func publishDirectly(url string, body []byte, n int) error {
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("bench-pub").SetOrderMatters(true))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("publisher: %v", tok.Error())
	}
	defer pub.Disconnect(0)
	for range n {
		tok := pub.Publish("bench/direct", 1, false, body)
		tok.Wait()
		if tok.Error() != nil {
			return tok.Error()
		}
	}
	return nil
}

// subscriber counts the messages arriving on bench/# and when the first and last came.
type subscriber struct {
	client      mqtt.Client
	got         atomic.Int64
	first, last atomic.Int64
}

func subscribe(url string) (*subscriber, error) {
	s := &subscriber{client: mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("bench-sub"))}
	if tok := s.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("subscriber: %v", tok.Error())
	}
	s.client.Subscribe("bench/#", 1, func(mqtt.Client, mqtt.Message) {
		now := time.Now().UnixNano()
		s.first.CompareAndSwap(0, now)
		s.last.Store(now)
		s.got.Add(1)
	}).Wait()
	return s, nil
}

// wait waits for n messages (5 minutes at most) and returns the rate they arrived at.
func (s *subscriber) wait(n int, what string) float64 {
	for deadline := time.Now().Add(5 * time.Minute); s.got.Load() < int64(n) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if got := s.got.Load(); got < int64(n) {
		fmt.Printf("  %s: only %d of %d messages arrived\n", what, got, n)
	}
	return float64(s.got.Load()-1) / time.Duration(s.last.Load()-s.first.Load()).Seconds()
}

func (s *subscriber) close() { s.client.Disconnect(0) }

// waitIdle waits until every webhook is in the history and the full-text index has caught up.
func waitIdle(in *serve.Instance) {
	in.Call("GET", "/api/v1/events?limit=1", nil, nil)
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var st struct {
			SearchBacklog int64 `json:"search_backlog"`
		}
		if in.Call("GET", "/api/v1/status", nil, &st) == nil && st.SearchBacklog == 0 {
			return
		}
	}
}

// broker is a local mosquitto on a fixed loopback port, stopped and started again on it.
type broker struct {
	url, addr, conf, dir string
	cmd                  *exec.Cmd
}

// startBroker runs mosquitto on a free loopback port.
func startBroker() (*broker, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, _ := os.MkdirTemp("", "hooktray-bench-mqtt-")
	b := &broker{addr: "127.0.0.1:" + strconv.Itoa(port), conf: filepath.Join(dir, "mosquitto.conf"), dir: dir}
	b.url = "mqtt://" + b.addr
	me := "mosquitto"
	if u, err := user.Current(); err == nil {
		me = u.Username // run as root, mosquitto would become "mosquitto"
	}
	os.WriteFile(b.conf, []byte(fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nuser %s\n", port, me)), 0o600)
	return b, b.start()
}

func (b *broker) start() error {
	bin := "mosquitto"
	if _, err := exec.LookPath(bin); err != nil {
		bin = "/usr/sbin/mosquitto"
	}
	b.cmd = exec.Command(bin, "-c", b.conf)
	if err := b.cmd.Start(); err != nil {
		return fmt.Errorf("start mosquitto (apt-get install mosquitto): %w", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", b.addr); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("mosquitto did not listen")
		}
	}
}

func (b *broker) stop() { b.cmd.Process.Kill(); b.cmd.Wait() }

func (b *broker) close() { b.stop(); os.RemoveAll(b.dir) }
