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
	broker, stop, err := startBroker()
	if err != nil {
		return err
	}
	defer stop()
	var got atomic.Int64
	var last atomic.Int64
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("bench-sub"))
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("subscriber: %v", tok.Error())
	}
	defer sub.Disconnect(0)
	sub.Subscribe("bench/#", 1, func(mqtt.Client, mqtt.Message) { got.Add(1); last.Store(time.Now().UnixNano()) }).Wait()
	body := load.JSONBody(1024)

	// Directly: one client, QoS 1, each publish acknowledged before the next.
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("bench-pub").SetOrderMatters(true))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("publisher: %v", tok.Error())
	}
	start := time.Now()
	for range n {
		tok := pub.Publish("bench/direct", 1, false, body)
		tok.Wait()
		if tok.Error() != nil {
			return tok.Error()
		}
	}
	direct := float64(n) / time.Since(start).Seconds()
	pub.Disconnect(0)
	for got.Load() < int64(n) {
		time.Sleep(5 * time.Millisecond)
	}

	// Through Hooktray: webhooks posted at full speed to an endpoint forwarding to the broker.
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
		"mqtt": map[string]any{"broker": broker, "topic": "bench/{endpoint}", "qos": 1}}, nil); err != nil {
		return err
	}
	got.Store(0)
	start = time.Now()
	sent := 0
	for sent < n {
		sent += load.Run(ctx, ep.URL, body, 16, 100*time.Millisecond).Requests
	}
	for deadline := time.Now().Add(5 * time.Minute); got.Load() < int64(sent) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	through := float64(got.Load()) / time.Unix(0, last.Load()).Sub(start).Seconds()
	fmt.Printf("mqtt: QoS 1, in order, %d-byte bodies, a local mosquitto\n", len(body))
	fmt.Printf("  a Go client publishing directly, each acknowledged before the next: %.0f messages/s\n", direct)
	fmt.Printf("  webhooks forwarded by Hooktray (%d posted at full speed): %.0f/s: %.2f of direct (target ≥ 0.50)\n", sent, through, through/direct)
	return nil
}

// startBroker runs mosquitto on a free loopback port.
func startBroker() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, _ := os.MkdirTemp("", "hooktray-bench-mqtt-")
	conf := filepath.Join(dir, "mosquitto.conf")
	me := "mosquitto"
	if u, err := user.Current(); err == nil {
		me = u.Username // run as root, mosquitto would become "mosquitto"
	}
	os.WriteFile(conf, []byte(fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nuser %s\n", port, me)), 0o600)
	cmd := exec.Command("mosquitto", "-c", conf)
	if _, err := exec.LookPath("mosquitto"); err != nil {
		cmd = exec.Command("/usr/sbin/mosquitto", "-c", conf)
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start mosquitto (apt-get install mosquitto): %w", err)
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait(); os.RemoveAll(dir) }
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return "mqtt://127.0.0.1:" + strconv.Itoa(port), stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("mosquitto did not listen")
		}
	}
}
