// Command fakecloudflared stands in for cloudflared in tests, since the Cloudflare edge cannot be
// reached here. It honours the documented surface Hooktray uses: `--version`; `tunnel
// --no-autoupdate --metrics ADDR --url URL` (quick) and `tunnel --no-autoupdate --metrics ADDR
// run` with TUNNEL_TOKEN (named); /ready going from 503 to 200; /quicktunnel with a hostname; the
// log banner on stderr; exit on SIGTERM. FAKE_CLOUDFLARED selects a misbehaviour: crash (exit 1
// at start), hang (never ready), ratelimit (the quick-tunnel API answers 429, then exit), badtoken
// (named tunnel refused, then exit). FAKE_CLOUDFLARED_ARGS, when set, is a file the argv and the
// TUNNEL_TOKEN presence are written to.
package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	if f := os.Getenv("FAKE_CLOUDFLARED_ARGS"); f != "" {
		_, tok := os.LookupEnv("TUNNEL_TOKEN")
		os.WriteFile(f, []byte(strings.Join(args, "\n")+fmt.Sprintf("\nTUNNEL_TOKEN set: %v\n", tok)), 0o600)
	}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "version") {
		fmt.Println("cloudflared version 2026.8.2 (built 2026-08-20-1200 UTC)")
		return
	}
	var metrics, origin string
	named := false
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--metrics":
			i++
			metrics = args[i]
		case "--url":
			i++
			origin = args[i]
		case "run":
			named = true
		}
	}
	mode := os.Getenv("FAKE_CLOUDFLARED")
	log := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, time.Now().UTC().Format(time.RFC3339)+" INF "+format+"\n", a...)
	}
	log("Starting tunnel tunnelID=fake")
	switch {
	case mode == "crash":
		fmt.Fprintln(os.Stderr, "ERR failed to start: simulated crash")
		os.Exit(1)
	case mode == "ratelimit" && !named:
		fmt.Fprintln(os.Stderr, `ERR Error unmarshaling QuickTunnel response: error code: 1015 status_code="429 Too Many Requests"`)
		os.Exit(1)
	case mode == "badtoken" && named:
		fmt.Fprintln(os.Stderr, "ERR Provided Tunnel token is not valid.")
		os.Exit(1)
	case named && os.Getenv("TUNNEL_TOKEN") == "":
		fmt.Fprintln(os.Stderr, "ERR no tunnel token")
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", metrics)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ERR metrics:", err)
		os.Exit(1)
	}
	hostname := ""
	if !named {
		words := []string{"quiet", "river", "amber", "falcon", "maple", "orbit"}
		hostname = fmt.Sprintf("%s-%s-%d.trycloudflare.com", words[rand.IntN(6)], words[rand.IntN(6)], rand.IntN(1000))
		log("+--------------------------------------------------------------------------------------------+")
		log("|  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |")
		log("|  https://%s", hostname)
		log("+--------------------------------------------------------------------------------------------+")
	}
	var ready atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			w.WriteHeader(503)
			fmt.Fprint(w, `{"status":503,"readyConnections":0,"connectorId":"fake"}`)
			return
		}
		fmt.Fprint(w, `{"status":200,"readyConnections":4,"connectorId":"fake"}`)
	})
	mux.HandleFunc("/quicktunnel", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"hostname": hostname})
	})
	mux.HandleFunc("/healthcheck", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "OK") })
	go http.Serve(ln, mux)
	log("Starting metrics server on %s/metrics", ln.Addr())
	if mode != "hang" {
		go func() {
			time.Sleep(150 * time.Millisecond)
			ready.Store(true)
			log("Registered tunnel connection connIndex=0 location=ams01 protocol=quic origin=%s", origin)
		}()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	log("Initiating graceful shutdown due to signal terminated ...")
	os.Exit(0)
}
