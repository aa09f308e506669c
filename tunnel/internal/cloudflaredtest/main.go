// Command cloudflaredtest stands in for cloudflared in tests, since the Cloudflare edge cannot be
// reached here. It keeps to what the real program does for the command lines Hooktray uses (see
// tunnel/README.md for the list and the sources): the same flags, refused the same way when
// unknown; the same log lines on stderr, including the quick tunnel's banner and a named
// tunnel's "Updated to new configuration"; the metrics server's /ready, /quicktunnel,
// /healthcheck and /metrics; the token's format; exit on SIGTERM.
//
// FAKE_CLOUDFLARED selects what the network does: "" (all well), crash (exit 1 at start), hang
// (never ready), offline (DNS fails, as on a computer without network), ratelimit (the
// quick-tunnel API answers 429), badtoken (the edge refuses the named tunnel's credentials).
// FAKE_CLOUDFLARED_INGRESS is a file with a named tunnel's ingress rules (JSON), as configured in
// the dashboard; it is read again when it changes, as the edge pushes a new configuration.
// FAKE_CLOUDFLARED_ARGS, when set, is a file the argv and the TUNNEL_TOKEN presence are written
// to. FAKE_CLOUDFLARED_VERSION overrides the version it reports.
package main

import (
	"encoding/base64"
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

// version is what --version reports unless FAKE_CLOUDFLARED_VERSION says otherwise.
const version = "2026.8.2"

// tunnelFlags are flags of `cloudflared tunnel` (cmd/cloudflared/tunnel/cmd.go) that a Hooktray
// command line may use, with whether they take a value. The real command has many more; an
// unknown one here fails the test that used it, which is the point.
var tunnelFlags = map[string]bool{
	"no-autoupdate": false, "metrics": true, "url": true, "loglevel": true, "transport-loglevel": true,
	"logfile": true, "protocol": true, "edge-ip-version": true, "grace-period": true, "pidfile": true,
	"output": true, "quick-service": true, "hello-world": false, "config": true, "autoupdate-freq": true,
	"region": true, "ha-connections": true, "retries": true, "metrics-update-freq": true, "label": true,
	"management-diagnostics": false, "post-quantum": false, "no-tls-verify": false, "http-host-header": true,
}

// runFlags are flags of `cloudflared tunnel run`.
var runFlags = map[string]bool{"token": true, "token-file": true, "cred-file": true, "credentials-contents": true}

func main() {
	args := os.Args[1:]
	if f := os.Getenv("FAKE_CLOUDFLARED_ARGS"); f != "" {
		_, tok := os.LookupEnv("TUNNEL_TOKEN")
		os.WriteFile(f, []byte(strings.Join(args, "\n")+fmt.Sprintf("\nTUNNEL_TOKEN set: %v\n", tok)), 0o600)
	}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-v" || args[0] == "-V" || args[0] == "version") {
		v := version
		if e := os.Getenv("FAKE_CLOUDFLARED_VERSION"); e != "" {
			v = e
		}
		fmt.Printf("cloudflared version %s (built 2026-08-20-1200 UTC)\n", v)
		return
	}
	if len(args) == 0 || args[0] != "tunnel" {
		fmt.Fprintln(os.Stderr, "cloudflaredtest: only the tunnel command is simulated")
		os.Exit(1)
	}
	opts, sub, subOpts, ok := parse(args[1:])
	if !ok {
		return // urfave/cli printed "Incorrect Usage." and help; cloudflared then exits 0
	}
	named := sub == "run"
	if sub != "" && !named {
		fmt.Fprintf(os.Stderr, "cloudflaredtest: tunnel %s is not simulated\n", sub)
		os.Exit(1)
	}
	origin := opts["url"]
	if !named && origin == "" {
		fmt.Fprintln(os.Stderr, "You did not specify any valid additional argument to the cloudflared tunnel command.")
		os.Exit(1)
	}
	mode := os.Getenv("FAKE_CLOUDFLARED")
	logf("INF", "Starting tunnel tunnelID=fake")
	if mode == "crash" {
		fmt.Fprintln(os.Stderr, "failed to start: simulated crash")
		os.Exit(1)
	}
	if named {
		raw := subOpts["token"]
		if raw == "" {
			raw = os.Getenv("TUNNEL_TOKEN")
		}
		if _, err := parseToken(raw); err != nil {
			// cliutil.UsageError → cli.Exit(msg, -1): the process exits 255.
			fmt.Fprintln(os.Stderr, "Provided Tunnel token is not valid.\nSee 'cloudflared tunnel run --help'.")
			os.Exit(255)
		}
	}
	switch {
	case mode == "offline" && named:
		logf("ERR", `Failed to fetch features, default to disable error="lookup cfd-features.argotunnel.com on 127.0.0.53:53: no such host"`)
		fmt.Fprintln(os.Stderr, "Could not lookup srv records on _v2-origintunneld._tcp.argotunnel.com: lookup _v2-origintunneld._tcp.argotunnel.com on 127.0.0.53:53: no such host")
		os.Exit(1)
	case mode == "offline":
		logf("INF", "Requesting new quick Tunnel on trycloudflare.com...")
		fmt.Fprintln(os.Stderr, `failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": dial tcp: lookup api.trycloudflare.com on 127.0.0.53:53: no such host`)
		os.Exit(1)
	case mode == "ratelimit" && !named:
		logf("INF", "Requesting new quick Tunnel on trycloudflare.com...")
		logf("ERR", `Error unmarshaling QuickTunnel response: error code: 1015 error="invalid character 'e' looking for beginning of value" status_code="429 Too Many Requests"`)
		fmt.Fprintln(os.Stderr, "failed to unmarshal quick Tunnel: invalid character 'e' looking for beginning of value")
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", opts["metrics"])
	if err != nil {
		logf("ERR", "failed to start the metrics server: %v", err)
		os.Exit(1)
	}
	hostname := ""
	if !named {
		logf("INF", "Requesting new quick Tunnel on trycloudflare.com...")
		words := []string{"quiet", "river", "amber", "falcon", "maple", "orbit"}
		hostname = fmt.Sprintf("%s-%s-%d.trycloudflare.com", words[rand.IntN(6)], words[rand.IntN(6)], rand.IntN(1000))
		logf("INF", "+--------------------------------------------------------------------------------------------+")
		logf("INF", "|  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |")
		logf("INF", "|  https://%-82s|", hostname)
		logf("INF", "+--------------------------------------------------------------------------------------------+")
	}
	var ready atomic.Bool
	connections := 4
	if !named {
		connections = 1 // quick tunnels use a single connection
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"status":503,"readyConnections":0,"connectorId":"5b7e0c64-0000-4000-8000-000000000001"}`)
			return
		}
		fmt.Fprintf(w, `{"status":200,"readyConnections":%d,"connectorId":"5b7e0c64-0000-4000-8000-000000000001"}`, connections)
	})
	mux.HandleFunc("/quicktunnel", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"hostname": hostname})
	})
	mux.HandleFunc("/healthcheck", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "OK") })
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		n := 0
		if ready.Load() {
			n = connections
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprintf(w, "# HELP build_info Build and version information\n# TYPE build_info gauge\n"+
			"build_info{goversion=\"go1.24\",revision=\"fake\",type=\"\",version=%q} 1\n"+
			"# HELP cloudflared_tunnel_ha_connections Number of active ha connections\n# TYPE cloudflared_tunnel_ha_connections gauge\n"+
			"cloudflared_tunnel_ha_connections %d\n", version, n)
	})
	go http.Serve(ln, mux)
	logf("INF", "Starting metrics server on %s/metrics", ln.Addr())
	switch {
	case mode == "hang":
	case mode == "badtoken" && named:
		go func() {
			// The edge refuses the credentials; cloudflared retries Unauthorized a few times, then gives up.
			for i := range 3 {
				time.Sleep(100 * time.Millisecond)
				logf("ERR", `Register tunnel error from server side error="Unauthorized: Invalid tunnel secret" connIndex=0 event=0 ip=198.41.192.7`)
				logf("INF", "Retrying connection in up to %ds connIndex=0 event=0 ip=198.41.192.7", 1<<i)
			}
			fmt.Fprintln(os.Stderr, "Unauthorized: Invalid tunnel secret")
			os.Exit(1)
		}()
	default:
		go func() {
			time.Sleep(150 * time.Millisecond)
			ready.Store(true)
			logf("INF", "Registered tunnel connection connIndex=0 connection=5b7e0c64-0000-4000-8000-00000000000a event=0 ip=198.41.192.7 location=ams08 protocol=quic")
			if named {
				followIngress()
			}
		}()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	logf("INF", "Initiating graceful shutdown due to signal terminated ...")
	os.Exit(0)
}

// parse splits `tunnel [flags] [run [flags]]` the way urfave/cli does, or prints its usage error.
func parse(args []string) (opts map[string]string, sub string, subOpts map[string]string, ok bool) {
	opts, subOpts = map[string]string{}, map[string]string{}
	known, into := tunnelFlags, opts
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			if sub != "" {
				break // positional argument of run (a tunnel name)
			}
			sub, known, into = a, runFlags, subOpts
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takesValue, exists := known[name]
		if !exists {
			fmt.Printf("Incorrect Usage. flag provided but not defined: -%s\n\n", name)
			fmt.Println("NAME:\n   cloudflared tunnel - Use Cloudflare Tunnel to expose private services to the Internet or to Cloudflare connected private users.")
			return nil, "", nil, false
		}
		if takesValue && !hasValue {
			if i+1 >= len(args) {
				fmt.Printf("Incorrect Usage. flag needs an argument: -%s\n\n", name)
				return nil, "", nil, false
			}
			i++
			value = args[i]
		}
		into[name] = value
	}
	return opts, sub, subOpts, true
}

// tunnelToken is what a dashboard token holds: base64 of {"a": account, "t": tunnel id, "s": secret}.
type tunnelToken struct {
	Account  string `json:"a"`
	TunnelID string `json:"t"`
	Secret   string `json:"s"`
}

func parseToken(raw string) (tunnelToken, error) {
	var t tunnelToken
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(b, &t); err != nil || t.Account == "" || t.TunnelID == "" || t.Secret == "" {
		return t, fmt.Errorf("not a tunnel token")
	}
	return t, nil
}

// followIngress logs the dashboard's configuration, as the edge pushes it after the first
// connection, and again each time the file changes.
func followIngress() {
	path := os.Getenv("FAKE_CLOUDFLARED_INGRESS")
	ingress := `[{"hostname":"hooks.example.com","service":"http://localhost:8791"},{"service":"http_status:404"}]`
	last, v := "", 1
	for {
		if path != "" {
			b, err := os.ReadFile(path)
			if err == nil {
				ingress = strings.TrimSpace(string(b))
			}
		}
		if ingress != last {
			config := `{"ingress":` + ingress + `,"warp-routing":{"enabled":false}}`
			logf("INF", "Updated to new configuration config=%q version=%d", config, v)
			last, v = ingress, v+1
		}
		if path == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logf prints a line as cloudflared's console logger does when stderr is not a terminal.
func logf(level, format string, a ...any) {
	fmt.Fprintf(os.Stderr, time.Now().UTC().Format(time.RFC3339)+" "+level+" "+format+"\n", a...)
}
